using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Cli.Tests;

/// <summary>
/// A cluster whose silos share nothing with the client but blob storage, as on other machines: a real Redis (the
/// cluster backend), a real Azurite, two <c>batchcohort silo</c> processes each with its own working folder, staging,
/// scratch and connection string, and a client whose cohort folder (manifest, staging, scratch) is moved away right
/// after it submitted the run. Inputs, demographics, atlas and output are blobs; the run completes from what the output
/// holds (settings document, manifest copy), each silo reads the atlas into its own scratch, and the result equals the
/// same cohort measured on the disk by the embedded engine. <c>status --output</c> from a third folder reads the run
/// from the blob output. A second client machine (its own staging folder) submitting the same output at the same time
/// gets the same run. The fast test measurer: the cost is the processes, not measuring.
/// </summary>
public sealed class BlobClusterTests(RedisServer redis, CliAzurite azurite) : IClassFixture<RedisServer>, IClassFixture<CliAzurite>
{
    private static readonly byte[] AtlasHead = Encoding.ASCII.GetBytes("cluster atlas head\n"), AtlasBrain = Encoding.ASCII.GetBytes("cluster atlas brain\n");

    private AzuriteServer Az => azurite.Server!;

    private BlobServiceClient Service => new(Az.ConnectionString, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2025_11_05));

    private Dictionary<string, string> EnvFor(TempDir d, params (string Key, string Value)[] more)
    {
        var env = new Dictionary<string, string>
        {
            ["AZURE_STORAGE_CONNECTION_STRING"] = Az.ConnectionString,
            ["BATCHCOHORT_STAGING"] = d["staging"],
            ["BATCHCOHORT_SCRATCH"] = d["scratch"],
            ["BATCHCOHORT_STORAGE_RETRIES"] = "1",
        };
        foreach (var (k, v) in more) env[k] = v;
        return env;
    }

    [RequiresFact(Requirements.Redis, Requirements.Azurite)]
    public async Task Silos_that_share_only_blob_storage_with_the_client_run_a_blob_cohort_to_the_embedded_runs_measures()
    {
        const int n = 6;
        var inputs = Service.GetBlobContainerClient("cin-" + Guid.NewGuid().ToString("N")[..10]);
        inputs.Create();
        var results = Service.GetBlobContainerClient("cout-" + Guid.NewGuid().ToString("N")[..10]);
        results.Create();
        var output = $"az://{results.Name}/study";

        // the reference: the same cohort and atlas on the disk, the embedded engine
        using var reference = new TempDir("blobcluster-ref");
        TestInputs.WriteCohort(reference.FullName, n);
        Directory.CreateDirectory(reference["atlas"]);
        File.WriteAllBytes(reference["atlas/head.nii"], AtlasHead);
        File.WriteAllBytes(reference["atlas/brain.nii"], AtlasBrain);
        File.WriteAllText(reference["cohort.json"], File.ReadAllText(reference["cohort.json"])
            .Replace("\"atlas\": \"phantom\"", "\"atlas\": { \"head\": \"atlas/head.nii\", \"brain\": \"atlas/brain.nii\" }"));
        var refRun = await CliProcess.RunToEnd(reference, 0, null, TimeSpan.FromMinutes(3), "run", reference.FullName);
        Assert.True(refRun.Code == 0, refRun.Stderr + refRun.Stdout);

        // the client's machine: a folder holding only cohort.json; images, demographics and atlas uploaded with the SDK
        using var client = new TempDir("blobcluster-client");
        foreach (var f in Directory.GetFiles(reference["data"]))
            inputs.GetBlobClient("demo/data/" + Path.GetFileName(f)).Upload(new BinaryData(File.ReadAllBytes(f)));
        inputs.GetBlobClient("atlas/head.nii").Upload(new BinaryData(AtlasHead));
        inputs.GetBlobClient("atlas/brain.nii").Upload(new BinaryData(AtlasBrain));
        Directory.CreateDirectory(client["cohort"]);
        File.WriteAllText(client["cohort/cohort.json"], File.ReadAllText(reference["cohort.json"])
            .Replace("\"glob\": \"data/sub-*_T1w.nii\"", $"\"glob\": \"az://{inputs.Name}/demo/data/sub-*_T1w.nii\"")
            .Replace("\"path\": \"data/participants.tsv\"", $"\"path\": \"az://{inputs.Name}/demo/data/participants.tsv\"")
            .Replace("\"head\": \"atlas/head.nii\", \"brain\": \"atlas/brain.nii\"", $"\"head\": \"az://{inputs.Name}/atlas/head.nii\", \"brain\": \"az://{inputs.Name}/atlas/brain.nii\"")
            .Replace("\"output\": \"out\"", $"\"output\": \"{output}\""));
        Assert.DoesNotContain("\"data/", File.ReadAllText(client["cohort/cohort.json"]));

        // two silos, each with its own folders (none of them the client's) and its own credentials
        string clusterId = "b" + Guid.NewGuid().ToString("N")[..8];
        using var s1 = new TempDir("blobcluster-silo1");
        using var s2 = new TempDir("blobcluster-silo2");
        var siloDirs = new[] { s1, s2 };
        var silos = new List<ClusterTests.Silo>();
        string gone = client.FullName + "-gone";
        try
        {
            silos.AddRange(await Task.WhenAll(siloDirs.Select(s => ClusterTests.StartSilo(redis.Connection, clusterId, s, 1500,
                env: EnvFor(s, ("BATCHCOHORT_TEST_ATLAS_LOG", s["atlas.log"])), jobs: 1))));
            // two client machines (their own staging folders) submit the same blob output at once: one run, one coordinator
            using var client2 = new TempDir("blobcluster-client2");
            Directory.CreateDirectory(client2["cohort"]);
            File.Copy(client["cohort/cohort.json"], client2["cohort/cohort.json"]);
            var submits = await Task.WhenAll(new[] { client, client2 }.Select(c => CliProcess.RunToEnd(c, 0, EnvFor(c), TimeSpan.FromMinutes(3),
                "run", c["cohort"], "--cluster", redis.Connection, "--cluster-id", clusterId, "--detach")));
            var submit = submits[0];
            Assert.True(submit.Code == 0, submit.Stderr + submit.Stdout);
            Assert.True(submits[1].Code == 0, submits[1].Stderr + submits[1].Stdout);
            var runId = submit.Stdout.Split("run ", 2)[1].Split(' ')[0];
            Assert.Equal(runId, submits[1].Stdout.Split("run ", 2)[1].Split(' ')[0]);
            // the client's machine goes away: its manifest, staging and scratch are no longer there for anyone
            Directory.Move(client.FullName, gone);

            // status from a third machine reads the run from the blob output (its own staging folder is empty)
            using var viewer = new TempDir("blobcluster-viewer");
            CliProcess.Result status;
            var until = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (true)
            {
                status = await CliProcess.RunToEnd(viewer, 0, EnvFor(viewer), TimeSpan.FromMinutes(2), "status", runId, "--output", output);
                Assert.True(status.Code == 0, status.Stderr + status.Stdout);
                if (status.Stdout.Contains($"run {runId}: completed", StringComparison.Ordinal) || DateTime.UtcNow > until) break;
                Assert.DoesNotContain("group-failed", status.Stdout);
                await Task.Delay(1000);
            }
            Assert.Contains($"run {runId}: completed · cohort {JsonDocument.Parse(File.ReadAllText(reference["cohort.json"])).RootElement.GetProperty("name").GetString()} · {n} subjects: {n} done, 0 running, 0 pending, 0 failed", status.Stdout);
            Assert.Contains($"outputs: {output}", status.Stdout);
            Assert.False(Directory.Exists(viewer["staging"]) && Directory.EnumerateFiles(viewer["staging"], "*", SearchOption.AllDirectories).Any(), "status wrote to its staging folder");
            var list = await CliProcess.RunToEnd(viewer, 0, EnvFor(viewer), TimeSpan.FromMinutes(2), "status", "--output", output);
            Assert.Contains($"{runId}  completed", list.Stdout);

            // the outputs, listed from Azurite: a result per subject, the group tables, the settings document and the manifest copy
            var names = results.GetBlobs(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "study/", default).Select(b => b.Name).ToList();
            for (int i = 1; i <= n; i++) Assert.Contains($"study/sub-{i:00}/anat/sub-{i:00}_measures.json", names);
            Assert.Contains("study/group/measures.csv", names);
            Assert.Contains(names, x => x.StartsWith("study/runs/settings-", StringComparison.Ordinal));
            Assert.Contains(names, x => x.StartsWith("study/runs/cohort-", StringComparison.Ordinal));
            var state = JsonDocument.Parse(results.GetBlobClient("study/runs/state.json").DownloadContent().Value.Content.ToString()).RootElement;
            Assert.StartsWith(output + "/runs/settings-", state.GetProperty("settings").GetString());
            Assert.StartsWith(output + "/runs/cohort-", state.GetProperty("manifestCopy").GetString());

            // equal to the embedded run's table; every subject measured exactly once, across the two silos
            Assert.Equal(File.ReadAllText(reference["out/group/measures.csv"]), results.GetBlobClient("study/group/measures.csv").DownloadContent().Value.Content.ToString());
            var counts = new Dictionary<string, int>();
            foreach (var s in siloDirs)
                foreach (var (id, c) in TestInputs.CountMarkers(s["markers.txt"])) counts[id] = counts.GetValueOrDefault(id) + c;
            Assert.Equal(Enumerable.Range(1, n).Select(i => $"{i:00}").ToList(), counts.Keys.Order(StringComparer.Ordinal).ToList());
            Assert.All(counts.Values, c => Assert.Equal(1, c));

            // each silo measured with its own copy of the blob atlas, in its own scratch
            foreach (var s in siloDirs.Where(s => File.Exists(s["atlas.log"])))
                foreach (var line in File.ReadAllLines(s["atlas.log"]))
                    Assert.StartsWith(s["scratch"] + Path.DirectorySeparatorChar, line.Split(' ', 2)[1]);
            Assert.Equal(n, siloDirs.Where(s => File.Exists(s["atlas.log"])).Sum(s => File.ReadAllLines(s["atlas.log"]).Length));
            // the coordinator's group stage wrote in its own silo's staging, never in the client's
            Assert.Single(siloDirs, s => Directory.Exists(s["staging"]) && Directory.EnumerateFiles(s["staging"], "measures.csv", SearchOption.AllDirectories).Any());
            Assert.Empty(Directory.EnumerateFiles(gone, "measures.csv", SearchOption.AllDirectories));
        }
        finally
        {
            foreach (var s in silos) s.Dispose();
            if (Directory.Exists(gone) && !Directory.Exists(client.FullName)) Directory.Move(gone, client.FullName);
        }
    }
}
