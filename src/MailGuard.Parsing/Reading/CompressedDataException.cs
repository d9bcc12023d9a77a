using System.Globalization;

namespace MailGuard.Parsing;

/// <summary>The compression of an input, recognised by its first bytes (<see cref="LogScanner.DetectCompression"/>).</summary>
public enum CompressionFormat
{
    /// <summary>Not compressed (or too short to tell): read as text.</summary>
    None,

    /// <summary>gzip (<c>.gz</c>, RFC 1952), one member or several concatenated.</summary>
    Gzip,

    /// <summary>xz (<c>.xz</c>), one stream or several concatenated.</summary>
    Xz,

    /// <summary>Zstandard (<c>.zst</c>), one frame or several.</summary>
    Zstd,

    /// <summary>bzip2 (<c>.bz2</c>), one stream or several.</summary>
    Bzip2,
}

/// <summary>What is wrong with compressed input (<see cref="CompressedDataException.Damage"/>).</summary>
public enum CompressedDamage
{
    /// <summary>The compressed data stops in the middle (a file cut short, a transfer or a pipe that ended early).</summary>
    EndsEarly,

    /// <summary>The compressed data cannot be decoded from <see cref="CompressedDataException.CompressedOffset"/> on.</summary>
    CorruptData,

    /// <summary>A gzip member decoded to the end, but its text does not match the CRC-32 in its trailer (some of it is wrong).</summary>
    ChecksumMismatch,

    /// <summary>A gzip member decoded to the end, but its length does not match the one in its trailer.</summary>
    LengthMismatch,

    /// <summary>Bytes that are not compressed data follow the last complete member or stream (trailing zero bytes are accepted, as <c>gzip -d</c> does).</summary>
    TrailingGarbage,
}

/// <summary>
/// Compressed input is damaged. Everything that decoded before the damage was delivered first (the reader
/// saw it as text, up to <see cref="TextBytes"/>); this exception takes the place of the end of the data.
/// </summary>
/// <remarks>
/// <see cref="LogScanner"/> passes it on as it does any read error: thrown by
/// <see cref="LogScanner.ScanAsync{TSink}(Stream, TSink, CancellationToken)"/> after the last line, or set as
/// <see cref="LogInput.Error"/> of a merged input while the other inputs go on.
/// </remarks>
public sealed class CompressedDataException : IOException
{
    /// <summary>Creates the exception with a message built from the other values.</summary>
    /// <param name="format">The compression format.</param>
    /// <param name="damage">What is wrong.</param>
    /// <param name="compressedOffset">Where in the compressed input (bytes from its start).</param>
    /// <param name="member">The gzip member (1 = the first) or xz / bzip2 stream the damage is in; 0 when not known.</param>
    /// <param name="textBytes">Bytes of text delivered before the damage.</param>
    /// <param name="textLines">Lines in them (the last one counted even without a newline).</param>
    /// <param name="detail">The decoder's own words, or null.</param>
    public CompressedDataException(CompressionFormat format, CompressedDamage damage, long compressedOffset, int member, long textBytes, long textLines, string? detail = null)
        : base(Describe(format, damage, compressedOffset, member, textBytes, textLines, detail))
    {
        Format = format;
        Damage = damage;
        CompressedOffset = compressedOffset;
        Member = member;
        TextBytes = textBytes;
        TextLines = textLines;
        Detail = detail;
    }

    /// <summary>Creates the exception with a message of its own (values left at their defaults).</summary>
    public CompressedDataException()
    {
    }

    /// <summary>Creates the exception with a message of its own (values left at their defaults).</summary>
    /// <param name="message">The message.</param>
    public CompressedDataException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message of its own and a cause (values left at their defaults).</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public CompressedDataException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The compression format of the input.</summary>
    public CompressionFormat Format { get; }

    /// <summary>What is wrong.</summary>
    public CompressedDamage Damage { get; }

    /// <summary>
    /// Where the damage is, in bytes from the start of the compressed input: for <see cref="CompressedDamage.EndsEarly"/>
    /// its length (where it was cut); for <see cref="CompressedDamage.CorruptData"/> the byte at which the decoder
    /// gave up (the damage is at or before it); for a checksum or length mismatch the end of that field of the
    /// member's trailer (the CRC-32 ends 4 bytes before the member); for
    /// <see cref="CompressedDamage.TrailingGarbage"/> the first byte after the last complete member.
    /// </summary>
    public long CompressedOffset { get; }

    /// <summary>The gzip member (1 = the first) or xz / bzip2 stream the damage is in; 0 when not known.</summary>
    public int Member { get; }

    /// <summary>Bytes of text delivered before the damage (all of them were passed on to the reader).</summary>
    public long TextBytes { get; }

    /// <summary>Lines in <see cref="TextBytes"/>, the last one counted even without a newline.</summary>
    public long TextLines { get; }

    /// <summary>The decoder's own description (zlib's message, say <c>invalid distance too far back</c>), or null.</summary>
    public string? Detail { get; }

    private static string Describe(CompressionFormat format, CompressedDamage damage, long offset, int member, long bytes, long lines, string? detail)
    {
        var ci = CultureInfo.InvariantCulture;
        string name = format switch
        {
            CompressionFormat.Gzip => "gzip",
            CompressionFormat.Xz => "xz",
            CompressionFormat.Zstd => "zstd",
            CompressionFormat.Bzip2 => "bzip2",
            _ => "compressed",
        };
        string where = member > 1 ? string.Create(ci, $" (member {member})") : "";
        string why = detail is null ? "" : $": {detail}";
        string what = damage switch
        {
            CompressedDamage.EndsEarly => string.Create(ci, $"the {name} data ends early{where} (cut at byte {offset:N0}?)"),
            CompressedDamage.ChecksumMismatch => string.Create(ci, $"the {name} data fails its CRC check{where}, at byte {offset:N0} (some of the text is wrong)"),
            CompressedDamage.LengthMismatch => string.Create(ci, $"the {name} data fails its length check{where}, at byte {offset:N0}"),
            CompressedDamage.TrailingGarbage => string.Create(ci, $"the {name} data is followed by bytes that are not {name}, from byte {offset:N0}"),
            _ => string.Create(ci, $"the {name} data is corrupt at byte {offset:N0}{where}{why}"),
        };
        return string.Create(ci, $"{what}, after {bytes:N0} bytes of text ({lines:N0} lines)");
    }
}
