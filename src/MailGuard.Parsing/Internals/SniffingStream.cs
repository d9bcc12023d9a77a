namespace MailGuard.Parsing.Internals;

/// <summary>
/// The stream <see cref="LogScanner.OpenMaybeGzip"/> returns: nothing is read when it is made; its first read
/// reads what the source has (on a pipe: whatever has arrived, never waiting to fill a large buffer, so a live
/// <c>journalctl -f |</c> does not stall), tells the format from the first bytes (reading more only while they
/// could still be a compression magic), and from then on reads the text or the decoder's output. That first
/// read honours its token even on a source whose reads cannot be cancelled (a pipe opened for synchronous
/// I/O): the wait is given up, and the next read takes over the read still pending.
/// </summary>
internal sealed class SniffingStream(Stream inner) : ReadOnlyWrapperStream(inner, leaveOpen: true)
{
    private const int HeadSize = 16 * 1024;

    private byte[]? _head = new byte[HeadSize];
    private int _headPos;
    private int _headLen;
    private Task<int>? _pending;
    private Stream? _decoded;
    private bool _sniffed;

    /// <summary>The format found, once the first read told it.</summary>
    public CompressionFormat Format { get; private set; }

    public override int Read(Span<byte> buffer)
    {
        while (!_sniffed)
        {
            int n = _pending is { } pending ? pending.GetAwaiter().GetResult() : Inner.Read(_head.AsSpan(_headLen));
            _pending = null;
            Sniffed(n);
        }

        return _decoded is not null ? _decoded.Read(buffer) : _headPos < _headLen ? FromHead(buffer) : Inner.Read(buffer);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        !_sniffed ? SniffAsync(buffer, cancellationToken)
        : _decoded is not null ? _decoded.ReadAsync(buffer, cancellationToken)
        : _headPos < _headLen ? new ValueTask<int>(FromHead(buffer.Span))
        : Inner.ReadAsync(buffer, cancellationToken);

    private async ValueTask<int> SniffAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!_sniffed)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Into our own buffer, with no token: a read that cannot be cancelled is left pending, not
            // abandoned on the caller's memory; the next read waits for it again.
            _pending ??= Inner.ReadAsync(_head.AsMemory(_headLen), CancellationToken.None).AsTask();
            int n = await _pending.WaitAsync(cancellationToken).ConfigureAwait(false);
            _pending = null;
            Sniffed(n);
        }

        return await ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    private void Sniffed(int n)
    {
        _headLen += n;
        ReadOnlySpan<byte> head = _head.AsSpan(0, _headLen);
        Format = Compression.Detect(head, atEnd: n == 0, out bool needMore);
        if (needMore && _headLen < HeadSize)
        {
            return;
        }

        _sniffed = true;
        if (Format != CompressionFormat.None)
        {
            _decoded = Compression.Decode(Format, new PrefixedStream(_head.AsMemory(0, _headLen), Inner));
            _head = null;
        }
    }

    private int FromHead(Span<byte> buffer)
    {
        int n = Math.Min(buffer.Length, _headLen - _headPos);
        _head.AsSpan(_headPos, n).CopyTo(buffer);
        _headPos += n;
        if (_headPos == _headLen)
        {
            _head = null; // read straight from the source from now on
            _headPos = _headLen = 0;
        }

        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The decoder owns the source once there is one: disposing it stops the decoding task, which
            // closes the source when it is done with it.
            (_decoded ?? Inner).Dispose();
        }

        base.Dispose(disposing);
    }
}
