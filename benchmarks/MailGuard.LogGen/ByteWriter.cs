using System.Buffers;
using System.Buffers.Text;

namespace MailGuard.LogGen;

/// <summary>A growable-by-contract byte buffer: callers make sure there is room (lines are short).</summary>
internal sealed class ByteWriter(int capacity)
{
    private static readonly SearchValues<byte> s_jsonSpecial = SearchValues.Create(
        [(byte)'"', (byte)'\\', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127]);

    public byte[] Buffer { get; } = new byte[capacity];

    public int Pos;

    public int Free => Buffer.Length - Pos;

    public ReadOnlySpan<byte> Written => Buffer.AsSpan(0, Pos);

    public void Clear() => Pos = 0;

    public void Put(ReadOnlySpan<byte> s)
    {
        s.CopyTo(Buffer.AsSpan(Pos));
        Pos += s.Length;
    }

    public void Put(byte b) => Buffer[Pos++] = b;

    public void Num(long v)
    {
        _ = Utf8Formatter.TryFormat(v, Buffer.AsSpan(Pos), out int n);
        Pos += n;
    }

    /// <summary>Decimal, zero-padded to <paramref name="digits"/>.</summary>
    public void Zero(long v, byte digits)
    {
        _ = Utf8Formatter.TryFormat(v, Buffer.AsSpan(Pos), out int n, new StandardFormat('D', digits));
        Pos += n;
    }

    /// <summary>Decimal, right-aligned in <paramref name="width"/> columns with spaces (printf %5lu).</summary>
    public void SpacePad(long v, int width)
    {
        int digits = 1;
        for (long x = v; x >= 10; x /= 10)
        {
            digits++;
        }

        for (int i = digits; i < width; i++)
        {
            Buffer[Pos++] = (byte)' ';
        }

        Num(v);
    }

    /// <summary>Hex, lower case unless <paramref name="upper"/>, zero-padded to <paramref name="digits"/> (0 = no padding).</summary>
    public void Hex(ulong v, byte digits = 0, bool upper = false)
    {
        var format = digits == 0 ? new StandardFormat(upper ? 'X' : 'x') : new StandardFormat(upper ? 'X' : 'x', digits);
        _ = Utf8Formatter.TryFormat(v, Buffer.AsSpan(Pos), out int n, format);
        Pos += n;
    }

    /// <summary>Appends text as the inside of a JSON string (escapes quote, backslash and control bytes).</summary>
    public void JsonEscaped(ReadOnlySpan<byte> s)
    {
        while (true)
        {
            int i = s.IndexOfAny(s_jsonSpecial);
            if (i < 0)
            {
                Put(s);
                return;
            }

            Put(s[..i]);
            byte b = s[i];
            if (b is (byte)'"' or (byte)'\\')
            {
                Put((byte)'\\');
                Put(b);
            }
            else
            {
                Put("\\u00"u8);
                Hex(b, 2);
            }

            s = s[(i + 1)..];
        }
    }
}
