namespace MailGuard.Parsing.Internals;

/// <summary>Recognises compressed input by its magic bytes and opens a decoder for it.</summary>
internal static class Compression
{
    /// <summary>Enough bytes to tell every format (bzip2: <c>BZh</c>, the block size, a block or end-of-stream magic).</summary>
    public const int SniffLength = 10;

    public static ReadOnlySpan<byte> GzipMagic => [0x1F, 0x8B];

    public static ReadOnlySpan<byte> XzMagic => [0xFD, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0x00];

    public static ReadOnlySpan<byte> ZstdMagic => [0x28, 0xB5, 0x2F, 0xFD];

    /// <summary>A bzip2 stream's first block (the digits of pi) or, for empty input, its end (of sqrt(pi)).</summary>
    private static ReadOnlySpan<byte> Bzip2Block => [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];

    private static ReadOnlySpan<byte> Bzip2End => [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];

    /// <summary>The format of input starting with <paramref name="head"/>; <paramref name="needMore"/> when it could still be compressed but is too short to tell (and the input has not ended).</summary>
    public static CompressionFormat Detect(ReadOnlySpan<byte> head, bool atEnd, out bool needMore)
    {
        needMore = false;
        if (Matches(head, GzipMagic, atEnd, ref needMore))
        {
            return CompressionFormat.Gzip;
        }

        if (Matches(head, XzMagic, atEnd, ref needMore))
        {
            return CompressionFormat.Xz;
        }

        if (Matches(head, ZstdMagic, atEnd, ref needMore))
        {
            return CompressionFormat.Zstd;
        }

        if (Matches(head, "BZh"u8, atEnd, ref needMore))
        {
            if (head.Length == 3)
            {
                needMore |= !atEnd;
            }
            else if (head[3] is >= (byte)'1' and <= (byte)'9')
            {
                ReadOnlySpan<byte> block = head[4..];
                if (block.IsEmpty)
                {
                    needMore |= !atEnd;
                }
                else if (Matches(block, Bzip2Block, atEnd, ref needMore) || Matches(block, Bzip2End, atEnd, ref needMore))
                {
                    return CompressionFormat.Bzip2;
                }
            }
        }

        needMore &= !atEnd;
        return CompressionFormat.None;
    }

    /// <summary>True when <paramref name="head"/> starts with all of <paramref name="magic"/>; sets <paramref name="needMore"/> when it is a shorter prefix of it.</summary>
    private static bool Matches(ReadOnlySpan<byte> head, ReadOnlySpan<byte> magic, bool atEnd, ref bool needMore)
    {
        if (head.Length >= magic.Length)
        {
            return head.StartsWith(magic);
        }

        needMore |= !atEnd && !head.IsEmpty && magic.StartsWith(head);
        return false;
    }

    /// <summary>A stream of the text of <paramref name="compressed"/>, decoded on another thread (<see cref="Readahead"/>).</summary>
    public static Stream Decode(CompressionFormat format, Stream compressed) =>
        Readahead.Start(format == CompressionFormat.Gzip ? GzipDecoder.Open(compressed) : new LibraryDecoder(format, compressed));
}
