using System.Globalization;

namespace MailGuard.LogGen;

internal enum LogFormat
{
    Traditional,
    Rfc3339,
    Rfc5424,
    SyslogNg,
    Busybox,
    JournalShort,
    JournalShortIso,
    JournalShortPrecise,
    JournalShortIsoPrecise,
    JournalJson,
    Dmesg,
    Kmsg,
}

/// <summary>The effective settings of one run.</summary>
internal sealed class Options
{
    public static readonly (string Name, LogFormat Format)[] Formats =
    [
        ("traditional", LogFormat.Traditional),
        ("rfc3339", LogFormat.Rfc3339),
        ("rfc5424", LogFormat.Rfc5424),
        ("syslog-ng", LogFormat.SyslogNg),
        ("busybox", LogFormat.Busybox),
        ("journal-short", LogFormat.JournalShort),
        ("journal-short-iso", LogFormat.JournalShortIso),
        ("journal-short-precise", LogFormat.JournalShortPrecise),
        ("journal-short-iso-precise", LogFormat.JournalShortIsoPrecise),
        ("journal-json", LogFormat.JournalJson),
        ("dmesg", LogFormat.Dmesg),
        ("kmsg", LogFormat.Kmsg),
    ];

    public const string Usage = """
        loggen: writes a synthetic netfilter log and FILE.expected.json with the figures it contains.

        usage: loggen --out FILE (--size SIZE | --lines N) [options]

          --out FILE            output file; the figures go to FILE.expected.json
          --size SIZE           stop at the first line end at or after SIZE bytes: 123456, 500KB, 500MB, 1GB
                                (powers of 1000), 64K/64KiB, 500M/500MiB, 1G/1GiB (powers of 1024)
          --lines N             write exactly N lines
          --format FMT          traditional (default), rfc3339, rfc5424, syslog-ng, busybox, journal-short,
                                journal-short-iso, journal-short-precise, journal-short-iso-precise,
                                journal-json, dmesg, kmsg
          --entries PCT         share of lines that are 'IPTABLES TCP-OUT <port>:' entries (default 30)
          --other-prefix PCT    share of netfilter lines with another prefix, not to be counted (default 3)
          --ipv6 PCT            share of entries over IPv6 (default 10)
          --uid PCT             share of entries with UID=/GID= (default 80)
          --spammer-share PCT   share of entries from the spammer, uid 1001 to port 25, wide fan-out (default 40)
          --destinations N      size of the destination address pool (default 100000)
          --zipf S              Zipf exponent of destination popularity (default 1.1)
          --seed N              random seed (default 1); same arguments give the same bytes
          --start TIME          time of the first line, UTC (default 2026-11-23T00:00:00Z)
          --rate N              lines per second of log time (default 2000)
          -h, --help            this text

        exit codes: 0 written, 1 I/O error, 2 bad arguments
        """;

    public string Out { get; private set; } = "";

    public long? Size { get; private set; }

    public long? Lines { get; private set; }

    public string FormatName { get; private set; } = "traditional";

    public LogFormat Format { get; private set; } = LogFormat.Traditional;

    public double EntriesPct { get; private set; } = 30;

    public double OtherPrefixPct { get; private set; } = 3;

    public double Ipv6Pct { get; private set; } = 10;

    public double UidPct { get; private set; } = 80;

    public double SpammerPct { get; private set; } = 40;

    public int Destinations { get; private set; } = 100_000;

    public double Zipf { get; private set; } = 1.1;

    public ulong Seed { get; private set; } = 1;

    public DateTime Start { get; private set; } = new(2026, 11, 23, 0, 0, 0, DateTimeKind.Utc);

    public double Rate { get; private set; } = 2000;

    /// <summary>Parses the command line; returns null and sets <paramref name="error"/> when it is wrong.</summary>
    public static Options? Parse(string[] args, out string? error, out bool help)
    {
        var o = new Options();
        error = null;
        help = false;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            string? value = null;
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (name.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }

            if (name is "-h" or "--help")
            {
                help = true;
                return null;
            }

            if (value is null)
            {
                if (i + 1 >= args.Length)
                {
                    error = $"{name}: missing value";
                    return null;
                }

                value = args[++i];
            }

            error = o.Set(name, value);
            if (error is not null)
            {
                return null;
            }
        }

