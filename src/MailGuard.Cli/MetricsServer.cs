using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailGuard.Cli;

/// <summary>
/// <c>mgscan serve</c>'s HTTP endpoint: a small HTTP/1.1 responder on <see cref="TcpListener"/> (no ASP.NET, and not
/// <see cref="HttpListener"/>, whose managed Unix implementation is a legacy one the .NET team advises against for new
/// code and which would bring its own limits and trimming surface into the Native AOT binary). One request per
/// connection (<c>Connection: close</c>); a request head larger than <see cref="MaxRequest"/> bytes gets 431, one not
/// complete within <see cref="ReadTimeout"/> is dropped. The responder never touches the scan's statistics: it sends
/// the bytes last given to <see cref="Publish"/> (a reference swapped atomically).
/// </summary>
internal sealed class MetricsServer : IDisposable
{
    /// <summary>The largest request head read (request line and headers).</summary>
    public const int MaxRequest = 8192;

    /// <summary>At most this many connections are served at once; more are closed at once.</summary>
    private const int MaxConnections = 32;

    /// <summary>How long a client may take to send its request head.</summary>
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    private readonly TcpListener _listener;
    private readonly SemaphoreSlim _slots = new(MaxConnections, MaxConnections);
    private byte[]? _metrics;

    private MetricsServer(TcpListener listener) => _listener = listener;

    /// <summary>Listens on <paramref name="endPoint"/>; a socket error (address in use, not an address of this machine) is thrown.</summary>
    public static MetricsServer Start(IPEndPoint endPoint)
    {
        var listener = new TcpListener(endPoint);
        // No ReuseAddress: on Linux .NET maps it to SO_REUSEPORT too, and a second exporter would share the port silently.
        try
        {
            listener.Start();
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        return new MetricsServer(listener);
    }

    /// <summary>The address listened on (with the port the system chose for port 0).</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Makes <paramref name="metrics"/> the body of the next <c>GET /metrics</c>.</summary>
    public void Publish(byte[] metrics) => Volatile.Write(ref _metrics, metrics);

    /// <summary>Serves connections until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return; // mgscan is stopping
            }
            catch (SocketException)
            {
                continue; // a connection reset before it was accepted
            }

            if (!_slots.Wait(0, CancellationToken.None))
            {
                client.Dispose();
                continue;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await ServeAsync(client, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    client.Dispose();
                    _slots.Release();
                }
            }, CancellationToken.None);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadTimeout);
        byte[] buffer = new byte[MaxRequest];
        int length = 0;
        int end;
        try
        {
            while ((end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (length == buffer.Length)
                {
                    await SendAsync(client, "431 Request Header Fields Too Large", "text/plain; charset=utf-8", "request too large\n"u8.ToArray(), head: false, timeout.Token).ConfigureAwait(false);
                    return;
                }

                int n = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    return; // closed before a whole request
                }

                length += n;
            }

            (string status, string type, byte[] body, bool head) = Answer(buffer.AsSpan(0, end));
            await SendAsync(client, status, type, body, head, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // too slow, gone, or mgscan is stopping: nothing to answer
        }
    }

    /// <summary>The response to a request head: status, content type, body, and whether the body is left out (HEAD).</summary>
    private (string Status, string Type, byte[] Body, bool Head) Answer(ReadOnlySpan<byte> request)
    {
        int lineEnd = request.IndexOf("\r\n"u8);
        ReadOnlySpan<byte> line = lineEnd < 0 ? request : request[..lineEnd];
        string[] parts = Encoding.ASCII.GetString(line).Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return ("400 Bad Request", "text/plain; charset=utf-8", "bad request\n"u8.ToArray(), false);
        }

        bool head = parts[0] == "HEAD";
        if (parts[0] != "GET" && !head)
        {
            return ("405 Method Not Allowed", "text/plain; charset=utf-8", "only GET and HEAD\n"u8.ToArray(), false);
        }

        string path = parts[1];
        int query = path.IndexOf('?', StringComparison.Ordinal);
        path = query < 0 ? path : path[..query];
        return path switch
        {
            "/metrics" when Volatile.Read(ref _metrics) is { } metrics => ("200 OK", Prometheus.ContentType, metrics, head),
            "/metrics" => ("503 Service Unavailable", "text/plain; charset=utf-8", "mgscan is starting: no figures yet\n"u8.ToArray(), head),
            "/" => ("200 OK", "text/plain; charset=utf-8", "mgscan serve: the metrics are at /metrics\n"u8.ToArray(), head),
            _ => ("404 Not Found", "text/plain; charset=utf-8", "not found: the metrics are at /metrics\n"u8.ToArray(), head),
        };
    }

    private static async Task SendAsync(Socket client, string status, string type, byte[] body, bool head, CancellationToken cancellationToken)
    {
        byte[] header = Encoding.ASCII.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status}\r\nContent-Type: {type}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"));
        await client.SendAsync(header, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        if (!head)
        {
            await client.SendAsync(body, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }

        client.Shutdown(SocketShutdown.Send);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _slots.Dispose();
    }
}
