using System.CommandLine;
using System.Net;
using BatchCohort.Contracts;
using BatchCohort.Host;
using BatchCohort.Web;
using BatchCohort.Runtime.Measurement;

namespace BatchCohort.Cli.Commands;

/// <summary><c>batchcohort silo --cluster CONNECTION</c>: runs one silo of a cluster until Ctrl-C, then leaves gracefully.</summary>
public sealed class SiloCommand : ICliCommand
{
    public Command Build()
    {
        var cluster = ClusterOptions.RequiredConnection();
        var clusterId = ClusterOptions.ClusterId();
        var jobs = new Option<int?>("--jobs", "-j") { Description = "Subjects this silo measures at once (default: one per core, fewer if memory is short)." };
        var port = new Option<int>("--port") { Description = "Silo-to-silo port (default: a free port)." };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "Port clients connect to (default: a free port)." };
        var address = new Option<string?>("--address") { Description = "The address other machines reach this silo at (default: loopback when the backend is on this machine, else this machine's first IPv4 address)." };
        var dashboard = new Option<int?>("--dashboard") { Description = "Serve the Orleans Dashboard on this port (http)." };
        var http = new Option<int?>("--http") { Description = "Serve the status page (runs, per-subject state, schedules) from the cluster's state on this port (127.0.0.1 unless --bind)." };
        var bind = new Option<string>("--bind") { Description = "Address the status page listens on (default 127.0.0.1; 0.0.0.0 = every interface).", DefaultValueFactory = _ => "127.0.0.1" };
        var token = new Option<string?>("--token") { Description = $"Token for the status page's write actions (run-now), as 'Authorization: Bearer TOKEN'; default ${ServeCommand.TokenVariable}; none = read-only." };
        var cmd = new Command("silo", "Run a silo of a BatchCohort cluster (Redis or Azure Storage membership) until Ctrl-C.")
        {
            cluster, clusterId, jobs, port, gatewayPort, address, dashboard, http, bind, token,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var c = ClusterOptions.Resolve(parse.GetValue(cluster), required: true)!;
            int? j = parse.GetValue(jobs);
            if (j is < 1) throw new ArgumentException($"--jobs must be at least 1 (got {j})");
            IPAddress? ip = null;
            if (parse.GetValue(address) is { } a && !IPAddress.TryParse(a, out ip)) throw new ArgumentException($"--address: not an IP address: {a}");
            var options = new ClusterSiloOptions(c, ClusterOptions.Names(parse.GetValue(clusterId)), j ?? 0, parse.GetValue(port), parse.GetValue(gatewayPort), ip, parse.GetValue(dashboard));
            int? httpPort = parse.GetValue(http);
            if (httpPort is < 0 or > 65535) throw new ArgumentException($"--http {httpPort}: not a port number");
            var tokenValue = parse.GetValue(token) ?? Environment.GetEnvironmentVariable(ServeCommand.TokenVariable);
            var siteOptions = httpPort is { } hp
                ? new StatusSiteOptions { Bind = parse.GetValue(bind)!, Port = hp, Token = string.IsNullOrEmpty(tokenValue) ? null : tokenValue }
                : null;
            if (siteOptions is not null && !IPAddress.TryParse(siteOptions.Bind, out _))
                throw new ArgumentException($"--bind '{siteOptions.Bind}': not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)");
            var measurer = MeasurerFactory.Create();
            await using var silo = await ClusterSilo.StartAsync(options, measurer, output, ct);
            Microsoft.AspNetCore.Builder.WebApplication? web = null;
            if (siteOptions is not null)
            {
                var grains = silo.Grains;
                web = StatusSite.Build(siteOptions, new ClusterStatusSource(grains, c.Display), id => grains.GetGrain<IScheduleGrain>(id).RunNow());
                try { await web.StartAsync(ct); }
                catch (IOException e) { throw new IOException($"--http {siteOptions.Port}: cannot listen on {siteOptions.Bind}:{siteOptions.Port}: {e.Message}", e); }
            }
            output.WriteLine($"silo {silo.Address} joined {c.Display}: {silo.Capacity} subjects at once, pipeline {measurer.PipelineVersion}" +
                             (options.DashboardPort is { } d ? $"; dashboard on http://{(ip ?? c.AdvertisedAddress())}:{d}/" : "") + "; Ctrl-C leaves the cluster");
            if (siteOptions is not null)
                output.WriteLine($"status page: http://{(siteOptions.Bind == "0.0.0.0" ? "localhost" : siteOptions.Bind)}:{siteOptions.Port}/ (write actions {(siteOptions.Token is null ? "disabled: no token" : "need the token")})");
            output.Flush();
            try { await Task.Delay(Timeout.Infinite, ct); }
            catch (OperationCanceledException) { }
            if (web is not null) { await web.StopAsync(CancellationToken.None); await web.DisposeAsync(); }
            output.WriteLine("leaving the cluster…");
            await silo.StopAsync(TimeSpan.FromSeconds(30));
            output.WriteLine($"silo {silo.Address} left the cluster");
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
