using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using BatchCohort.Runtime.Measurement;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Cli.Tests;

public sealed class CliAzurite : IDisposable
{
    public CliAzurite()
    {
        if (Requirements.SkipReason(new[] { Requirements.Azurite }) is null) Server = new AzuriteServer();
    }

    public AzuriteServer? Server { get; }
    public void Dispose() => Server?.Dispose();
}

/// <summary>
/// `batchcohort run` with inputs, demographics and outputs in Azure Blob Storage — a real Azurite (npm azurite) and
/// a real batchcohort process (the test-only measurer plugged in). What is in the containers is read back with
/// the Azure SDK directly, not through the code under test.
/// </summary>
public class BlobRunTests(CliAzurite azurite) : IClassFixture<CliAzurite>
{
    private AzuriteServer Az => azurite.Server!;

    private static string CliDll
    {
        get
        {
            var config = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Name;
            var p = Repo.Path_("src", "BatchCohort.Cli", "bin", config, "net10.0", "batchcohort.dll");
            return File.Exists(p) ? p : Path.Combine(AppContext.BaseDirectory, "batchcohort.dll");
        }
    }

    private Process Start(TempDir d, int delayMs, Dictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = d.FullName,
        };
        psi.ArgumentList.Add(CliDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment[MeasurerFactory.EnvironmentVariable] = typeof(CountingTestMeasurer).Assembly.Location + ":" + typeof(CountingTestMeasurer).FullName;
        psi.Environment["BATCHCOHORT_TEST_MARKERS"] = d["markers.txt"];
        psi.Environment["BATCHCOHORT_TEST_DELAY_MS"] = delayMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["AZURE_STORAGE_CONNECTION_STRING"] = Az.ConnectionString;
        psi.Environment["BATCHCOHORT_STAGING"] = d["staging"];
        psi.Environment["BATCHCOHORT_SCRATCH"] = d["scratch"];
        psi.Environment["BATCHCOHORT_STORAGE_RETRIES"] = "1";
        foreach (var (k, v) in env ?? new()) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    private sealed record Result(int Code, string Stdout, string Stderr)
    {
        public string All => Stdout + Stderr;
    }

    private async Task<Result> Run(TempDir d, Dictionary<string, string>? env, params string[] args)
    {
        using var p = Start(d, 0, env, args);
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try { await p.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException) { p.Kill(true); throw new TimeoutException("batchcohort run did not finish in 120 s"); }
        return new Result(p.ExitCode, await so, await se);
    }

    private BlobServiceClient Service => new(Az.ConnectionString, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2025_11_05));

    private BlobContainerClient NewContainer(string prefix)
    {
        var c = Service.GetBlobContainerClient(prefix + "-" + Guid.NewGuid().ToString("N")[..10]);
        c.Create();
        return c;
    }

    private static List<string> Names(BlobContainerClient c, string? prefix = null) =>
        c.GetBlobs(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, default).Select(b => b.Name).Order(StringComparer.Ordinal).ToList();

    private static string Text(BlobContainerClient c, string name) => c.GetBlobClient(name).DownloadContent().Value.Content.ToString();

    /// <summary>The test cohort, its data uploaded to az://&lt;inputs&gt;/demo/data, a manifest whose inputs, demographics
    /// and output are blob locations. Returns the cohort folder holding only cohort.json.</summary>
    private static void WriteBlobCohort(TempDir d, BlobContainerClient inputs, string output, int n, string? corrupt = null, int padBytes = 0)
    {
        var local = Path.Combine(d.FullName, "local");
        TestInputs.WriteCohort(local, n, corrupt: corrupt is null ? null : new[] { corrupt });
        foreach (var f in Directory.GetFiles(Path.Combine(local, "data")))
        {
            var bytes = File.ReadAllBytes(f);
            if (padBytes > 0 && Path.GetFileName(f) == "sub-03_T1w.nii") bytes = bytes.Concat(Encoding.ASCII.GetBytes("\n" + new string('0', padBytes))).ToArray();
            inputs.GetBlobClient("demo/data/" + Path.GetFileName(f)).Upload(new BinaryData(bytes));
        }
        var manifest = File.ReadAllText(Path.Combine(local, "cohort.json"))
            .Replace("\"glob\": \"data/sub-*_T1w.nii\"", $"\"glob\": \"az://{inputs.Name}/demo/data/sub-*_T1w.nii\"")
            .Replace("\"path\": \"data/participants.tsv\"", $"\"path\": \"az://{inputs.Name}/demo/data/participants.tsv\"")
            .Replace("\"output\": \"out\"", $"\"output\": \"{output}\"");
        Directory.CreateDirectory(d["cohort"]);
        File.WriteAllText(d["cohort/cohort.json"], manifest);
    }

