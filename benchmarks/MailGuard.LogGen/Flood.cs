using System.Globalization;
using System.Text;

namespace MailGuard.LogGen;

/// <summary>
/// <c>loggen flood</c>: a stream of selected entries only, with as many distinct destinations, forwarded sources and local
/// UIDs as asked (each entry picks one uniformly at random: the adversarial case for a top-K summary) and three planted heavy
/// hitters with known counts — uid 4242, forwarded source 10.255.255.1 and destination 198.51.100.77 — for the bounded-memory
/// benchmark (benchmarks/compare/bounded.py). Writes to a file or to standard output ('-') so that 10^8 entries need no disk;
/// the planted counts go to standard error as one JSON line at the end.
/// </summary>
internal static class Flood
{
    public const string Usage = """
        usage: loggen flood --entries N [--destinations N] [--sources N] [--uids N] [--heavy PCT] [--rate N] [--seed N] [--out FILE|-]

          --entries N        entries to write (all 'IPTABLES TCP-OUT <port>:' lines, traditional syslog)
          --destinations N   distinct destination addresses, 11.0.0.0 upwards (default 1000000)
          --sources N        distinct forwarded sources behind wg0, 10.0.0.0 upwards (default 100000)
          --uids N           distinct local UIDs, 10000 upwards (default 1000)
          --heavy PCT        share of entries of each planted heavy hitter (default 1)
          --rate N           entries per second of log time (default 1000)
          --seed N           random seed (default 1)
          --out FILE         output file, '-' for standard output (default '-')
        """;

    public static int Run(string[] args)
    {
        long entries = 0;
        long destinations = 1_000_000, sources = 100_000, uids = 1000;
        double heavy = 1, rate = 1000;
        ulong seed = 1;
        string output = "-";
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string v = args[i + 1];
            switch (args[i])
            {
                case "--entries": entries = long.Parse(v, CultureInfo.InvariantCulture); break;
                case "--destinations": destinations = long.Parse(v, CultureInfo.InvariantCulture); break;
                case "--sources": sources = long.Parse(v, CultureInfo.InvariantCulture); break;
                case "--uids": uids = long.Parse(v, CultureInfo.InvariantCulture); break;
                case "--heavy": heavy = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--rate": rate = double.Parse(v, CultureInfo.InvariantCulture); break;
                case "--seed": seed = ulong.Parse(v, CultureInfo.InvariantCulture); break;
                case "--out": output = v; break;
                default:
                    Console.Error.WriteLine($"loggen flood: unknown option '{args[i]}'");
                    Console.Error.Write(Usage);
                    return 2;
            }
        }

        if (entries <= 0 || destinations is < 1 or > 16_000_000 || sources is < 1 or > 16_000_000 || uids < 1 || heavy is < 0 or > 30 || rate <= 0 || args.Length % 2 != 0)
        {
            Console.Error.Write(Usage);
            return 2;
        }

