using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
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
    /// <summary>A web application serving the site for one machine's schedules (files).</summary>
    public static WebApplication Build(StatusSiteOptions options, ScheduleStore store, Func<string, string>? runNow = null) =>
        Build(options, new FileStatusSource(store), runNow is null ? null : id => Task.FromResult(runNow(id)));

    /// <summary>A web application serving the site (call RunAsync / StartAsync on it). <paramref name="runNow"/> answers
    /// "started …" when it started a run (202), anything else when it did not (409).</summary>
    public static WebApplication Build(StatusSiteOptions options, IStatusSource source, Func<string, Task<string>>? runNow)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (!IPAddress.TryParse(options.Bind, out var address))
            throw new ArgumentException($"--bind '{options.Bind}': not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)");
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, options.Port));
        var app = builder.Build();
        Map(app, options, source, runNow);
        return app;
    }

    /// <summary>Maps the site's routes onto an existing host.</summary>
    public static void Map(IEndpointRouteBuilder app, StatusSiteOptions options, IStatusSource source, Func<string, Task<string>>? runNow = null)
    {
        app.MapGet("/", async (HttpContext ctx) => await Html(ctx, StatusHtml.Index(await source.ReadAsync(ctx.RequestAborted), options.RefreshSeconds)));
        app.MapGet("/runs/{schedule}/{run}", async (HttpContext ctx, string schedule, string run) =>
        {
            var view = await source.RunAsync(schedule, run, ctx.RequestAborted);
            if (view is null) { ctx.Response.StatusCode = 404; await Html(ctx, StatusHtml.NotFound($"no run {run} of schedule {schedule}")); return; }
            await Html(ctx, StatusHtml.Run(view, options.RefreshSeconds));
        });
        app.MapGet("/api/status", async (HttpContext ctx) =>
        {
            var snapshot = await source.ReadAsync(ctx.RequestAborted);
            ctx.Response.ContentType = "application/json; charset=utf-8";
            await ctx.Response.WriteAsync(JsonSerializer.Serialize(snapshot, Json.Options));
        });
        app.MapGet("/files/{schedule}/{**path}", async (HttpContext ctx, string schedule, string path) => await ServeFile(ctx, source, schedule, path));
        app.MapPost("/api/schedules/{id}/run-now", async (HttpContext ctx, string id) =>
        {
            if (options.Token is null) { await Text(ctx, 403, "write actions are disabled: start with --token (or BATCHCOHORT_SERVE_TOKEN)"); return; }
            if (!Authorised(ctx, options.Token)) { await Text(ctx, 401, "a valid token is needed (Authorization: Bearer <token>)"); return; }
            if (runNow is null) { await Text(ctx, 501, "this host cannot start runs"); return; }
            bool known;
            try { known = await source.HasScheduleAsync(id, ctx.RequestAborted); }
            catch (ArgumentException e) { await Text(ctx, 400, e.Message); return; }
            if (!known) { await Text(ctx, 404, $"no schedule {id}"); return; }
            string result;
            try { result = await runNow(id); }
            catch (ArgumentException e) { await Text(ctx, 400, e.Message); return; }
            await Text(ctx, result.StartsWith("started", StringComparison.Ordinal) ? 202 : 409, result);
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

    private static async Task ServeFile(HttpContext ctx, IStatusSource source, string schedule, string path)
    {
        string? outDir;
        try { outDir = await source.OutputDirectoryAsync(schedule, ctx.RequestAborted); }
        catch (ArgumentException) { outDir = null; }
        if (outDir is null) { await Text(ctx, 404, $"no schedule {schedule}, or its cohort cannot be read"); return; }
        var root = Path.GetFullPath(outDir);
        var full = Path.GetFullPath(Path.Combine(root, path));
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(full)
            || !ContentTypes.TryGetValue(Path.GetExtension(full), out var type))
        {
            await Text(ctx, 404, "not found");
            return;
        }
        ctx.Response.ContentType = type;
        await ctx.Response.SendFileAsync(full);
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
