namespace MailGuard.Parsing.Internals;

/// <summary>
/// A decoder of compressed input (<see cref="GzipDecoder"/>, <see cref="LibraryDecoder"/>): delivers every
/// byte that decodes, then, in place of the end, the damage its <see cref="Decode"/> found, as a
/// <see cref="CompressedDataException"/> counting the text delivered. Read synchronously, on the
/// <see cref="Readahead"/> task.
/// </summary>
internal abstract class DecodingStream(CompressionFormat format, Stream compressed) : ReadOnlyWrapperStream(compressed)
{
    private TextCount _text;
    private (CompressedDamage Damage, long Offset, int Member, string? Detail)? _damage;
    private bool _done;

    public sealed override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            if (_damage is { } d)
            {
                throw new CompressedDataException(format, d.Damage, d.Offset, d.Member, _text.Bytes, _text.Lines, d.Detail);
            }

            if (_done)
            {
                return 0;
            }

            int n = Decode(buffer);
            _text.Add(buffer[..n]);
            if (n > 0)
            {
                return n;
            }
        }
    }

    public sealed override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ReadInPlace(buffer, cancellationToken);

    /// <summary>Decodes into <paramref name="buffer"/>; 0 to be called again (or, after <see cref="Damaged"/> or <see cref="Ended"/>, to stop).</summary>
    protected abstract int Decode(Span<byte> buffer);

    /// <summary>The data is damaged: reported once the bytes of this <see cref="Decode"/> call are delivered.</summary>
    protected void Damaged(CompressedDamage damage, long offset, int member, string? detail) => _damage ??= (damage, offset, member, detail);

    /// <summary>The data ended well.</summary>
    protected void Ended() => _done = true;

    /// <summary>True once <see cref="Damaged"/> was called.</summary>
    protected bool IsDamaged => _damage is not null;
}

/// <summary>Bytes and lines of decoded text, for the damage report.</summary>
internal struct TextCount
{
    private long _newlines;
    private byte _last;

    public long Bytes { get; private set; }

    /// <summary>Lines, the last one counted even without a newline.</summary>
    public readonly long Lines => _newlines + (Bytes > 0 && _last != (byte)'\n' ? 1 : 0);

    public void Add(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
        {
            return;
        }

        Bytes += text.Length;
        _newlines += text.Count((byte)'\n');
        _last = text[^1];
    }
}
