using System.CommandLine;
using System.Net;
using BatchCohort.Host;
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
        var cmd = new Command("silo", "Run a silo of a BatchCohort cluster (Redis or Azure Storage membership) until Ctrl-C.")
        {
            cluster, clusterId, jobs, port, gatewayPort, address, dashboard,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var c = ClusterConnection.Parse(parse.GetValue(cluster)!);
            int? j = parse.GetValue(jobs);
            if (j is < 1) throw new ArgumentException($"--jobs must be at least 1 (got {j})");
            IPAddress? ip = null;
            if (parse.GetValue(address) is { } a && !IPAddress.TryParse(a, out ip)) throw new ArgumentException($"--address: not an IP address: {a}");
            var options = new ClusterSiloOptions(c, ClusterOptions.Names(parse.GetValue(clusterId)), j ?? 0, parse.GetValue(port), parse.GetValue(gatewayPort), ip, parse.GetValue(dashboard));
            var measurer = MeasurerFactory.Create();
            await using var silo = await ClusterSilo.StartAsync(options, measurer, output, ct);
            output.WriteLine($"silo {silo.Address} joined {c.Display}: {silo.Capacity} subjects at once, pipeline {measurer.PipelineVersion}" +
                             (options.DashboardPort is { } d ? $"; dashboard on http://{(ip ?? c.AdvertisedAddress())}:{d}/" : "") + "; Ctrl-C leaves the cluster");
            output.Flush();
            try { await Task.Delay(Timeout.Infinite, ct); }
            catch (OperationCanceledException) { }
            output.WriteLine("leaving the cluster…");
            await silo.StopAsync(TimeSpan.FromSeconds(30));
            output.WriteLine($"silo {silo.Address} left the cluster");
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
