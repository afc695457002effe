using BatchCohort.Cli;

NativeHeap.LimitArenas();
return await CliApp.RunAsync(args);