    [RequiresFact(Requirements.Azurite)]
    public async Task A_cohort_in_blob_storage_runs_end_to_end_then_a_second_run_measures_nothing()
    {
        const int n = 6;
        using var d = new TempDir("blob-e2e");
        var inputs = NewContainer("inputs");
        var results = NewContainer("results");
        WriteBlobCohort(d, inputs, $"az://{results.Name}/demo", n);

        var first = await Run(d, null, "run", d["cohort"]);
        Assert.True(first.Code == 0, first.All);
        Assert.Contains($"{n} of {n} subjects measured (0 from cache), 0 failed", first.Stdout);
        Assert.Contains($"outputs: az://{results.Name}/demo", first.Stdout);
        Assert.DoesNotContain(AzuriteServer.Key, first.All);
        Assert.DoesNotContain("AccountKey", first.All);

        // the outputs, listed from Azurite
        var names = Names(results);
        for (int i = 1; i <= n; i++)
        {
            var l = i.ToString("00");
            Assert.Contains($"demo/sub-{l}/anat/sub-{l}_measures.json", names);
            Assert.Contains($"demo/sub-{l}/anat/sub-{l}_measures.parquet", names);
            Assert.Contains($"demo/sub-{l}/anat/sub-{l}_qc.png", names);
        }
        foreach (var f in new[] { "dataset_description.json", "group/measures.csv", "group/measures.parquet", "group/stats.csv", "group/report.html",
                     "runs/state.json", "exports/exports.json", "exports/latest/measures.csv" })
            Assert.Contains("demo/" + f, names);
        Assert.Single(names, x => x.StartsWith("demo/runs/2", StringComparison.Ordinal));
        Assert.Equal("completed", JsonDocument.Parse(Text(results, "demo/runs/state.json")).RootElement.GetProperty("status").GetString());
        Assert.DoesNotContain(names, x => x.Split('/').Any(s => s.StartsWith('.')));   // no temporary blob

        // the same cohort from the local disk: identical table, identical cache keys (a content hash, not a location)
        using var loc = new TempDir("blob-e2e-local");
        TestInputs.WriteCohort(loc.FullName, n);
        var localRun = await Run(loc, null, "run", loc.FullName);
        Assert.True(localRun.Code == 0, localRun.All);
        Assert.Equal(File.ReadAllText(loc["out/group/measures.csv"]), Text(results, "demo/group/measures.csv"));
        for (int i = 1; i <= n; i++)
        {
            var l = i.ToString("00");
            var blobKey = JsonDocument.Parse(Text(results, $"demo/sub-{l}/anat/sub-{l}_measures.json")).RootElement.GetProperty("cacheKey").GetString();
            var diskKey = JsonDocument.Parse(File.ReadAllText(loc[$"out/sub-{l}/anat/sub-{l}_measures.json"])).RootElement.GetProperty("cacheKey").GetString();
            Assert.Equal(diskKey, blobKey);
        }
        var index = JsonDocument.Parse(Text(results, "demo/exports/exports.json")).RootElement;
        Assert.Equal(n, index.GetProperty("latest").GetProperty("subjects").GetProperty("measured").GetInt32());

        // second run, with a fresh staging folder (another machine): every subject is a cache hit
        Directory.Delete(d["staging"], true);
        var second = await Run(d, null, "run", d["cohort"]);
        Assert.True(second.Code == 0, second.All);
        Assert.Contains($"{n} of {n} subjects measured ({n} from cache), 0 failed", second.Stdout);
        Assert.Equal(n, TestInputs.CountMarkers(d["markers.txt"]).Values.Sum());   // nothing measured again
        Assert.Equal(2, Names(results, "demo/runs/2").Count);
        Assert.Equal(2, JsonDocument.Parse(Text(results, "demo/exports/exports.json")).RootElement.GetProperty("runs").GetArrayLength());
        Assert.False(Directory.Exists(d["scratch"]) && Directory.EnumerateFiles(d["scratch"], "*", SearchOption.AllDirectories).Any(), "scratch not cleaned");
    }

