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
/// a time) of the fast test measurer (milliseconds per subject), against calling the same measurer directly in a loop
/// (direct, engine, direct; the reference is the mean of both direct loops): the difference per subject is what the
/// engine adds (lease and journal write, subject grain, input hash, result record written atomically, report). It is
/// expressed as a share of a real subject's time, measured in the same run: the imaging pipeline on one synthetic
/// 256×256×128 subject (best of two). (b) A large cohort with the fast test measurer through 1, 2 and 3 real
/// <c>batchcohort silo</c> processes on a real Redis: subjects/s in the measuring phase; the memory of an idle silo
/// (before the run) and of the silo hosting the coordinator after the run (working set, peak, managed heap after a
/// full collection, and the coordinator's state: JSON and managed bytes); then, with 3 silos, kill -9 of the
/// coordinator's silo midway and the time until the coordinator answers again and until subjects complete again.
/// usage: cluster [subjects=10000] [overhead-subjects=200] [silos=1,2,3] [--no-kill] [--no-overhead]
/// </summary>
public sealed class ClusterBenchmark : IBenchmark
{
    public string Name => "cluster";
    public string Description => "Orleans engine: overhead per subject vs direct calls; 10,000 subjects on 1–3 silo processes (Redis); kill -9 recovery";

    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    public int Run(string[] args)
    {
        var positional = args.Where(x => !x.StartsWith("--", StringComparison.Ordinal)).ToArray();
        int n = positional.Length > 0 && int.TryParse(positional[0], out var a) ? a : 10_000;
        int m = positional.Length > 1 && int.TryParse(positional[1], out var b) ? b : 200;
        int[] siloCounts = positional.Length > 2 ? positional[2].Split(',').Select(x => int.Parse(x, Ci)).ToArray() : new[] { 1, 2, 3 };
        if (!args.Contains("--no-overhead")) Overhead(m).GetAwaiter().GetResult();
        if (!Requirements.OnPath("redis-server")) { Console.Error.WriteLine("part (b) needs redis-server (apt-get install -y redis-server)"); return 2; }
        foreach (int silos in siloCounts)
            Scale(n, silos, kill: false).GetAwaiter().GetResult();
        if (!args.Contains("--no-kill")) Scale(n, 3, kill: true).GetAwaiter().GetResult();
        return 0;
    }

    // ---------------------------------------------------------------- (a) overhead per subject

