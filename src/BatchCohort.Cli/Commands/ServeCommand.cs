using System.CommandLine;
using System.Globalization;
using BatchCohort.Runtime.Scheduling;
using BatchCohort.Web;

namespace BatchCohort.Cli.Commands;

/// <summary>
/// <c>batchcohort serve</c>: runs the schedules of this machine (embedded mode, state in local files, no server) and,
/// with <c>--http PORT</c>, the status page on 127.0.0.1 (or <c>--bind</c>). <c>--once</c> evaluates the schedules
/// once, runs what is due to the end and exits (for cron or a systemd timer).
/// </summary>
public sealed class ServeCommand : ICliCommand
{
    public const string TokenVariable = "BATCHCOHORT_SERVE_TOKEN";

    public Command Build()
    {
        var home = ScheduleCommand.HomeOption();
        var http = new Option<int?>("--http") { Description = "Serve the status page on this port (127.0.0.1 unless --bind)." };
        var bind = new Option<string>("--bind") { Description = "Address the status page listens on (default 127.0.0.1; 0.0.0.0 = every interface).", DefaultValueFactory = _ => "127.0.0.1" };
        var token = new Option<string?>("--token") { Description = $"Token for the page's write actions (run-now), as 'Authorization: Bearer TOKEN'; default ${TokenVariable}; none = read-only." };
        var once = new Option<bool>("--once") { Description = "Evaluate the schedules once, run what is due to the end, and exit." };
        var tick = new Option<double>("--tick") { Description = "Seconds between evaluations of the schedules (default 20).", DefaultValueFactory = _ => 20 };
        var now = new Option<string?>("--now") { Description = "Act as if the time were this ISO 8601 instant (testing, replaying a night); the clock runs on from it.", Hidden = true };
        var cmd = new Command("serve", "Run this machine's schedules (embedded mode: state in local files, no server), optionally with a status page.")
        {
            home, http, bind, token, once, tick, now,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var store = ScheduleCommand.Store(parse, home);
            TimeProvider clock = TimeProvider.System;
            if (parse.GetValue(now) is { } nowText)
            {
                if (!DateTimeOffset.TryParse(nowText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var start))
                    throw new ArgumentException($"--now '{nowText}': expected an ISO 8601 instant such as 2026-12-03T02:00:30Z");
                clock = new ShiftedTimeProvider(start - DateTimeOffset.UtcNow);
            }
            double period = parse.GetValue(tick);
            if (period is < 0.05 or > 3600) throw new ArgumentException($"--tick must be between 0.05 and 3600 seconds (got {period})");
            int? port = parse.GetValue(http);
            if (port is < 0 or > 65535) throw new ArgumentException($"--http {port}: not a port number");

            Directory.CreateDirectory(store.Home);
            using var serveLock = RunLock.TryLockFile(store.ServeLockPath)
                ?? throw new IOException($"{store.ServeLockPath}: another `batchcohort serve` is running the schedules of {store.Home}");
            var launcher = Engine.Launcher();
            var job = new NightlyJob(store, launcher, new StorageExportPublisher(), clock);
            var sync = new object();
            void Log(string text) { lock (sync) output.WriteLine($"{clock.GetUtcNow():yyyy-MM-dd HH:mm:ss}Z {text}"); }
            var scheduler = new Scheduler(store, launcher, job, clock, Log);

            if (parse.GetValue(once))
            {
                var runs = scheduler.Tick(ct);
                if (runs.Count == 0) Log("nothing due");
                var records = await Task.WhenAll(runs);
                foreach (var r in records.OfType<NightRecord>()) ScheduleCommand.Print(r, output, error);
                return records.Any(r => r is not null && NightOutcome.IsBad(r.Outcome)) ? ExitCodes.SomeFailed : ExitCodes.Ok;
            }

            Microsoft.AspNetCore.Builder.WebApplication? web = null;
            if (port is { } p)
            {
                var tokenValue = parse.GetValue(token) ?? Environment.GetEnvironmentVariable(TokenVariable);
                var options = new StatusSiteOptions { Bind = parse.GetValue(bind)!, Port = p, Token = string.IsNullOrEmpty(tokenValue) ? null : tokenValue };
                web = StatusSite.Build(options, store, id =>
                {
                    var t = scheduler.RunNow(id, ct);
                    return t is null ? "a run of this cohort is still going" : $"started a run of {id}";
                });
                try { await web.StartAsync(ct); }
                catch (IOException e) { throw new IOException($"--http {p}: cannot listen on {options.Bind}:{p}: {e.Message}", e); }
                Log($"status page: http://{(options.Bind == "0.0.0.0" ? "localhost" : options.Bind)}:{p}/ (write actions {(options.Token is null ? "disabled: no token" : "need the token")})");
            }
            Log($"serving {store.List().Count} schedule(s) of {store.Home}; Ctrl-C to stop");
            try { await scheduler.RunAsync(TimeSpan.FromSeconds(period), ct); }
            finally
            {
                if (web is not null) { await web.StopAsync(CancellationToken.None); await web.DisposeAsync(); }
            }
            Log("stopped");
            return ExitCodes.Ok;
        });
        return cmd;
    }
}

/// <summary>The system clock shifted by a fixed offset (serve --now).</summary>
internal sealed class ShiftedTimeProvider(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + offset;
}
