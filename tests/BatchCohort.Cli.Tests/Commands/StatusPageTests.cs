using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BatchCohort.TestSupport;

namespace BatchCohort.Cli.Tests.Commands;

/// <summary>
/// `batchcohort serve --http PORT` in a real process, its pages loaded by headless Chromium (Debian's chromium): a run
/// started through the token-protected write endpoint shows its progress changing between two loads, and a failed
/// subject's reason; the JSON endpoint carries the same data.
/// </summary>
public class StatusPageTests
{
    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Headless Chromium; --dump-dom prints the DOM after load (what a person would see, scripts or not).</summary>
    internal static string Chromium(TempDir d, params string[] args)
    {
        var profile = d["chromium-" + Guid.NewGuid().ToString("N")[..6]];
        var all = new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
            "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile,
        }.Concat(args);
        var r = ExternalTool.Run("chromium", all, TimeSpan.FromSeconds(90));
        Assert.True(r.ExitCode == 0, $"chromium exited {r.ExitCode}: {r.Stderr}");
        return r.Stdout;
    }

    private static readonly Regex Finished = new(@"(\d+) of (\d+) finished", RegexOptions.CultureInvariant);

    private static int FinishedCount(string html)
    {
        var m = Finished.Match(html);
        Assert.True(m.Success, "no progress on the page:\n" + html[..Math.Min(html.Length, 3000)]);
        return int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [RequiresFact(Requirements.Chromium)]
    public async Task The_status_page_shows_a_running_runs_progress_changing_and_a_failed_subjects_reason()
    {
        using var d = new TempDir("status");
        const int n = 40;   // 1.5 s each, one at a time: about a minute of running, longer than two page loads
        BatchCohort.TestMeasurers.TestInputs.WriteCohort(d.FullName, n, corrupt: new[] { "01" });
        // due twelve hours from now: the test starts the run itself, through the page's write endpoint
        var at = DateTimeOffset.UtcNow.AddHours(12).ToString("HH:mm", CultureInfo.InvariantCulture);
        var add = await ScheduleCommandTests.Cli(d, "schedule", "add", d.FullName, "--at", at, "--timezone", "UTC", "--jobs", "1");
        Assert.True(add.Code == 0, add.Stderr);
        var id = Regex.Match(add.Stdout, @"added schedule (\S+):").Groups[1].Value;

        int port = FreePort();
        using var serve = CliProcess.Start(d, 1500, ScheduleCommandTests.Home(d), "serve", "--http", port.ToString(CultureInfo.InvariantCulture), "--token", "s3cret", "--tick", "1");
        var stdout = new System.Text.StringBuilder();
        serve.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        serve.BeginOutputReadLine();
        var stderrTask = serve.StandardError.ReadToEndAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(20) };
            var sw = Stopwatch.StartNew();
            while (true)
            {
                if (serve.HasExited) Assert.Fail($"serve exited {serve.ExitCode}: " + await stderrTask);
                try { if ((await http.GetAsync("api/status")).IsSuccessStatusCode) break; }
                catch (HttpRequestException) { }
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), "the status page did not answer within 60 s");
                await Task.Delay(200);
            }
            lock (stdout) Assert.Contains($"status page: http://127.0.0.1:{port}/", stdout.ToString());

            // write actions: refused without the token, accepted with it
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync($"api/schedules/{id}/run-now", null)).StatusCode);
            using (var wrong = new HttpRequestMessage(HttpMethod.Post, $"api/schedules/{id}/run-now"))
            {
                wrong.Headers.Authorization = new("Bearer", "guess");
                Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong)).StatusCode);
            }
            using (var ok = new HttpRequestMessage(HttpMethod.Post, $"api/schedules/{id}/run-now"))
            {
                ok.Headers.Authorization = new("Bearer", "s3cret");
                Assert.Equal(HttpStatusCode.Accepted, (await http.SendAsync(ok)).StatusCode);
            }

            // wait until the run is going with the failed subject known and at least one subject done
            async Task<JsonNode> Run()
            {
                var j = JsonNode.Parse(await http.GetStringAsync("api/status"))!;
                return j["runs"]!.AsArray().FirstOrDefault() ?? new JsonObject();
            }
            sw.Restart();
            JsonNode run;
            while (true)
            {
                run = await Run();
                if ((string?)run["status"] == "running" && (int?)run["done"] >= 1 && (int?)run["failed"] == 1) break;
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), "the run did not start: " + run.ToJsonString());
                await Task.Delay(100);
            }
            var failedSubject = run["subjects"]!.AsArray().Single(s => (string)s!["status"]! == "failed")!;
            Assert.Equal("01", (string)failedSubject["id"]!);
            Assert.Contains("not a test volume (wrong magic)", (string)failedSubject["reason"]!);

            var url = $"http://127.0.0.1:{port}/";
            var page1 = Chromium(d, "--dump-dom", url);
            int count1 = FinishedCount(page1);
            Assert.True(count1 < n, "the run ended before the first load finished; nothing left to see change");
            Assert.Contains("running", page1);
            Assert.Contains("not a test volume (wrong magic)", page1);
            Assert.Contains("test-cohort", page1);
            // wait until the engine has moved on, then load again
            sw.Restart();
            while ((int)(await Run())["done"]! + 1 <= count1)
            {
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), "no progress within 60 s");
                await Task.Delay(100);
            }
            var page2 = Chromium(d, "--dump-dom", url);
            int count2 = FinishedCount(page2);
            Assert.True(count2 > count1, $"progress did not change between two loads ({count1} then {count2})");
            Assert.Contains(" of " + n + " finished", page2);

            // the run's own page lists every subject; the picture of the page
            var runId = (string)run["runId"]!;
            var detail = Chromium(d, "--dump-dom", $"{url}runs/{id}/{runId}");
            Assert.Contains("every subject: " + n, detail);
            Assert.Contains("not a test volume (wrong magic)", detail);
            var png = d["status.png"];
            Chromium(d, "--hide-scrollbars", "--window-size=1200,900", "--screenshot=" + png, url);
            var bytes = File.ReadAllBytes(png);
            Assert.True(bytes.Length > 2000, "screenshot too small");
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, bytes[..4]);
            var shot = Environment.GetEnvironmentVariable("BATCHCOHORT_STATUS_SCREENSHOT");
            if (!string.IsNullOrEmpty(shot)) File.Copy(png, shot, overwrite: true);

            // a QC picture of a finished subject is served from the cohort's outputs
            var qc = await http.GetAsync($"files/{id}/sub-02/anat/sub-02_qc.png");
            Assert.Equal(HttpStatusCode.OK, qc.StatusCode);
            Assert.Equal("image/png", qc.Content.Headers.ContentType!.MediaType);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"files/{id}/..%2F..%2Fetc/passwd")).StatusCode);
        }
        finally
        {
            if (!serve.HasExited)
            {
                ExternalTool.Run("kill", new[] { "-INT", serve.Id.ToString(CultureInfo.InvariantCulture) });
                if (!serve.WaitForExit(30_000)) serve.Kill(true);
            }
        }
        Assert.Equal(0, serve.ExitCode);
    }
}
