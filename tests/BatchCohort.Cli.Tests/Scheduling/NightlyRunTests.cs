using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using BatchCohort.Cli.Commands;
using BatchCohort.Runtime.Scheduling;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Cli.Tests.Scheduling;

/// <summary>
/// Scheduled nights end to end in one process: the real engine (the CLI's Engine.Launcher), the real cache, the
/// engine's export publisher (<see cref="StorageExportPublisher"/> over ExportPublisher) and the fast test measurer, driven by the scheduler with a controllable clock.
/// </summary>
public class NightlyRunTests
{
    private static DateTimeOffset T(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture);

    private sealed record Rig(TempDir D, ScheduleStore Store, ScheduleSpec Spec, ManualTimeProvider Clock, Scheduler Scheduler);

    private static Rig Setup(TempDir d, int n, string? export = null, string? webhook = null, IEnumerable<string>? corrupt = null)
    {
        TestInputs.WriteCohort(d["cohort"], n, corrupt: corrupt);
        var store = new ScheduleStore(d["home"]);
        var spec = new ScheduleSpec
        {
            Id = store.NewId("test-cohort"), Cohort = Path.Combine(d["cohort"], "cohort.json"), CohortName = "test-cohort",
            At = "02:00", TimeZone = "Europe/Berlin", CreatedAt = T("2026-12-01T12:00:00Z"), Export = export, Webhook = webhook, Jobs = 2,
        };
        store.Add(spec);
        var clock = new ManualTimeProvider(T("2026-12-01T12:00:00Z"));
        var launcher = Engine.Launcher(() => new CountingTestMeasurer(d["markers.txt"], 0, "test-pipeline-1"));
        var scheduler = new Scheduler(store, launcher, new NightlyJob(store, launcher, new StorageExportPublisher(), clock), clock);
        return new Rig(d, store, spec, clock, scheduler);
    }

    /// <summary>Ticks at 02:00 Berlin time (01:00 UTC) of the given December day and waits for the run.</summary>
    private static async Task<NightRecord> Night(Rig r, int day)
    {
        r.Clock.Set(T($"2026-12-{day:00}T01:00:10Z"));
        var rec = Assert.Single(await Task.WhenAll(r.Scheduler.Tick()));
        Assert.NotNull(rec);
        Assert.Equal(new DateOnly(2026, 12, day), rec!.Night);
        return rec;
    }

    private static int Markers(Rig r) => TestInputs.CountMarkers(r.D["markers.txt"]).Values.Sum();

    private static int CsvRows(string path) => File.ReadAllLines(path).Count(l => l.Length > 0) - 1;

