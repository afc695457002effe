using BatchCohort.Runtime.Storage;

public static class StorageSamples
{
    public static async Task<ExportResult> Publish(string runId, DateTimeOffset finishedAt, string pv, string ph, CancellationToken ct)
    {
        // <sample:storage-export>
        ExportResult r = await ExportPublisher.PublishAsync(new ExportRequest
        {
            SourceFolder = "/…/out/group", Files = new[] { "measures.parquet", "stats.csv" },
            Cohort = "oasis1", RunId = runId, FinishedAt = finishedAt, PipelineVersion = pv, PipelineHash = ph,
            Subjects = 416, Measured = 410, FromCache = 400, Failed = 6,
        }, "az://study-exports/oasis", ct);
        // </sample:storage-export>
        return r;
    }
}
