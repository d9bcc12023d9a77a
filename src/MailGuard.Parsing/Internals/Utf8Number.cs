using System.Runtime.CompilerServices;

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
