using System.Globalization;
using System.Net;
using System.Text;
using BatchCohort.Runtime.Scheduling;

namespace BatchCohort.Web;

/// <summary>Server-rendered HTML of the status page: one inline style sheet, no scripts, no external assets.</summary>
public static class StatusHtml
{
    private const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem;color:#1b1f24;max-width:72rem}
        h1{font-size:1.4rem;margin:0 0 .2rem} h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #d0d7de}
        table{border-collapse:collapse;width:100%;font-size:.9rem} th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eaeef2;vertical-align:top}
        th{background:#f6f8fa} .muted{color:#57606a;font-size:.85rem}
        .bar{background:#eaeef2;border-radius:3px;width:10rem;height:.8rem;display:inline-block;vertical-align:middle;overflow:hidden}
        .bar span{display:block;height:100%;float:left;background:#2da44e} .bar span.f{background:#cf222e}
        .st{font-weight:600;padding:.05rem .4rem;border-radius:3px;font-size:.8rem}
        .running{background:#ddf4ff;color:#0969da} .finished,.done,.succeeded{background:#dafbe1;color:#1a7f37}
        .failed,.publish-failed,.failures{background:#ffebe9;color:#cf222e} .interrupted,.skipped,.pending{background:#fff8c5;color:#9a6700}
        .reason{color:#cf222e} a{color:#0969da}
        """;

    public static string Index(StatusSnapshot s, int refreshSeconds)
    {
        bool live = s.Runs.Any(r => r.Status == "running");
        var b = Begin("BatchCohort status", live ? refreshSeconds : 0);
        b.Append("<h1>BatchCohort status</h1><p class=\"muted\">").Append(E($"{s.Schedules.Count} schedule(s) · state in {s.Home} · page generated {Time(s.GeneratedAt)}"))
            .Append(live && refreshSeconds > 0 ? E($" · reloads every {refreshSeconds} s while a run is going") : "").Append("</p>");

        b.Append("<h2>Schedules</h2>");
        if (s.Schedules.Count == 0) b.Append("<p>No schedules. Add one with <code>batchcohort schedule add COHORT --at 02:00</code>.</p>");
        else
        {
            b.Append("<table><tr><th>id</th><th>cohort</th><th>every night at</th><th>next run</th><th>last night</th><th>last outcome</th><th>notes</th></tr>");
            foreach (var x in s.Schedules)
            {
                b.Append("<tr><td>").Append(E(x.Id)).Append("</td><td>").Append(E(x.CohortName)).Append("<br><span class=\"muted\">").Append(E(x.Cohort)).Append("</span></td><td>")
                    .Append(E($"{x.At} {x.TimeZone}")).Append(x.Mode == "cluster" ? " <span class=\"muted\">(cluster)</span>" : "").Append("</td><td>")
                    .Append(x.NextRun is { } n ? E(Time(n)) : "").Append("</td><td>").Append(E(x.LastNight?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "never")).Append("</td><td>");
                if (x.LastOutcome is { } o) b.Append(Badge(o));
                if (x.LastSummary is { } sum) b.Append("<br><span class=\"muted\">").Append(E(sum)).Append("</span>");
                b.Append("</td><td class=\"muted\">");
                if (x.Problem is { } p) b.Append("<span class=\"reason\">").Append(E(p)).Append("</span><br>");
                foreach (var note in x.Notes) b.Append(E(note)).Append("<br>");
                b.Append("</td></tr>");
            }
            b.Append("</table>");
        }

        b.Append("<h2>Runs</h2>");
        if (s.Runs.Count == 0) b.Append("<p>No runs yet.</p>");
        else
        {
            b.Append("<table><tr><th>cohort</th><th>run</th><th>status</th><th>progress</th><th>started</th><th>took</th><th>exports</th><th>links</th></tr>");
            foreach (var r in s.Runs) RunRow(b, r);
            b.Append("</table>");
        }

        foreach (var r in s.Runs.Where(r => r.Status == "running"))
        {
            b.Append("<h2>").Append(E($"Running: {r.CohortName}, run {r.RunId}")).Append("</h2>");
            b.Append("<p>").Append(E(Progress(r))).Append("</p>");
            Subjects(b, r, r.Subjects.Where(x => x.Status is "running" or "failed").ToList(), "subjects being measured or failed so far");
        }
        var withFailures = s.Runs.Where(r => r.Status != "running" && r.Failed > 0).GroupBy(r => r.ScheduleId).Select(g => g.First());
        foreach (var r in withFailures)
        {
            b.Append("<h2>").Append(E($"Failures in the last run of {r.CohortName} ({r.RunId})")).Append("</h2>");
            Subjects(b, r, r.Subjects.Where(x => x.Status == "failed").ToList(), null);
        }
        b.Append("<p class=\"muted\">The same data as JSON: <a href=\"/api/status\">/api/status</a></p>");
        return End(b);
    }

    public static string Run(RunView r, int refreshSeconds)
    {
        var b = Begin($"{r.CohortName} · {r.RunId}", r.Status == "running" ? refreshSeconds : 0);
        b.Append("<p><a href=\"/\">← all runs</a></p><h1>").Append(E($"{r.CohortName}: run {r.RunId}")).Append("</h1><p>")
            .Append(Badge(r.Status)).Append(' ').Append(E(Progress(r))).Append("</p><p class=\"muted\">")
            .Append(E($"started {Time(r.StartedAt)}{(r.FinishedAt is { } f ? $" · finished {Time(f)}" : "")} · engine: {r.EngineStatus}{(r.Outcome is { } o ? $" · nightly outcome: {o}" : "")}"))
            .Append("</p>");
        if (r.Publish is { } p) b.Append("<p>exports: ").Append(r.Publish.StartsWith("failed", StringComparison.Ordinal) ? $"<span class=\"reason\">{E(p)}</span>" : E(p)).Append("</p>");
        foreach (var c in r.Changes) b.Append("<p class=\"muted\">").Append(E(c)).Append("</p>");
        if (r.Report is { } rep) b.Append("<p><a href=\"").Append(E(rep)).Append("\">group report</a></p>");
        Subjects(b, r, r.Subjects, "every subject");
        return End(b);
    }

    public static string NotFound(string text)
    {
        var b = Begin("not found", 0);
        b.Append("<p><a href=\"/\">← all runs</a></p><p>").Append(E(text)).Append("</p>");
        return End(b);
    }

    private static void RunRow(StringBuilder b, RunView r)
    {
        b.Append("<tr><td>").Append(E(r.CohortName)).Append("</td><td><a href=\"").Append(E($"/runs/{r.ScheduleId}/{r.RunId}")).Append("\">").Append(E(r.RunId)).Append("</a></td><td>")
            .Append(Badge(r.Status)).Append("</td><td>");
        if (r.Total > 0)
        {
            double ok = 100.0 * r.Done / r.Total, bad = 100.0 * r.Failed / r.Total;
            b.Append("<span class=\"bar\" title=\"").Append(E(Progress(r))).Append("\"><span style=\"width:").Append(ok.ToString("0.#", CultureInfo.InvariantCulture))
                .Append("%\"></span><span class=\"f\" style=\"width:").Append(bad.ToString("0.#", CultureInfo.InvariantCulture)).Append("%\"></span></span> ");
        }
        b.Append(E(Progress(r))).Append("</td><td>").Append(E(Time(r.StartedAt))).Append("</td><td>")
            .Append(r.FinishedAt is { } f ? E($"{(f - r.StartedAt).TotalSeconds:0.#} s") : "").Append("</td><td>");
        if (r.Publish is { } p) b.Append(p.StartsWith("failed", StringComparison.Ordinal) ? $"<span class=\"reason\">{E(p)}</span>" : E(p));
        b.Append("</td><td><a href=\"").Append(E($"/runs/{r.ScheduleId}/{r.RunId}")).Append("\">subjects</a>");
        if (r.Report is { } rep) b.Append(" · <a href=\"").Append(E(rep)).Append("\">report</a>");
        b.Append("</td></tr>");
        if (r.Total == 0 && r.Changes.Count > 0) b.Append("<tr><td></td><td colspan=\"7\" class=\"reason\">").Append(E(string.Join("; ", r.Changes))).Append("</td></tr>");
    }

    private static void Subjects(StringBuilder b, RunView r, IReadOnlyList<SubjectView> list, string? caption)
    {
        if (caption is not null) b.Append("<p class=\"muted\">").Append(E($"{caption}: {list.Count}")).Append("</p>");
        if (list.Count == 0) return;
        b.Append("<table><tr><th>subject</th><th>state</th><th>seconds</th><th>attempts</th><th>reason</th><th>QC</th></tr>");
        foreach (var x in list)
        {
            b.Append("<tr><td>").Append(E(x.Id)).Append("</td><td>").Append(Badge(x.Status)).Append(x.FromCache ? " <span class=\"muted\">cached</span>" : "")
                .Append("</td><td>").Append(x.Seconds is { } sec ? E(sec.ToString("0.###", CultureInfo.InvariantCulture)) : "")
                .Append("</td><td>").Append(x.Attempts.ToString(CultureInfo.InvariantCulture)).Append("</td><td class=\"reason\">").Append(E(x.Reason ?? ""))
                .Append("</td><td>");
            if (x.Qc is { } qc) b.Append("<a href=\"").Append(E(qc)).Append("\">QC picture</a>");
            b.Append("</td></tr>");
        }
        b.Append("</table>");
    }

    public static string Progress(RunView r) =>
        string.Create(CultureInfo.InvariantCulture, $"{r.Done + r.Failed} of {r.Total} finished ({r.Percent}%): {r.Done} done ({r.Cached} cached), {r.Failed} failed, {r.Running} running, {r.Pending} pending");

    private static StringBuilder Begin(string title, int refresh)
    {
        var b = new StringBuilder(16 * 1024);
        b.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        if (refresh > 0) b.Append("<meta http-equiv=\"refresh\" content=\"").Append(refresh.ToString(CultureInfo.InvariantCulture)).Append("\">");
        b.Append("<title>").Append(E(title)).Append("</title><style>").Append(Style).Append("</style></head><body>");
        return b;
    }

    private static string End(StringBuilder b) => b.Append("</body></html>").ToString();

    private static string Badge(string status) => $"<span class=\"st {E(status)}\">{E(status)}</span>";

    private static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
