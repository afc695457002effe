using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using BatchCohort.Contracts;
using BatchCohort.Host;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Runtime.Measurement;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Benchmarks;

/// <summary>
/// The Orleans engine's own cost. (a) Overhead per subject: an embedded run (one silo in this process, one subject at
/// a time) of a measurer doing a fixed amount of CPU work per subject, against calling the same measurer directly in
/// a loop, in the same process run (direct, engine, direct; the reference is the mean of both direct loops). (b) A large
/// cohort with the fast test measurer through 1, 2 and 3 real <c>batchcohort silo</c> processes on a real Redis:
/// subjects/s in the measuring phase, the coordinator's state size (its JSON, as Redis holds it) and the peak working
/// set (VmHWM) of the silo process that hosts the coordinator; then, with 3 silos, kill -9 of the coordinator's silo
/// midway and the time until the coordinator answers again and until subjects complete again.
/// usage: cluster [subjects=10000] [overhead-subjects=12]
/// </summary>
public sealed class ClusterBenchmark : IBenchmark
{
    public string Name => "cluster";
    public string Description => "Orleans engine: overhead per subject vs direct calls; 10,000 subjects on 1–3 silo processes (Redis); kill -9 recovery";

    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    public int Run(string[] args)
    {
        int n = args.Length > 0 && int.TryParse(args[0], out var a) ? a : 10_000;
        int m = args.Length > 1 && int.TryParse(args[1], out var b) ? b : 12;
        Overhead(m).GetAwaiter().GetResult();
        if (!Requirements.OnPath("redis-server")) { Console.Error.WriteLine("part (b) needs redis-server (apt-get install -y redis-server)"); return 2; }
        foreach (int silos in new[] { 1, 2, 3 })
            Scale(n, silos, kill: false).GetAwaiter().GetResult();
        Scale(n, 3, kill: true).GetAwaiter().GetResult();
        return 0;
    }

    // ---------------------------------------------------------------- (a) overhead per subject

    /// <summary>The test measurer's measures after a fixed amount of integer work (no allocation, no I/O).</summary>
    private sealed class CpuMeasurer(long iterations) : ISubjectMeasurer
    {
        private readonly CountingTestMeasurer _inner = new(null, 0, "bench-cpu-1");
        public string PipelineVersion => _inner.PipelineVersion;
        public IReadOnlyList<string>? MeasureNames => _inner.MeasureNames;
        public IReadOnlyList<string>? LabelNames => _inner.LabelNames;
        public SettingsCatalog? Settings => _inner.Settings;
        public static ulong Sink;

        public Task<MeasurerOutput> MeasureAsync(SubjectWork work, CancellationToken ct)
        {
            Sink ^= Spin(iterations);
            return _inner.MeasureAsync(work, ct);
        }

        public static ulong Spin(long n)
        {
            ulong x = 88172645463325252UL;
            for (long i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; }
            return x;
        }
    }

    private static async Task Overhead(int subjects)
    {
        const long iterations = 400_000_000;   // ≈ 0.3–1 s per subject on this machine, depending on its load
        using var dir = new TempDir("bench-overhead");
        var ids = TestInputs.WriteCohort(dir.FullName, subjects);
        var measurer = new CpuMeasurer(iterations);
        CpuMeasurer.Spin(10_000_000);   // JIT

        async Task<double> Direct()
        {
            var outDir = Path.Combine(dir.FullName, "direct");
            Directory.CreateDirectory(outDir);
            var sw = Stopwatch.StartNew();
            foreach (var id in ids)
                await measurer.MeasureAsync(new SubjectWork(id, id, Path.Combine(dir.FullName, "data", $"sub-{id}_T1w.nii"), InputType.Files,
                    new AtlasSpec("phantom", null, null, null, null, null), new JsonObject(), outDir, "sub-" + id), CancellationToken.None);
            return sw.Elapsed.TotalSeconds;
        }

        double d1 = await Direct();
        var outcome = await new CohortRunner(measurer).RunAsync(dir.FullName, new CohortRunOptions { Jobs = 1 });
        var s = outcome.State;
        if (s.Subjects.Any(x => x.Status != SubjectStatus.Done)) throw new InvalidOperationException("the engine run did not measure every subject");
        // the measuring phase: from the run's opening to its last subject's end (silo start and group stage excluded)
        double engine = (s.Subjects.Max(x => x.FinishedAt!.Value) - s.StartedAt).TotalSeconds;
        double d2 = await Direct();
        double direct = (d1 + d2) / 2;
        double perSubject = direct / subjects;
        double overheadMs = (engine - direct) / subjects * 1000;
        double pct = overheadMs / 1000 / perSubject * 100;
        Console.WriteLine(string.Create(Ci, $"overhead: {subjects} subjects, fixed CPU work {iterations:N0} xorshift steps: direct {d1:F2} s / {d2:F2} s, engine (measuring phase) {engine:F2} s → {overheadMs:F1} ms per subject = {pct:F2} % of {perSubject * 1000:F0} ms"));
        BenchResults.Figure("engine overhead per subject (embedded silo, jobs 1)", string.Create(Ci, $"{subjects} subjects × {iterations / 1e6:0} M xorshift steps ({perSubject * 1000:F0} ms each)"),
            overheadMs, "ms", "< 1 % of a subject", pct < 1, "measurer called directly (mean of a loop before and after)", 0,
            note: string.Create(Ci, $"{pct:F2} % of a subject"));
    }

