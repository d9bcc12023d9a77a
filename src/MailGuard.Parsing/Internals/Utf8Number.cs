using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MailGuard.Parsing.Internals;

/// <summary>Number parsing straight from UTF-8 bytes: no culture, no allocation, overflow-checked.</summary>
internal static class Utf8Number
{
    /// <summary>Parses leading decimal digits. Returns the count of bytes consumed, 0 when none or on overflow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ParseUInt32(ReadOnlySpan<byte> s, out uint value)
    {
        ulong v = 0;
        int i = 0;
        // At most 10 digits fit a uint; an 11th digit is an overflow.
        while (i < s.Length)
        {
            uint d = (uint)(s[i] - '0');
            if (d > 9)
            {
                break;
            }

            v = (v * 10) + d;
            if (v > uint.MaxValue)
            {
                value = 0;
                return 0;
            }

            i++;
        }

        value = (uint)v;
        return i;
    }

    /// <summary>
    /// Parses 1 to 7 leading decimal digits in a few operations on one 8-byte word (SWAR: no loop, no branch per
    /// digit). Returns the count of digits, or 0 when this cannot tell — fewer than 8 bytes, no digit, 8 or more
    /// digits — and the caller then uses <see cref="ParseUInt32"/>, which gives the same value where this succeeds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ParseShortUInt32(ReadOnlySpan<byte> s, out uint value)
    {
        value = 0;
        if (s.Length < sizeof(ulong) || !BitConverter.IsLittleEndian)
        {
            return 0;
        }

        // Byte k of x is s[k] - '0'. A borrow from a byte below '0' only reaches the bytes after it, as does a
        // carry of the + 0x76 below, and only the bytes before the first non-digit are used.
        ulong x = Unsafe.ReadUnaligned<ulong>(ref MemoryMarshal.GetReference(s)) - 0x3030303030303030UL;

        // High bit of a byte set where s[k] - '0' is over 9: x itself ≥ 0x80, or x + 0x76 ≥ 0x80.
        ulong nonDigit = (x | (x + 0x7676767676767676UL)) & 0x8080808080808080UL;
        int n = BitOperations.TrailingZeroCount(nonDigit) >> 3; // 8 when all eight are digits
        if (n is 0 or 8)
        {
            return 0;
        }

        // Digits to the top bytes (leading zeros below them), then pairs, quads and the whole (Lemire's method).
        x <<= 8 * (8 - n);
        x = (x * 2561) >> 8;
        x = ((x & 0x00FF00FF00FF00FFUL) * 6553601) >> 16;
        value = (uint)(((x & 0x0000FFFF0000FFFFUL) * 42949672960001UL) >> 32);
        return n;
    }

    /// <summary>Parses leading decimal digits into a ulong. Returns the count of bytes consumed, 0 when none or on overflow.</summary>
    public static int ParseUInt64(ReadOnlySpan<byte> s, out ulong value)
    {
        ulong v = 0;
        int i = 0;
        while (i < s.Length)
        {
            uint d = (uint)(s[i] - '0');
            if (d > 9)
            {
                break;
            }

            if (v > (ulong.MaxValue - d) / 10)
            {
                value = 0;
                return 0;
            }

            v = (v * 10) + d;
            i++;
        }

        value = v;
        return i;
    }

    /// <summary>Parses leading hex digits (either case). Returns bytes consumed, 0 when none or on overflow.</summary>
    public static int ParseHex32(ReadOnlySpan<byte> s, out uint value)
    {
        uint v = 0;
        int i = 0;
        while (i < s.Length)
        {
            int h = HexValue(s[i]);
            if (h < 0)
            {
                break;
            }

            if ((v >> 28) != 0)
            {
                value = 0;
                return 0;
            }

            v = (v << 4) | (uint)h;
            i++;
        }

        value = v;
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int HexValue(byte b)
    {
        uint d = (uint)(b - '0');
        if (d <= 9)
        {
            return (int)d;
        }

        uint l = (uint)((b | 0x20) - 'a');
        return l <= 5 ? (int)l + 10 : -1;
    }

    /// <summary>Exactly <paramref name="count"/> decimal digits.</summary>
    public static bool TryFixedDigits(ReadOnlySpan<byte> s, int count, out int value)
    {
        value = 0;
        if (s.Length < count)
        {
            return false;
        }

        for (int i = 0; i < count; i++)
        {
            uint d = (uint)(s[i] - '0');
            if (d > 9)
            {
                value = 0;
                return false;
            }

            value = (value * 10) + (int)d;
        }

        return true;
    }
}