    [RequiresFact(Requirements.Azurite)]
    public async Task Killed_with_kill_9_mid_upload_a_rerun_leaves_exactly_one_complete_result_per_subject()
    {
        const int n = 6;
        using var d = new TempDir("blob-kill");
        var inputs = NewContainer("inputs");
        var results = NewContainer("results");
        WriteBlobCohort(d, inputs, $"az://{results.Name}/demo", n);
        var env = new Dictionary<string, string> { ["BATCHCOHORT_TEST_PAD_MB"] = "24", ["BATCHCOHORT_PROGRESS_MB"] = "1" };
        string[] committedAtKill;
        using (var p = Start(d, 0, env, "run", d["cohort"], "--jobs", "2"))
        {
            _ = p.StandardError.ReadToEndAsync();
            var sw = Stopwatch.StartNew();
            string? line;
            // "uploading az://…_pad.bin: x of 24.0 MB" is printed while a derivative is on its way: kill then
            int uploads = 0;
            while ((line = await p.StandardOutput.ReadLineAsync()) is not null)
            {
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(90), "no upload seen within 90 s");
                if (line.StartsWith("uploading ", StringComparison.Ordinal) && !line.EndsWith("(100%)", StringComparison.Ordinal) && ++uploads >= 3) break;
            }
            Assert.NotNull(line);
            p.Kill(entireProcessTree: false);   // SIGKILL
            await p.WaitForExitAsync();
            Assert.Equal(137, p.ExitCode);
            committedAtKill = Names(results).Where(x => x.EndsWith("_measures.json", StringComparison.Ordinal)).ToArray();
        }
        Assert.InRange(committedAtKill.Length, 0, n - 1);
        // every record visible is complete and its files are there (a record is written last)
        foreach (var rec in committedAtKill)
        {
            var doc = JsonDocument.Parse(Text(results, rec)).RootElement;
            var dir = rec[..(rec.LastIndexOf('/') + 1)];
            foreach (var f in doc.GetProperty("files").EnumerateObject())
                Assert.True(results.GetBlobClient(dir + f.Value.GetString()).Exists(), $"{rec} names a missing {f.Value}");
        }
        var markersAtKill = TestInputs.CountMarkers(d["markers.txt"]);