    // ---------------------------------------------------------------- (b) scale, memory, recovery

    private sealed class Proc(Process p) : IDisposable
    {
        public Process P { get; } = p;
        public string? Address;
        public readonly TaskCompletionSource<string> Joined = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public void Dispose()
        {
            try { if (!P.HasExited) P.Kill(true); } catch (InvalidOperationException) { }
            P.Dispose();
        }
    }

    private static string CliDll => Repo.Path_("src", "BatchCohort.Cli", "bin", "Release", "net10.0", "batchcohort.dll");

    private static Proc Start(string workDir, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workDir };
        psi.ArgumentList.Add(CliDll);
        foreach (var x in args) psi.ArgumentList.Add(x);
        psi.Environment[MeasurerFactory.EnvironmentVariable] = typeof(CountingTestMeasurer).Assembly.Location + ":" + typeof(CountingTestMeasurer).FullName;
        psi.Environment["BATCHCOHORT_TEST_PIPELINE"] = "bench-fast-1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var proc = new Proc(Process.Start(psi)!);
        proc.P.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } l && l.StartsWith("silo ", StringComparison.Ordinal) && l.Contains(" joined ", StringComparison.Ordinal))
            {
                proc.Address = l.Split(' ')[1];
                proc.Joined.TrySetResult(proc.Address);
            }
        };
        proc.P.ErrorDataReceived += (_, _) => { };
        proc.P.BeginOutputReadLine();
        proc.P.BeginErrorReadLine();
        return proc;
    }

    private static int StartRedis(string dir, out int port)
    {
        port = ClusterConnection.FreePort();
        var pidFile = Path.Combine(dir, "redis.pid");
        var psi = new ProcessStartInfo("redis-server", new[] { "--port", port.ToString(Ci), "--bind", "127.0.0.1", "--appendonly", "yes", "--dir", dir,
            "--daemonize", "yes", "--pidfile", pidFile, "--save", "" }) { UseShellExecute = false };
        using (var p = Process.Start(psi)!) p.WaitForExit();
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid)) { Thread.Sleep(200); return pid; }
            Thread.Sleep(50);
        }
        throw new InvalidOperationException("redis-server did not start");
    }

    private static long PeakRssKb(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], Ci);
        }
        catch (IOException) { }
        return -1;
    }

    private static async Task Scale(int subjects, int siloCount, bool kill)
    {
        if (!File.Exists(CliDll)) throw new FileNotFoundException($"build the CLI first: dotnet build src/BatchCohort.Cli -c Release ({CliDll})");
        using var dir = new TempDir($"bench-cluster-{siloCount}");
        TestInputs.WriteCohort(dir.FullName, subjects);
        int redisPid = StartRedis(dir.FullName, out int port);
        string conn = $"redis://127.0.0.1:{port}", clusterId = $"bench{siloCount}{(kill ? "k" : "")}";
        var silos = new List<Proc>();
        try
        {
            for (int i = 0; i < siloCount; i++) silos.Add(Start(dir.FullName, "silo", "--cluster", conn, "--cluster-id", clusterId, "--jobs", "2"));
            foreach (var s in silos)
                if (await Task.WhenAny(s.Joined.Task, Task.Delay(TimeSpan.FromSeconds(120))) != s.Joined.Task) throw new TimeoutException("a silo did not join within 120 s");
            string load = BenchResults.LoadAverage();
            var sw = Stopwatch.StartNew();
            using var client = Start(dir.FullName, "run", dir.FullName, "--cluster", conn, "--cluster-id", clusterId);
            string? killNote = null;
            if (kill) killNote = await KillCoordinatorMidway(conn, clusterId, subjects, silos);
            if (!client.P.WaitForExit(TimeSpan.FromMinutes(30))) throw new TimeoutException("the run did not end within 30 min");
            double wall = sw.Elapsed.TotalSeconds;
            if (client.P.ExitCode != 0) throw new InvalidOperationException($"run --cluster exited {client.P.ExitCode}");
            var record = Directory.GetFiles(Path.Combine(dir.FullName, "out", "runs"), "2*.json").Single();
            var state = RunState.TryLoad(record)!;
            if (state.Subjects.Count(x => x.Status == SubjectStatus.Done) != subjects) throw new InvalidOperationException("not every subject was measured");
            double measuring = (state.Subjects.Max(x => x.FinishedAt!.Value) - state.StartedAt).TotalSeconds;
            double rate = subjects / measuring;
            long stateBytes = new FileInfo(record).Length;
            string input = string.Create(Ci, $"{subjects:N0} subjects, fast test measurer, {siloCount} silo process{(siloCount > 1 ? "es" : "")} × 2 jobs, Redis");
            if (kill)
            {
                Console.WriteLine(string.Create(Ci, $"{input}: kill -9 of the coordinator's silo: {killNote}; measuring phase {measuring:F1} s, wall {wall:F1} s (load {load})"));
                return;
            }
            // the coordinator's silo: the one its run record names as the last worker is not it; ask the cluster
            long peakKb = -1;
            await using (var c = await ClusterClient.ConnectAsync(ClusterConnection.Parse(conn), new ClusterNames(clusterId, clusterId), CancellationToken.None))
            {
                var view = await c.Grains.GetGrain<ICohortRunGrain>(state.RunId).GetView();
                var host = silos.FirstOrDefault(s => s.Address == view?.Coordinator);
                if (host is not null) peakKb = PeakRssKb(host.P.Id);
            }
            Console.WriteLine(string.Create(Ci, $"{input}: measuring phase {measuring:F1} s = {rate:F0} subjects/s (wall {wall:F1} s with client start and group stage); coordinator state {stateBytes / 1048576.0:F2} MB JSON; coordinator silo peak working set {peakKb / 1024.0:F0} MB (load {load})"));
            BenchResults.Figure("subjects/s, measuring phase", input, rate, "subjects/s", note: "load " + load);
            BenchResults.Figure("coordinator state (JSON in Redis)", input, stateBytes / 1048576.0, "MB", "< 200 MB", stateBytes < 200L * 1048576);
            BenchResults.Figure("coordinator silo process, peak working set (VmHWM)", input, peakKb / 1024.0, "MB", "< 200 MB", peakKb >= 0 && peakKb < 200 * 1024,
                note: "whole process: .NET runtime, Orleans, every grain of the silo");
        }
        finally
        {
            foreach (var s in silos) s.Dispose();
            try { Process.GetProcessById(redisPid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        }
    }

    /// <summary>Waits for a third of the subjects, kills the coordinator's silo with SIGKILL, then times how long until
    /// the coordinator answers again (reactivated on a survivor) and until subjects complete again.</summary>
    private static async Task<string> KillCoordinatorMidway(string conn, string clusterId, int subjects, List<Proc> silos)
    {
        await using var c = await ClusterClient.ConnectAsync(ClusterConnection.Parse(conn), new ClusterNames(clusterId, clusterId), CancellationToken.None);
        string? runId = null;
        var until = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        ICohortRunGrain? run = null;
        RunProgress? p = null;
        while (DateTime.UtcNow < until)
        {
            await Task.Delay(100);
            runId ??= (await c.Grains.GetGrain<IRunDirectoryGrain>(0).Active()).FirstOrDefault();
            if (runId is null) continue;
            run ??= c.Grains.GetGrain<ICohortRunGrain>(runId);
            p = await run.GetProgress(0);
            if (p is not null && p.Done >= subjects / 3) break;
        }
        if (run is null || p is null) throw new TimeoutException("the run did not reach a third of its subjects");
        var coordinator = (await run.GetView())!.Coordinator;
        var victim = silos.Single(s => s.Address == coordinator);
        int doneAtKill = p.Done;
        var sw = Stopwatch.StartNew();
        victim.P.Kill();   // SIGKILL
        double answered = -1, resumed = -1;
        while (sw.Elapsed < TimeSpan.FromMinutes(5))
        {
            try
            {
                var q = await run.GetProgress(0).WaitAsync(TimeSpan.FromSeconds(2));
                if (q is null) continue;
                if (answered < 0 && (await run.GetView())!.Coordinator != coordinator) answered = sw.Elapsed.TotalSeconds;
                if (answered >= 0 && q.Done > doneAtKill + 10) { resumed = sw.Elapsed.TotalSeconds; break; }
            }
            catch (Exception e) when (e is TimeoutException or OrleansException) { }
            await Task.Delay(50);
        }
        string input = string.Create(Ci, $"{subjects:N0} subjects, 3 silo processes × 2 jobs, Redis; killed at {doneAtKill} done");
        BenchResults.Figure("kill -9 of the coordinator's silo → coordinator answers again (on a survivor)", input, answered, "s");
        BenchResults.Figure("kill -9 of the coordinator's silo → subjects complete again (10 more done)", input, resumed, "s", "< 60 s (docs/cluster.md bound)", resumed is >= 0 and < 60);
        return string.Create(Ci, $"coordinator answered again after {answered:F1} s, work resumed after {resumed:F1} s");
    }
}
