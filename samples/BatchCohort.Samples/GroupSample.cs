// <sample:group-stage>
using BatchCohort.Analysis.Statistics;
using BatchCohort.Analysis.Tables;

public static class GroupSample
{
    // Re-run the statistics on a cohort table (Parquet, CSV or TSV) without measuring anything again.
    public static void Run(string tablePath, string outDir)
    {
        Table table = TableFile.Read(tablePath);                    // e.g. out/group/measures.parquet
        var spec = new GroupStatisticsSpec
        {
            GroupColumn = "group",
            Levels = new[] { "control", "patient" },                // the first level is the reference
            Measures = new[] { "brain_ml", "nwbv" },
            Covariates = new[] { "age", "sex" },                    // OLS: measure ~ group + age + sex
            CorrelateWith = new[] { "age" },                        // Pearson and Spearman
            Normalise = new[] { new NormaliseSpec("brain_ml", "icv_ml", NormalisationMethod.Residual) },
        };
        GroupStatisticsResult result = GroupStatistics.Run(table, spec);
        Console.WriteLine(result.ToText());                         // the table the CLI prints
        result.Write(outDir);                                       // stats.parquet/.csv/.json, descriptives.csv
    }
}
// </sample:group-stage>
