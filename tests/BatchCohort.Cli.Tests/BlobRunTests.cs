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

    /// <summary>`batchcohort` as a process (<see cref="CliProcess"/>) with this class's Azurite credentials and its own
    /// staging and scratch folders; <paramref name="env"/> overrides (an empty measurer variable: the real pipeline).</summary>
    private Process Start(TempDir d, int delayMs, Dictionary<string, string>? env, params string[] args) =>
        CliProcess.Start(d, delayMs, EnvFor(d, env), args);

    private Dictionary<string, string> EnvFor(TempDir d, Dictionary<string, string>? env)
    {
        var all = new Dictionary<string, string>
        {
            ["AZURE_STORAGE_CONNECTION_STRING"] = Az.ConnectionString,
            ["BATCHCOHORT_STAGING"] = d["staging"],
            ["BATCHCOHORT_SCRATCH"] = d["scratch"],
            ["BATCHCOHORT_STORAGE_RETRIES"] = "1",
        };
        foreach (var (k, v) in env ?? new()) all[k] = v;
        return all;
    }

    private sealed record Result(int Code, string Stdout, string Stderr)
    {
        public string All => Stdout + Stderr;
    }

    private Task<Result> Run(TempDir d, Dictionary<string, string>? env, params string[] args) => Run(d, env, 120, args);

    private async Task<Result> Run(TempDir d, Dictionary<string, string>? env, int seconds, params string[] args)
    {
        var r = await CliProcess.RunToEnd(d, 0, EnvFor(d, env), TimeSpan.FromSeconds(seconds), args);
        return new Result(r.Code, r.Stdout, r.Stderr);
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
    /// <summary>Atlas files for the test measurer (which does not read them; the settings hash holds their content hash).</summary>
    private static readonly byte[] AtlasHead = Encoding.ASCII.GetBytes("test atlas head\n"), AtlasBrain = Encoding.ASCII.GetBytes("test atlas brain\n");

    private static void WriteBlobCohort(TempDir d, BlobContainerClient inputs, string output, int n, string? corrupt = null, int padBytes = 0,
        bool demographicsInBlob = false, bool atlasInBlob = false)
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
        if (atlasInBlob)
        {
            inputs.GetBlobClient("atlas/head.nii").Upload(new BinaryData(AtlasHead));
            inputs.GetBlobClient("atlas/brain.nii").Upload(new BinaryData(AtlasBrain));
            manifest = manifest.Replace("\"atlas\": \"phantom\"", $"\"atlas\": {{ \"head\": \"az://{inputs.Name}/atlas/head.nii\", \"brain\": \"az://{inputs.Name}/atlas/brain.nii\" }}");
        }
        if (demographicsInBlob)
            manifest = manifest.Replace("\"path\": \"data/participants.tsv\"", $"\"path\": \"az://{inputs.Name}/demo/data/participants.tsv\"");
        Directory.CreateDirectory(d["cohort/data"]);
        if (!demographicsInBlob) File.Copy(Path.Combine(local, "data", "participants.tsv"), d["cohort/data/participants.tsv"]);
        File.WriteAllText(d["cohort/cohort.json"], manifest);
    }

    [RequiresFact(Requirements.Azurite)]
    public async Task A_cohort_whose_images_and_atlas_are_in_blob_storage_runs_end_to_end_then_a_second_run_measures_nothing()
    {
        const int n = 6;
        using var d = new TempDir("blob-e2e");
        var inputs = NewContainer("inputs");
        WriteBlobCohort(d, inputs, "out", n, atlasInBlob: true);

        var first = await Run(d, null, "run", d["cohort"]);
        Assert.True(first.Code == 0, first.All);
        Assert.Contains($"{n} of {n} subjects measured (0 from cache), 0 failed", first.Stdout);
        Assert.DoesNotContain(AzuriteServer.Key, first.All);
        Assert.DoesNotContain("AccountKey", first.All);

        // the same cohort (images and atlas) from the local disk: identical table, identical cache keys (content hashes, not locations)
        using var loc = new TempDir("blob-e2e-local");
        TestInputs.WriteCohort(loc.FullName, n);
        // the same atlas files, on the disk
        Directory.CreateDirectory(loc["atlas"]);
        File.WriteAllBytes(loc["atlas/head.nii"], AtlasHead);
        File.WriteAllBytes(loc["atlas/brain.nii"], AtlasBrain);
        File.WriteAllText(loc["cohort.json"], File.ReadAllText(loc["cohort.json"])
            .Replace("\"atlas\": \"phantom\"", "\"atlas\": { \"head\": \"atlas/head.nii\", \"brain\": \"atlas/brain.nii\" }"));
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
        Assert.Equal("files", JsonDocument.Parse(File.ReadAllText(d["cohort/out/runs/atlas.json"])).RootElement.GetProperty("kind").GetString());
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

    /// <summary>Every file under <paramref name="root"/> (but those excepted) that holds a SAS signature.</summary>
    private static List<string> FilesWithSignature(string root, params string[] except) =>
        Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Where(f => !except.Contains(f) && Encoding.Latin1.GetString(File.ReadAllBytes(f)).Contains("sig=", StringComparison.OrdinalIgnoreCase)).ToList()
            : new List<string>();

    [RequiresFact(Requirements.Azurite)]
    public async Task SAS_locations_in_the_manifest_are_read_and_written_with_but_no_SAS_is_written_to_the_output_the_staging_or_the_run_state()
    {
        const int n = 4;
        using var d = new TempDir("blob-sas");
        var inputs = NewContainer("inputs");
        var results = NewContainer("results");
        WriteBlobCohort(d, inputs, "OUTPUT", n, demographicsInBlob: true, atlasInBlob: true);
        // images, demographics and atlas through a read-only SAS of their container, the output through a SAS of its
        // container; no connection string at all: the SAS in cohort.json is the only credential
        var read = inputs.GenerateSasUri(Azure.Storage.Sas.BlobContainerSasPermissions.Read | Azure.Storage.Sas.BlobContainerSasPermissions.List, DateTimeOffset.UtcNow.AddHours(2));
        var write = results.GenerateSasUri(Azure.Storage.Sas.BlobContainerSasPermissions.All, DateTimeOffset.UtcNow.AddHours(2));
        Assert.Contains("sig=", read.Query);
        var manifest = System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(d["cohort/cohort.json"]), $"az://{inputs.Name}/([^\"]*)",
                m => $"{read.GetLeftPart(UriPartial.Path)}/{m.Groups[1].Value}{read.Query}")
            .Replace("\"output\": \"OUTPUT\"", $"\"output\": \"{write.GetLeftPart(UriPartial.Path)}/study{write.Query}\"");
        Assert.DoesNotContain("az://", manifest);
        File.WriteAllText(d["cohort/cohort.json"], manifest);
        var noKey = new Dictionary<string, string> { ["AZURE_STORAGE_CONNECTION_STRING"] = "" };

        var first = await Run(d, noKey, "run", d["cohort"]);
        Assert.True(first.Code == 0, first.All);
        Assert.Contains($"{n} of {n} subjects measured (0 from cache), 0 failed", first.Stdout);
        Assert.DoesNotContain("sig=", first.All, StringComparison.OrdinalIgnoreCase);

        // every blob of the output and every file of staging, scratch and the cohort folder (but the manifest the user wrote)
        var names = Names(results);
        Assert.Contains("study/runs/state.json", names);
        Assert.Contains($"study/sub-01/anat/sub-01_measures.json", names);
        Assert.Contains(names, x => x.StartsWith("study/runs/cohort-", StringComparison.Ordinal));
        foreach (var b in names)
            Assert.False(Encoding.Latin1.GetString(results.GetBlobClient(b).DownloadContent().Value.Content.ToArray()).Contains("sig=", StringComparison.OrdinalIgnoreCase), b + " holds a SAS");
        Assert.Empty(FilesWithSignature(d.FullName, d["cohort/cohort.json"]));
        // the run state names each input by its location without the query
        var state = JsonDocument.Parse(Text(results, "study/runs/state.json")).RootElement;
        Assert.All(state.GetProperty("subjects").EnumerateArray(), x =>
            Assert.Equal($"{read.GetLeftPart(UriPartial.Path)}/demo/data/sub-{x.GetProperty("label").GetString()}_T1w.nii", x.GetProperty("input").GetString()));

        // run again: the SAS is taken from the manifest again at read time; every subject a cache hit
        var second = await Run(d, noKey, "run", d["cohort"]);
        Assert.True(second.Code == 0, second.All);
        Assert.Contains($"{n} of {n} subjects measured ({n} from cache), 0 failed", second.Stdout);
        Assert.Empty(FilesWithSignature(d.FullName, d["cohort/cohort.json"]));
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

        // --output / --export in a container that does not exist: refused before anything is measured, one line, exit 2
        var markers = TestInputs.CountMarkers(d["markers.txt"]).Values.Sum();
        var noOut = await Run(d, null, "run", d["cohort"], "--output", "az://no-such-results/x");
        Assert.Equal(2, noOut.Code);
        Assert.Equal($"batchcohort: error: {d["cohort/cohort.json"]}: output: az://no-such-results/x/runs/state.json: the container 'no-such-results' does not exist", noOut.Stderr.Trim());
        var noExport = await Run(d, null, "run", d["cohort"], "--export", "az://no-such-exports/x");
        Assert.Equal(2, noExport.Code);
        Assert.Equal($"batchcohort: error: {d["cohort/cohort.json"]}: exports: az://no-such-exports/x/exports.json: the container 'no-such-exports' does not exist", noExport.Stderr.Trim());
        var badName = await Run(d, null, "run", d["cohort"], "--output", "az://Bad_Name/x");
        Assert.Equal(2, badName.Code);
        Assert.Contains("--output: az://Bad_Name/x: 'Bad_Name' is not a valid container name", badName.Stderr);
        Assert.Equal(markers, TestInputs.CountMarkers(d["markers.txt"]).Values.Sum());
        Assert.Equal(before, Directory.GetFiles(d["cohort/out"], "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList());

        // no credentials at all
        var none = await Run(d, new() { ["AZURE_STORAGE_CONNECTION_STRING"] = "" }, "run", d["cohort"]);
        Assert.Equal(2, none.Code);
        Assert.Contains("no credentials: set AZURE_STORAGE_CONNECTION_STRING", none.Stderr);
    }
    /// <summary>The value the test measurer reads from sub-&lt;id&gt; of <see cref="TestInputs.WriteCohort"/> (10·i, +7 for patients).</summary>
    private static int InputValue(int i) => 10 * i + (i % 2 == 0 ? 7 : 0);

    [RequiresFact(Requirements.Azurite)]
    public async Task Inputs_demographics_and_outputs_in_blob_storage_run_end_to_end_and_a_run_from_a_fresh_machine_measures_nothing()
    {
        const int n = 6;
        using var d = new TempDir("blob-out");
        var inputs = NewContainer("inputs");
        var results = NewContainer("results");
        var output = $"az://{results.Name}/study";
        WriteBlobCohort(d, inputs, output, n, demographicsInBlob: true);

        var first = await Run(d, null, "run", d["cohort"]);
        Assert.True(first.Code == 0, first.All);
        Assert.Contains($"{n} of {n} subjects measured (0 from cache), 0 failed", first.Stdout);
        Assert.Contains($"outputs: {output}", first.Stdout);
        Assert.DoesNotContain(AzuriteServer.Key, first.All);
        Assert.DoesNotContain("AccountKey", first.All);
        Assert.False(Directory.Exists(d["cohort/out"]), "nothing may be written to the manifest's folder");

        // the outputs, listed from Azurite with the SDK: per subject the derivatives and the record; the group tables,
        // report, run state and records; the exports (latest/, a dated copy, the index)
        var names = Names(results, "study/");
        for (int i = 1; i <= n; i++)
        {
            var l = i.ToString("00");
            foreach (var f in new[] { $"sub-{l}_measures.json", $"sub-{l}_qc.png", $"sub-{l}_measures.parquet" })
                Assert.Contains($"study/sub-{l}/anat/{f}", names);
        }
        foreach (var f in new[] { "group/measures.parquet", "group/measures.csv", "group/stats.csv", "group/report.html", "runs/state.json",
                     "runs/atlas.json", "dataset_description.json", "exports/exports.json", "exports/latest/measures.csv" })
            Assert.Contains("study/" + f, names);
        Assert.Contains(names, x => x.StartsWith("study/runs/settings-", StringComparison.Ordinal));
        var state = JsonDocument.Parse(Text(results, "study/runs/state.json")).RootElement;
        Assert.Equal("completed", state.GetProperty("status").GetString());
        Assert.Contains(names, x => x == $"study/runs/{state.GetProperty("runId").GetString()}.json");

        // the cohort table against the synthetic truth: one row per subject, icv_ml = 1400 + 3v, and the demographics
        // (read from the blob) joined: age = 60 + i
        var csv = Text(results, "study/group/measures.csv").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = csv[0].Split(',');
        int pid = Array.IndexOf(header, "participant_id"), icv = Array.IndexOf(header, "icv_ml"), age = Array.IndexOf(header, "age");
        Assert.True(icv >= 0 && age >= 0, csv[0]);
        Assert.Equal(n, csv.Length - 1);
        for (int i = 1; i <= n; i++)
        {
            var row = csv.Single(r => r.Split(',')[pid] == $"sub-{i:00}").Split(',');
            Assert.Equal(1400 + 3 * InputValue(i), double.Parse(row[icv], System.Globalization.CultureInfo.InvariantCulture), 6);
            Assert.Equal(60 + i, double.Parse(row[age], System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.Equal(Text(results, "study/group/measures.csv"), Text(results, "study/exports/latest/measures.csv"));

        // a second run from a "fresh machine" (another staging and scratch folder): the output's run state and records
        // are the truth; every subject is a cache hit, nothing is measured again
        var fresh = new Dictionary<string, string> { ["BATCHCOHORT_STAGING"] = d["staging2"], ["BATCHCOHORT_SCRATCH"] = d["scratch2"] };
        var second = await Run(d, fresh, "run", d["cohort"]);
        Assert.True(second.Code == 0, second.All);
        Assert.Contains($"{n} of {n} subjects measured ({n} from cache), 0 failed", second.Stdout);
        Assert.Equal(n, TestInputs.CountMarkers(d["markers.txt"]).Values.Sum());
        Assert.Equal(2, JsonDocument.Parse(Text(results, "study/exports/exports.json")).RootElement.GetProperty("runs").GetArrayLength());

        // the demographics blob gone: one line naming it, exit 2, nothing measured, nothing already written lost
        var listing = results.GetBlobs(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "study/", default).Select(b => (b.Name, b.Properties.ETag)).OrderBy(x => x.Name, StringComparer.Ordinal).ToList();
        inputs.GetBlobClient("demo/data/participants.tsv").Delete();
        var gone = await Run(d, null, "run", d["cohort"]);
        Assert.Equal(2, gone.Code);
        Assert.Equal($"batchcohort: error: {d["cohort/cohort.json"]}: demographics: az://{inputs.Name}/demo/data/participants.tsv: not found", gone.Stderr.Trim());
        Assert.Equal(n, TestInputs.CountMarkers(d["markers.txt"]).Values.Sum());
        Assert.Equal(listing, results.GetBlobs(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "study/", default).Select(b => (b.Name, b.Properties.ETag)).OrderBy(x => x.Name, StringComparer.Ordinal).ToList());
    }

    [RequiresFact(Requirements.Azurite)]
    public async Task A_run_killed_mid_upload_leaves_no_partial_result_and_the_next_run_has_exactly_one_result_per_subject()
    {
        const int n = 4, padMb = 12;
        using var d = new TempDir("blob-kill");
        var inputs = NewContainer("inputs");
        var results = NewContainer("results");
        var output = $"az://{results.Name}/study";
        WriteBlobCohort(d, inputs, output, n);
        // uploads go through a slow link (3 MB/s): a 12 MB derivative takes about 4 s
        using var link = new SlowLink(Az.Port, 3 << 20);
        var slow = new Dictionary<string, string>
        {
            ["AZURE_STORAGE_CONNECTION_STRING"] = Az.ConnectionString.Replace($":{Az.Port}/", $":{link.Port}/"),
            ["BATCHCOHORT_TEST_PAD_MB"] = padMb.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["BATCHCOHORT_PROGRESS_MB"] = "1",
        };
        using (var p = Start(d, 0, slow, "run", d["cohort"], "--jobs", "1"))
        {
            var err = p.StandardError.ReadToEndAsync();
            // kill -9 while the second subject's large derivative is being uploaded (its progress line says so)
            var rx = new System.Text.RegularExpressions.Regex(@"^uploading az://[^ ]+/sub-(\d+)_pad\.bin: ([0-9.]+) of ([0-9.]+) MB");
            var uploading = new List<string>();
            string? killedDuring = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            while (killedDuring is null && DateTime.UtcNow < deadline && await p.StandardOutput.ReadLineAsync() is { } line)
            {
                var m = rx.Match(line);
                if (!m.Success) continue;
                if (!uploading.Contains(m.Groups[1].Value)) uploading.Add(m.Groups[1].Value);
                double done = double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
                double total = double.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
                if (uploading.Count == 2 && done > 0 && done < total)
                {
                    p.Kill();   // SIGKILL
                    killedDuring = m.Groups[1].Value;
                }
            }
            Assert.True(killedDuring is not null, "never saw the second upload in progress: " + await err);
            await p.WaitForExitAsync();

            // what a reader sees now: the subject being uploaded has no record and no pad blob (its blocks were never
            // committed); every record there names derivatives that are all there, whole
            var names = Names(results, "study/");
            Assert.DoesNotContain($"study/sub-{killedDuring}/anat/sub-{killedDuring}_measures.json", names);
            Assert.DoesNotContain($"study/sub-{killedDuring}/anat/sub-{killedDuring}_pad.bin", names);
            AssertEveryRecordComplete(results, names, padMb);
            Assert.Contains($"study/sub-{uploading[0]}/anat/sub-{uploading[0]}_measures.json", names);
        }
        var doneIds = Names(results, "study/").Where(x => x.EndsWith("_measures.json", StringComparison.Ordinal) && x.Contains("/anat/", StringComparison.Ordinal))
            .Select(x => x.Split('/')[1]["sub-".Length..]).ToList();
        var doneBefore = doneIds.Count;
        var measuredBefore = TestInputs.CountMarkers(d["markers.txt"]).Values.Sum();

        // run again (full speed): it resumes, measures only what was not done, and every subject has exactly one result
        var again = await Run(d, new() { ["BATCHCOHORT_TEST_PAD_MB"] = padMb.ToString(System.Globalization.CultureInfo.InvariantCulture) }, "run", d["cohort"]);
        Assert.True(again.Code == 0, again.All);
        Assert.True(again.Stdout.Contains("resuming run", StringComparison.Ordinal) && again.Stdout.Contains($"{n} of {n} subjects measured", StringComparison.Ordinal)
                    && again.Stdout.Contains(", 0 failed", StringComparison.Ordinal), again.All);
        var after = Names(results, "study/");
        AssertEveryRecordComplete(results, after, padMb);
        Assert.Equal(n, after.Count(x => x.EndsWith("_measures.json", StringComparison.Ordinal)));
        // the subjects done before the kill were measured once (cache hits now); the others once more in this run
        var markers = TestInputs.CountMarkers(d["markers.txt"]);
        foreach (var id in doneIds) Assert.Equal(1, markers[id]);
        Assert.Equal(measuredBefore + (n - doneBefore), markers.Values.Sum());
        using (var tmp = new TempDir("blob-kill-parquet"))
        {
            results.GetBlobClient("study/group/measures.parquet").DownloadTo(tmp["m.parquet"]);
            var table = BatchCohort.Analysis.Tables.TableFile.Read(tmp["m.parquet"]);
            var ids = table.GetStrings("participant_id").Select(x => x ?? "").ToList();
            Assert.Equal(Enumerable.Range(1, n).Select(i => $"sub-{i:00}").ToList(), ids.Order(StringComparer.Ordinal).ToList());
        }
    }

    /// <summary>Every result record listed names derivatives that are listed, with their full size (the pad: padMb MB, its bytes the measurer's).</summary>
    private static void AssertEveryRecordComplete(BlobContainerClient c, List<string> names, int padMb)
    {
        foreach (var rec in names.Where(x => x.EndsWith("_measures.json", StringComparison.Ordinal) && x.Contains("/anat/", StringComparison.Ordinal)))
        {
            var folder = rec[..(rec.LastIndexOf('/') + 1)];
            var files = JsonDocument.Parse(Text(c, rec)).RootElement.GetProperty("files");
            foreach (var f in files.EnumerateObject())
            {
                var blob = folder + f.Value.GetString();
                Assert.True(names.Contains(blob), $"{rec} names {blob}, which is not there");
                if (f.Name == "pad") Assert.Equal((long)padMb << 20, c.GetBlobClient(blob).GetProperties().Value.ContentLength);
            }
        }
    }

    /// <summary>
    /// The demo cohort's manifest (Repo's cohorts/demo/cohort.json: OASIS-1 raw sagittal Analyze pairs, two
    /// demographics tables, compare-groups/normalise/correlate) with 4 subjects instead of 24 (CI time), measured by
    /// the real pipeline: once from disk to a local output, once with its images, demographics and output all in
    /// Azurite. The two runs' measures and statistics agree to the last digit (timing columns aside), and a second blob
    /// run measures nothing.
    /// </summary>
    [RequiresFact(Requirements.Azurite)]
    public async Task The_demo_cohort_measured_by_the_real_pipeline_in_blob_storage_equals_the_run_from_disk()
    {
        const int n = 4;
        using var d = new TempDir("blob-demo");
        var real = new Dictionary<string, string> { [MeasurerFactory.EnvironmentVariable] = "" };
        var synth = await Run(d, real, 600, "synth", "--subjects", n.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seed", "2026", "--layout", "oasis", "--out", d["disk/data"]);
        Assert.True(synth.Code == 0, synth.All);

        var demo = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Repo.Path_("cohorts", "demo", "cohort.json")))!.AsObject();
        demo.Remove("synthesize");
        File.WriteAllText(d["disk/cohort.json"], demo.ToJsonString());
        var fromDisk = await Run(d, real, 900, "run", d["disk"]);
        Assert.True(fromDisk.Code == 0, fromDisk.All);
        Assert.Contains($"{n} of {n} subjects measured (0 from cache), 0 failed", fromDisk.Stdout);

        var inputs = NewContainer("demo-in");
        var results = NewContainer("demo-out");
        foreach (var f in Directory.GetFiles(d["disk/data"], "*", SearchOption.AllDirectories))
            inputs.GetBlobClient("demo/data/" + Path.GetRelativePath(d["disk/data"], f).Replace('\\', '/')).Upload(new BinaryData(File.ReadAllBytes(f)));
        var blob = demo.DeepClone().AsObject();
        blob["inputs"]!["glob"] = $"az://{inputs.Name}/demo/data/sub-*/anat/sub-*_T1w.hdr";
        foreach (var t in blob["demographics"]!.AsArray())
            t!["path"] = $"az://{inputs.Name}/demo/" + t["path"]!.GetValue<string>();
        blob["output"] = $"az://{results.Name}/demo";
        Directory.CreateDirectory(d["blob"]);
        File.WriteAllText(d["blob/cohort.json"], blob.ToJsonString());
        var inBlob = await Run(d, real, 900, "run", d["blob"]);
        Assert.True(inBlob.Code == 0, inBlob.All);
        Assert.Contains($"{n} of {n} subjects measured (0 from cache), 0 failed", inBlob.Stdout);
        Assert.False(Directory.Exists(d["blob/out"]), "nothing may be written beside a manifest whose output is a blob location");

        // measures: every column but the timing ones, to the last digit; statistics: every column
        static List<string[]> Rows(string csv) => csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(',')).ToList();
        var a = Rows(File.ReadAllText(d["disk/out/group/measures.csv"]));
        var b = Rows(Text(results, "demo/group/measures.csv"));
        Assert.Equal(a[0], b[0]);
        var keep = Enumerable.Range(0, a[0].Length).Where(i => !a[0][i].StartsWith("t_", StringComparison.Ordinal)).ToList();
        Assert.Contains(keep, i => a[0][i] == "icv_ml");
        Assert.Equal(n + 1, a.Count);
        Assert.Equal(a.Select(r => string.Join(",", keep.Select(i => r[i]))), b.Select(r => string.Join(",", keep.Select(i => r[i]))));
        Assert.Equal(File.ReadAllText(d["disk/out/group/stats.csv"]), Text(results, "demo/group/stats.csv"));

        var again = await Run(d, real, 900, "run", d["blob"]);
        Assert.True(again.Code == 0, again.All);
        Assert.Contains($"{n} of {n} subjects measured ({n} from cache), 0 failed", again.Stdout);
    }
}
