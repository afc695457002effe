using System.CommandLine;
using System.Globalization;
using BatchCohort.Contracts;
using BatchCohort.Host;
using BatchCohort.Runtime;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Runtime.Measurement;
using Spectre.Console;

namespace BatchCohort.Cli.Commands;

/// <summary>
/// <c>batchcohort run COHORT</c>: measures every subject of a cohort not already measured, then runs the group stage —
/// on an Orleans silo in this process (the default: all cores, no server) or, with <c>--cluster</c>, on a cluster of
/// silos (the run goes on if this client leaves; <c>--detach</c> returns at once). Exit 0 when every subject
/// succeeded, 3 when some failed (listed by id and reason), 130 when interrupted (run again to resume).
/// </summary>
public sealed class RunCommand : ICliCommand
{
    public Command Build()
    {
        var cohort = new Argument<string>("COHORT") { Description = "A cohort folder holding cohort.json (e.g. cohorts/demo), or the manifest file." };
        var jobs = new Option<int?>("--jobs", "-j") { Description = "Subjects measured at once (default: one per core, fewer if memory is short)." };
        var newRun = new Option<bool>("--new-run") { Description = "Start a new run even if the last one was interrupted (finished subjects are still reused from the cache)." };
        var cluster = ClusterOptions.Connection("Run on a cluster of silos: redis://host:port or an Azure Storage connection string (default: one silo in this process).");
        var clusterId = ClusterOptions.ClusterId();
        var detach = new Option<bool>("--detach") { Description = "With --cluster: submit the run and return at once (follow it with `batchcohort status`)." };
        var outputOpt = new Option<string?>("--output", "-o") { Description = "Where the outputs go instead of the manifest's \"output\": a folder, az://container/prefix (credentials from AZURE_STORAGE_CONNECTION_STRING) or an https blob URL with a SAS." };
        var exportOpt = new Option<string?>("--export") { Description = "Where completed runs publish their group outputs (latest/, a dated copy, exports.json) instead of <output>/exports: a folder or a blob location." };
        var cmd = new Command("run", "Measure a cohort (embedded: one process, all cores, no server; or on a cluster) and run its group statistics.")
        {
            cohort, jobs, newRun, outputOpt, exportOpt, cluster, clusterId, detach,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            int? j = parse.GetValue(jobs);
            if (j is < 1) throw new ArgumentException($"--jobs must be at least 1 (got {j})");
            var options = new CohortRunOptions { Jobs = j, NewRun = parse.GetValue(newRun), Output = parse.GetValue(outputOpt), Export = parse.GetValue(exportOpt) };
            // large blob transfers show their progress (one line a second at most)
            Action<string> progress = line => { lock (output) output.WriteLine(line); };
            BatchCohort.Runtime.Storage.TransferProgress.Line += progress;
            try
            {
                if (ClusterOptions.Resolve(parse.GetValue(cluster), required: false) is { } conn)
                    return await RunOnCluster(conn, ClusterOptions.Names(parse.GetValue(clusterId)), parse.GetValue(cohort)!, options,
                        parse.GetValue(detach), output, error, ct);
                if (parse.GetValue(detach)) throw new ArgumentException("--detach needs --cluster (an embedded run lives in this process)");
                bool fancy = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
                var measurer = MeasurerFactory.Create();
                CohortRunOutcome outcome = fancy
                    ? await RunWithProgressBar(measurer, parse.GetValue(cohort)!, options, ct)
                    : await RunPlain(measurer, parse.GetValue(cohort)!, options, output, error, ct);
                return Finish(outcome, output, error);
            }
            finally { BatchCohort.Runtime.Storage.TransferProgress.Line -= progress; }
        });
        return cmd;
    }

    private static async Task<CohortRunOutcome> RunPlain(ISubjectMeasurer measurer, string cohort, CohortRunOptions options, TextWriter output, TextWriter error, CancellationToken ct)
    {
        using var observer = new PlainObserver(output, error);
        return await new CohortRunner(measurer, observer).RunAsync(cohort, options, ct);
    }

    private static async Task<int> RunOnCluster(ClusterConnection c, ClusterNames names, string cohort, CohortRunOptions options, bool detach,
        TextWriter output, TextWriter error, CancellationToken ct)
    {
        await using var client = await ClusterClient.ConnectAsync(c, names, ct);
        var version = await client.Grains.GetGrain<IClusterGrain>(0).PipelineVersion()
            ?? throw new IOException($"no silo has joined the cluster at {c.Display}: start one with `batchcohort silo --cluster ...`");
        using var plain = new PlainObserver(output, error);
        IRunObserver observer = plain;
        await using var plan = await RunPlanner.PlanAsync(cohort, version, options.NewRun, null, observer, ct, locations: new RunLocations(options.Output, options.Export));
        var outcome = await RunFollower.SubmitAndFollowAsync(client.Grains, plan, observer, interruptOnCancel: false, null, ct, detach);
        if (outcome.Detached)
        {
            output.WriteLine(detach
                ? $"run {outcome.State.RunId} submitted to {c.Display} ({outcome.State.Subjects.Count} subjects); follow it with: batchcohort status {outcome.State.RunId} --cluster ..."
                : $"left run {outcome.State.RunId}: it goes on in the cluster; follow it with: batchcohort status {outcome.State.RunId} --cluster ...");
            return detach ? ExitCodes.Ok : ExitCodes.Interrupted;
        }
        return Finish(outcome, output, error);
    }

    private static int Finish(CohortRunOutcome o, TextWriter output, TextWriter error)
    {
        var failed = o.Failed;
        if (o.Interrupted)
        {
            var p = o.State.Subjects;
            error.WriteLine($"batchcohort: interrupted: {p.Count(s => s.Status == SubjectStatus.Done)} done, {failed.Count} failed, " +
                            $"{p.Count(s => s.Status is SubjectStatus.Pending or SubjectStatus.Running)} not finished; run the same command again to resume run {o.State.RunId}");
            return ExitCodes.Interrupted;
        }
        if (o.State.GroupText is { } text)
        {
            output.WriteLine();
            output.WriteLine(text.TrimEnd());
        }
        foreach (var n in o.State.Notes) output.WriteLine("note: " + n);
        output.WriteLine();
        int done = o.State.Subjects.Count(s => s.Status == SubjectStatus.Done);
        int cached = o.State.Subjects.Count(s => s.Status == SubjectStatus.Done && s.FromCache);
        output.WriteLine($"run {o.State.RunId}: {done} of {o.State.Subjects.Count} subjects measured ({cached} from cache), {failed.Count} failed");
        output.WriteLine($"outputs: {o.OutputDisplay}");
        foreach (var f in o.State.Outputs) output.WriteLine($"  {f}");
        output.WriteLine($"  {Path.GetRelativePath(o.OutputDirectory, o.RunRecordPath)}");
        if (failed.Count == 0) return ExitCodes.Ok;
        error.WriteLine($"batchcohort: {failed.Count} subject{(failed.Count == 1 ? "" : "s")} failed:");
        foreach (var s in failed) error.WriteLine($"  {s.Id}: {s.Reason}");
        return ExitCodes.SomeFailed;
    }

    internal static string Describe(CohortProgress p) =>
        string.Create(CultureInfo.InvariantCulture,
            $"done {p.Done}{(p.Cached > 0 ? $" ({p.Cached} cached)" : "")} · failed {p.Failed} · remaining {p.Remaining}{(p.Running > 0 ? $" ({p.Running} running)" : "")} · ETA {FormatEta(p.Eta)}");

    private static string FormatEta(TimeSpan? eta) => eta is not { } e ? "…" : e.TotalHours >= 1 ? e.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : e.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    private static async Task<CohortRunOutcome> RunWithProgressBar(ISubjectMeasurer measurer, string cohort, CohortRunOptions options, CancellationToken ct)
    {
        var observer = new BarObserver();
        CohortRunOutcome? outcome = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                observer.Context = ctx;
                outcome = await new CohortRunner(measurer, observer).RunAsync(cohort, options, ct);
                observer.Complete();
            });
        foreach (var n in observer.Notes) AnsiConsole.MarkupLine("[grey]note:[/] " + Markup.Escape(n));
        return outcome!;
    }

    /// <summary>Spectre.Console progress bar (an interactive terminal).</summary>
    private sealed class BarObserver : IRunObserver
    {
        private readonly object _lock = new();
        private ProgressTask? _task;
        public ProgressContext? Context { get; set; }
        public List<string> Notes { get; } = new();

        public void Phase(string text)
        {
            lock (_lock)
            {
                if (_task is not null && text == "group statistics") { Context?.AddTask(Markup.Escape(text), maxValue: 1).Increment(1); return; }
                if (_task is null) AnsiConsole.MarkupLine("[bold]" + Markup.Escape(text) + "[/]");
            }
        }

        public void Measuring(RunProgressFeed coordinator, bool resumed)
        {
            lock (_lock)
            {
                var p0 = coordinator.Snapshot();
                _task = Context!.AddTask(Markup.Escape(Describe(p0)), maxValue: Math.Max(1, p0.Total));
                _task.Value = p0.Done + p0.Failed;
            }
            coordinator.Progress += p =>
            {
                lock (_lock)
                {
                    _task!.Description = Markup.Escape(Describe(p));
                    _task.Value = p.Done + p.Failed;
                }
            };
            // failures are listed once, by the run's summary
        }

        public void Note(string text) { lock (_lock) Notes.Add(text); }

        public void Complete() { lock (_lock) if (_task is not null) _task.Value = _task.MaxValue; }
    }

    /// <summary>Plain lines (output redirected to a file or a pipe): at most one progress line a second.</summary>
    private sealed class PlainObserver(TextWriter output, TextWriter error) : IRunObserver, IDisposable
    {
        private readonly object _lock = new();
        private DateTime _last = DateTime.MinValue;
        private string? _lastText;
        private CohortProgress? _latest;
        private Timer? _timer;

        public void Dispose() { lock (_lock) { _timer?.Dispose(); _timer = null; } }

        private void Print(CohortProgress p, bool force)
        {
            var now = DateTime.UtcNow;
            var text = $"[{p.Done + p.Failed}/{p.Total}] {Describe(p)}";
            if (text == _lastText || (!force && now - _last < TimeSpan.FromSeconds(1))) return;
            _last = now;
            _lastText = text;
            output.WriteLine(text);
        }

        public void Phase(string text) { lock (_lock) output.WriteLine(text); }

        public void Measuring(RunProgressFeed coordinator, bool resumed)
        {
            var p0 = coordinator.Snapshot();
            lock (_lock) output.WriteLine($"{p0.Total} subjects, {p0.Done + p0.Failed} already finished, {p0.Remaining} to go");
            coordinator.Progress += p =>
            {
                lock (_lock)
                {
                    // keep the newest state: a change that arrives within a second of the last line is printed by
                    // the timer below, so the last line never shows a stale "(1 running)"
                    _latest = p;
                    Print(p, force: p.Remaining == 0);
                }
            };
            lock (_lock)
                _timer ??= new Timer(_ => { lock (_lock) if (_latest is { } p && _timer is not null) Print(p, force: false); }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            coordinator.SubjectFailedNotice += (id, reason) => { lock (_lock) error.WriteLine($"failed: {id}: {reason}"); };
        }

        public void Note(string text) { lock (_lock) output.WriteLine("note: " + text); }
    }
}
