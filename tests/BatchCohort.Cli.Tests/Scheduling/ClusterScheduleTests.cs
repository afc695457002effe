using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BatchCohort.Contracts;
using BatchCohort.Grains;
using BatchCohort.Host;
using BatchCohort.Runtime.Scheduling;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;
using Xunit.Abstractions;

namespace BatchCohort.Cli.Tests.Scheduling;

/// <summary>
/// Cluster schedules as people run them, as real processes: a real Redis (membership, grain state, reminders), two
/// <c>batchcohort silo</c> processes, the <c>schedule</c> verbs with <c>--cluster</c>, the fast test measurer.
/// The silos' schedule clock is the test-only file clock (an instant in a file, running on from when it was written)
/// and their reminder period is 3 s instead of Orleans' one minute, so the test does not wait until 02:00: the
/// rules, the grain state and the reminders are the production ones. What it proves: a schedule added to the cluster
/// survives kill -9 of every silo; new silos fire it from its reminder at its time in its zone, once (further ticks
/// and the same night do not repeat it); the run goes through the cohort grain and the engine; the silo's status
/// page shows the schedule and the run from the cluster's state; `schedule list --cluster` exits 3 after failures;
/// run-now and remove work against the cluster.
/// </summary>
public sealed class ClusterScheduleTests(RedisServer redis, ITestOutputHelper log) : IClassFixture<RedisServer>
{
    private sealed class SiloProcess : IDisposable
    {
        public required Process Process { get; init; }
        public StringBuilder Output { get; } = new();
        public void Dispose()
        {
            try { if (!Process.HasExited) Process.Kill(true); } catch (InvalidOperationException) { }
            Process.Dispose();
        }
    }