    [Fact]
    public async Task An_incremental_night_measures_only_added_and_changed_subjects_and_moves_the_export_index()
    {
        const int n = 8;
        using var d = new TempDir("night");
        var r = Setup(d, n);
        var first = await Night(r, 2);
        Assert.Equal(NightOutcome.Succeeded, first.Outcome);
        Assert.Equal(n, first.Measured);
        Assert.Equal(n, Markers(r));
        var exports = d["cohort/out/exports"];
        Assert.Equal(first.RunId, (string)JsonNode.Parse(File.ReadAllText(Path.Combine(exports, "exports.json")))!["latest"]!["runId"]!);

        // the cohort grows: 3 added, 1 changed, 1 removed
        var data = d["cohort/data"];
        var tsv = new List<string>(File.ReadAllLines(Path.Combine(data, "participants.tsv")));
        foreach (var (id, v) in new[] { ("21", 500), ("22", 510), ("23", 520) })
        {
            File.WriteAllText(Path.Combine(data, $"sub-{id}_T1w.nii"), $"{CountingTestMeasurer.Magic}\n{v}\n");
            tsv.Add($"sub-{id}\t70\tF\t{(v == 510 ? "patient" : "control")}");
        }
        File.WriteAllLines(Path.Combine(data, "participants.tsv"), tsv);
        File.WriteAllText(Path.Combine(data, "sub-03_T1w.nii"), $"{CountingTestMeasurer.Magic}\n999\n");
        File.Delete(Path.Combine(data, "sub-05_T1w.nii"));

        var second = await Night(r, 3);
        Assert.Equal(NightOutcome.Succeeded, second.Outcome);
        Assert.Equal(4, second.Measured);                        // exactly the 3 new and the 1 changed
        Assert.Equal(n + 4, Markers(r));                         // the measurer was called 4 more times, no more
        Assert.Equal(n - 2, second.Cached);
        Assert.Equal(new[] { "21", "22", "23" }, second.Added);
        Assert.Equal(new[] { "03" }, second.Changed);
        Assert.Equal(new[] { "05" }, second.Removed);
        Assert.Equal(first.RunId, second.PreviousRunId);
        // the group stage ran on the whole cohort: N + 2 rows
        Assert.Equal(n + 2, CsvRows(d["cohort/out/group/measures.csv"]));
        var ids = File.ReadAllLines(d["cohort/out/group/measures.csv"]).Skip(1).Select(l => l.Split(',')[0].Trim('"').Replace("sub-", "", StringComparison.Ordinal)).ToList();
        Assert.Contains("21", ids);
        Assert.DoesNotContain("05", ids);
        // the export index moved to the new run; the previous dated copy is kept
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(exports, "exports.json")))!;
        Assert.Equal(second.RunId, (string)index["latest"]!["runId"]!);
        Assert.Equal(new[] { second.RunId, first.RunId }, index["runs"]!.AsArray().Select(x => (string)x!["runId"]!).ToArray());
        // each run's dated copy, where the index says it is (runs/<finish time>_<run-id>/)
        string Dated(string runId) => Path.Combine(exports, (string)index["runs"]!.AsArray().Single(x => (string)x!["runId"]! == runId)!["path"]!, "measures.csv");
        Assert.EndsWith("_" + first.RunId + "/measures.csv", Dated(first.RunId).Replace('\\', '/'), StringComparison.Ordinal);
        Assert.Equal(n, CsvRows(Dated(first.RunId)));
        Assert.Equal(n + 2, CsvRows(Dated(second.RunId)));
        Assert.Equal(File.ReadAllText(d["cohort/out/group/measures.csv"]), File.ReadAllText(Path.Combine(exports, "latest", "measures.csv")));
        // the index's hashes are the files' SHA-256 (checked with sha256sum, an independent tool)
        var sha = ExternalTool.Check("sha256sum", new[] { Path.Combine(exports, "latest", "measures.csv") }).Split(' ')[0];
        Assert.Equal(sha, (string)index["latest"]!["files"]!.AsArray().Single(f => (string)f!["path"]! == "measures.csv")!["sha256"]!);
        // published once per run: the engine's run published it, the schedule found it in the index and copied nothing again
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(exports, "runs")).Length);
        // the history has both nights, newest first
        Assert.Equal(new[] { second.RunId, first.RunId }, r.Store.History(r.Spec.Id).Select(h => h.RunId).ToArray());
    }

    [Fact]
    public async Task An_unreachable_export_destination_is_recorded_the_measurements_kept_and_the_next_night_retries()
    {
        using var d = new TempDir("night");
        File.WriteAllText(d["blocker"], "a file where the export folder's parent should be");
        var r = Setup(d, 4, export: d["blocker/exports"]);
        var night1 = await Night(r, 2);
        Assert.Equal(NightOutcome.PublishFailed, night1.Outcome);
        Assert.Equal(PublishRecord.Failed, night1.Publish!.Status);
        Assert.Contains(d["blocker/exports"], night1.Publish.Error);
        Assert.Equal(4, night1.Measured);
        Assert.Equal(4, CsvRows(d["cohort/out/group/measures.csv"]));        // measurements and group outputs kept
        Assert.Equal(NightOutcome.PublishFailed, r.Store.LoadState(r.Spec.Id).LastOutcome);

        File.Delete(d["blocker"]);                                          // the destination is back
        var night2 = await Night(r, 3);
        Assert.Equal(NightOutcome.Succeeded, night2.Outcome);
        Assert.Equal(0, night2.Measured);                                   // nothing measured again
        Assert.Equal(4, night2.Cached);
        Assert.Equal(night2.RunId, (string)JsonNode.Parse(File.ReadAllText(d["blocker/exports/exports.json"]))!["latest"]!["runId"]!);
    }

    [Fact]
    public async Task A_failing_subject_is_named_with_its_reason_and_blocks_neither_the_others_nor_the_next_night()
    {
        using var d = new TempDir("night");
        var r = Setup(d, 5, corrupt: new[] { "02" });
        var night1 = await Night(r, 2);
        Assert.Equal(NightOutcome.Failures, night1.Outcome);
        Assert.Equal(4, night1.Measured);
        var f = Assert.Single(night1.Failures);
        Assert.Equal("02", f.Id);
        Assert.Contains("not a test volume (wrong magic)", f.Reason);
        Assert.Equal(PublishRecord.Published, night1.Publish!.Status);    // the others are published
        var night2 = await Night(r, 3);
        Assert.Equal(NightOutcome.Failures, night2.Outcome);
        Assert.Equal(4, night2.Cached);
    }

    [Fact]
    public async Task The_webhook_receives_a_small_json_summary()
    {
        using var d = new TempDir("hook");
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0)) { probe.Start(); port = ((IPEndPoint)probe.LocalEndpoint).Port; probe.Stop(); }
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/hook/");
        listener.Start();
        var received = Task.Run(async () =>
        {
            var ctx = await listener.GetContextAsync();
            using var reader = new StreamReader(ctx.Request.InputStream);
            var body = await reader.ReadToEndAsync();
            var method = ctx.Request.HttpMethod;
            var type = ctx.Request.ContentType;
            ctx.Response.StatusCode = 204;
            ctx.Response.Close();
            return (method, type, body);
        });
        var r = Setup(d, 5, webhook: $"http://127.0.0.1:{port}/hook/secret-part", corrupt: new[] { "04" });
        var rec = await Night(r, 2);
        var (method, type, body) = await received.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("POST", method);
        Assert.StartsWith("application/json", type);
        var j = JsonNode.Parse(body)!;
        Assert.Equal(rec.RunId, (string)j["runId"]!);
        Assert.Equal(r.Spec.Id, (string)j["schedule"]!);
        Assert.True((string)j["outcome"]! == "failures", rec.Error);
        Assert.Equal("2026-12-02", (string)j["night"]!);
        Assert.Equal(5, (int)j["subjects"]!["total"]!);
        Assert.Equal(4, (int)j["subjects"]!["measured"]!);
        Assert.Equal(1, (int)j["subjects"]!["failed"]!);
        Assert.Equal("04", (string)j["failures"]![0]!["id"]!);
        Assert.Contains("wrong magic", (string)j["failures"]![0]!["reason"]!);
        Assert.True(body.Length < 4096, $"the summary should be small ({body.Length} bytes)");
        Assert.Equal("delivered", rec.Webhook);
        Assert.Equal("http://127.0.0.1:" + port + "/…", Webhook.Redact(r.Spec.Webhook!));
    }
}
