using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Scheduling;
using BatchCohort.Runtime.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace BatchCohort.Web;

/// <summary>How the status site is served.</summary>
public sealed record StatusSiteOptions
{
    /// <summary>The address to listen on: 127.0.0.1 unless told otherwise.</summary>
    public string Bind { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 8080;
    /// <summary>Write actions (run-now) need "Authorization: Bearer &lt;token&gt;"; without a token they are disabled.</summary>
    public string? Token { get; init; }
    /// <summary>Seconds between automatic reloads of a page (a meta refresh; 0 = none).</summary>
    public int RefreshSeconds { get; init; } = 5;
}

/// <summary>
/// The status page: a small server-rendered site, no external assets, readable without JavaScript.
/// <code>
/// GET  /                              schedules (last/next run), runs (running, finished, failed) with progress, failures
/// GET  /runs/{schedule}/{run}         one run: every subject's state, reason, time, QC picture
/// GET  /files/{schedule}/{path}       the cohort's outputs (report.html, QC PNGs, tables), read-only
/// GET  /api/status                    the same data as JSON
/// POST /api/schedules/{id}/run-now    start a run now (token required)
/// </code>
/// </summary>
public static class StatusSite
{
    /// <summary>A web application serving the site (call RunAsync / StartAsync on it).</summary>
    public static WebApplication Build(StatusSiteOptions options, ScheduleStore store, Func<string, string>? runNow = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (!IPAddress.TryParse(options.Bind, out var address))
            throw new ArgumentException($"--bind '{options.Bind}': not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)");
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, options.Port));
        var app = builder.Build();
        Map(app, options, store, runNow);
        return app;
    }

    /// <summary>Maps the site's routes onto an existing host (a silo's Kestrel, for example).</summary>
    public static void Map(IEndpointRouteBuilder app, StatusSiteOptions options, ScheduleStore store, Func<string, string>? runNow = null)
    {
        var reader = new StatusReader(store);
        app.MapGet("/", (HttpContext ctx) => Html(ctx, StatusHtml.Index(reader.Read(), options.RefreshSeconds)));
        app.MapGet("/runs/{schedule}/{run}", (HttpContext ctx, string schedule, string run) =>
        {
            var view = reader.Run(schedule, run);
            if (view is null) { ctx.Response.StatusCode = 404; return Html(ctx, StatusHtml.NotFound($"no run {run} of schedule {schedule}")); }
            return Html(ctx, StatusHtml.Run(view, options.RefreshSeconds));
        });
        app.MapGet("/api/status", (HttpContext ctx) =>
        {
            ctx.Response.ContentType = "application/json; charset=utf-8";
            return ctx.Response.WriteAsync(JsonSerializer.Serialize(reader.Read(), Json.Options));
        });
        app.MapGet("/files/{schedule}/{**path}", (HttpContext ctx, string schedule, string path) => ServeFile(ctx, store, schedule, path));
        app.MapPost("/api/schedules/{id}/run-now", (HttpContext ctx, string id) =>
        {
            if (options.Token is null) return Text(ctx, 403, "write actions are disabled: start serve with --token (or BATCHCOHORT_SERVE_TOKEN)");
            if (!Authorised(ctx, options.Token)) return Text(ctx, 401, "a valid token is needed (Authorization: Bearer <token>)");
            if (runNow is null) return Text(ctx, 501, "this host cannot start runs");
            if (store.Get(id) is null) return Text(ctx, 404, $"no schedule {id}");
            string result;
            try { result = runNow(id); }
            catch (ArgumentException e) { return Text(ctx, 400, e.Message); }
            return Text(ctx, result.StartsWith("started", StringComparison.Ordinal) ? 202 : 409, result);
        });
    }

    private static bool Authorised(HttpContext ctx, string token)
    {
        var h = ctx.Request.Headers.Authorization.ToString();
        if (!h.StartsWith("Bearer ", StringComparison.Ordinal)) return false;
        var given = Encoding.UTF8.GetBytes(h["Bearer ".Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(token));
    }

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8", [".png"] = "image/png", [".csv"] = "text/csv; charset=utf-8",
        [".json"] = "application/json; charset=utf-8", [".txt"] = "text/plain; charset=utf-8", [".tsv"] = "text/tab-separated-values; charset=utf-8",
        [".parquet"] = "application/vnd.apache.parquet",
    };

    private static Task ServeFile(HttpContext ctx, ScheduleStore store, string schedule, string path)
    {
        var spec = store.Get(schedule);
        if (spec is null) return Text(ctx, 404, $"no schedule {schedule}");
        string root;
        try { root = Path.GetFullPath(CohortManifest.Load(spec.Cohort).OutputDirectory); }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return Text(ctx, 404, "the cohort cannot be read"); }
        var full = Path.GetFullPath(Path.Combine(root, path));
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(full)
            || !ContentTypes.TryGetValue(Path.GetExtension(full), out var type))
            return Text(ctx, 404, "not found");
        ctx.Response.ContentType = type;
        return ctx.Response.SendFileAsync(full);
    }

    private static Task Html(HttpContext ctx, string html)
    {
        ctx.Response.ContentType = "text/html; charset=utf-8";
        ctx.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'";
        ctx.Response.Headers.CacheControl = "no-store";
        return ctx.Response.WriteAsync(html);
    }

    private static Task Text(HttpContext ctx, int status, string text)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        return ctx.Response.WriteAsync(text + "\n");
    }
}
