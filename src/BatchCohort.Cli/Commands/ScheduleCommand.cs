using System.CommandLine;
using System.Globalization;
using BatchCohort.Contracts;
using BatchCohort.Host;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Scheduling;
using BatchCohort.Runtime.Storage;

namespace BatchCohort.Cli.Commands;

/// <summary>
/// <c>batchcohort schedule add|list|remove|run-now</c>: nightly runs of a cohort. Embedded mode keeps schedules in
/// local files (<c>--home</c>, default $BATCHCOHORT_HOME or ~/.local/state/batchcohort) and
/// <c>batchcohort serve</c> runs them. See docs/schedules.md.
/// </summary>
public sealed class ScheduleCommand : ICliCommand
{
    /// <summary>schedule run-now: a run of this cohort is going already.</summary>
    public const int Busy = 75;

    internal static Option<string?> HomeOption() => new("--home")
    {
        Description = $"Folder holding the schedules, their state and history (default: ${ScheduleStore.HomeVariable}, else $XDG_STATE_HOME/batchcohort, else ~/.local/state/batchcohort).",
    };

    internal static ScheduleStore Store(ParseResult parse, Option<string?> home) => new(parse.GetValue(home) ?? ScheduleStore.DefaultHome());

    public Command Build()
    {
        var cmd = new Command("schedule", "Nightly runs of a cohort: add, list, remove, run-now (run by `batchcohort serve`).");
        cmd.Subcommands.Add(Add());
        cmd.Subcommands.Add(List());
        cmd.Subcommands.Add(Remove());
        cmd.Subcommands.Add(RunNow());
        return cmd;
    }

