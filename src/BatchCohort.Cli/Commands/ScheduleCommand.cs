using System.CommandLine;
using System.Globalization;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Scheduling;

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
        var cluster = new Option<string?>("--cluster") { Description = "Keep the schedule in a cluster (Redis or Azure Storage connection); default: embedded (local files)." };
        var webhook = new Option<string?>("--webhook") { Description = "POST a JSON summary of every run to this http(s) URL." };
        var export = new Option<string?>("--export") { Description = "Folder the exports are published to (latest/, a dated copy, exports.json); default <output>/exports." };
        var jobs = new Option<int?>("--jobs", "-j") { Description = "Subjects measured at once (default: one per core)." };
        var home = HomeOption();
        var c = new Command("add", "Add a nightly schedule for a cohort (its manifest is checked now).") { cohort, at, tz, cluster, webhook, export, jobs, home };
        c.SetAction(parse =>
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
            if (parse.GetValue(cluster) is not null)
                throw new NotSupportedException("--cluster: cluster schedules need the Orleans engine, which this build does not have yet; leave out --cluster for an embedded schedule run by `batchcohort serve`");
            // A broken cohort is refused now with the same checks `validate` and `run` make (manifest, paths,
            // demographics, groups, names, settings, atlas): one line per problem, exit 2.
            var check = CohortValidator.Validate(parse.GetValue(cohort)!, BatchCohort.Runtime.Measurement.MeasurerFactory.Create());
            if (!check.Ok) throw new CohortValidationException(check.Errors);
            foreach (var w in check.Warnings) parse.InvocationConfiguration.Error.WriteLine("batchcohort: warning: " + w);
            var manifest = check.Manifest!;
            var store = Store(parse, home);
            var exportDir = parse.GetValue(export) is { } e ? Path.GetFullPath(e) : null;
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
        var c = new Command("list", "List the schedules with their last and next run. Exit 3 when a schedule's last run had failures.") { home };
        c.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
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
                output.WriteLine($"{s.Id}  {s.CohortName}  at {s.At} {s.TimeZone}{(s.Webhook is null ? "" : "  webhook " + Webhook.Redact(s.Webhook))}");
                output.WriteLine($"    cohort: {s.Cohort}");
                output.WriteLine($"    next run: {next}");
                output.WriteLine($"    last run: {(st.LastRunId is null ? "never" : $"{st.LastRunId} {st.LastOutcome}: {st.LastSummary}")}");
                foreach (var n in st.Notes.TakeLast(3)) output.WriteLine($"    note: {n}");
                if (NightOutcome.IsBad(st.LastOutcome)) bad = true;
            }
            if (bad) parse.InvocationConfiguration.Error.WriteLine("batchcohort: the last run of a schedule had failures (see above)");
            return bad ? ExitCodes.SomeFailed : ExitCodes.Ok;
        });
        return c;
    }

    private static Command Remove()
    {
        var id = new Argument<string>("ID") { Description = "The schedule's id (see `schedule list`)." };
        var home = HomeOption();
        var c = new Command("remove", "Remove a schedule (its history is kept).") { id, home };
        c.SetAction(parse =>
        {
            var store = Store(parse, home);
            var which = parse.GetValue(id)!;
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
        var c = new Command("run-now", "Run a schedule's job now, in this process (measure new/changed subjects, group stage, exports, history, webhook).") { id, home };
        c.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var store = Store(parse, home);
            var which = parse.GetValue(id)!;
            var spec = store.Get(which) ?? throw new ArgumentException($"no schedule {which} in {store.Home} (see `batchcohort schedule list`)");
            var job = new NightlyJob(store, Engine.Launcher(), new FolderExportPublisher());
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