        using Stream stream = output == "-" ? Console.OpenStandardOutput() : new FileStream(output, FileMode.Create, FileAccess.Write, FileShare.Read, 1);
        var buffer = new byte[1 << 20];
        int at = 0;
        ulong state = seed * 0x9E3779B97F4A7C15UL + 1;
        long heavyUid = 0, heavySrc = 0, heavyDst = 0;
        ulong threshold = (ulong)(heavy / 100 * ulong.MaxValue);
        var start = new DateTime(2026, 11, 23, 0, 0, 0, DateTimeKind.Utc);
        var clock = Stopwatch();
        byte[] stamp = new byte[15];
        long stampSecond = -1;
        for (long n = 0; n < entries; n++)
        {
            if (at > buffer.Length - 512)
            {
                stream.Write(buffer, 0, at);
                at = 0;
            }

            long second = (long)(n / rate);
            if (second != stampSecond)
            {
                stampSecond = second;
                Encoding.ASCII.GetBytes(start.AddSeconds(second).ToString("MMM dd HH:mm:ss", CultureInfo.InvariantCulture), stamp);
            }

            ulong r = Next(ref state);
            bool forwarded = (r & 1) != 0;
            bool plantUid = Next(ref state) < threshold;
            bool plantSrc = !plantUid && Next(ref state) < threshold;
            if (plantUid)
            {
                forwarded = false;
                heavyUid++;
            }
            else if (plantSrc)
            {
                forwarded = true;
                heavySrc++;
            }

            uint dst;
            if (Next(ref state) < threshold)
            {
                dst = (198u << 24) | (51u << 16) | (100u << 8) | 77u;
                heavyDst++;
            }
            else
            {
                dst = (11u << 24) + (uint)(Next(ref state) % (ulong)destinations);
            }

            int port = (r >> 8) % 10 == 0 ? 587 : 25;
            Span<byte> b = buffer.AsSpan(at);
            int w = 0;
            Put(b, ref w, stamp);
            Put(b, ref w, " vps kernel: IPTABLES TCP-OUT "u8);
            Num(b, ref w, (ulong)port);
            Put(b, ref w, forwarded ? ":IN=wg0 OUT=eth0 MAC= SRC="u8 : ":IN= OUT=eth0 SRC="u8);
            uint src = forwarded ? plantSrc ? (10u << 24) | (255u << 16) | (255u << 8) | 1u : (10u << 24) + (uint)(Next(ref state) % (ulong)sources) : (192u << 24) | (2u << 8) | 10u;
            Ip(b, ref w, src);
            Put(b, ref w, " DST="u8);
            Ip(b, ref w, dst);
            Put(b, ref w, forwarded ? " LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID="u8 : " LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID="u8);
            Num(b, ref w, (r >> 16) & 0xFFFF);
            Put(b, ref w, " DF PROTO=TCP SPT="u8);
            Num(b, ref w, 32768 + ((r >> 32) % 28000));
            Put(b, ref w, " DPT="u8);
            Num(b, ref w, (ulong)port);
            Put(b, ref w, " WINDOW=64240 RES=0x00 SYN URGP=0 "u8);
            if (!forwarded)
            {
                ulong uid = plantUid ? 4242 : 10000 + (Next(ref state) % (ulong)uids);
                Put(b, ref w, "UID="u8);
                Num(b, ref w, uid);
                Put(b, ref w, " GID="u8);
                Num(b, ref w, uid);
                Put(b, ref w, " "u8);
            }

            b[w++] = (byte)'\n';
            at += w;
        }

        stream.Write(buffer, 0, at);
        stream.Flush();
        Console.Error.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"entries\":{entries},\"destinations\":{destinations},\"sources\":{sources},\"uids\":{uids},\"heavy\":{{\"uid 4242\":{heavyUid},\"source 10.255.255.1\":{heavySrc},\"destination 198.51.100.77\":{heavyDst}}},\"seconds\":{clock.Elapsed.TotalSeconds:F1}}}"));
        return 0;
    }

    private static System.Diagnostics.Stopwatch Stopwatch() => System.Diagnostics.Stopwatch.StartNew();

    private static ulong Next(ref ulong s)
    {
        // splitmix64
        ulong z = s += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static void Put(Span<byte> b, ref int w, ReadOnlySpan<byte> text)
    {
        text.CopyTo(b[w..]);
        w += text.Length;
    }

    private static void Num(Span<byte> b, ref int w, ulong n)
    {
        n.TryFormat(b[w..], out int written, default, CultureInfo.InvariantCulture);
        w += written;
    }

    private static void Ip(Span<byte> b, ref int w, uint a)
    {
        Num(b, ref w, a >> 24);
        b[w++] = (byte)'.';
        Num(b, ref w, (a >> 16) & 255);
        b[w++] = (byte)'.';
        Num(b, ref w, (a >> 8) & 255);
        b[w++] = (byte)'.';
        Num(b, ref w, a & 255);
    }
}
