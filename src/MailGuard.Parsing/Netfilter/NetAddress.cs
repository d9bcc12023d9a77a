using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing;

/// <summary>
/// An IPv4 or IPv6 address as a 17-byte value: no allocation to parse, compare, hash or format.
/// Converts to <see cref="IPAddress"/> on demand and formats canonically
/// (dotted quad; RFC 5952 compressed lower-case IPv6).
/// </summary>
/// <remarks>The default value is "no address" (<see cref="IsNone"/>).</remarks>
public readonly struct NetAddress : IEquatable<NetAddress>, IComparable<NetAddress>, ISpanFormattable, IUtf8SpanFormattable
{
    // The 128 address bits, most significant first; IPv4 lives in the low 32 bits of _lo.
    private readonly ulong _hi;
    private readonly ulong _lo;
    private readonly byte _family; // 0 none, 4, 6

    private NetAddress(ulong hi, ulong lo, byte family)
    {
        _hi = hi;
        _lo = lo;
        _family = family;
    }

    /// <summary>The longest text form: a fully written IPv6 address with an embedded IPv4 tail.</summary>
    public const int MaxFormattedLength = 45;

    /// <summary>True for the default value, which holds no address.</summary>
    public bool IsNone => _family == 0;

    /// <summary>True for an IPv4 address.</summary>
    public bool IsIPv4 => _family == 4;

    /// <summary>True for an IPv6 address.</summary>
    public bool IsIPv6 => _family == 6;

    /// <summary>The IPv4 address as a host-order integer (<c>192.0.2.1</c> is <c>0xC0000201</c>); 0 for other families.</summary>
    public uint IPv4Value => _family == 4 ? (uint)_lo : 0;

    /// <summary>Creates an IPv4 address from its host-order integer value.</summary>
    /// <param name="value">The address, most significant byte first (<c>0xC0000201</c> is <c>192.0.2.1</c>).</param>
    public static NetAddress FromIPv4(uint value) => new(0, value, 4);

    /// <summary>Creates an IPv6 address from its two 64-bit halves, most significant first.</summary>
    /// <param name="high">Bits 127..64 of the address.</param>
    /// <param name="low">Bits 63..0 of the address.</param>
    public static NetAddress FromIPv6(ulong high, ulong low) => new(high, low, 6);

    /// <summary>Creates a value from an <see cref="IPAddress"/> (allocation-free for the read).</summary>
    /// <param name="address">An IPv4 or IPv6 address.</param>
    /// <exception cref="ArgumentException">The address is of another family.</exception>
    public static NetAddress FromIPAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out int written))
        {
            ThrowHelper.Argument(nameof(address), "Unsupported address.");
        }

        if (written == 4 && address.AddressFamily == AddressFamily.InterNetwork)
        {
            return FromIPv4(BinaryPrimitives.ReadUInt32BigEndian(bytes));
        }

        if (written == 16 && address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return FromIPv6(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
        }

        ThrowHelper.Argument(nameof(address), "Only IPv4 and IPv6 addresses are supported.");
        return default;
    }

    /// <summary>Converts to a <see cref="IPAddress"/> (allocates; meant for output, not the hot path).</summary>
    /// <exception cref="InvalidOperationException">This value holds no address.</exception>
    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        switch (_family)
        {
            case 4:
                BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)_lo);
                return new IPAddress(bytes[..4]);
            case 6:
                BinaryPrimitives.WriteUInt64BigEndian(bytes, _hi);
                BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], _lo);
                return new IPAddress(bytes);
            default:
                ThrowHelper.InvalidOperation("The value holds no address.");
                return null;
        }
    }

    /// <summary>
    /// Parses a whole span as an address: a dotted quad, or IPv6 in the kernel's uncompressed form
    /// (<c>2001:0db8:0000:…</c>) or any RFC 4291 text form (with <c>::</c>, short groups, or an IPv4 tail).
    /// </summary>
    /// <param name="utf8">The address text, nothing else.</param>
    /// <param name="address">The address, or the default value when parsing fails.</param>
    /// <returns>True when the whole span is a valid address.</returns>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out NetAddress address)
    {
        if (utf8.Length == 39 && TryParseFullIPv6(utf8, out address))
        {
            return true;
        }

        if (utf8.Length is >= 7 and <= 15 && TryParseIPv4(utf8, out uint v4))
        {
            address = FromIPv4(v4);
            return true;
        }

        return TryParseIPv6Any(utf8, out address);
    }

    /// <summary>Parses an address from text (see <see cref="TryParse(ReadOnlySpan{byte}, out NetAddress)"/>).</summary>
    /// <param name="text">The address text.</param>
    /// <param name="address">The address, or the default value.</param>
    /// <returns>True when the text is a valid address.</returns>
    public static bool TryParse(ReadOnlySpan<char> text, out NetAddress address)
    {
        Span<byte> buf = stackalloc byte[64];
        if (text.Length > buf.Length)
        {
            address = default;
            return false;
        }

        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c > 0x7F)
            {
                address = default;
                return false;
            }

            buf[i] = (byte)c;
        }

        return TryParse(buf[..text.Length], out address);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TryParseIPv4(ReadOnlySpan<byte> s, out uint value)
    {
        int n = ParseIPv4Prefix(s, out value);
        if (n != s.Length || n == 0)
        {
            value = 0;
            return false;
        }

        return true;
    }

    /// <summary>A dotted quad at the start of <paramref name="s"/> (octets of 1–3 digits, each ≤ 255); returns the bytes it takes, 0 when there is none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int ParseIPv4Prefix(ReadOnlySpan<byte> s, out uint value)
    {
        value = 0;
        int pos = 0;
        for (int part = 0; part < 4; part++)
        {
            if (part > 0)
            {
                if (pos >= s.Length || s[pos] != '.')
                {
                    value = 0;
                    return 0;
                }

                pos++;
            }

            int start = pos;
            uint octet = 0;
            while (pos < s.Length && pos - start < 3)
            {
                uint d = (uint)(s[pos] - '0');
                if (d > 9)
                {
                    break;
                }

                octet = (octet * 10) + d;
                pos++;
            }

            if (pos == start || octet > 255)
            {
                value = 0;
                return 0;
            }

            value = (value << 8) | octet;
        }

        return pos;
    }

    private static bool TryParseFullIPv6(ReadOnlySpan<byte> s, out NetAddress address)
    {
        // xxxx:xxxx:xxxx:xxxx:xxxx:xxxx:xxxx:xxxx, what the kernel's %pI6 prints.
        ulong hi = 0, lo = 0;
        for (int g = 0; g < 8; g++)
        {
            int off = g * 5;
            if (g > 0 && s[off - 1] != ':')
            {
                address = default;
                return false;
            }

            int h0 = Utf8Number.HexValue(s[off]);
            int h1 = Utf8Number.HexValue(s[off + 1]);
            int h2 = Utf8Number.HexValue(s[off + 2]);
            int h3 = Utf8Number.HexValue(s[off + 3]);
            if ((h0 | h1 | h2 | h3) < 0)
            {
                address = default;
                return false;
            }

            ulong group = (ulong)((h0 << 12) | (h1 << 8) | (h2 << 4) | h3);
            if (g < 4)
            {
                hi = (hi << 16) | group;
            }
            else
            {
                lo = (lo << 16) | group;
            }
        }

        address = FromIPv6(hi, lo);
        return true;
    }

    private static bool TryParseIPv6Any(ReadOnlySpan<byte> s, out NetAddress address)
    {
        address = default;
        if (s.Length < 2 || s.Length > MaxFormattedLength)
        {
            return false;
        }

        Span<ushort> groups = stackalloc ushort[8];
        int count = 0;
        int gap = -1;
        int pos = 0;
        if (s[0] == ':')
        {
            if (s[1] != ':')
            {
                return false;
            }

            gap = 0;
            pos = 2;
            if (pos == s.Length)
            {
                address = FromIPv6(0, 0);
                return true;
            }
        }

        while (pos < s.Length)
        {
            if (count == 8)
            {
                return false;
            }

            // An IPv4 tail takes the place of the last two groups.
            int dot = s[pos..].IndexOf((byte)'.');
            int colon = s[pos..].IndexOf((byte)':');
            if (dot >= 0 && (colon < 0 || dot < colon))
            {
                if (count > 6 || !TryParseIPv4(s[pos..], out uint v4))
                {
                    return false;
                }

                groups[count++] = (ushort)(v4 >> 16);
                groups[count++] = (ushort)v4;
                pos = s.Length;
                break;
            }

            int start = pos;
            uint g = 0;
            while (pos < s.Length && pos - start < 4)
            {
                int h = Utf8Number.HexValue(s[pos]);
                if (h < 0)
                {
                    break;
                }

                g = (g << 4) | (uint)h;
                pos++;
            }

            if (pos == start)
            {
                return false;
            }

            groups[count++] = (ushort)g;
            if (pos == s.Length)
            {
                break;
            }

            if (s[pos] != ':')
            {
                return false;
            }

            pos++;
            if (pos < s.Length && s[pos] == ':')
            {
                if (gap >= 0)
                {
                    return false;
                }

                gap = count;
                pos++;
                if (pos == s.Length)
                {
                    break;
                }
            }
            else if (pos == s.Length)
            {
                return false; // trailing single colon
            }
        }

        if (gap < 0 ? count != 8 : count > 7)
        {
            return false;
        }

        Span<ushort> full = stackalloc ushort[8];
        if (gap < 0)
        {
            groups.CopyTo(full);
        }
        else
        {
            full.Clear();
            groups[..gap].CopyTo(full);
            int tail = count - gap;
            groups.Slice(gap, tail).CopyTo(full[(8 - tail)..]);
        }

        ulong hi = ((ulong)full[0] << 48) | ((ulong)full[1] << 32) | ((ulong)full[2] << 16) | full[3];
        ulong lo = ((ulong)full[4] << 48) | ((ulong)full[5] << 32) | ((ulong)full[6] << 16) | full[7];
        address = FromIPv6(hi, lo);
        return true;
    }

    /// <summary>Writes the canonical text form as UTF-8.</summary>
    /// <param name="utf8Destination">The buffer to write to.</param>
    /// <param name="bytesWritten">The number of bytes written.</param>
    /// <param name="format">Unused; reserved.</param>
    /// <param name="provider">Unused; addresses are culture-invariant.</param>
    /// <returns>False when the buffer is too small.</returns>
    public bool TryFormat(Span<byte> utf8Destination, out int bytesWritten, ReadOnlySpan<char> format = default, IFormatProvider? provider = null)
    {
        Span<char> chars = stackalloc char[MaxFormattedLength];
        if (!TryFormat(chars, out int n, format, provider) || n > utf8Destination.Length)
        {
            bytesWritten = 0;
            return false;
        }

        for (int i = 0; i < n; i++)
        {
            utf8Destination[i] = (byte)chars[i];
        }

        bytesWritten = n;
        return true;
    }

    /// <summary>Writes the canonical text form: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as <c>::</c>).</summary>
    /// <param name="destination">The buffer to write to.</param>
    /// <param name="charsWritten">The number of characters written.</param>
    /// <param name="format">Unused; reserved.</param>
    /// <param name="provider">Unused; addresses are culture-invariant.</param>
    /// <returns>False when the buffer is too small.</returns>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format = default, IFormatProvider? provider = null)
    {
        Span<char> buf = stackalloc char[MaxFormattedLength];
        int n = _family switch
        {
            4 => FormatIPv4((uint)_lo, buf),
            6 => FormatIPv6(buf),
            _ => 0,
        };
        if (n > destination.Length)
        {
            charsWritten = 0;
            return false;
        }

        buf[..n].CopyTo(destination);
        charsWritten = n;
        return true;
    }

    private static int FormatIPv4(uint v, Span<char> dst)
    {
        int pos = 0;
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            uint octet = (v >> shift) & 0xFF;
            if (octet >= 100)
            {
                dst[pos++] = (char)('0' + (octet / 100));
            }

            if (octet >= 10)
            {
                dst[pos++] = (char)('0' + (octet / 10 % 10));
            }

            dst[pos++] = (char)('0' + (octet % 10));
            if (shift > 0)
            {
                dst[pos++] = '.';
            }
        }

        return pos;
    }

    private int FormatIPv6(Span<char> dst)
    {
        Span<ushort> g = stackalloc ushort[8];
        for (int i = 0; i < 4; i++)
        {
            g[i] = (ushort)(_hi >> (48 - (16 * i)));
            g[i + 4] = (ushort)(_lo >> (48 - (16 * i)));
        }

        // IPv4-mapped (::ffff:a.b.c.d) keeps the dotted tail, as RFC 5952 §5 and IPAddress do.
        bool mapped = _hi == 0 && (_lo >> 32) == 0xFFFF;

        // Longest run of two or more zero groups, first one on a tie (RFC 5952 §4.2).
        int bestStart = -1, bestLen = 0;
        int limit = mapped ? 6 : 8;
        for (int i = 0; i < limit;)
        {
            if (g[i] != 0)
            {
                i++;
                continue;
            }

            int j = i;
            while (j < limit && g[j] == 0)
            {
                j++;
            }

            if (j - i > bestLen && j - i >= 2)
            {
                bestStart = i;
                bestLen = j - i;
            }

            i = j;
        }

        int pos = 0;
        for (int i = 0; i < limit; i++)
        {
            if (i == bestStart)
            {
                dst[pos++] = ':';
                if (i == 0)
                {
                    dst[pos++] = ':';
                }

                i += bestLen - 1;
                continue;
            }

            pos += WriteHexGroup(g[i], dst[pos..]);
            if (i < 7)
            {
                dst[pos++] = ':';
            }
        }

        if (mapped)
        {
            // The loop above ends with "ffff:"; the dotted tail follows.
            pos += FormatIPv4((uint)_lo, dst[pos..]);
        }

        return pos;
    }

    private static int WriteHexGroup(ushort v, Span<char> dst)
    {
        int pos = 0;
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4)
        {
            int d = (v >> shift) & 0xF;
            if (d == 0 && !started && shift > 0)
            {
                continue;
            }

            started = true;
            dst[pos++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        }

        return pos;
    }

    /// <summary>The canonical text form (allocates; for output). The default value prints as an empty string.</summary>
    /// <returns>The address text.</returns>
    public override string ToString()
    {
        Span<char> buf = stackalloc char[MaxFormattedLength];
        TryFormat(buf, out int n);
        return new string(buf[..n]);
    }

    /// <summary>The canonical text form; <paramref name="format"/> and <paramref name="formatProvider"/> are ignored.</summary>
    /// <param name="format">Unused.</param>
    /// <param name="formatProvider">Unused.</param>
    /// <returns>The address text.</returns>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <summary>A well-mixed 64-bit hash of family and bits (for fingerprints of flows).</summary>
    internal ulong Hash64 => Mix64(_hi ^ Mix64(_lo ^ ((ulong)_family << 56)));

    /// <summary>The murmur3 finaliser: every input bit moves every output bit.</summary>
    internal static ulong Mix64(ulong x)
    {
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDUL;
        x ^= x >> 33;
        x *= 0xC4CEB9FE1A85EC53UL;
        return x ^ (x >> 33);
    }

    /// <summary>Value equality: same family and same bits.</summary>
    /// <param name="other">The address to compare with.</param>
    /// <returns>True when equal.</returns>
    public bool Equals(NetAddress other) => _lo == other._lo && _hi == other._hi && _family == other._family;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is NetAddress other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        ulong h = (_hi * 0x9E3779B97F4A7C15UL) ^ _lo ^ ((ulong)_family << 59);
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9UL;
        return (int)(h ^ (h >> 32));
    }

    /// <summary>Orders by family (none, IPv4, IPv6), then numerically.</summary>
    /// <param name="other">The address to compare with.</param>
    /// <returns>Negative, zero or positive.</returns>
    public int CompareTo(NetAddress other)
    {
        int c = _family.CompareTo(other._family);
        if (c != 0)
        {
            return c;
        }

        c = _hi.CompareTo(other._hi);
        return c != 0 ? c : _lo.CompareTo(other._lo);
    }

    /// <summary>Equality operator.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    /// <returns>True when equal.</returns>
    public static bool operator ==(NetAddress left, NetAddress right) => left.Equals(right);

    /// <summary>Inequality operator.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    /// <returns>True when different.</returns>
    public static bool operator !=(NetAddress left, NetAddress right) => !left.Equals(right);

    /// <summary>Ordering operator.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    /// <returns>True when <paramref name="left"/> sorts first.</returns>
    public static bool operator <(NetAddress left, NetAddress right) => left.CompareTo(right) < 0;

    /// <summary>Ordering operator.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    /// <returns>True when <paramref name="left"/> sorts last.</returns>
    public static bool operator >(NetAddress left, NetAddress right) => left.CompareTo(right) > 0;

    /// <summary>Ordering operator.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    /// <returns>True when <paramref name="left"/> sorts first or equal.</returns>
    public static bool operator <=(NetAddress left, NetAddress right) => left.CompareTo(right) <= 0;

    /// <summary>Ordering operator.</summary>
    /// <param name="left">The first address.</param>
    /// <param name="right">The second address.</param>
    /// <returns>True when <paramref name="left"/> sorts last or equal.</returns>
    public static bool operator >=(NetAddress left, NetAddress right) => left.CompareTo(right) >= 0;
}