    private static async Task<SiloProcess> StartSilo(TempDir d, string connection, string clusterId, IDictionary<string, string> env, params string[] extra)
    {
        var p = CliProcess.Start(d, 0, env, new[] { "silo", "--cluster", connection, "--cluster-id", clusterId, "--jobs", "2" }.Concat(extra).ToArray());
        var silo = new SiloProcess { Process = p };
        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (silo.Output) silo.Output.AppendLine(e.Data);
            if (e.Data.StartsWith("silo ", StringComparison.Ordinal) && e.Data.Contains(" joined ", StringComparison.Ordinal)) joined.TrySetResult();
        };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (silo.Output) silo.Output.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var done = await Task.WhenAny(joined.Task, p.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(120)));
        if (done != joined.Task)
        {
            silo.Dispose();
            throw new InvalidOperationException($"the silo did not join:\n{silo.Output}");
        }
        return silo;
    }

    private static void SetClock(string file, string instant)
    {
        File.WriteAllText(file + ".tmp", instant);
        File.Move(file + ".tmp", file, overwrite: true);
    }

    [RequiresFact(Requirements.Redis)]
    public async Task A_cluster_schedule_survives_kill_9_of_every_silo_fires_once_at_its_time_and_shows_on_the_silos_status_page()
    {
        using var d = new TempDir("cluster-schedule");
        TestInputs.WriteCohort(d["cohort"], 6, corrupt: new[] { "02" });
        var clock = d["clock.txt"];
        SetClock(clock, "2026-12-10T00:30:00Z");                                  // 01:30 in Berlin: half an hour before the schedule's time
        var clusterId = "s" + Guid.NewGuid().ToString("N")[..8];
        var env = new Dictionary<string, string>
        {
            [ScheduleTiming.ClockFileVariable] = clock,
            [ScheduleTiming.ReminderSecondsVariable] = "3",
        };
        string[] Cluster(params string[] args) => args.Concat(new[] { "--cluster", redis.Connection, "--cluster-id", clusterId }).ToArray();
        var silos = new List<SiloProcess>();
        var total = Stopwatch.StartNew();
        void Phase(string what) => log.WriteLine($"{total.Elapsed.TotalSeconds,6:0.0} s  {what}");
        try
        {
            silos.AddRange(await Task.WhenAll(StartSilo(d, redis.Connection, clusterId, env), StartSilo(d, redis.Connection, clusterId, env)));
            Phase("two silos joined");
            var add = await CliProcess.RunToEnd(d, 0, null, TimeSpan.FromSeconds(120), Cluster("schedule", "add", d["cohort"], "--at", "02:00", "--timezone", "Europe/Berlin"));
            Assert.True(add.Code == 0, add.Stderr + add.Stdout);
            var id = Regex.Match(add.Stdout, @"added schedule (\S+):").Groups[1].Value;
            Assert.Contains("next run 2026-12-10 02:00 +01:00", add.Stdout);      // the cluster's clock decides, not this process's

            // kill -9 of every silo; new silos (one with the status page) read the schedule and its reminder from Redis
            foreach (var s in silos) s.Dispose();
            silos.Clear();
            int port = ClusterConnection.FreePort();
            silos.AddRange(await Task.WhenAll(
                StartSilo(d, redis.Connection, clusterId, env, "--http", port.ToString(CultureInfo.InvariantCulture), "--token", "s3cret"),
                StartSilo(d, redis.Connection, clusterId, env)));
            Phase("schedule added, every silo killed, two new silos joined");
            var list0 = await CliProcess.RunToEnd(d, 0, null, TimeSpan.FromSeconds(120), Cluster("schedule", "list"));
            Assert.True(list0.Code == 0, list0.Stderr + list0.Stdout);
            Assert.Contains($"{id}  test-cohort  at 02:00 Europe/Berlin", list0.Stdout);
            Assert.Contains("last run: never", list0.Stdout);
            Assert.Empty(TestInputs.CountMarkers(d["markers.txt"]));               // nothing ran before its time

            // the cluster's clock reaches 02:00:02 Berlin time: the next reminder tick fires the night
            SetClock(clock, "2026-12-10T01:00:02Z");
            await using var client = await ClusterClient.ConnectAsync(ClusterConnection.Parse(redis.Connection), new ClusterNames(clusterId, clusterId), CancellationToken.None);
            var sw = Stopwatch.StartNew();
            ScheduleInfo info;
            while (true)
            {
                info = (await ClusterSchedules.GetAsync(client.Grains, id))!;
                if (info.History.Count > 0) break;
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(150), "the night did not run within 150 s:\n" + string.Join("\n", silos.Select(s => s.Output.ToString())));
                await Task.Delay(500);
            }
            Phase("the night ran and was recorded");
            var night = Assert.Single(info.History);
            Assert.Equal(new DateOnly(2026, 12, 10), night.Night);
            Assert.Equal(NightlyJob.Scheduled, night.Trigger);
            Assert.True(night.Outcome == NightOutcome.Failures, night.Error + " " + night.Summary);
            Assert.Equal((6, 5, 1), (night.Total, night.Measured, night.Failed));
            Assert.Contains("not a test volume (wrong magic)", Assert.Single(night.Failures).Reason);
            Assert.Equal(PublishRecord.Published, night.Publish!.Status);

            // more ticks at the same night: nothing more runs (each subject measured once, one run in the cluster)
            await Task.Delay(TimeSpan.FromSeconds(10));
            info = (await ClusterSchedules.GetAsync(client.Grains, id))!;
            Assert.Single(info.History);
            Assert.Null(info.RunningRunId);
            Assert.Equal(new DateOnly(2026, 12, 10), info.State.LastNight);
            Assert.Equal(DateTimeOffset.Parse("2026-12-11T01:00:00Z", CultureInfo.InvariantCulture), info.NextRun);
            var markers = TestInputs.CountMarkers(d["markers.txt"]);
            Assert.Equal(5, markers.Count);
            Assert.All(markers.Values, n => Assert.Equal(1, n));
            Assert.Equal(night.RunId, Assert.Single(await client.Grains.GetGrain<IRunDirectoryGrain>(0).List()).RunId);

            // the silo's status page, from the cluster's state (HTTP GET; rendering is covered by StatusPageTests)
            using (var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) })
            {
                var api = JsonNode.Parse(await http.GetStringAsync("api/status"))!;
                var sched = api["schedules"]!.AsArray().Single()!;
                Assert.Equal(id, (string)sched["id"]!);
                Assert.Equal("cluster", (string)sched["mode"]!);
                Assert.Equal(NightOutcome.Failures, (string)sched["lastOutcome"]!);
                var run = api["runs"]!.AsArray().Single()!;
                Assert.Equal(night.RunId, (string)run["runId"]!);
                Assert.Equal(id, (string)run["scheduleId"]!);
                Assert.Equal((6, 5, 1), ((int)run["total"]!, (int)run["done"]!, (int)run["failed"]!));
                Assert.Contains("wrong magic", (string)run["subjects"]!.AsArray().Single(s => (string)s!["status"]! == "failed")!["reason"]!);
                var page = await http.GetStringAsync("");
                Assert.Contains(id, page);
                Assert.Contains(night.RunId, page);
                Assert.Contains("(cluster)", page);
                var runPage = await http.GetStringAsync($"runs/{id}/{night.RunId}");
                Assert.Contains("every subject: 6", runPage);
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"files/{id}/sub-01/anat/sub-01_qc.png")).StatusCode);
                Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync($"api/schedules/{id}/run-now", null)).StatusCode);
            }

            Phase("ten more seconds of ticks; status page read");
            var list1 = await CliProcess.RunToEnd(d, 0, null, TimeSpan.FromSeconds(120), Cluster("schedule", "list"));
            Assert.True(list1.Code == 3, list1.Stderr + list1.Stdout);             // the last run had failures
            Assert.Contains($"last run: {night.RunId} failures: 6 subjects: 5 measured, 0 cached, 1 failed", list1.Stdout);
            Assert.Contains("next run: 2026-12-11 02:00 +01:00", list1.Stdout);

            // the input is fixed; run-now on the cluster measures only it, publishes, and the list is clean again
            File.WriteAllText(d["cohort/data/sub-02_T1w.nii"], $"{CountingTestMeasurer.Magic}\n27\n");
            var now = await CliProcess.RunToEnd(d, 0, null, TimeSpan.FromSeconds(180), Cluster("schedule", "run-now", id));
            Assert.True(now.Code == 0, now.Stderr + now.Stdout);
            Assert.Contains("succeeded: 6 subjects: 1 measured, 5 cached, 0 failed", now.Stdout);
            var index = JsonNode.Parse(File.ReadAllText(d["cohort/out/exports/exports.json"]))!;
            Assert.Equal(Regex.Match(now.Stdout, @"^run (\S+) of test-cohort", RegexOptions.Multiline).Groups[1].Value, (string)index["latest"]!["runId"]!);
            Assert.Equal(NightOutcome.Succeeded, (await ClusterSchedules.GetAsync(client.Grains, id))!.State.LastOutcome);

            Phase("run-now on the cluster done");
            var rm = await CliProcess.RunToEnd(d, 0, null, TimeSpan.FromSeconds(120), Cluster("schedule", "remove", id));
            Assert.True(rm.Code == 0, rm.Stderr);
            Assert.Empty(await client.Grains.GetGrain<IScheduleDirectoryGrain>(0).List());
            Assert.Null(await ClusterSchedules.GetAsync(client.Grains, id));
            Phase("removed");
        }
        finally
        {
            foreach (var s in silos) s.Dispose();
        }
    }
}
