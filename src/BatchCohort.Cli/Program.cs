using BatchCohort.Cli;
using BatchCohort.Runtime;

NativeHeap.LimitArenas();
return await CliApp.RunAsync(args);
