using SharpCompress.Compressors;
using SharpCompress.Compressors.BZip2;
using SharpCompress.Compressors.Xz;
using SharpCompress.Compressors.ZStandard;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// Decodes xz, Zstandard and bzip2 with SharpCompress (managed, AOT-safe), delivering every byte the library
/// decodes and then, in place of the end, a <see cref="CompressedDataException"/>: ends early when the input
/// ran out, else corrupt data (at or before the compressed byte the library had read). Concatenated streams
/// and frames are read to the end (xz: zero padding between streams accepted). Reads its source
/// synchronously: it runs on the <see cref="Readahead"/> task.
/// </summary>
internal sealed class LibraryDecoder : DecodingStream
{
    private readonly CompressionFormat _format;
    private readonly CountingStream _raw;
    private Stream? _decoder; // made on the first read: the libraries read the header when made, and may fail there
    private Stream _source; // what the next decoder reads: the raw input, or (xz) the rest of it after a stream
    private int _stream = 1;

    public LibraryDecoder(CompressionFormat format, Stream compressed)
        : this(format, new CountingStream(compressed))
    {
    }

    private LibraryDecoder(CompressionFormat format, CountingStream raw)
        : base(format, raw)
    {
        _format = format;
        _raw = raw;
        _source = format == CompressionFormat.Xz ? new PrefixedStream(ReadOnlyMemory<byte>.Empty, raw, leaveOpen: true) : raw; // XZStream closes its source
    }

    private static Stream Create(CompressionFormat format, Stream raw) => format switch
    {
        CompressionFormat.Xz => new XZStream(raw),
        CompressionFormat.Zstd => new DecompressionStream(raw, bufferSize: 0, checkEndOfStream: true, leaveOpen: true),
        CompressionFormat.Bzip2 => BZip2Stream.Create(raw, CompressionMode.Decompress, decompressConcatenated: true, leaveOpen: true, tolerateTruncatedStream: false),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    protected override int Decode(Span<byte> buffer)
    {
        int n = ReadLibrary(buffer);
        if (n == 0 && !IsDamaged && !(_format == CompressionFormat.Xz && NextXzStream()))
        {
            Ended();
        }

        return n;
    }

    /// <summary>
    /// One read from the library. bzip2 is read byte by byte: SharpCompress decodes it a byte at a time anyway
    /// (as fast as a block read), and a block read that fails loses the bytes it had already copied.
    /// </summary>
    private int ReadLibrary(Span<byte> buffer)
    {
        int n = 0;
        try
        {
            _decoder ??= Create(_format, _source);
            if (_format != CompressionFormat.Bzip2)
            {
                return _decoder.Read(buffer);
            }

            while (n < buffer.Length)
            {
                int b = _decoder.ReadByte();
                if (b < 0)
                {
                    break;
                }

                buffer[n++] = (byte)b;
            }

            return n;
        }
        catch (Exception e) when (e is not OperationCanceledException && !_raw.Failed)
        {
            Damaged(_raw.AtEnd ? CompressedDamage.EndsEarly : CompressedDamage.CorruptData, _raw.Count, _stream, e.Message);
            return n;
        }
    }

    /// <summary>After an xz stream: zero padding, then the end, another stream, or garbage; true when another stream starts.</summary>
    private bool NextXzStream()
    {
        long at = _raw.Count;
        byte[] head = new byte[6];
        int n;
        do
        {
            n = _raw.Read(head.AsSpan(0, 1));
        }
        while (n == 1 && head[0] == 0);

        if (n == 0)
        {
            return false;
        }

        n = 1 + _raw.ReadAtLeast(head.AsSpan(1), 5, throwOnEndOfStream: false);
        if (n == 6 && head.AsSpan().SequenceEqual(Compression.XzMagic))
        {
            _decoder?.Dispose();
            _decoder = null;
            _source = new PrefixedStream(head, _raw, leaveOpen: true);
            _stream++;
            return true;
        }

        Damaged(CompressedDamage.TrailingGarbage, at, _stream, null);
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _decoder?.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>Counts the bytes read through it, and notes the end of the input and failures of the source itself.</summary>
internal sealed class CountingStream(Stream inner) : ReadOnlyWrapperStream(inner)
{
    /// <summary>Bytes read so far.</summary>
    public long Count { get; private set; }

    /// <summary><see cref="Count"/>: SharpCompress's xz reader asks where it is (for the padding of blocks).</summary>
    public override long Position { get => Count; set => throw new NotSupportedException(); }

    /// <summary>True once a read returned nothing: the input ended.</summary>
    public bool AtEnd { get; private set; }

    /// <summary>True once a read of the source threw (an I/O error, not damage to report as such).</summary>
    public bool Failed { get; private set; }

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return Counted(Inner.Read(buffer), buffer.Length);
        }
        catch
        {
            Failed = true;
            throw;
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ReadInPlace(buffer, cancellationToken);

    private int Counted(int n, int asked)
    {
        Count += n;
        AtEnd |= n == 0 && asked > 0;
        return n;
    }
}
