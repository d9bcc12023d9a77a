namespace MailGuard.Parsing.Internals;

/// <summary>The read-only, forward-only boilerplate shared by the stream wrappers of <see cref="LogScanner"/>.</summary>
/// <remarks>Disposing it disposes the inner stream unless it was made with <c>leaveOpen</c>.</remarks>
internal abstract class ReadOnlyWrapperStream(Stream inner, bool leaveOpen = false) : Stream
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

    /// <summary>For a source read synchronously (a regular file, or a decoder on the read-ahead task): the read done in place.</summary>
    protected ValueTask<int> ReadInPlace(Memory<byte> buffer, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<int>(cancellationToken) : new ValueTask<int>(Read(buffer.Span));

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !leaveOpen)
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

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ReadInPlace(buffer, cancellationToken);
}

/// <summary>Returns some bytes already read first (the magic bytes sniffed from a pipe), then the rest of the stream.</summary>
internal sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream inner, bool leaveOpen = false) : ReadOnlyWrapperStream(inner, leaveOpen)
{
    private ReadOnlyMemory<byte> _prefix = prefix;

    /// <summary>Where the reader is, when the inner stream knows its position (a decoder's <see cref="CountingStream"/>).</summary>
    public override long Position { get => Inner.Position - _prefix.Length; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer)
    {
        if (!_prefix.IsEmpty)
        {
            int n = Math.Min(buffer.Length, _prefix.Length);
            _prefix.Span[..n].CopyTo(buffer);
            _prefix = _prefix[n..];
            return n;
        }

        return Inner.Read(buffer);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        !_prefix.IsEmpty ? ValueTask.FromResult(Read(buffer.Span)) : Inner.ReadAsync(buffer, cancellationToken);
}
