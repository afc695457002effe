using System.Net;
using System.Net.Sockets;

namespace BatchCohort.TestSupport;

/// <summary>
/// A slow network link for tests: a TCP proxy on a free loopback port that forwards every connection to
/// <c>127.0.0.1:targetPort</c>, passing the client's bytes on at no more than <c>bytesPerSecond</c> (all connections
/// together) and the server's at full speed. Put in front of Azurite, it makes an upload take seconds, so that a
/// process can be killed while it is really uploading. Stopped (listener and every connection) by Dispose.
/// </summary>
public sealed class SlowLink : IDisposable
{
    private readonly TcpListener _listener;
    private readonly int _target;
    private readonly double _bytesPerSecond;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private DateTime _next = DateTime.UtcNow;

    public SlowLink(int targetPort, double bytesPerSecond)
    {
        _target = targetPort;
        _bytesPerSecond = bytesPerSecond;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Bytes passed from clients to the server so far.</summary>
    public long Uploaded => Interlocked.Read(ref _uploaded);
    private long _uploaded;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                var up = PumpAsync(client.GetStream(), server.GetStream(), throttle: true);
                var down = PumpAsync(server.GetStream(), client.GetStream(), throttle: false);
                await Task.WhenAny(up, down);
            }
            catch (Exception) { /* a connection ended: the process at one end was killed, or the test is over */ }
        }
    }

    private async Task PumpAsync(Stream from, Stream to, bool throttle)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            int n = await from.ReadAsync(buffer, _stop.Token);
            if (n == 0) return;
            if (throttle)
            {
                TimeSpan wait;
                lock (_gate)
                {
                    var now = DateTime.UtcNow;
                    if (_next < now) _next = now;
                    _next += TimeSpan.FromSeconds(n / _bytesPerSecond);
                    wait = _next - now;
                }
                if (wait > TimeSpan.Zero) await Task.Delay(wait, _stop.Token);
                Interlocked.Add(ref _uploaded, n);
            }
            await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
