using System.Text;

namespace MailGuard.LogGen;

/// <summary>Address text: the kernel's forms (dotted quad, 8 uncompressed groups) and RFC 5952 for the report.</summary>
internal static class Addresses
{
    public static void PutV4(ByteWriter w, uint a)
    {
        w.Num(a >> 24);
        w.Put((byte)'.');
        w.Num((a >> 16) & 0xFF);
        w.Put((byte)'.');
        w.Num((a >> 8) & 0xFF);
        w.Put((byte)'.');
        w.Num(a & 0xFF);
    }

    /// <summary>%pI6: eight groups of four lower-case hex digits.</summary>
    public static void PutV6Kernel(ByteWriter w, UInt128 a)
    {
        for (int g = 0; g < 8; g++)
        {
            if (g > 0)
            {
                w.Put((byte)':');
            }

            w.Hex(Group(a, g), 4);
        }
    }

    public static string V4String(uint a) => $"{a >> 24}.{(a >> 16) & 0xFF}.{(a >> 8) & 0xFF}.{a & 0xFF}";

    /// <summary>RFC 5952: lower case, no leading zeros, the longest run (first on a tie) of two or more zero groups as "::".</summary>
    public static string V6Rfc5952(UInt128 a)
    {
        int bestStart = -1;
        int bestLen = 0;
        for (int g = 0; g < 8;)
        {
            if (Group(a, g) != 0)
            {
                g++;
                continue;
            }

            int start = g;
            while (g < 8 && Group(a, g) == 0)
            {
                g++;
            }

            if (g - start > bestLen)
            {
                bestStart = start;
                bestLen = g - start;
            }
        }

        if (bestLen < 2)
        {
            bestStart = -1;
        }

        var sb = new StringBuilder(39);
        for (int g = 0; g < 8; g++)
        {
            if (g == bestStart)
            {
                sb.Append("::");
                g += bestLen - 1;
                continue;
            }

            if (sb.Length > 0 && sb[^1] != ':')
            {
                sb.Append(':');
            }

            sb.Append(Group(a, g).ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    public static UInt128 V6(ushort g0, ushort g1, ushort g2, ushort g3, ushort g4, ushort g5, ushort g6, ushort g7)
    {
        ulong hi = ((ulong)g0 << 48) | ((ulong)g1 << 32) | ((ulong)g2 << 16) | g3;
        ulong lo = ((ulong)g4 << 48) | ((ulong)g5 << 32) | ((ulong)g6 << 16) | g7;
        return new UInt128(hi, lo);
    }

    public static uint V4(byte a, byte b, byte c, byte d) => ((uint)a << 24) | ((uint)b << 16) | ((uint)c << 8) | d;

    /// <summary>Public unicast (not 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24, 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24, 224/3).</summary>
    public static bool IsPublicV4(uint a)
    {
        uint o1 = a >> 24;
        uint o2 = (a >> 16) & 0xFF;
        uint o3 = (a >> 8) & 0xFF;
        return o1 switch
        {
            0 or 10 or 127 or >= 224 => false,
            100 => o2 is < 64 or > 127,
            169 => o2 != 254,
            172 => o2 is < 16 or > 31,
            192 => o2 != 168 && !(o2 == 0 && o3 is 0 or 2),
            198 => o2 is not (18 or 19) && !(o2 == 51 && o3 == 100),
            203 => !(o2 == 0 && o3 == 113),
            _ => true,
        };
    }

    private static ushort Group(UInt128 a, int g) => (ushort)(a >> (112 - (16 * g)));
}

/// <summary>
/// The destination pool: IPv4 addresses at indices 0..V4Count-1, IPv6 after them. Every address is
/// distinct, so a destination's pool index is its identity in the aggregates.
/// </summary>
internal sealed class DestinationPool
{
    private readonly uint[] _v4;
    private readonly UInt128[] _v6;
    private readonly byte[] _text;
    private readonly int[] _offset;

    public DestinationPool(int v4Count, int v6Count, Prng rng)
    {
        V4Count = v4Count;
        V6Count = v6Count;
        _v4 = new uint[v4Count];
        _v6 = new UInt128[v6Count];
        var seen4 = new HashSet<uint>(v4Count);
        for (int i = 0; i < v4Count;)
        {
            uint a = (uint)rng.Next();
            if (Addresses.IsPublicV4(a) && seen4.Add(a))
            {
                _v4[i++] = a;
            }
        }

        var seen6 = new HashSet<UInt128>(v6Count);
        for (int i = 0; i < v6Count;)
        {
            UInt128 a = RandomV6(rng);
            if (seen6.Add(a))
            {
                _v6[i++] = a;
            }
        }

        _offset = new int[v4Count + v6Count + 1];
        var text = new ByteWriter((v4Count * 15) + (v6Count * 39));
        for (int i = 0; i < v4Count; i++)
        {
            _offset[i] = text.Pos;
            Addresses.PutV4(text, _v4[i]);
        }

        for (int i = 0; i < v6Count; i++)
        {
            _offset[v4Count + i] = text.Pos;
            Addresses.PutV6Kernel(text, _v6[i]);
        }

        _offset[^1] = text.Pos;
        _text = text.Buffer;
    }

    public int V4Count { get; }

    public int V6Count { get; }

    public int Count => V4Count + V6Count;

    public ReadOnlySpan<byte> KernelText(int index) => _text.AsSpan(_offset[index], _offset[index + 1] - _offset[index]);

    public bool IsV6(int index) => index >= V4Count;

    public string Key(int index) => index < V4Count ? Addresses.V4String(_v4[index]) : Addresses.V6Rfc5952(_v6[index - V4Count]);

    /// <summary>Numeric address order, every IPv4 address before every IPv6 address.</summary>
    public int CompareAddress(int a, int b)
    {
        bool a6 = IsV6(a);
        bool b6 = IsV6(b);
        if (a6 != b6)
        {
            return a6 ? 1 : -1;
        }

        return a6 ? _v6[a - V4Count].CompareTo(_v6[b - V4Count]) : _v4[a].CompareTo(_v4[b]);
    }

    /// <summary>2001:db8::/32 addresses in shapes that exercise RFC 5952 compression.</summary>
    private static UInt128 RandomV6(Prng rng)
    {
        ushort R() => (ushort)rng.Range(1, 0xFFFF);
        int shape = rng.Below(100);
        return shape switch
        {
            < 50 => Addresses.V6(0x2001, 0x0db8, R(), R(), 0, 0, 0, (ushort)rng.Range(1, 0xFF)),     // 2001:db8:x:y::1b
            < 70 => Addresses.V6(0x2001, 0x0db8, R(), 0, 0, R(), R(), R()),                       // one run of two
            < 85 => Addresses.V6(0x2001, 0x0db8, 0, R(), 0, 0, R(), (ushort)rng.Range(1, 0xF)),    // single 0 kept, run compressed
            < 92 => Addresses.V6(0x2001, 0x0db8, 0, 0, R(), 0, 0, R()),                           // tie: first run compressed
            _ => Addresses.V6(0x2001, 0x0db8, R(), R(), R(), R(), R(), R()),                      // no zero group
        };
    }
}
