using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using MailGuard.Parsing;
using MailGuard.Parsing.Internals;

namespace MailGuard.Benchmarks;

/// <summary>The envelope parser alone, per wrapper format (one line each).</summary>
[MemoryDiagnoser]
public class EnvelopeBench
{
    private readonly EnvelopeParser _parser = new(new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero) });
    private byte[] _line = [];

    public static IEnumerable<string> Formats => ["traditional", "rfc3339", "rfc5424", "journal-json", "dmesg", "kmsg", "short-delta", "central"];

    /// <summary>The wrapper of the line.</summary>
    [ParamsSource(nameof(Formats))]
    public string Format { get; set; } = "traditional";

    [GlobalSetup]
    public void Setup()
    {
        const string Body = "IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.23 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7613 DF PROTO=TCP SPT=41270 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 ";
        _line = Encoding.ASCII.GetBytes(Format switch
        {
            "rfc3339" => "2026-11-23T19:23:51.155181+00:00 vps01 kernel: [  620.155126] " + Body,
            "rfc5424" => "<4>1 2026-11-23T19:23:51.155181+00:00 vps01 kernel - - - [  620.155126] " + Body,
            "journal-json" => "{\"__REALTIME_TIMESTAMP\":\"1795461831155181\",\"_HOSTNAME\":\"vps01\",\"SYSLOG_IDENTIFIER\":\"kernel\",\"MESSAGE\":\"" + Body + "\"}",
            "dmesg" => "[  620.155126] " + Body,
            "kmsg" => "4,1234,620155126,-;" + Body,
            "short-delta" => "[  620.155126 <    0.003871 >] vps01 kernel: " + Body,
            "central" => "Nov 23 19:23:51 vps01 kernel " + Body,
            _ => "Nov 23 19:23:51 vps01 kernel: [  620.155126] " + Body,
        });
    }

    [Benchmark]
    public int Parse()
    {
        _parser.Parse(_line, out LogEnvelope e);
        return e.Message.Length;
    }
}

/// <summary>Line splitting alone: whole lines out of a 1 MiB buffer cut into 64 KiB segments, as a PipeReader hands them.</summary>
[MemoryDiagnoser]
public class LineSplitBench
{
    private ReadOnlySequence<byte> _data;
    private readonly LogLineParser _parser = new();

    [GlobalSetup]
    public void Setup()
    {
        byte[] kern = File.ReadAllBytes(Path.Combine(Repo.Root, "samples", "logs", "kern.log"));
        var all = new List<byte>();
        while (all.Count < (1 << 20))
        {
            all.AddRange(kern);
        }

        byte[] bytes = [.. all];
        Segment first = new(bytes.AsMemory(0, 65536));
        Segment last = first;
        for (int at = 65536; at < bytes.Length; at += 65536)
        {
            last = last.Append(bytes.AsMemory(at, Math.Min(65536, bytes.Length - at)));
        }

        _data = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    [Benchmark(Description = "LineSource.TryTake over 1 MiB")]
    public long Split()
    {
        using var source = new LineSource(_data, _parser, 64 * 1024, new ScanTotals());
        long bytes = 0;
        while (source.TryTake(out ReadOnlySpan<byte> line))
        {
            bytes += line.Length;
        }

        return bytes;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}

/// <summary>
/// The block search of the parallel path: where the next line worth parsing starts (IN=, a repeat notice,
/// a journal blob, NUL), over 1 MiB of a mixed syslog (about 30 % netfilter lines): one fused pass
/// against the four searches it replaced.
/// </summary>
[MemoryDiagnoser]
public class CandidateSearchBench
{
    private byte[] _data = [];

    [GlobalSetup]
    public void Setup()
    {
        byte[] kern = File.ReadAllBytes(Path.Combine(Repo.Root, "samples", "logs", "kern.log"));
        byte[] other = Encoding.ASCII.GetBytes("Nov 23 02:14:07 vps sshd[811]: Accepted publickey for root from 192.0.2.1 port 50022 ssh2: ED25519 SHA256:abcdefghijklmnopqrstuvwxyz\n");
        var all = new List<byte>();
        while (all.Count < (1 << 20))
        {
            all.AddRange(kern);
            for (int i = 0; i < 150; i++)
            {
                all.AddRange(other);
            }
        }

        _data = [.. all];
    }

    [Benchmark(Baseline = true, Description = "IN=, repeated, blob data], NUL: four searches, 1 MiB")]
    public int FourSearches()
    {
        // What the scanner did before: each word searched on from its own last hit, the earliest one taken.
        ReadOnlySpan<byte> d = _data;
        int hits = 0, pos = 0, inAt = -1, repeatedAt = -1, blobAt = -1, nulAt = -1;
        while (true)
        {
            int next = Math.Min(Math.Min(Next(d, ref inAt, pos, "IN="u8), Next(d, ref repeatedAt, pos, "repeated"u8)), Math.Min(Next(d, ref blobAt, pos, "blob data]"u8), Next(d, ref nulAt, pos, [0])));
            if (next == int.MaxValue)
            {
                return hits;
            }

            hits++;
            pos = next + 1;
        }

        static int Next(ReadOnlySpan<byte> d, ref int hit, int pos, ReadOnlySpan<byte> word)
        {
            if (hit < pos)
            {
                int at = word.Length == 1 ? d[pos..].IndexOf(word[0]) : d[pos..].IndexOf(word);
                hit = at < 0 ? int.MaxValue : pos + at;
            }

            return hit;
        }
    }

    [Benchmark(Description = "LineCandidates.IndexOf: one pass, 1 MiB")]
    public int OnePass()
    {
        int hits = 0;
        ReadOnlySpan<byte> d = _data;
        int pos = 0;
        while (true)
        {
            int at = LineCandidates.IndexOf(d[pos..]);
            if (at < 0)
            {
                return hits;
            }

            hits++;
            pos += at + 1;
        }
    }
}

/// <summary>Aggregation: the cost of TrafficStats.Add per entry (parse + add, against parse alone), over 5,000 distinct destinations.</summary>
[MemoryDiagnoser]
public class AggregationBench
{
    private readonly LogLineParser _parser = new(new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero) } });
    private byte[][] _lines = [];
    private TrafficStats _stats = new();

    [GlobalSetup]
    public void Setup()
    {
        _lines = new byte[5000][];
        for (int i = 0; i < _lines.Length; i++)
        {
            _lines[i] = Encoding.ASCII.GetBytes($"Nov 23 19:{i / 60 % 60:00}:{i % 60:00} vps01 kernel: [  620.155126] IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.{i / 256}.{i % 256} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID={i} DF PROTO=TCP SPT={32768 + i} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID={1000 + (i % 3)} GID=1001 ");
        }

        _stats = new TrafficStats();
        foreach (byte[] line in _lines)
        {
            _parser.Parse(line, out LogRecord r);
            _stats.Add(ref r); // every key known: the steady state
        }
    }

    [Benchmark(Baseline = true, Description = "parse 5,000 entries")]
    public int ParseOnly()
    {
        int n = 0;
        foreach (byte[] line in _lines)
        {
            n += (int)_parser.Parse(line, out LogRecord r) + r.Entry.Dpt;
        }

        return n;
    }

    [Benchmark(Description = "parse + TrafficStats.Add, 5,000 entries")]
    public long ParseAndAdd()
    {
        foreach (byte[] line in _lines)
        {
            _parser.Parse(line, out LogRecord r);
            _stats.Add(ref r);
        }

        return _stats.Timeline.Count; // not All: reading a histogram sums the cells (a report's cost, not a line's)
    }
}