    private static Command Add()
    {
        var cohort = new Argument<string>("COHORT") { Description = "A cohort folder holding cohort.json, or the manifest file." };
        var at = new Option<string>("--at") { Description = "Local time of day, HH:mm (e.g. 02:00).", Required = true };
        var tz = new Option<string?>("--timezone") { Description = "IANA time zone of --at (e.g. Europe/Berlin); default: this machine's." };
        var cluster = ClusterOption();
        var clusterId = ClusterOptions.ClusterId();
        var webhook = new Option<string?>("--webhook") { Description = "POST a JSON summary of every run to this http(s) URL." };
        var export = new Option<string?>("--export") { Description = "Folder the exports are published to (latest/, a dated copy, exports.json); default <output>/exports." };
        var jobs = new Option<int?>("--jobs", "-j") { Description = "Subjects measured at once (default: one per core)." };
        var home = HomeOption();
        var c = new Command("add", "Add a nightly schedule for a cohort (its manifest is checked now).") { cohort, at, tz, cluster, clusterId, webhook, export, jobs, home };
        c.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var atText = parse.GetValue(at)!;
            NightlyClock.ParseAt(atText);
            var zoneId = parse.GetValue(tz) ?? NightlyClock.LocalZoneId();
            NightlyClock.FindZone(zoneId);
            var hook = parse.GetValue(webhook);
            if (hook is not null && !(Uri.TryCreate(hook, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps)))
                throw new ArgumentException($"--webhook '{Webhook.Redact(hook)}': expected an http:// or https:// URL");
            if (parse.GetValue(jobs) is < 1) throw new ArgumentException("--jobs must be at least 1");
            // A broken cohort is refused now with the same checks `validate` and `run` make (manifest, paths,
            // demographics, groups, names, settings, atlas): one line per problem, exit 2.
            var check = CohortValidator.Validate(parse.GetValue(cohort)!, BatchCohort.Runtime.Measurement.MeasurerFactory.Create());
            if (!check.Ok) throw new CohortValidationException(check.Errors);
            foreach (var w in check.Warnings) parse.InvocationConfiguration.Error.WriteLine("batchcohort: warning: " + w);
            var manifest = check.Manifest!;
            var exportDir = parse.GetValue(export) is { } e ? (StorageLocation.IsRemote(e) ? e : Path.GetFullPath(e)) : null;
            if (ClusterOptions.Resolve(parse.GetValue(cluster), required: false) is { } cc)
            {
                await using var client = await ClusterClient.ConnectAsync(cc, ClusterOptions.Names(parse.GetValue(clusterId)), ct);
                var known = (await client.Grains.GetGrain<IScheduleDirectoryGrain>(0).List()).ToHashSet(StringComparer.Ordinal);
                string newId;
                do newId = ScheduleStore.NewIdFor(manifest.Name); while (known.Contains(newId));
                var info = await ClusterSchedules.AddAsync(client.Grains, new ScheduleSpec
                {
                    Id = newId, Cohort = manifest.ManifestPath, CohortName = manifest.Name,
                    At = NightlyClock.ParseAt(atText).ToString("HH:mm", CultureInfo.InvariantCulture), TimeZone = zoneId,
                    Webhook = hook, Export = exportDir, Jobs = parse.GetValue(jobs), Cluster = cc.Display, CreatedAt = DateTimeOffset.UtcNow,
                });
                output.WriteLine($"added schedule {info.Spec.Id}: {info.Spec.CohortName} every night at {info.Spec.At} {info.Spec.TimeZone}; next run {(info.NextRun is { } nr ? Local(nr, info.Spec) : "?")}");
                output.WriteLine($"kept in the cluster at {cc.Display} (grain state and an Orleans reminder); its silos run it");
                return ExitCodes.Ok;
            }
            var store = Store(parse, home);
            var spec = new ScheduleSpec
            {
                Id = store.NewId(manifest.Name),
                Cohort = manifest.ManifestPath,
                CohortName = manifest.Name,
                At = NightlyClock.ParseAt(atText).ToString("HH:mm", CultureInfo.InvariantCulture),
                TimeZone = zoneId,
                Webhook = hook,
                Export = exportDir,
                Jobs = parse.GetValue(jobs),
                CreatedAt = DateTimeOffset.UtcNow,
            };
            store.Add(spec);
            var next = ScheduleRules.NextRun(spec, new ScheduleState(), DateTimeOffset.UtcNow);
            output.WriteLine($"added schedule {spec.Id}: {spec.CohortName} every night at {spec.At} {spec.TimeZone}; next run {Local(next, spec)}");
            output.WriteLine($"schedules of this machine are kept in {store.Home} and run by `batchcohort serve`");
            return ExitCodes.Ok;
        });
        return c;
    }

    private static Command List()
    {
        var home = HomeOption();
        var cluster = ClusterOption();
        var clusterId = ClusterOptions.ClusterId();
        var c = new Command("list", "List the schedules with their last and next run. Exit 3 when a schedule's last run had failures.") { home, cluster, clusterId };
        c.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            if (ClusterOptions.Resolve(parse.GetValue(cluster), required: false) is { } cc)
            {
                await using var client = await ClusterClient.ConnectAsync(cc, ClusterOptions.Names(parse.GetValue(clusterId)), ct);
                var infos = await ClusterSchedules.ListAsync(client.Grains);
                if (infos.Count == 0) { output.WriteLine($"no schedules in the cluster at {cc.Display}"); return ExitCodes.Ok; }
                bool failing = false;
                foreach (var i in infos)
                {
                    PrintOne(i.Spec, i.State, i.NextRun is { } nr ? Local(nr, i.Spec) : "?: " + i.Problem, output);
                    if (i.RunningRunId is { } running) output.WriteLine($"    running: {running}");
                    if (NightOutcome.IsBad(i.State.LastOutcome)) failing = true;
                }
                if (failing) parse.InvocationConfiguration.Error.WriteLine("batchcohort: the last run of a schedule had failures (see above)");
                return failing ? ExitCodes.SomeFailed : ExitCodes.Ok;
            }
            var store = Store(parse, home);
            var specs = store.List();
            if (specs.Count == 0) { output.WriteLine($"no schedules in {store.Home}"); return ExitCodes.Ok; }
            bool bad = false;
            var now = DateTimeOffset.UtcNow;
            foreach (var s in specs)
            {
                var st = store.LoadState(s.Id);
                string next;
                try { next = Local(ScheduleRules.NextRun(s, st, now), s); }
                catch (ArgumentException e) { next = "?: " + e.Message; }
                PrintOne(s, st, next, output);
                if (NightOutcome.IsBad(st.LastOutcome)) bad = true;
            }
            if (bad) parse.InvocationConfiguration.Error.WriteLine("batchcohort: the last run of a schedule had failures (see above)");
            return bad ? ExitCodes.SomeFailed : ExitCodes.Ok;
        });
        return c;
    }

    private static void PrintOne(ScheduleSpec s, ScheduleState st, string next, TextWriter output)
    {
        output.WriteLine($"{s.Id}  {s.CohortName}  at {s.At} {s.TimeZone}{(s.Webhook is null ? "" : "  webhook " + Webhook.Redact(s.Webhook))}");
        output.WriteLine($"    cohort: {s.Cohort}");
        output.WriteLine($"    next run: {next}");
        output.WriteLine($"    last run: {(st.LastRunId is null ? "never" : $"{st.LastRunId} {st.LastOutcome}: {st.LastSummary}")}");
        foreach (var n in st.Notes.TakeLast(3)) output.WriteLine($"    note: {n}");
    }

    private static Option<string?> ClusterOption() =>
        ClusterOptions.Connection("The cluster keeping the schedule (redis://host:port or an Azure Storage connection string); default: this machine's files (embedded mode).");

    private static Command Remove()
    {
        var id = new Argument<string>("ID") { Description = "The schedule's id (see `schedule list`)." };
        var home = HomeOption();
        var cluster = ClusterOption();
        var clusterId = ClusterOptions.ClusterId();
        var c = new Command("remove", "Remove a schedule (its history is kept).") { id, home, cluster, clusterId };
        c.SetAction(async (parse, ct) =>
        {
            var which = parse.GetValue(id)!;
            if (ClusterOptions.Resolve(parse.GetValue(cluster), required: false) is { } cc)
            {
                CheckId(which);
                await using var client = await ClusterClient.ConnectAsync(cc, ClusterOptions.Names(parse.GetValue(clusterId)), ct);
                if (!await client.Grains.GetGrain<IScheduleGrain>(which).Remove())
                    throw new ArgumentException($"no schedule {which} in the cluster at {cc.Display} (see `batchcohort schedule list --cluster …`)");
                parse.InvocationConfiguration.Output.WriteLine($"removed schedule {which}");
                return ExitCodes.Ok;
            }
            var store = Store(parse, home);
            if (!store.Remove(which)) throw new ArgumentException($"no schedule {which} in {store.Home} (see `batchcohort schedule list`)");
            parse.InvocationConfiguration.Output.WriteLine($"removed schedule {which}");
            return ExitCodes.Ok;
        });
        return c;
    }

    private static Command RunNow()
    {
        var id = new Argument<string>("ID") { Description = "The schedule's id (see `schedule list`)." };
        var home = HomeOption();
        var cluster = ClusterOption();
        var clusterId = ClusterOptions.ClusterId();
        var detach = new Option<bool>("--detach") { Description = "With --cluster: start the run and return at once (see `schedule list --cluster`)." };
        var c = new Command("run-now", "Run a schedule's job now (embedded: in this process; --cluster: on the silos, followed here): measure new/changed subjects, group stage, exports, history, webhook.")
        {
            id, home, cluster, clusterId, detach,
        };
        c.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var which = parse.GetValue(id)!;
            if (ClusterOptions.Resolve(parse.GetValue(cluster), required: false) is { } cc)
            {
                CheckId(which);
                await using var client = await ClusterClient.ConnectAsync(cc, ClusterOptions.Names(parse.GetValue(clusterId)), ct);
                var before = await ClusterSchedules.GetAsync(client.Grains, which)
                    ?? throw new ArgumentException($"no schedule {which} in the cluster at {cc.Display} (see `batchcohort schedule list --cluster …`)");
                var seen = before.History.Select(h => h.RunId).ToHashSet(StringComparer.Ordinal);
                var answer = await client.Grains.GetGrain<IScheduleGrain>(which).RunNow();
                if (!answer.StartsWith("started", StringComparison.Ordinal))
                {
                    parse.InvocationConfiguration.Error.WriteLine($"batchcohort: {which}: {answer}");
                    return Busy;
                }
                output.WriteLine($"{answer} on {cc.Display}");
                if (parse.GetValue(detach)) return ExitCodes.Ok;
                output.Flush();
                // follow: the grain plans and submits the run, then records it in its history when it has ended
                NightRecord? done = null;
                string? runId = null;
                while (done is null)
                {
                    try { await Task.Delay(1000, ct); }
                    catch (OperationCanceledException)
                    {
                        output.WriteLine($"left {(runId is null ? "the run" : "run " + runId)}: it goes on in the cluster (see `batchcohort schedule list --cluster …`)");
                        return ExitCodes.Interrupted;
                    }
                    var info = await ClusterSchedules.GetAsync(client.Grains, which)
                        ?? throw new IOException($"schedule {which} was removed while its run was going");
                    if (runId is null && info.RunningRunId is { } r) { runId = r; output.WriteLine($"run {r} submitted"); output.Flush(); }
                    done = info.History.FirstOrDefault(h => h.Trigger == NightlyJob.RunNow && !seen.Contains(h.RunId));
                }
                Print(done, output, parse.InvocationConfiguration.Error);
                return NightOutcome.IsBad(done.Outcome) ? ExitCodes.SomeFailed : ExitCodes.Ok;
            }
            var store = Store(parse, home);
            var spec = store.Get(which) ?? throw new ArgumentException($"no schedule {which} in {store.Home} (see `batchcohort schedule list`)");
            var job = new NightlyJob(store, Engine.Launcher(), new StorageExportPublisher());
            NightRecord rec;
            try { rec = await job.RunAsync(spec, null, NightlyJob.RunNow, ct); }
            catch (RunAlreadyGoingException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"batchcohort: {spec.CohortName}: a run of this cohort is still going; try again when it ends");
                return Busy;
            }
            var st = store.LoadState(spec.Id);
            store.SaveState(spec.Id, st with { LastRunId = rec.RunId, LastOutcome = rec.Outcome, LastSummary = rec.Summary });
            Print(rec, output, parse.InvocationConfiguration.Error);
            return NightOutcome.IsBad(rec.Outcome) ? ExitCodes.SomeFailed : ExitCodes.Ok;
        });
        return c;
    }

    private static void CheckId(string id)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Any(ch => !(char.IsAsciiLetterOrDigit(ch) || ch == '-' || ch == '_')))
            throw new ArgumentException($"'{id}' is not a schedule id (see `batchcohort schedule list`)");
    }

    internal static void Print(NightRecord r, TextWriter output, TextWriter error)
    {
        output.WriteLine($"run {r.RunId} of {r.CohortName} ({r.ScheduleId}): {r.Outcome}: {r.Summary}");
        if (r.Publish is { } p) output.WriteLine($"exports: {p.Status}{(p.Location is null ? "" : " " + p.Location)}");
        if (r.Webhook is { } w) output.WriteLine($"webhook: {w}");
        foreach (var f in r.Failures) error.WriteLine($"  {f.Id}: {f.Reason}");
    }

    internal static string Local(DateTimeOffset t, ScheduleSpec s) =>
        TimeZoneInfo.ConvertTime(t, s.Zone).ToString("yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture);
}
