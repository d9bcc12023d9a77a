using System.Globalization;
using System.Numerics;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MailGuard.LogGen;

/// <summary>The fixed keys of the traffic model: rule ports, UIDs and source addresses.</summary>
internal static class Model
{
    public static readonly int[] Ports = [25, 465, 587];

    /// <summary>UID keys; the last one stands for entries without UID=.</summary>
    public static readonly int?[] Uids = [1001, 106, 33, 0, 1000, 65534, null];

    public const int UidSpammer = 0;
    public const int UidNone = 6;

    public static readonly Source[] Sources = BuildSources();

    public const int SrcMain4 = 0;
    public const int SrcSecond4 = 1;
    public const int SrcThird4 = 2;
    public const int SrcMain6 = 3;
    public const int SrcMail6 = 4;
    public const int SrcDocker = 5;   // 8 containers
    public const int SrcWg = 13;      // 5 peers

    private static Source[] BuildSources()
    {
        var list = new List<Source>
        {
            Source.V4(Addresses.V4(192, 0, 2, 10)),
            Source.V4(Addresses.V4(192, 0, 2, 11)),
            Source.V4(Addresses.V4(192, 0, 2, 12)),
            Source.V6(Addresses.V6(0x2001, 0x0db8, 0, 1, 0, 0, 0, 0x10)),
            Source.V6(Addresses.V6(0x2001, 0x0db8, 0, 1, 0, 0, 0, 0x25)),
        };
        for (byte i = 0; i < 8; i++)
        {
            list.Add(Source.V4(Addresses.V4(172, 17, 0, (byte)(2 + i))));
        }

        for (byte i = 0; i < 5; i++)
        {
            list.Add(Source.V4(Addresses.V4(10, 8, 0, (byte)(2 + i))));
        }

        return [.. list];
    }

    internal sealed class Source
    {
        private Source(bool isV6, UInt128 value, byte[] kernelText, string key)
        {
            IsV6 = isV6;
            Value = value;
            KernelText = kernelText;
            Key = key;
        }

        public bool IsV6 { get; }

        public UInt128 Value { get; }

        public byte[] KernelText { get; }

        public string Key { get; }

        public static Source V4(uint a)
        {
            var w = new ByteWriter(16);
            Addresses.PutV4(w, a);
            return new Source(false, a, w.Written.ToArray(), Addresses.V4String(a));
        }

        public static Source V6(UInt128 a)
        {
            var w = new ByteWriter(40);
            Addresses.PutV6Kernel(w, a);
            return new Source(true, a, w.Written.ToArray(), Addresses.V6Rfc5952(a));
        }
    }
}

/// <summary>Counts the generator keeps while it writes; destinations are pool indices, distinct sets are bitsets.</summary>
internal sealed class Tally
{
    private readonly DestinationPool _pool;
    private readonly KeyStat[] _ports;
    private readonly KeyStat[] _uids;
    private readonly KeyStat[] _sources;
    private readonly ulong[] _allSeen;
    private readonly long[] _destCount;

    public Tally(DestinationPool pool)
    {
        _pool = pool;
        int words = (pool.Count + 63) / 64;
        _ports = New(Model.Ports.Length, words);
        _uids = New(Model.Uids.Length, words);
        _sources = New(Model.Sources.Length, words);
        _allSeen = new ulong[words];
        _destCount = new long[pool.Count];
    }

    public long Entries { get; private set; }

    public long OtherPrefix { get; set; }

    public long FirstUs { get; private set; } = -1;

    public long LastUs { get; private set; } = -1;

    public void AddEntry(int port, int uid, int source, int dest, long shownUs)
    {
        Entries++;
        if (FirstUs < 0)
        {
            FirstUs = shownUs;
        }

        LastUs = shownUs;
        int word = dest >> 6;
        ulong bit = 1UL << (dest & 63);
        _allSeen[word] |= bit;
        _destCount[dest]++;
        _ports[port].Add(word, bit);
        _uids[uid].Add(word, bit);
        _sources[source].Add(word, bit);
    }

    public void WriteJson(Stream stream, Options o, DateTime boot, bool secondResolution, long lines, long bytes)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("schema", "mailguard.loggen/1");

        w.WriteStartObject("args");
        w.WriteString("out", o.Out);
        WriteNullable(w, "size", o.Size);
        WriteNullable(w, "lines", o.Lines);
        w.WriteString("format", o.FormatName);
        w.WriteNumber("entries", o.EntriesPct);
        w.WriteNumber("other_prefix", o.OtherPrefixPct);
        w.WriteNumber("ipv6", o.Ipv6Pct);
        w.WriteNumber("uid", o.UidPct);
        w.WriteNumber("spammer_share", o.SpammerPct);
        w.WriteNumber("spammer_uid", 1001);
        w.WriteNumber("destinations", o.Destinations);
        w.WriteNumber("zipf", o.Zipf);
        w.WriteNumber("seed", o.Seed);
        w.WriteString("start", Iso(o.Start.Ticks, o.Start.Ticks % TimeSpan.TicksPerSecond != 0));
        w.WriteNumber("rate", o.Rate);
        w.WriteString("host", "vps");
        w.WriteString("boot", Iso(boot.Ticks, true));
        w.WriteString("time_resolution", secondResolution ? "second" : "microsecond");
        w.WriteEndObject();