    private static async Task Overhead(int subjects)
    {
        using var dir = new TempDir("bench-overhead");
        var ids = TestInputs.WriteCohort(dir.FullName, subjects);
        var measurer = new CountingTestMeasurer(null, 0, "bench-overhead-1");

        async Task<double> Direct(string name)
        {
            var outDir = Path.Combine(dir.FullName, name);
            Directory.CreateDirectory(outDir);
            var sw = Stopwatch.StartNew();
            foreach (var id in ids)
                await measurer.MeasureAsync(new SubjectWork(id, id, Path.Combine(dir.FullName, "data", $"sub-{id}_T1w.nii"), InputType.Files,
                    new AtlasSpec("phantom", null, null, null, null, null), new JsonObject(), outDir, "sub-" + id), CancellationToken.None);
            return sw.Elapsed.TotalSeconds;
        }

        await Direct("warm");   // JIT, file cache
        double d1 = await Direct("direct1");
        var outcome = await new CohortRunner(measurer).RunAsync(dir.FullName, new CohortRunOptions { Jobs = 1 });
        var s = outcome.State;
        if (s.Subjects.Any(x => x.Status != SubjectStatus.Done)) throw new InvalidOperationException("the engine run did not measure every subject");
        // the measuring phase: from the run's opening to its last subject's end (silo start and group stage excluded)
        double engine = (s.Subjects.Max(x => x.FinishedAt!.Value) - s.StartedAt).TotalSeconds;
        double d2 = await Direct("direct2");
        double direct = (d1 + d2) / 2;
        double overheadMs = (engine - direct) / subjects * 1000;

        // a real subject: the imaging pipeline end to end on one synthetic subject, best of two
        var atlas = BatchCohort.Neuro.Atlases.AtlasLibrary.Resolve(null, out bool phantom);
        var o = new BatchCohort.Neuro.Synthesis.SynthOptions { Subjects = 1, Seed = 3 };
        var synth = BatchCohort.Neuro.Synthesis.CohortSynthesizer.Synthesize(atlas, BatchCohort.Neuro.Synthesis.CohortSynthesizer.Plan(atlas, o)[0], o);
        string hdr = Path.Combine(dir.FullName, "real", "sub-0001_T1w.hdr");
        Directory.CreateDirectory(Path.GetDirectoryName(hdr)!);
        BatchCohort.Imaging.Formats.VolumeFile.WriteAnalyze(synth.Image, hdr, BatchCohort.Imaging.Volumes.VoxelType.Int16);
        double real = double.MaxValue;
        for (int i = 0; i < 2; i++)
        {
            var sw = Stopwatch.StartNew();
            var r = BatchCohort.Neuro.Pipeline.SubjectPipeline.Run("0001", hdr, atlas);
            if (!r.Success) throw new InvalidOperationException("the real pipeline failed: " + r.FailureReason);
            BatchCohort.Neuro.Pipeline.SubjectOutputs.Write(r, Path.Combine(dir.FullName, "real", "out" + i));
            real = Math.Min(real, sw.Elapsed.TotalSeconds);
        }
        double pct = overheadMs / 1000 / real * 100;
        Console.WriteLine(string.Create(Ci, $"overhead: {subjects} subjects, fast test measurer: direct {d1 * 1000 / subjects:F2} / {d2 * 1000 / subjects:F2} ms per subject, engine (embedded silo, jobs 1, measuring phase) {engine * 1000 / subjects:F2} ms per subject → overhead {overheadMs:F2} ms per subject"));
        Console.WriteLine(string.Create(Ci, $"real subject (imaging pipeline, {synth.Image.Shape}, atlas {atlas.Name}{(phantom ? ", phantom" : "")}): {real:F2} s → overhead = {pct:F3} % of a real subject (ratio real/overhead = {real * 1000 / overheadMs:F0})"));
        BenchResults.Figure("engine overhead per subject (embedded silo, jobs 1, fast test measurer)", string.Create(Ci, $"{subjects} subjects"),
            overheadMs, "ms", "< 1 % of a real subject", pct < 1, "the measurer called directly (mean of a loop before and after)",
            note: string.Create(Ci, $"{pct:F3} % of a real subject's {real:F2} s (imaging pipeline, same run); direct {direct * 1000 / subjects:F2} ms per subject"));
        BenchResults.Figure("a real subject (imaging pipeline, the reference of the overhead)", $"{synth.Image.Shape}, atlas {atlas.Name}", real, "s");
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
            // an idle silo: a probe grain (a coordinator of no run) answers from the silo it is placed on
            HostMemory idle;
            await using (var c = await ClusterClient.ConnectAsync(ClusterConnection.Parse(conn), new ClusterNames(clusterId, clusterId), CancellationToken.None))
                idle = await c.Grains.GetGrain<ICohortRunGrain>("memory-probe").GetHostMemory();
            string load = BenchResults.LoadAverage();
            var sw = Stopwatch.StartNew();
            using var client = Start(dir.FullName, "run", dir.FullName, "--cluster", conn, "--cluster-id", clusterId);
            string? killNote = null;
            if (kill) killNote = await KillCoordinatorMidway(conn, clusterId, subjects, silos);
            if (!client.P.WaitForExit(TimeSpan.FromMinutes(30))) throw new TimeoutException("the run did not end within 30 min");
            double wall = sw.Elapsed.TotalSeconds;
            if (client.P.ExitCode != 0) throw new InvalidOperationException($"run --cluster exited {client.P.ExitCode}");
            // the client ends when the run says completed; the coordinator writes the run record just after
            string[] records = Array.Empty<string>();
            for (var until = DateTime.UtcNow + TimeSpan.FromSeconds(60); records.Length == 0 && DateTime.UtcNow < until; await Task.Delay(200))
                records = Directory.GetFiles(Path.Combine(dir.FullName, "out", "runs"), "2*.json");
            var record = records.Single();
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
            // the silo that hosts the coordinator, after the run: its process and the coordinator's own state
            HostMemory coord;
            long peakKb = -1, peakWithProbeKb = -1;
            // every silo's peak before this benchmark connects its own probe client: a client's connection (gateway
            // buffers, the cluster manifest) raised the coordinator silo's peak by ≈ 7 MB after the run was over
            var peaksOfTheRun = silos.ToDictionary(s => s, s => PeakRssKb(s.P.Id));
            await using (var c = await ClusterClient.ConnectAsync(ClusterConnection.Parse(conn), new ClusterNames(clusterId, clusterId), CancellationToken.None))
            {
                coord = await c.Grains.GetGrain<ICohortRunGrain>(state.RunId).GetHostMemory();
                var host = silos.FirstOrDefault(s => s.Address == coord.Silo);
                if (host is not null) { peakKb = peaksOfTheRun[host]; peakWithProbeKb = PeakRssKb(host.P.Id); }
            }
            static double Mb(long b) => b / 1048576.0;
            Console.WriteLine(string.Create(Ci, $"{input}: measuring phase {measuring:F1} s = {rate:F0} subjects/s (wall {wall:F1} s with client start and group stage) (load {load})"));
            Console.WriteLine(string.Create(Ci, $"  idle silo before the run: working set {Mb(idle.WorkingSetBytes):F0} MB, managed heap after GC {Mb(idle.ManagedAfterGcBytes):F1} MB, GC committed {Mb(idle.GcCommittedBytes):F0} MB"));
            Console.WriteLine(string.Create(Ci, $"  coordinator's silo after the run: working set {Mb(coord.WorkingSetBytes):F0} MB (peak {peakKb / 1024.0:F0} MB during the run, {peakWithProbeKb / 1024.0:F0} MB once the probe client connected), managed heap after GC {Mb(coord.ManagedAfterGcBytes):F1} MB, GC committed {Mb(coord.GcCommittedBytes):F0} MB, {coord.Activations} activations in its working set"));
            Console.WriteLine(string.Create(Ci, $"  coordinator state: {coord.Subjects} subjects, {Mb(coord.StateJsonBytes):F2} MB JSON, {Mb(coord.StateManagedBytes):F1} MB managed (one copy)"));
            BenchResults.Figure("subjects/s, measuring phase", input, rate, "subjects/s", note: "load " + load);
            BenchResults.Figure("coordinator state, managed heap (one copy of the run state)", input, Mb(coord.StateManagedBytes), "MB", "< 200 MB", coord.StateManagedBytes < 200L * 1048576,
                note: string.Create(Ci, $"{Mb(coord.StateJsonBytes):F2} MB as JSON in Redis"));
            BenchResults.Figure("coordinator's silo, managed heap after a full GC (after the run)", input, Mb(coord.ManagedAfterGcBytes), "MB", "< 200 MB", coord.ManagedAfterGcBytes < 200L * 1048576,
                "an idle silo of the same cluster before the run", Mb(idle.ManagedAfterGcBytes));
            BenchResults.Figure("coordinator's silo process, peak working set (VmHWM)", input, peakKb / 1024.0, "MB", "< 200 MB", peakKb >= 0 && peakKb < 200 * 1024,
                "an idle silo's working set before the run", Mb(idle.WorkingSetBytes), note: string.Create(Ci, $"whole process: .NET runtime, Orleans, every grain of the silo, its share of the subjects; read before the benchmark's probe client connected ({peakWithProbeKb / 1024.0:F0} MB after)"));
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
