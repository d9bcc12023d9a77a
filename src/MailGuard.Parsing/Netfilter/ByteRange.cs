namespace MailGuard.Parsing;

/// <summary>A range of bytes inside the span that was parsed: a field's text without copying it.</summary>
/// <param name="Start">Offset of the first byte.</param>
/// <param name="Length">Number of bytes.</param>
public readonly record struct ByteRange(int Start, int Length)
{
    /// <summary>Offset just past the last byte.</summary>
    public int End => Start + Length;

    /// <summary>True when the range holds no bytes.</summary>
    public bool IsEmpty => Length == 0;

    /// <summary>The bytes of this range within <paramref name="source"/>, the span that was parsed.</summary>
    /// <param name="source">The same span that was given to the parser.</param>
    /// <returns>The slice.</returns>
    public ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> source) => source.Slice(Start, Length);
}
