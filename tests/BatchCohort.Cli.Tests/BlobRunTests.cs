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
/// `batchcohort run` (the Orleans engine) with its inputs in Azure Blob Storage — a real Azurite (npm azurite) and
/// a real batchcohort process (the test-only measurer plugged in). Blobs are uploaded with the Azure SDK directly,
/// not through the code under test.
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
            .Replace("\"output\": \"out\"", $"\"output\": \"{output}\"");
        Directory.CreateDirectory(d["cohort/data"]);
        File.Copy(Path.Combine(local, "data", "participants.tsv"), d["cohort/data/participants.tsv"]);
        File.WriteAllText(d["cohort/cohort.json"], manifest);
    }

    [RequiresFact(Requirements.Azurite)]
    public async Task A_cohort_whose_images_are_in_blob_storage_runs_end_to_end_then_a_second_run_measures_nothing()
    {
        const int n = 6;
        using var d = new TempDir("blob-e2e");
        var inputs = NewContainer("inputs");
        WriteBlobCohort(d, inputs, "out", n);

        var first = await Run(d, null, "run", d["cohort"]);
        Assert.True(first.Code == 0, first.All);
        Assert.Contains($"{n} of {n} subjects measured (0 from cache), 0 failed", first.Stdout);
        Assert.DoesNotContain(AzuriteServer.Key, first.All);
        Assert.DoesNotContain("AccountKey", first.All);

        // the same cohort from the local disk: identical table, identical cache keys (a content hash, not a location)
        using var loc = new TempDir("blob-e2e-local");
        TestInputs.WriteCohort(loc.FullName, n);
        var localRun = await Run(loc, null, "run", loc.FullName);
        Assert.True(localRun.Code == 0, localRun.All);
        Assert.Equal(File.ReadAllText(loc["out/group/measures.csv"]), File.ReadAllText(d["cohort/out/group/measures.csv"]));
        for (int i = 1; i <= n; i++)
        {
            var l = i.ToString("00");
            var blobKey = JsonDocument.Parse(File.ReadAllText(d[$"cohort/out/sub-{l}/anat/sub-{l}_measures.json"])).RootElement.GetProperty("cacheKey").GetString();
            var diskKey = JsonDocument.Parse(File.ReadAllText(loc[$"out/sub-{l}/anat/sub-{l}_measures.json"])).RootElement.GetProperty("cacheKey").GetString();
            Assert.Equal(diskKey, blobKey);
        }
        // the run published its group outputs: latest/, a dated copy, and the index with each file's hash
        var index = JsonDocument.Parse(File.ReadAllText(d["cohort/out/exports/exports.json"])).RootElement;
        Assert.Equal(n, index.GetProperty("latest").GetProperty("subjects").GetProperty("measured").GetInt32());
        Assert.Equal(File.ReadAllText(d["cohort/out/group/measures.csv"]), File.ReadAllText(d["cohort/out/exports/latest/measures.csv"]));

        var second = await Run(d, null, "run", d["cohort"]);
        Assert.True(second.Code == 0, second.All);
        Assert.Contains($"{n} of {n} subjects measured ({n} from cache), 0 failed", second.Stdout);
        Assert.Equal(n, TestInputs.CountMarkers(d["markers.txt"]).Values.Sum());   // nothing measured again
        Assert.Equal(2, JsonDocument.Parse(File.ReadAllText(d["cohort/out/exports/exports.json"])).RootElement.GetProperty("runs").GetArrayLength());
        Assert.False(Directory.Exists(d["scratch"]) && Directory.EnumerateFiles(d["scratch"], "*", SearchOption.AllDirectories).Any(), "scratch not cleaned");
    }

    [RequiresFact(Requirements.Azurite)]
    public async Task Bad_blob_inputs_give_one_line_naming_the_location_and_lose_nothing_already_written()
    {
        using var d = new TempDir("blob-bad");
        var inputs = NewContainer("inputs");
        // sub-02 is not an image; sub-03 is larger than the scratch limit
        WriteBlobCohort(d, inputs, "out", 6, corrupt: "02", padBytes: 4096);
        var limit = new Dictionary<string, string> { ["BATCHCOHORT_SCRATCH_MAX_MB"] = "0.002" };   // 2 kB
        var r = await Run(d, limit, "run", d["cohort"]);
        Assert.True(r.Code == 3, r.All);
        Assert.Contains($"  02: az://{inputs.Name}/demo/data/sub-02_T1w.nii: not a test volume (wrong magic)", r.Stderr);
        Assert.Contains($"  03: az://{inputs.Name}/demo/data/sub-03_T1w.nii: 4107 bytes is larger than the limit of 2097 bytes (BATCHCOHORT_SCRATCH_MAX_MB)", r.Stderr);
        Assert.DoesNotContain(d["scratch"], r.All);
        Assert.DoesNotContain("   at ", r.Stderr);
        var before = Directory.GetFiles(d["cohort/out"], "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.Contains(d["cohort/out/sub-01/anat/sub-01_measures.json"], before);

        // a missing container (inputs): exit 2, one line
        File.WriteAllText(d["cohort2.json"], File.ReadAllText(d["cohort/cohort.json"]).Replace($"az://{inputs.Name}/demo/data/sub-", "az://no-such-container/demo/data/sub-"));
        Directory.CreateDirectory(d["c2/data"]);
        File.Copy(d["cohort/data/participants.tsv"], d["c2/data/participants.tsv"]);
        File.Move(d["cohort2.json"], d["c2/cohort.json"]);
        var missing = await Run(d, null, "run", d["c2"]);
        Assert.Equal(2, missing.Code);
        Assert.Contains("az://no-such-container/demo/data: the container 'no-such-container' does not exist", missing.Stderr);
        Assert.DoesNotContain("   at ", missing.Stderr);

        // a wrong key: exit 2, one line naming the location, the key never printed; the results already written are all still there
        var wrongKey = Convert.ToBase64String(Encoding.ASCII.GetBytes("a-wrong-key-for-devstoreaccount1-0123456789abcdef"));
        var denied = await Run(d, new() { ["AZURE_STORAGE_CONNECTION_STRING"] = Az.ConnectionStringWithKey(wrongKey) }, "run", d["cohort"]);
        Assert.Equal(2, denied.Code);
        Assert.Contains($"az://{inputs.Name}/demo/data: access denied", denied.Stderr);
        Assert.DoesNotContain("   at ", denied.Stderr);
        Assert.DoesNotContain(wrongKey, denied.All);
        Assert.DoesNotContain(AzuriteServer.Key, denied.All);
        Assert.Equal(before, Directory.GetFiles(d["cohort/out"], "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList());

        // an output in blob storage: the Orleans engine does not write there yet; one line, exit 2, nothing measured
        var markers = TestInputs.CountMarkers(d["markers.txt"]).Values.Sum();
        Directory.CreateDirectory(d["c3"]);
        Directory.CreateDirectory(d["c3/data"]);
        File.Copy(d["cohort/data/participants.tsv"], d["c3/data/participants.tsv"]);
        File.WriteAllText(d["c3/cohort.json"], File.ReadAllText(d["cohort/cohort.json"]).Replace("\"output\": \"out\"", "\"output\": \"az://results/x\""));
        var blobOut = await Run(d, null, "run", d["c3"]);
        Assert.Equal(2, blobOut.Code);
        Assert.Contains("'az://results/x': the Orleans engine reads inputs from blob storage but not yet the output", blobOut.Stderr);
        Assert.Equal(markers, TestInputs.CountMarkers(d["markers.txt"]).Values.Sum());

        // no credentials at all
        var none = await Run(d, new() { ["AZURE_STORAGE_CONNECTION_STRING"] = "" }, "run", d["cohort"]);
        Assert.Equal(2, none.Code);
        Assert.Contains("no credentials: set AZURE_STORAGE_CONNECTION_STRING", none.Stderr);
    }
}
