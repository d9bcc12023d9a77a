namespace MailGuard.Parsing.Internals;

/// <summary>The read-only, forward-only boilerplate shared by the stream wrappers of <see cref="LogScanner"/>.</summary>
internal abstract class ReadOnlyWrapperStream(Stream inner) : Stream
{
    protected Stream Inner { get; } = inner;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public abstract override int Read(Span<byte> buffer);

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Inner.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// A regular file read synchronously even when asked asynchronously. .NET runs an asynchronous read of a
/// file opened for synchronous I/O on a thread-pool thread: for a log in the page cache that is a thread
/// hop per 64 KiB read. Pipes and terminals are not wrapped: their reads can wait, and must stay cancellable.
/// </summary>
internal sealed class SyncFileReads(FileStream inner) : ReadOnlyWrapperStream(inner)
{
    public override bool CanSeek => true;

    public override long Length => Inner.Length;

    public override long Position { get => Inner.Position; set => Inner.Position = value; }

    public override long Seek(long offset, SeekOrigin origin) => Inner.Seek(offset, origin);

    public override int Read(Span<byte> buffer) => Inner.Read(buffer);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<int>(cancellationToken) : new ValueTask<int>(Inner.Read(buffer.Span));
}

/// <summary>Returns some bytes already read first (the gzip magic sniffed from a pipe), then the rest of the stream.</summary>
internal sealed class PrefixedStream(byte[] prefix, Stream inner) : ReadOnlyWrapperStream(inner)
{
    private int _prefixPos;

    public override int Read(Span<byte> buffer)
    {
        if (_prefixPos < prefix.Length)
        {
            int n = Math.Min(buffer.Length, prefix.Length - _prefixPos);
            prefix.AsSpan(_prefixPos, n).CopyTo(buffer);
            _prefixPos += n;
            return n;
        }

        return Inner.Read(buffer);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _prefixPos < prefix.Length ? ValueTask.FromResult(Read(buffer.Span)) : Inner.ReadAsync(buffer, cancellationToken);
}

/// <summary>Throws at the end of the data when its length disagrees with the gzip trailer (.NET's GZipStream ends a truncated member quietly).</summary>
internal sealed class LengthCheckedStream(Stream inner, uint expected) : ReadOnlyWrapperStream(inner)
{
    private long _total;

    public override int Read(Span<byte> buffer) => Count(Inner.Read(buffer), buffer.Length);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false), buffer.Length);

    private int Count(int n, int asked)
    {
        _total += n;
        if (n == 0 && asked > 0 && (uint)_total != expected)
        {
            throw new InvalidDataException($"The gzip data ends early or is corrupt: {_total:N0} bytes decompressed, the trailer says {expected:N0} (mod 2^32).");
        }

        return n;
    }
}
