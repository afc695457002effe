using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace BatchCohort.TestSupport;

/// <summary>
/// A real Azurite blob service (npm azurite, installed into tests/oracles/node by scripts/test.sh) on a free
/// loopback port with its own data folder, started for a test class and stopped by its PID. Uses the emulator's
/// well-known development account (devstoreaccount1, whose key is public).
/// </summary>
public sealed class AzuriteServer : IDisposable
{
    public const string Account = "devstoreaccount1";
    /// <summary>The emulator's published development key (not a secret).</summary>
    public const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process _process;
    private readonly string _dir;

    public static string Executable => Path.Combine(Requirements.NodeModules, ".bin", "azurite-blob");

    public AzuriteServer() : this(false) { }

    /// <param name="withTables">Also the table service (what an Orleans cluster on Azure Storage needs for membership):
    /// then it runs the whole emulator (blob, queue, table) and <see cref="ClusterConnectionString"/> names both endpoints.</param>
    public AzuriteServer(bool withTables)
    {
        var exe = withTables ? Path.Combine(Requirements.NodeModules, ".bin", "azurite") : Executable;
        if (!File.Exists(exe)) throw new InvalidOperationException($"azurite is not installed ({exe}); run: npm install --prefix tests/oracles/node");
        Port = FreePort();
        if (withTables) TablePort = FreePort();
        _dir = Path.Combine(Path.GetTempPath(), "bc-azurite-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_dir);
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(), "--location", _dir, "--silent", "--skipApiVersionCheck", "--disableTelemetry" })
            psi.ArgumentList.Add(a);
        if (withTables)
            foreach (var a in new[] { "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(), "--queueHost", "127.0.0.1", "--queuePort", FreePort().ToString() })
                psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_err) _err.Add(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var sw = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"azurite exited with {_process.ExitCode}: {string.Join(" ", _err)}");
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, Port);
                if (TablePort > 0) { using var t = new TcpClient(); t.Connect(IPAddress.Loopback, TablePort); }
                break;
            }
            catch (SocketException)
            {
                if (sw.Elapsed > TimeSpan.FromSeconds(180)) { Dispose(); throw new TimeoutException("azurite did not listen within 180 s"); }
                Thread.Sleep(100);
            }
        }
        StartSeconds = sw.Elapsed.TotalSeconds;
    }

    private readonly List<string> _err = new();

    public int Port { get; }
    /// <summary>The table service's port (0 unless started with tables).</summary>
    public int TablePort { get; }
    public string TableEndpoint => $"http://127.0.0.1:{TablePort}/{Account}";

    /// <summary>Blob and table endpoints with the development key: an Orleans cluster's membership and grain state.</summary>
    public string ClusterConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};BlobEndpoint={BlobEndpoint};TableEndpoint={TableEndpoint};";
    public int Pid => _process.Id;
    public double StartSeconds { get; }
    public string BlobEndpoint => $"http://127.0.0.1:{Port}/{Account}";
    public string ConnectionString => ConnectionStringWithKey(Key);

    /// <summary>A connection string for this endpoint with another key (to test a wrong key).</summary>
    public string ConnectionStringWithKey(string key) =>
        $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={key};BlobEndpoint={BlobEndpoint};";

    public void Dispose()
    {
        try { if (!_process.HasExited) { _process.Kill(entireProcessTree: true); _process.WaitForExit(10_000); } }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int p = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return p;
    }
}
