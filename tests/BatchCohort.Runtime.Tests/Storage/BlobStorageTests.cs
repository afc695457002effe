using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using BatchCohort.Contracts;
using BatchCohort.Runtime.Caching;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Distribution;
using BatchCohort.Runtime.Storage;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Runtime.Tests.Storage;

/// <summary>One real Azurite for the class; the connection string is the process's AZURE_STORAGE_CONNECTION_STRING.</summary>
public sealed class AzuriteFixture : IDisposable
{
    public AzuriteFixture()
    {
        if (Requirements.SkipReason(new[] { Requirements.Azurite }) is not null) return;
        Server = new AzuriteServer();
        Environment.SetEnvironmentVariable(BlobFolder.ConnectionStringVariable, Server.ConnectionString);
    }

    public AzuriteServer? Server { get; }

    /// <summary>A new empty container, created with the SDK (not with the code under test).</summary>
    public BlobContainerClient NewContainer(string prefix)
    {
        var c = new BlobServiceClient(Server!.ConnectionString, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2025_11_05))
            .GetBlobContainerClient(prefix + "-" + Guid.NewGuid().ToString("N")[..10]);
        c.Create();
        return c;
    }

    public void Dispose() => Server?.Dispose();
}

/// <summary>The blob location, the result store and the exporter against a real Azurite (npm azurite).</summary>
public class BlobStorageTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static ResultRecord Result(string label, string key, string runId) => new()
    {
        SubjectId = label, SubjectLabel = label, CacheKey = key, InputHash = "in", PipelineVersion = "p", SettingsHash = "s",
        RunId = runId, MeasuredAt = DateTimeOffset.UtcNow, Seconds = 1, Measures = new() { ["brain_ml"] = 1000 },
        Files = new() { ["qc"] = $"sub-{label}_qc.png" },
    };

    private static List<string> Names(BlobContainerClient c, string? prefix = null) =>
        c.GetBlobs(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, default).Select(b => b.Name).Order(StringComparer.Ordinal).ToList();

    [RequiresFact(Requirements.Azurite)]
    public async Task Create_is_if_none_match_and_replace_is_if_match()
    {
        var c = azurite.NewContainer("cond");
        var loc = StorageLocation.Open($"az://{c.Name}/a/b");
        Assert.Equal($"az://{c.Name}/a/b", loc.Display);
        var e1 = await loc.CreateAsync("x.json", "1"u8.ToArray());
        Assert.NotNull(e1);
        Assert.Null(await loc.CreateAsync("x.json", "2"u8.ToArray()));          // 409: the first one stays
        Assert.Equal("1", c.GetBlobClient("a/b/x.json").DownloadContent().Value.Content.ToString());
        var e2 = await loc.ReplaceAsync("x.json", "3"u8.ToArray(), e1);
        await Assert.ThrowsAsync<StorageConflictException>(() => loc.ReplaceAsync("x.json", "4"u8.ToArray(), e1)); // stale ETag: 412
        Assert.Equal("3", c.GetBlobClient("a/b/x.json").DownloadContent().Value.Content.ToString());
        Assert.NotEqual(e1, e2);
        Assert.Equal(new[] { "x.json" }, (await loc.ListAsync()).Select(i => i.Path));
    }

    [RequiresFact(Requirements.Azurite)]
    public async Task Two_coordinators_on_one_blob_output_the_second_loses_the_run_state_race_and_nothing_of_the_first_is_overwritten()
    {
        var c = azurite.NewContainer("state");
        var spec = $"az://{c.Name}/out";
        var first = new BatchCohort.Runtime.Coordination.RunState { RunId = "run-a", OutputDirectory = "/tmp/staging-a", OutputLocation = spec };
        var second = new BatchCohort.Runtime.Coordination.RunState { RunId = "run-b", OutputDirectory = "/tmp/staging-b", OutputLocation = spec };
        var a = new RunOutput(first);
        var b = new RunOutput(second);
        // both planned the run when the output had no state (the ETag each client read: none)
        a.Seed(null);
        b.Seed(null);
        await a.PushStateAsync(first);
        var e = await Assert.ThrowsAsync<StorageConflictException>(() => b.PushStateAsync(second));
        Assert.Equal($"{spec}/runs/state.json: another run changed this output's run state (two coordinators on one output?); stopped", e.Message);
        Assert.True(b.Lost);
        // the first goes on writing under its own ETags; the loser writes nothing more
        first.Notes.Add("second write");
        await a.PushStateAsync(first);
        await b.PushStateAsync(second);
        var text = c.GetBlobClient("out/runs/state.json").DownloadContent().Value.Content.ToString();
        Assert.Contains("\"run-a\"", text);
        Assert.Contains("second write", text);
        Assert.DoesNotContain("run-b", text);
    }

    [RequiresFact(Requirements.Azurite)]
    public async Task Eight_concurrent_writers_of_one_subject_result_exactly_one_wins_and_the_others_use_it()
    {
        var c = azurite.NewContainer("race");
        var folder = StorageLocation.Open($"az://{c.Name}/out/sub-01/anat");
        using var d = new TempDir("race");
        var writers = Enumerable.Range(0, 8).Select(i =>
        {
            var local = Directory.CreateDirectory(Path.Combine(d.FullName, "w" + i)).FullName;
            File.WriteAllBytes(Path.Combine(local, "sub-01_qc.png"), CountingTestMeasurer.TinyPng);
            return (Local: local, Result: Result("01", "key-1", "run-" + i));
        }).ToList();
        using var go = new ManualResetEventSlim(false);
        var tasks = writers.Select(w => Task.Run(async () => { go.Wait(); return await ResultStore.CommitAsync(folder, w.Local, w.Result); })).ToList();
        go.Set();
        var outcomes = await Task.WhenAll(tasks);
        Assert.Equal(1, outcomes.Count(o => o.Won));
        var winner = outcomes.Single(o => o.Won).Result.RunId;
        Assert.All(outcomes, o => Assert.Equal(winner, o.Result.RunId));   // the losers use the winner's result
        var stored = System.Text.Json.JsonDocument.Parse(c.GetBlobClient("out/sub-01/anat/sub-01_measures.json").DownloadContent().Value.Content.ToString());
        Assert.Equal(winner, stored.RootElement.GetProperty("runId").GetString());
        Assert.Equal(new[] { "out/sub-01/anat/sub-01_measures.json", "out/sub-01/anat/sub-01_qc.png" }, Names(c));
    }

    [RequiresFact(Requirements.Azurite)]
    public async Task A_stale_record_is_replaced_and_a_valid_one_is_reused()
    {
        var c = azurite.NewContainer("stale");
        var folder = StorageLocation.Open($"az://{c.Name}/sub-02/anat");
        using var d = new TempDir("stale");
        File.WriteAllBytes(d["sub-02_qc.png"], CountingTestMeasurer.TinyPng);
        Assert.True((await ResultStore.CommitAsync(folder, d.FullName, Result("02", "old-key", "r1"))).Won);
        var again = await ResultStore.CommitAsync(folder, d.FullName, Result("02", "new-key", "r2"));
        Assert.True(again.Won);    // the old key's record is replaced (If-Match on the ETag it was read with)
        Assert.Equal("r2", (await ResultStore.TryLoadValidAsync(folder, "02", "new-key"))!.RunId);
        Assert.Null(await ResultStore.TryLoadValidAsync(folder, "02", "old-key"));
        // a record whose derivative is gone is not valid
        c.GetBlobClient("sub-02/anat/sub-02_qc.png").DeleteIfExists();
        Assert.Null(await ResultStore.TryLoadValidAsync(folder, "02", "new-key"));
    }

    [RequiresFact(Requirements.Azurite)]
    public async Task An_input_hashes_the_same_from_disk_and_from_blob_and_its_scratch_copy_is_removed()
    {
        var c = azurite.NewContainer("hash");
        using var d = new TempDir("hash");
        // an Analyze pair: both halves must come along, under their own names
        File.WriteAllBytes(d["s1.hdr"], Encoding.ASCII.GetBytes(new string('h', 348)));
        File.WriteAllBytes(d["s1.img"], RandomNumberGenerator.GetBytes(5000));
        File.WriteAllBytes(d["s2.nii.gz"], RandomNumberGenerator.GetBytes(3000));
        foreach (var f in new[] { "s1.hdr", "s1.img", "s2.nii.gz" }) c.GetBlobClient("data/" + f).Upload(d[f]);
        var scratch = new ScratchSpace(d["scratch"], 1 << 20);
        foreach (var (local, remote) in new[] { ("s1.hdr", "s1.hdr"), ("s2.nii.gz", "s2.nii.gz") })
        {
            string scratchPath;
            using (var m = await MaterializedInput.OpenAsync($"az://{c.Name}/data/{remote}", scratch, default))
            {
                scratchPath = m.LocalPath;
                Assert.StartsWith(scratch.Root, m.LocalPath);
                Assert.Equal(ContentHash.OfInput(d[local]), ContentHash.OfInput(m.LocalPath));
            }
            Assert.False(File.Exists(scratchPath));
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch.Root));
    }

    [RequiresFact(Requirements.Azurite)]
    public async Task Bad_locations_fail_with_one_line_naming_the_location_and_never_the_key()
    {
        var c = azurite.NewContainer("bad");
        c.GetBlobClient("data/big.nii").Upload(new BinaryData(new byte[4096]));
        var scratch = new ScratchSpace(Path.Combine(Path.GetTempPath(), "bc-scratch-test"), 1000);
        var big = await Assert.ThrowsAsync<StorageException>(() => MaterializedInput.OpenAsync($"az://{c.Name}/data/big.nii", scratch, default));
        Assert.StartsWith($"az://{c.Name}/data/big.nii: ", big.Message);
        Assert.Contains("larger than the limit", big.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch.Root));

        var missing = await Assert.ThrowsAsync<StorageException>(() => StorageLocation.Open("az://no-such-container/x").ListAsync());
        Assert.Equal("az://no-such-container/x: the container 'no-such-container' does not exist", missing.Message);

        var notFound = await Assert.ThrowsAsync<FileNotFoundException>(() => MaterializedInput.OpenAsync($"az://{c.Name}/data/none.nii", scratch, default));
        Assert.Contains($"az://{c.Name}/data/none.nii", notFound.Message);

        // a wrong key (through a SAS-less URL of the same account would need the variable: use a client of our own)
        var wrongKey = Convert.ToBase64String(Encoding.ASCII.GetBytes("not-the-key-of-devstoreaccount1-at-all-0123456789"));
        var prior = Environment.GetEnvironmentVariable(BlobFolder.ConnectionStringVariable);
        Environment.SetEnvironmentVariable(BlobFolder.ConnectionStringVariable, azurite.Server!.ConnectionStringWithKey(wrongKey));
        try
        {
            var denied = await Assert.ThrowsAsync<StorageException>(() => StorageLocation.Open($"az://{c.Name}/data").ListAsync());
            Assert.StartsWith($"az://{c.Name}/data: access denied", denied.Message);
            Assert.DoesNotContain(wrongKey, denied.ToString());
            Assert.DoesNotContain("AccountKey", denied.Message);
        }
        finally { Environment.SetEnvironmentVariable(BlobFolder.ConnectionStringVariable, prior); }

        // a SAS URL: the signature is the secret; it never appears in Display or in an error
        var sas = c.GenerateSasUri(Azure.Storage.Sas.BlobContainerSasPermissions.Read | Azure.Storage.Sas.BlobContainerSasPermissions.List, DateTimeOffset.UtcNow.AddHours(1));
        var sig = System.Web.HttpUtility.ParseQueryString(sas.Query)["sig"]!;
        var viaSas = StorageLocation.Open(new UriBuilder(sas) { Path = sas.AbsolutePath + "/data" }.Uri.AbsoluteUri);
        Assert.Contains("big.nii", (await viaSas.ListAsync()).Select(i => i.Path));
        Assert.DoesNotContain(sig, viaSas.Display);
        var readOnly = await Assert.ThrowsAsync<StorageException>(() => viaSas.CreateAsync("w.json", "{}"u8.ToArray()));
        Assert.Contains("access denied", readOnly.Message);
        Assert.DoesNotContain(sig, readOnly.ToString());
        Assert.DoesNotContain(Uri.EscapeDataString(sig), readOnly.Message);
    }

    [RequiresFact(Requirements.Azurite)]
    public async Task Exports_publish_latest_a_dated_copy_and_an_index_with_hashes_to_a_blob_prefix_and_a_folder()
    {
        var c = azurite.NewContainer("exp");
        using var d = new TempDir("exp");
        Directory.CreateDirectory(d["group"]);
        File.WriteAllText(d["group/measures.csv"], "participant_id,brain_ml\n01,1000\n");
        File.WriteAllBytes(d["group/stats.parquet"], RandomNumberGenerator.GetBytes(2000));
        ExportRequest Req(string run, DateTimeOffset at) => new()
        {
            SourceFolder = d["group"], Files = new[] { "measures.csv", "stats.parquet" }, Cohort = "c", RunId = run, FinishedAt = at,
            PipelineVersion = "pv", PipelineHash = "ph", Subjects = 3, Measured = 2, FromCache = 1, Failed = 1,
        };
        var t0 = new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
        foreach (var dest in new[] { $"az://{c.Name}/exports", d["exports"] })
        {
            var r1 = await ExportPublisher.PublishAsync(Req("run-1", t0), dest);
            File.WriteAllText(d["group/measures.csv"], "participant_id,brain_ml\n01,1001\n");
            var r2 = await ExportPublisher.PublishAsync(Req("run-2", t0.AddDays(1)), dest);
            await ExportPublisher.PublishAsync(Req("run-2", t0.AddDays(1)), dest);   // again: replaces its entry
            var loc = StorageLocation.Open(dest);
            var index = JsonNode.Parse((await loc.ReadAsync("exports.json", 1 << 20))!.Content)!;
            Assert.Equal("batchcohort-exports-v1", (string?)index["schema"]);
            Assert.Equal(new[] { "run-2", "run-1" }, index["runs"]!.AsArray().Select(x => (string?)x!["runId"]));
            Assert.Equal("run-2", (string?)index["latest"]!["runId"]);
            Assert.Equal("runs/2026-12-03T100000Z_run-2/", (string?)index["latest"]!["path"]);
            Assert.Equal(2, (int)index["latest"]!["subjects"]!["measured"]!);
            Assert.Equal(1, (int)index["latest"]!["subjects"]!["failed"]!);
            Assert.Equal("pv", (string?)index["latest"]!["pipelineVersion"]);
            // the hashes in the index are those sha256sum prints for the files as stored
            foreach (var entry in index["runs"]!.AsArray())
                foreach (var f in entry!["files"]!.AsArray())
                {
                    var stored = Path.Combine(d.FullName, "dl-" + Guid.NewGuid().ToString("N")[..6]);
                    await loc.DownloadAsync((string)entry["path"]! + (string)f!["path"]!, stored, 1 << 20);
                    Assert.Equal(Sha256sum(stored), (string?)f["sha256"]);
                }
            var latest = Path.Combine(d.FullName, "latest-" + Guid.NewGuid().ToString("N")[..6]);
            await loc.DownloadAsync("latest/measures.csv", latest, 1 << 20);
            Assert.Equal("participant_id,brain_ml\n01,1001\n", File.ReadAllText(latest));
            Assert.Equal(new[] { "exports.json", "latest/measures.csv", "latest/stats.parquet",
                    "runs/2026-12-02T100000Z_run-1/measures.csv", "runs/2026-12-02T100000Z_run-1/stats.parquet",
                    "runs/2026-12-03T100000Z_run-2/measures.csv", "runs/2026-12-03T100000Z_run-2/stats.parquet" },
                (await loc.ListAsync()).Select(i => i.Path));
            Assert.EndsWith("exports.json", r2.Index);
            Assert.NotEqual(r1.Dated, r2.Dated);
            File.WriteAllText(d["group/measures.csv"], "participant_id,brain_ml\n01,1000\n");
        }
    }

    [RequiresFact(Requirements.Azurite)]
    public async Task An_unreachable_export_destination_is_a_clear_catchable_failure()
    {
        using var d = new TempDir("unreach");
        File.WriteAllText(d["m.csv"], "a\n1\n");
        var prior = (Environment.GetEnvironmentVariable(BlobFolder.ConnectionStringVariable), Environment.GetEnvironmentVariable(BlobFolder.RetriesVariable));
        // nothing listens on port 1
        Environment.SetEnvironmentVariable(BlobFolder.ConnectionStringVariable, $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteServer.Key};BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;");
        Environment.SetEnvironmentVariable(BlobFolder.RetriesVariable, "1");
        var sw = Stopwatch.StartNew();
        try
        {
            var e = await Assert.ThrowsAsync<ExportFailedException>(() => ExportPublisher.PublishAsync(new ExportRequest
            {
                SourceFolder = d.FullName, Files = new[] { "m.csv" }, Cohort = "c", RunId = "r", FinishedAt = DateTimeOffset.UtcNow,
                PipelineVersion = "p", Subjects = 1, Measured = 1, Failed = 0,
            }, "az://exports/nightly"));
            Assert.StartsWith("failed to publish to az://exports/nightly: ", e.Message);
            Assert.Contains("cannot reach the storage endpoint 127.0.0.1:1", e.Message);
            Assert.DoesNotContain(AzuriteServer.Key, e.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable(BlobFolder.ConnectionStringVariable, prior.Item1);
            Environment.SetEnvironmentVariable(BlobFolder.RetriesVariable, prior.Item2);
        }
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"took {sw.Elapsed}");
    }

    private static string Sha256sum(string path)
    {
        var psi = new ProcessStartInfo("sha256sum", new[] { path }) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var line = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return line.Split(' ')[0];
    }
}
