using System.Diagnostics;
using System.Globalization;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using BatchCohort.Host;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Cli.Tests;

/// <summary>A real Azurite (blob + table services) and two <c>batchcohort silo</c> processes on it, the second with
/// <c>--dashboard</c> and its connection (with the account key) in BATCHCOHORT_CLUSTER instead of its arguments;
/// shared by the tests of <see cref="AzureClusterTests"/> and stopped by PID.</summary>
public sealed class AzureCluster : IAsyncLifetime
{
    public AzuriteServer? Azurite { get; private set; }
    public TempDir Dir { get; } = new("azure-cluster");
    public string ClusterId { get; } = "az" + Guid.NewGuid().ToString("N")[..8];
    public int DashboardPort { get; } = ClusterConnection.FreePort();
    internal List<ClusterTests.Silo> Silos { get; } = new();
    public string Connection => Azurite!.ClusterConnectionString;

    public async Task InitializeAsync()
    {
        if (Requirements.SkipReason(new[] { Requirements.Azurite }) is not null) return;
        Azurite = new AzuriteServer(withTables: true);
        Silos.AddRange(await Task.WhenAll(
            ClusterTests.StartSilo(Connection, ClusterId, Dir, 100),
            ClusterTests.StartSilo(Connection, ClusterId, Dir, 100, extra: new[] { "--dashboard", DashboardPort.ToString(CultureInfo.InvariantCulture) },
                connectionInEnvironment: true)));
    }

    public Task DisposeAsync()
    {
        foreach (var s in Silos) s.Dispose();
        Azurite?.Dispose();
        Dir.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// The cluster on Azure Storage (Azurite): membership in Azure Tables and run state in Azure blobs through Orleans'
/// own providers — a smoke run of a small cohort to completion, <c>status</c>, and the Orleans Dashboard a silo serves.
/// The fault tests (kill -9, SIGSTOP) run on Redis (<see cref="ClusterTests"/>); the grains are the same.
/// </summary>
public sealed class AzureClusterTests(AzureCluster cluster) : IClassFixture<AzureCluster>
{
    [RequiresFact(Requirements.Azurite)]
    public async Task Two_silos_on_Azure_Storage_run_a_cohort_to_completion_with_membership_and_run_state_in_tables_and_blobs()
    {
        using var d = new TempDir("azure-run");
        const int n = 8;
        TestInputs.WriteCohort(d.FullName, n);
        // the connection from BATCHCOHORT_CLUSTER (--cluster env): the account key is in no process's arguments
        var env = new Dictionary<string, string> { ["BATCHCOHORT_CLUSTER"] = cluster.Connection };
        var run = await CliProcess.RunToEnd(d, 0, env, TimeSpan.FromSeconds(240), "run", d.FullName, "--cluster", "env", "--cluster-id", cluster.ClusterId);
        Assert.True(run.Code == 0, $"exit {run.Code}: {run.Stderr}\n{run.Stdout}");
        Assert.Contains($"{n} of {n} subjects measured", run.Stdout);
        Assert.Equal(n, File.ReadAllLines(d["out/group/measures.csv"]).Length - 1);
        Assert.DoesNotContain(AzuriteServer.Key, run.Stdout + run.Stderr);
        var fromEnv = cluster.Silos[1];
        Assert.DoesNotContain(AzuriteServer.Key, File.ReadAllText($"/proc/{fromEnv.Process.Id}/cmdline"));
        lock (fromEnv.Output) Assert.DoesNotContain(AzuriteServer.Key, fromEnv.Output.ToString());
        // measured by the silos (their processes' markers), not by the client
        var markers = TestInputs.CountMarkers(cluster.Dir["markers.txt"]);
        Assert.Equal(n, markers.Count(kv => kv.Value >= 1));

        var status = await CliProcess.RunToEnd(d, 0, env, TimeSpan.FromSeconds(120), "status", "--cluster-id", cluster.ClusterId);
        Assert.True(status.Code == 0, status.Stderr);
        var line = Assert.Single(status.Stdout.Split('\n'), l => l.Contains(Path.Combine(d.FullName, "out"), StringComparison.Ordinal));
        Assert.Contains("completed", line);
        var runId = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        var one = await CliProcess.RunToEnd(d, 0, null, TimeSpan.FromSeconds(120), "status", runId, "--cluster", cluster.Connection, "--cluster-id", cluster.ClusterId);
        Assert.True(one.Code == 0, one.Stderr);
        Assert.Contains($"run {runId}: completed", one.Stdout);

        // where Orleans keeps them: silos in the OrleansSiloInstances table, the run's state as a blob in grainstate
        var table = new TableServiceClient(cluster.Connection).GetTableClient("OrleansSiloInstances");
        int rows = 0;
        await foreach (var e in table.QueryAsync<TableEntity>(x => x.PartitionKey == cluster.ClusterId)) rows++;
        Assert.True(rows >= 2, $"{rows} rows for the cluster in OrleansSiloInstances");
        var blobs = new List<string>();
        await foreach (var b in new BlobServiceClient(cluster.Connection).GetBlobContainerClient("grainstate").GetBlobsAsync()) blobs.Add(b.Name);
        Assert.Contains(blobs, b => b.Contains(runId, StringComparison.Ordinal) && b.Contains("cohortrun", StringComparison.Ordinal));
    }

    [RequiresFact(Requirements.Azurite)]
    public async Task A_silo_started_with_dashboard_serves_the_Orleans_Dashboard_over_http()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var page = await http.GetAsync($"http://127.0.0.1:{cluster.DashboardPort}/");
        Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<html", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Orleans", html, StringComparison.OrdinalIgnoreCase);
    }
}