        error = o.Validate();
        return error is null ? o : null;
    }

    private string? Set(string name, string value)
    {
        switch (name)
        {
            case "--out":
                Out = value;
                return value.Length == 0 ? "--out: empty path" : null;
            case "--size":
                Size = ParseSize(value);
                return Size is null or <= 0 ? $"--size: '{value}' is not a size like 123456, 500MB or 1GiB" : null;
            case "--lines":
                Lines = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0 ? n : null;
                return Lines is null ? $"--lines: '{value}' is not a positive whole number" : null;
            case "--format":
                foreach (var (fname, format) in Formats)
                {
                    if (fname == value)
                    {
                        FormatName = fname;
                        Format = format;
                        return null;
                    }
                }

                return $"--format: unknown format '{value}'";
            case "--entries":
                return Percent(name, value, v => EntriesPct = v);
            case "--other-prefix":
                return Percent(name, value, v => OtherPrefixPct = v);
            case "--ipv6":
                return Percent(name, value, v => Ipv6Pct = v);
            case "--uid":
                return Percent(name, value, v => UidPct = v);
            case "--spammer-share":
                return Percent(name, value, v => SpammerPct = v);
            case "--destinations":
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int d) || d < 1 || d > 10_000_000)
                {
                    return $"--destinations: '{value}' is not a whole number from 1 to 10000000";
                }

                Destinations = d;
                return null;
            case "--zipf":
                if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || s < 0 || s > 10 || double.IsNaN(s))
                {
                    return $"--zipf: '{value}' is not a number from 0 to 10";
                }

                Zipf = s;
                return null;
            case "--seed":
                if (!ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed))
                {
                    return $"--seed: '{value}' is not a whole number";
                }

                Seed = seed;
                return null;
            case "--start":
                if (!DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime start)
                    || start.Year < 1971 || start.Year > 9998)
                {
                    return $"--start: '{value}' is not a time like 2026-11-23T00:00:00Z";
                }

                Start = start;
                return null;
            case "--rate":
                if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) || !(r >= 0.001) || r > 1_000_000)
                {
                    return $"--rate: '{value}' is not a number of lines per second from 0.001 to 1000000";
                }

                Rate = r;
                return null;
            default:
                return $"unknown option '{name}'";
        }
    }

    private string? Validate()
    {
        if (Out.Length == 0)
        {
            return "--out is required";
        }

        if ((Size is null) == (Lines is null))
        {
            return "give exactly one of --size and --lines";
        }

        if (EntriesPct + OtherPrefixLineShare > 100.0000001)
        {
            return "--entries plus the other-prefix lines it implies exceed 100% of the lines";
        }

        if (OtherPrefixPct >= 100 && EntriesPct > 0)
        {
            return "--other-prefix must be below 100 when there are entries";
        }

        if (Ipv6Pct > 0 && Ipv6Pct < 100 && Destinations < 2)
        {
            return "--destinations must be at least 2 when both IPv4 and IPv6 are generated";
        }

        return null;
    }

    /// <summary>Share of all lines (percent) that carry another prefix, so that other/(entries+other) = --other-prefix.</summary>
    public double OtherPrefixLineShare => OtherPrefixPct >= 100 ? 100 - EntriesPct : EntriesPct * OtherPrefixPct / (100 - OtherPrefixPct);

    private static string? Percent(string name, string value, Action<double> set)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v >= 0 && v <= 100))
        {
            return $"{name}: '{value}' is not a percentage from 0 to 100";
        }

        set(v);
        return null;
    }

    private static long? ParseSize(string text)
    {
        int end = 0;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }

        if (end == 0 || !long.TryParse(text.AsSpan(0, end), NumberStyles.None, CultureInfo.InvariantCulture, out long n))
        {
            return null;
        }

        long unit = text[end..].ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "KB" => 1000,
            "MB" => 1000_000,
            "GB" => 1000_000_000,
            "K" or "KIB" => 1L << 10,
            "M" or "MIB" => 1L << 20,
            "G" or "GIB" => 1L << 30,
            _ => 0,
        };
        return unit == 0 || n > long.MaxValue / unit ? null : n * unit;
    }
}
