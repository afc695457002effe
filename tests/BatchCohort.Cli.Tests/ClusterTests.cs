using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using BatchCohort.Contracts;
using BatchCohort.Host;
using BatchCohort.Runtime.Measurement;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Cli.Tests;

/// <summary>A real Redis server for one test class: its own port, folder and pid file; stopped by PID.</summary>
public sealed class RedisServer : IDisposable
{
    public RedisServer()
    {
        if (!Requirements.OnPath("redis-server")) return;
        Dir = new TempDir("redis");
        Port = ClusterConnection.FreePort();
        var pidFile = Dir["redis.pid"];
        ExternalTool.Check("redis-server", new[] { "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--appendonly", "yes",
            "--dir", Dir.FullName, "--daemonize", "yes", "--pidfile", pidFile, "--save", "" });
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid) && Ping()) { Pid = pid; return; }
            Thread.Sleep(50);
        }
        throw new InvalidOperationException("redis-server did not start within 20 s");
    }

    public TempDir? Dir { get; }
    public int Port { get; }
    public int Pid { get; }
    public string Connection => $"redis://127.0.0.1:{Port}";

    private bool Ping()
    {
        try
        {
            using var c = new TcpClient();
            c.Connect(IPAddress.Loopback, Port);
            var s = c.GetStream();
            s.Write("PING\r\n"u8);
            var buf = new byte[16];
            int n = s.Read(buf);
            return Encoding.ASCII.GetString(buf, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException) { return false; }
    }

    public void Dispose()
    {
        if (Pid > 0) { try { Process.GetProcessById(Pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { } }
        Dir?.Dispose();
    }
}

/// <summary>
/// The engine as people run it on several machines, here as real processes on one: a real Redis, three
/// <c>batchcohort silo</c> processes, and <c>batchcohort run --cluster</c> as the client, with the fast test measurer.
/// A silo killed with kill -9 (a worker, or the one hosting the coordinator) or frozen with SIGSTOP: the run
/// completes on the survivors within 60 s of the fault, every subject exactly once in group/measures.parquet, and the
/// group tables equal an uninterrupted embedded run's. Killing the coordinator's silo: the cohort-run grain is
/// reactivated on a survivor (by the silos' lease calls) from its state in Redis and finishes the run.
/// </summary>
public sealed class ClusterTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private const int Subjects = 40;
    private const int DelayMs = 400;

    private static string CliDll => CliProcess.Dll;

    internal sealed class Silo : IDisposable
    {
        public required Process Process { get; init; }
        public required string Address { get; init; }
        public StringBuilder Output { get; } = new();
        public void Dispose()
        {
            try { if (!Process.HasExited) { ExternalTool.Run("kill", new[] { "-CONT", Process.Id.ToString(CultureInfo.InvariantCulture) }); Process.Kill(true); } }
            catch (InvalidOperationException) { }
            Process.Dispose();
        }
    }

    internal static async Task<Silo> StartSilo(string connection, string clusterId, TempDir d, int delayMs, string pipeline = "test-pipeline-1",
        string[]? extra = null, IDictionary<string, string>? env = null, int jobs = 2, bool connectionInEnvironment = false)
    {
        var environment = new Dictionary<string, string>(env ?? new Dictionary<string, string>()) { ["BATCHCOHORT_TEST_PIPELINE"] = pipeline };
        // connectionInEnvironment: BATCHCOHORT_CLUSTER holds it and the silo gets no --cluster (nothing secret in its argv)
        if (connectionInEnvironment) environment["BATCHCOHORT_CLUSTER"] = connection;
        var clusterArgs = connectionInEnvironment ? Array.Empty<string>() : new[] { "--cluster", connection };
        var p = CliProcess.Start(d, delayMs, environment,
            new[] { "silo" }.Concat(clusterArgs).Concat(new[] { "--cluster-id", clusterId, "--jobs", jobs.ToString(CultureInfo.InvariantCulture) })
                .Concat(extra ?? Array.Empty<string>()).ToArray());
        var output = new StringBuilder();
        var joined = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
            if (e.Data.StartsWith("silo ", StringComparison.Ordinal) && e.Data.Contains(" joined ", StringComparison.Ordinal))
                joined.TrySetResult(e.Data.Split(' ')[1]);
        };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var done = await Task.WhenAny(joined.Task, p.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(90)));
        if (done != joined.Task)
        {
            try { p.Kill(true); } catch (InvalidOperationException) { }
            throw new InvalidOperationException($"the silo did not join (exit {(p.HasExited ? p.ExitCode : -1)}):\n{output}");
        }
        var silo = new Silo { Process = p, Address = joined.Task.Result };
        return silo;
    }

    private sealed class Reference
    {
        public static readonly Lazy<Task<Dictionary<string, string>>> Tables = new(async () =>
        {
            var d = new TempDir("cluster-reference");
            TestInputs.WriteCohort(d.FullName, Subjects);
            var r = await CliProcess.RunToEnd(d, 0, null, TimeSpan.FromSeconds(180), "run", d.FullName);
            if (r.Code != 0) throw new InvalidOperationException("the embedded reference run failed: " + r.Stderr);
            return new[] { "measures.csv", "stats.csv", "descriptives.csv" }.ToDictionary(f => f, f => File.ReadAllText(d["out/group/" + f]));
        });
    }

    public enum Fault { KillWorker, KillCoordinator, Freeze }

    [RequiresTheory(Requirements.Redis, Requirements.NodeParquet)]
    [InlineData(Fault.KillWorker)]
    [InlineData(Fault.KillCoordinator)]
    [InlineData(Fault.Freeze)]
    public async Task Three_silos_a_silo_fails_midway_the_run_completes_on_the_survivors_with_every_subject_once_and_the_uninterrupted_tables(Fault fault)
    {
        var reference = Reference.Tables.Value;
        using var d = new TempDir("cluster-" + fault);
        TestInputs.WriteCohort(d.FullName, Subjects);
        string clusterId = "t" + Guid.NewGuid().ToString("N")[..8];
        var silos = new List<Silo>();
        try
        {
            silos.AddRange(await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => StartSilo(redis.Connection, clusterId, d, DelayMs))));
            using var client = CliProcess.Start(d, 0, null, "run", d.FullName, "--cluster", redis.Connection, "--cluster-id", clusterId);
            var so = client.StandardOutput.ReadToEndAsync();
            var se = client.StandardError.ReadToEndAsync();
            var sw = Stopwatch.StartNew();
            while (TestInputs.CountMarkers(d["markers.txt"]).Values.Sum() < 8)
            {
                Assert.False(client.HasExited, "the run ended before a silo could fail: " + await se);
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(90), "no subject measured within 90 s");
                await Task.Delay(50);
            }
            // the silo that hosts the coordinator, from the run's own state
            string coordinator, runId;
            await using (var c = await ClusterClient.ConnectAsync(ClusterConnection.Parse(redis.Connection), new ClusterNames(clusterId, clusterId), CancellationToken.None))
            {
                var runs = await c.Grains.GetGrain<IRunDirectoryGrain>(0).List();
                runId = runs.Single().RunId;
                var view = (await c.Grains.GetGrain<ICohortRunGrain>(runId).GetView())!;
                coordinator = view.Coordinator!;
            }
            var victim = fault == Fault.KillCoordinator ? silos.Single(s => s.Address == coordinator) : silos.First(s => s.Address != coordinator);
            var pid = victim.Process.Id.ToString(CultureInfo.InvariantCulture);
            var failedAt = Stopwatch.StartNew();
            ExternalTool.Check("kill", new[] { fault == Fault.Freeze ? "-STOP" : "-KILL", pid });
            using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(180)))
            {
                try { await client.WaitForExitAsync(limit.Token); }
                catch (OperationCanceledException) { client.Kill(true); Assert.Fail("the run did not complete within 180 s of the fault:\n" + string.Join("\n", silos.Select(s => s.Output.ToString()))); }
            }
            var afterFault = failedAt.Elapsed;
            var stdout = await so;
            Assert.True(client.ExitCode == 0, $"exit {client.ExitCode}: {await se}\n{stdout}");
            Assert.Contains($"{Subjects} of {Subjects} subjects measured", stdout);
            // the bound stated in docs/cluster.md: a frozen or killed silo costs at most 60 s
            Assert.True(afterFault < TimeSpan.FromSeconds(60), $"completed {afterFault.TotalSeconds:0} s after the fault");

            // every subject exactly once in measures.parquet, read by an independent reader
            var doc = JsonDocument.Parse(ExternalTool.Node("parquet_oracle.mjs", "read-hyparquet", d["out/group/measures.parquet"]));
            var idsInTable = doc.RootElement.GetProperty("columns").GetProperty("participant_id").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.Equal(Subjects, idsInTable.Count);
            Assert.Equal(Subjects, idsInTable.Distinct().Count());
            // the tables equal the uninterrupted embedded run's
            foreach (var (file, text) in await reference)
                Assert.Equal(text, File.ReadAllText(d["out/group/" + file]));
            // every subject was measured, none lost; re-measured only if it was in flight on the failed silo (≤ 2 there)
            var markers = TestInputs.CountMarkers(d["markers.txt"]);
            Assert.Equal(Subjects, markers.Count);
            Assert.True(markers.Values.Count(n => n > 1) <= 2, "more subjects measured twice than were in flight on the failed silo");
            if (fault == Fault.KillCoordinator)
            {
                // the coordinator was reactivated on a survivor from its persisted state (Redis) and says so
                await using var c = await ClusterClient.ConnectAsync(ClusterConnection.Parse(redis.Connection), new ClusterNames(clusterId, clusterId), CancellationToken.None);
                // a fresh client's first call may still be routed to the dead silo: the product's retry of idempotent reads
                // (what `batchcohort status` uses)
                var view = (await ClusterClient.ReadAsync(() => c.Grains.GetGrain<ICohortRunGrain>(runId).GetView()))!;
                Assert.Equal("completed", view.Status);
                Assert.NotEqual(victim.Address, view.Coordinator);
                Assert.Equal(Subjects, view.Subjects.Count(x => x.Status == "done"));
            }
        }
        finally
        {
            foreach (var s in silos) s.Dispose();
        }
    }

    [RequiresFact(Requirements.Redis)]
    public async Task A_silo_with_another_pipeline_version_is_refused_and_exits_2()
    {
        using var d = new TempDir("cluster-version");
        string clusterId = "v" + Guid.NewGuid().ToString("N")[..8];
        using var first = await StartSilo(redis.Connection, clusterId, d, 0, "p1");
        var other = await CliProcess.RunToEnd(d, 0, new Dictionary<string, string> { ["BATCHCOHORT_TEST_PIPELINE"] = "p2" }, TimeSpan.FromSeconds(90),
            "silo", "--cluster", redis.Connection, "--cluster-id", clusterId);
        Assert.Equal(2, other.Code);
        Assert.Contains("silo refused: this silo runs pipeline version p2, but the cluster's silos run p1", other.Stderr);
    }

    [Fact]
    public async Task An_unreachable_backend_exits_2_within_30_s_with_one_line_naming_it_and_no_secret()
    {
        using var d = new TempDir("cluster-unreachable");
        TestInputs.WriteCohort(d.FullName, 2);
        int port = ClusterConnection.FreePort();
        var sw = Stopwatch.StartNew();
        var r = await CliProcess.RunToEnd(d, 0, null, TimeSpan.FromSeconds(60), "run", d.FullName, "--cluster", $"redis://:s3cret-pw@127.0.0.1:{port}");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"took {sw.Elapsed.TotalSeconds:0} s");
        Assert.Equal(2, r.Code);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"cannot reach the cluster backend redis://127.0.0.1:{port}", line);
        Assert.DoesNotContain("s3cret-pw", r.Stderr + r.Stdout);

        const string key = "c2VjcmV0LWtleS1ub3QtdG8tYmUtcHJpbnRlZA==";
        var az = await CliProcess.RunToEnd(d, 0, null, TimeSpan.FromSeconds(60), "status", "--cluster",
            $"DefaultEndpointsProtocol=http;AccountName=lab;AccountKey={key};TableEndpoint=http://127.0.0.1:{port}/lab;BlobEndpoint=http://127.0.0.1:{port}/lab");
        Assert.Equal(2, az.Code);
        Assert.Contains("cannot reach the cluster backend Azure Storage account lab", az.Stderr);
        Assert.DoesNotContain(key, az.Stderr + az.Stdout);

        // the same connection from BATCHCOHORT_CLUSTER (a silo without --cluster): the same one line, no key
        var env = new Dictionary<string, string>
        {
            ["BATCHCOHORT_CLUSTER"] = $"DefaultEndpointsProtocol=http;AccountName=lab;AccountKey={key};TableEndpoint=http://127.0.0.1:{port}/lab;BlobEndpoint=http://127.0.0.1:{port}/lab",
        };
        var silo = await CliProcess.RunToEnd(d, 0, env, TimeSpan.FromSeconds(60), "silo");
        Assert.Equal(2, silo.Code);
        Assert.Contains("cannot reach the cluster backend Azure Storage account lab", Assert.Single(silo.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.DoesNotContain(key, silo.Stderr + silo.Stdout);
        // a variable that is not a connection: named, its value never shown
        var bad = await CliProcess.RunToEnd(d, 0, new Dictionary<string, string> { ["BATCHCOHORT_CLUSTER"] = "AccountKey-" + key }, TimeSpan.FromSeconds(60), "status");
        Assert.Equal(2, bad.Code);
        Assert.Contains("error: BATCHCOHORT_CLUSTER: expected a Redis URL", Assert.Single(bad.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.DoesNotContain(key, bad.Stderr + bad.Stdout);
        // --cluster env with no variable set
        var none = await CliProcess.RunToEnd(d, 0, new Dictionary<string, string> { ["BATCHCOHORT_CLUSTER"] = "" }, TimeSpan.FromSeconds(60), "run", d.FullName, "--cluster", "env");
        Assert.Equal(2, none.Code);
        Assert.Contains("--cluster env: BATCHCOHORT_CLUSTER is not set", none.Stderr);
    }
}
