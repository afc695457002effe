// The samples of docs/*.md, runnable. Each file holds the code of one or more documentation blocks between
// // <sample:name> and // </sample:name>; tests/BatchCohort.Docs.Tests checks that every ```csharp block of the docs
// is one of those regions.
//   dotnet run -c Release --project samples/BatchCohort.Samples -- measure T1.nii.gz OUT
//   dotnet run -c Release --project samples/BatchCohort.Samples -- smooth T1.nii.gz OUT.nii.gz
//   dotnet run -c Release --project samples/BatchCohort.Samples -- group out/group/measures.parquet OUT
switch (args)
{
    case ["measure", var t1, var outDir]:
        return MeasureSubject.Run(t1, outDir);
    case ["smooth", var input, var output]:
        ProcessingSamples.SmoothAndMask(input, output);
        return 0;
    case ["group", var table, var outDir]:
        GroupSample.Run(table, outDir);
        return 0;
    default:
        Console.Error.WriteLine("usage: BatchCohort.Samples measure T1 OUT | smooth IN OUT.nii.gz | group TABLE OUT");
        return 2;
}
