using System.Net;
using BatchCohort.Grains;
using BatchCohort.Runtime.Measurement;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Dashboard;

namespace BatchCohort.Host;

public sealed record ClusterSiloOptions(
    ClusterConnection Connection,
    ClusterNames Names,
    int Capacity = 0,
    int SiloPort = 0,
    int GatewayPort = 0,
    IPAddress? Address = null,
    int? DashboardPort = null);

/// <summary>
/// <c>batchcohort silo --cluster CONNECTION</c>: a silo of a cluster, with an optional Orleans Dashboard on its own
/// Kestrel. Started, it joins (refused when its pipeline version differs from the live silos'); stopped (Ctrl-C), it
/// leaves the cluster gracefully — its subjects in flight go back to pending and are taken by the others.
/// </summary>
public sealed class ClusterSilo : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterSilo(IHost host, string address, int capacity)
    {
        _host = host;
        Address = address;
        Capacity = capacity;
    }

    public string Address { get; }
    public int Capacity { get; }
    /// <summary>The cluster's grains, called from this silo (the status page reads through it).</summary>
    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    public static async Task<ClusterSilo> StartAsync(ClusterSiloOptions o, ISubjectMeasurer measurer, TextWriter? log, CancellationToken ct)
    {
        await o.Connection.CheckReachableAsync(ct);
        var advertise = o.Address ?? o.Connection.AdvertisedAddress();
        int siloPort = o.SiloPort > 0 ? o.SiloPort : ClusterConnection.FreePort();
        int gatewayPort = o.GatewayPort > 0 ? o.GatewayPort : ClusterConnection.FreePort();
        IHost host;
        void Configure(ISiloBuilder silo)
        {
            silo.UseCluster(o.Connection, o.Names, advertise, siloPort, gatewayPort).AddBatchCohort(measurer, o.Capacity);
            if (o.DashboardPort is not null) silo.AddDashboard();
        }
        void Logging(ILoggingBuilder l)
        {
            l.ClearProviders();
            l.AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "HH:mm:ss "; });
            l.SetMinimumLevel(LogLevel.Warning);
            l.AddFilter("BatchCohort", LogLevel.Information);
        }
        if (o.DashboardPort is { } port)
        {
            var web = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "batchcohort" });
            web.WebHost.UseUrls($"http://{(IPAddress.IsLoopback(advertise) ? "127.0.0.1" : "0.0.0.0")}:{port}");
            Logging(web.Logging);
            web.UseOrleans(Configure);
            var app = web.Build();
            app.MapOrleansDashboard();
            host = app;
        }
        else
        {
            var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "batchcohort" });
            Logging(builder.Logging);
            builder.UseOrleans(Configure);
            host = builder.Build();
        }
        try
        {
            await host.StartAsync(ct);
        }
        catch (Exception e)
        {
            var refused = Find<SiloRefusedException>(e);
            try { await host.StopAsync(CancellationToken.None); } catch (Exception) { }
            host.Dispose();
            if (refused is not null) throw new InvalidDataException("silo refused: " + refused.Message);
            if (ct.IsCancellationRequested) throw new OperationCanceledException(ct);
            throw new IOException($"the silo could not join the cluster at {o.Connection.Display}: {ClusterConnection.Short(e)}");
        }
        var work = host.Services.GetRequiredService<SiloWork>();
        return new ClusterSilo(host, work.Silo, work.Capacity);
    }

    private static T? Find<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T t) return t;
            if (e is AggregateException ag) foreach (var inner in ag.InnerExceptions) if (Find<T>(inner) is { } f) return f;
        }
        return null;
    }

    /// <summary>Leaves the cluster gracefully.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        using var stop = new CancellationTokenSource(timeout);
        try { await _host.StopAsync(stop.Token); } catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(30));
        _host.Dispose();
    }
}