        var rerun = await Run(d, env, "run", d["cohort"], "--jobs", "2");
        Assert.True(rerun.Code == 0, rerun.All);
        var names = Names(results);
        var records = names.Where(x => x.EndsWith("_measures.json", StringComparison.Ordinal)).ToList();
        Assert.Equal(n, records.Count);   // exactly one result per subject
        foreach (var rec in records)
        {
            var doc = JsonDocument.Parse(Text(results, rec)).RootElement;
            var pad = results.GetBlobClient(rec.Replace("_measures.json", "_pad.bin"));
            Assert.Equal(24L << 20, pad.GetProperties().Value.ContentLength);   // derivatives whole
            Assert.Equal(doc.GetProperty("subjectLabel").GetString(), rec.Split('/')[1][4..]);
        }
        var markers = TestInputs.CountMarkers(d["markers.txt"]);
        foreach (var rec in committedAtKill) Assert.Equal(1, markers[rec.Split('/')[1][4..]]);   // committed before the kill: never measured again
        Assert.Equal(n, markers.Count);
        Assert.Contains("resuming run", rerun.Stdout);
        _ = markersAtKill;
    }

    [RequiresFact(Requirements.Azurite)]
    public async Task Bad_blob_inputs_give_one_line_naming_the_location_and_lose_nothing_already_written()
    {
        using var d = new TempDir("blob-bad");
        var inputs = NewContainer("inputs");
        var results = NewContainer("results");
        // sub-02 is not an image; sub-03 is larger than the scratch limit
        WriteBlobCohort(d, inputs, $"az://{results.Name}/demo", 6, corrupt: "02", padBytes: 4096);
        var limit = new Dictionary<string, string> { ["BATCHCOHORT_SCRATCH_MAX_MB"] = "0.002" };   // 2 kB
        var r = await Run(d, limit, "run", d["cohort"]);
        Assert.True(r.Code == 3, r.All);
        Assert.Contains($"  02: az://{inputs.Name}/demo/data/sub-02_T1w.nii: not a test volume (wrong magic)", r.Stderr);
        Assert.Contains($"  03: az://{inputs.Name}/demo/data/sub-03_T1w.nii: 4107 bytes is larger than the limit of 2097 bytes (BATCHCOHORT_SCRATCH_MAX_MB)", r.Stderr);
        Assert.DoesNotContain(d["scratch"], r.All);
        Assert.DoesNotContain("   at ", r.Stderr);
        var before = Names(results);
        Assert.Contains("demo/sub-01/anat/sub-01_measures.json", before);

        // a missing container (inputs): exit 2, one line
        File.WriteAllText(d["cohort2.json"], File.ReadAllText(d["cohort/cohort.json"]).Replace($"az://{inputs.Name}/demo/data/sub-", "az://no-such-container/demo/data/sub-"));
        Directory.CreateDirectory(d["c2"]);
        File.Move(d["cohort2.json"], d["c2/cohort.json"]);
        var missing = await Run(d, null, "run", d["c2"]);
        Assert.Equal(2, missing.Code);
        var line = Assert.Single(missing.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("batchcohort: error: az://no-such-container/demo/data: the container 'no-such-container' does not exist", line);

        // a wrong key: exit 2, one line naming the location, the key never printed; the results already written are all still there
        var wrongKey = Convert.ToBase64String(Encoding.ASCII.GetBytes("a-wrong-key-for-devstoreaccount1-0123456789abcdef"));
        var denied = await Run(d, new() { ["AZURE_STORAGE_CONNECTION_STRING"] = Az.ConnectionStringWithKey(wrongKey) }, "run", d["cohort"]);
        Assert.Equal(2, denied.Code);
        line = Assert.Single(denied.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"batchcohort: error: az://{inputs.Name}/demo/data/participants.tsv: access denied", line);
        Assert.DoesNotContain(wrongKey, denied.All);
        Assert.DoesNotContain(AzuriteServer.Key, denied.All);
        Assert.Equal(before, Names(results));

        // an output in a container that does not exist: exit 2 before anything is measured
        var markers = TestInputs.CountMarkers(d["markers.txt"]).Values.Sum();
        var noOut = await Run(d, limit, "run", d["cohort"], "--output", "az://no-such-output/x");
        Assert.Equal(2, noOut.Code);
        line = Assert.Single(noOut.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("batchcohort: error: az://no-such-output/x/", line);
        Assert.EndsWith(": the container 'no-such-output' does not exist", line);
        Assert.Equal(markers, TestInputs.CountMarkers(d["markers.txt"]).Values.Sum());

        // no credentials at all
        var none = await Run(d, new() { ["AZURE_STORAGE_CONNECTION_STRING"] = "" }, "run", d["cohort"]);
        Assert.Equal(2, none.Code);
        Assert.Contains("no credentials: set AZURE_STORAGE_CONNECTION_STRING", none.Stderr);
    }
}
