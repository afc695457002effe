using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Azure.Data.Tables;
using StackExchange.Redis;

namespace BatchCohort.Host;

public enum ClusterBackend { Redis, AzureStorage }

/// <summary>
/// A cluster's membership backend, chosen by the connection the user gives: <c>redis://[:password@]host:port</c>
/// (lab machines) or an Azure Storage connection string (<c>UseDevelopmentStorage=true</c> for Azurite). Membership,
/// grain state (run state) and admissions live there. <see cref="Display"/> never shows a password or key.
/// </summary>
public sealed class ClusterConnection
{
    private ClusterConnection(ClusterBackend backend, string display, string secret, string host)
    {
        Backend = backend;
        Display = display;
        Secret = secret;
        Host = host;
    }

    public ClusterBackend Backend { get; }
    /// <summary>What may be printed: the backend and its address, without secrets.</summary>
    public string Display { get; }
    /// <summary>The full connection (Redis configuration or Azure connection string): never print it.</summary>
    internal string Secret { get; }
    /// <summary>The backend's host name (to choose the address a silo advertises).</summary>
    public string Host { get; }

    public bool IsLoopback => Host is "localhost" || (IPAddress.TryParse(Host, out var ip) && IPAddress.IsLoopback(ip));

    public static ClusterConnection Parse(string text)
    {
        text = text.Trim();
        if (text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var u) || string.IsNullOrEmpty(u.Host))
                throw new ArgumentException("--cluster: not a Redis URL (expected redis://host:port)");
            var o = new ConfigurationOptions { AbortOnConnectFail = false, ConnectTimeout = 5000, SyncTimeout = 5000 };
            int port = u.IsDefaultPort || u.Port <= 0 ? 6379 : u.Port;
            o.EndPoints.Add(u.Host, port);
            if (!string.IsNullOrEmpty(u.UserInfo))
            {
                var parts = Uri.UnescapeDataString(u.UserInfo).Split(':', 2);
                if (parts.Length == 2) { if (parts[0].Length > 0) o.User = parts[0]; o.Password = parts[1]; }
                else o.Password = parts[0];
            }
            if (u.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase)) o.Ssl = true;
            var db = u.AbsolutePath.Trim('/');
            if (int.TryParse(db, out var n)) o.DefaultDatabase = n;
            return new ClusterConnection(ClusterBackend.Redis, $"{u.Scheme}://{u.Host}:{port}", o.ToString(includePassword: true), u.Host);
        }
        if (text.Equals("UseDevelopmentStorage=true", StringComparison.OrdinalIgnoreCase))
            return new ClusterConnection(ClusterBackend.AzureStorage, "Azure Storage (UseDevelopmentStorage=true)", text, "127.0.0.1");
        if (text.Contains("AccountName=", StringComparison.OrdinalIgnoreCase) || text.Contains("TableEndpoint=", StringComparison.OrdinalIgnoreCase)
            || text.Contains("BlobEndpoint=", StringComparison.OrdinalIgnoreCase))
        {
            var fields = text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(f => f.Split('=', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1], StringComparer.OrdinalIgnoreCase);
            string account = fields.GetValueOrDefault("AccountName") ?? "?";
            string host = "";
            string where = fields.TryGetValue("TableEndpoint", out var te) ? te : fields.TryGetValue("BlobEndpoint", out var be) ? be : "";
            if (Uri.TryCreate(where, UriKind.Absolute, out var eu)) host = eu.Host;
            else host = $"{account}.table.{fields.GetValueOrDefault("EndpointSuffix") ?? "core.windows.net"}";
            return new ClusterConnection(ClusterBackend.AzureStorage,
                $"Azure Storage account {account}{(where.Length > 0 ? $" at {new Uri(where).GetLeftPart(UriPartial.Authority)}" : "")}", text, host);
        }
        throw new ArgumentException("--cluster: expected a Redis URL (redis://host:port) or an Azure Storage connection string (AccountName=…;AccountKey=… or UseDevelopmentStorage=true)");
    }

    public ConfigurationOptions RedisOptions() => ConfigurationOptions.Parse(Secret);

    /// <summary>Checks that the backend answers (within about 10 s); throws an <see cref="IOException"/> naming it (no secret) and the problem.</summary>
    public async Task CheckReachableAsync(CancellationToken ct)
    {
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(TimeSpan.FromSeconds(12));
            if (Backend == ClusterBackend.Redis)
            {
                var o = RedisOptions();
                o.AbortOnConnectFail = true;
                o.ConnectRetry = 1;
                await using var mux = await ConnectionMultiplexer.ConnectAsync(o).WaitAsync(limit.Token);
                await mux.GetDatabase().PingAsync().WaitAsync(limit.Token);
            }
            else
            {
                var options = new TableClientOptions();
                options.Retry.MaxRetries = 1;
                options.Retry.NetworkTimeout = TimeSpan.FromSeconds(5);
                var client = new TableServiceClient(Secret, options);
                await client.GetPropertiesAsync(limit.Token);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new IOException($"cannot reach the cluster backend {Display}: no answer within 12 s");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new IOException($"cannot reach the cluster backend {Display}: {Short(e)}");
        }
    }

    internal static string Short(Exception e)
    {
        var msg = e.Message.ReplaceLineEndings(" ").Trim();
        int cut = msg.IndexOf(". ", StringComparison.Ordinal);
        if (cut > 0 && cut < 200) msg = msg[..(cut + 1)];
        if (msg.Length > 240) msg = msg[..240] + "…";
        return msg;
    }

    /// <summary>The address a silo advertises: loopback when the backend is on this machine, else this machine's first IPv4 address.</summary>
    public IPAddress AdvertisedAddress()
    {
        if (IsLoopback) return IPAddress.Loopback;
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback) continue;
            foreach (var a in nic.GetIPProperties().UnicastAddresses)
                if (a.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a.Address)) return a.Address;
        }
        return IPAddress.Loopback;
    }

    /// <summary>A TCP port free on this machine now.</summary>
    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