        w.WriteStartObject("totals");
        w.WriteNumber("bytes", bytes);
        w.WriteNumber("lines", lines);
        w.WriteNumber("entries", Entries);
        w.WriteNumber("other_prefix", OtherPrefix);
        w.WriteNumber("distinct_destinations", PopCount(_allSeen));
        if (FirstUs < 0)
        {
            w.WriteNull("first");
            w.WriteNull("last");
        }
        else
        {
            w.WriteString("first", Iso(UsToTicks(FirstUs), !secondResolution));
            w.WriteString("last", Iso(UsToTicks(LastUs), !secondResolution));
        }

        w.WriteEndObject();

        WriteKeys(w, "ports", _ports, (a, b) => Model.Ports[a].CompareTo(Model.Ports[b]), (i) => w.WriteNumber("key", Model.Ports[i]));
        WriteKeys(w, "uids", _uids, CompareUid, (i) =>
        {
            if (Model.Uids[i] is int u)
            {
                w.WriteNumber("key", u);
            }
            else
            {
                w.WriteNull("key");
            }
        });
        WriteKeys(w, "sources", _sources, CompareSource, (i) => w.WriteString("key", Model.Sources[i].Key));

        w.WriteStartArray("destinations_top");
        foreach (int d in TopDestinations(20))
        {
            w.WriteStartObject();
            w.WriteString("key", _pool.Key(d));
            w.WriteNumber("count", _destCount[d]);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static int CompareUid(int a, int b)
    {
        int? x = Model.Uids[a];
        int? y = Model.Uids[b];
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : 1) : -1;
        }

        return x.Value.CompareTo(y.Value);
    }

    private static int CompareSource(int a, int b)
    {
        var x = Model.Sources[a];
        var y = Model.Sources[b];
        return x.IsV6 != y.IsV6 ? (x.IsV6 ? 1 : -1) : x.Value.CompareTo(y.Value);
    }

    private static void WriteKeys(Utf8JsonWriter w, string name, KeyStat[] stats, Comparison<int> keyOrder, Action<int> writeKey)
    {
        var order = new List<int>();
        for (int i = 0; i < stats.Length; i++)
        {
            if (stats[i].Count > 0)
            {
                order.Add(i);
            }
        }

        order.Sort((a, b) => stats[a].Count != stats[b].Count ? stats[b].Count.CompareTo(stats[a].Count) : keyOrder(a, b));
        w.WriteStartArray(name);
        foreach (int i in order)
        {
            w.WriteStartObject();
            writeKey(i);
            w.WriteNumber("count", stats[i].Count);
            w.WriteNumber("distinct_destinations", PopCount(stats[i].Seen));
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private List<int> TopDestinations(int n)
    {
        var top = new List<int>(n + 1);
        for (int d = 0; d < _destCount.Length; d++)
        {
            if (_destCount[d] == 0)
            {
                continue;
            }

            if (top.Count == n && CompareDest(d, top[^1]) >= 0)
            {
                continue;
            }

            int at = top.Count;
            while (at > 0 && CompareDest(d, top[at - 1]) < 0)
            {
                at--;
            }

            top.Insert(at, d);
            if (top.Count > n)
            {
                top.RemoveAt(n);
            }
        }

        return top;
    }

    /// <summary>Count descending, then numeric address ascending.</summary>
    private int CompareDest(int a, int b) =>
        _destCount[a] != _destCount[b] ? _destCount[b].CompareTo(_destCount[a]) : _pool.CompareAddress(a, b);

    private static long PopCount(ulong[] bits)
    {
        long n = 0;
        foreach (ulong word in bits)
        {
            n += BitOperations.PopCount(word);
        }

        return n;
    }

    private static long UsToTicks(long us) => DateTime.UnixEpoch.Ticks + (us * 10);

    private static string Iso(long ticks, bool micro) =>
        new DateTime(ticks, DateTimeKind.Utc).ToString(micro ? "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'" : "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void WriteNullable(Utf8JsonWriter w, string name, long? value)
    {
        if (value is long v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static KeyStat[] New(int n, int words)
    {
        var a = new KeyStat[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = new KeyStat(words);
        }

        return a;
    }

    private sealed class KeyStat(int words)
    {
        public long Count;

        public ulong[] Seen { get; } = new ulong[words];

        public void Add(int word, ulong bit)
        {
            Count++;
            Seen[word] |= bit;
        }
    }
}
