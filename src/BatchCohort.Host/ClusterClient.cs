using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BatchCohort.Host;

/// <summary>A connected client of a cluster (for run --cluster, status, cancel). Dispose to leave.</summary>
public sealed class ClusterClient : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterClient(IHost host, ClusterConnection connection)
    {
        _host = host;
        Connection = connection;
        Grains = host.Services.GetRequiredService<IClusterClient>();
    }

    public ClusterConnection Connection { get; }
    public IGrainFactory Grains { get; }

    /// <summary>
    /// An idempotent read (a run's view, the run list), retried when the call was routed to a silo that has just died:
    /// right after a failover a fresh client may still address the dead silo (connection refused or a timeout) until
    /// membership tells it otherwise. Up to 5 attempts, 0.5 s × attempt apart.
    /// </summary>
    public static async Task<T> ReadAsync<T>(Func<Task<T>> read, CancellationToken ct = default)
    {
        for (int attempt = 1; ; attempt++)
        {
            try { return await read(); }
            catch (Exception e) when (attempt < 5 && e is TimeoutException or Orleans.Runtime.OrleansMessageRejectionException or Orleans.Runtime.SiloUnavailableException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt), ct);
            }
        }
    }

    /// <summary>Connects within 30 s or throws an <see cref="IOException"/> naming the backend (no secret) and the problem.</summary>
    public static async Task<ClusterClient> ConnectAsync(ClusterConnection c, ClusterNames names, CancellationToken ct)
    {
        await c.CheckReachableAsync(ct);
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "batchcohort" });
        builder.UseOrleansClient(client => client.UseCluster(c, names));
        var host = builder.Build();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(25));
        try
        {
            await host.StartAsync(limit.Token);
        }
        catch (Exception e)
        {
            host.Dispose();
            if (ct.IsCancellationRequested) throw new OperationCanceledException(ct);
            throw new IOException($"cannot connect to the cluster at {c.Display}: no silo answered ({ClusterConnection.Short(e)})");
        }
        return new ClusterClient(host, c);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await _host.StopAsync(stop.Token); } catch (Exception) { }
        _host.Dispose();
    }
}
