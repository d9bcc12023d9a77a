using System.Globalization;
using System.Text;
using System.Text.Json;
using MailGuard.Analysis;
using MailGuard.Parsing;

namespace MailGuard.Cli;

/// <summary>Renders <see cref="TrafficStats"/> as a terminal table, JSON or CSV.</summary>
internal static class Report
{
    private static readonly Dictionary<int, string> s_services = new()
    {
        [25] = "smtp",
        [465] = "submissions",
        [587] = "submission",
        [2525] = "smtp-alt",
        [110] = "pop3",
        [143] = "imap",
        [993] = "imaps",
        [995] = "pop3s",
    };

    /// <summary>The port of a service name (smtp, submission, submissions/smtps, ...), or null.</summary>
    public static ushort? PortOfName(string name)
    {
        if (name.Equals("smtps", StringComparison.OrdinalIgnoreCase))
        {
            return 465;
        }

        foreach ((int port, string service) in s_services)
        {
            if (service.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return (ushort)port;
            }
        }

        return null;
    }

    /// <summary>", skipped: …" with the non-zero counts of what was not counted as entries, or "".</summary>
    public static string Skipped(ScanTotals t, bool otherPrefixMailAnalysed = false)
    {
        var parts = NotCounted(t, otherPrefixMailAnalysed).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Lines:N0} {p.What}")).ToList();
        if (t.CappedRepeatNotices > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{t.CappedRepeatCopies:N0} copies claimed by {t.CappedRepeatNotices:N0} repeat notice{(t.CappedRepeatNotices == 1 ? "" : "s")} beyond what {(t.CappedRepeatNotices == 1 ? "its" : "their")} interval allows"));
        }

        return parts.Count == 0 ? "" : "; not counted: " + string.Join(", ", parts);
    }

    /// <summary>The lines read but not counted as entries, each non-zero kind with what it is (the report's "Not counted" line, the live view's sum).</summary>
    public static IEnumerable<(long Lines, string What)> NotCounted(ScanTotals t, bool otherPrefixMailAnalysed = false)
    {
        (long, string)[] all =
        [
            (t.Forged, "forged records (not written by the kernel)"),
            (t.Duplicates, "duplicates of lines in another input"),
            (t.Excluded, "entries outside --port/--since/--until"),
            (otherPrefixMailAnalysed ? 0 : t.OtherPrefixMail, "outgoing mail connections under other prefixes (--all counts them)"),
            (t.OtherPrefix - t.OtherPrefixMail, "other netfilter entries"),
            (t.Malformed, "malformed"),
            (t.LookAlike, "ebtables/ulogd lines"),
            (t.Blobs, "journal blobs (journalctl -a shows them)"),
            (t.OverlongLines, "over-long lines"),
            (t.BinaryLines, "binary lines (NUL bytes)"),
        ];
        return all.Where(p => p.Item1 > 0);
    }

    public static string PortName(int port) => s_services.TryGetValue(port, out string? name) ? $"{port} {name}" : port.ToString(CultureInfo.InvariantCulture);

    public static void Table(TextWriter w, TrafficStats s, ScanTotals t, int top, IReadOnlyDictionary<uint, string> names, bool otherPrefixMailAnalysed = false)
    {
        var ci = CultureInfo.InvariantCulture;
        w.WriteLine(string.Create(ci, $"{s.All.Count:N0} blocked connection entries{(otherPrefixMailAnalysed ? " (under other prefixes)" : "")} in {t.Lines:N0} lines ({t.Bytes / 1048576.0:N1} MiB)"));
        TimeRange(w, s);

        Section(w, "Local users (UID)", s.Uids.Top(top), k => names.TryGetValue(k, out string? n) ? string.Create(ci, $"{k} ({n})") : k.ToString(ci), s.All.Count, s.WithoutUid.Count > 0 ? ("no UID", s.WithoutUid) : null);
        Section(w, "Destination ports", s.Ports.Top(top), k => PortName(k), s.All.Count, null);
        Section(w, "Sources (SRC)", s.Sources.Top(top), k => k.ToString(), s.All.Count, null);
        Section(w, "Destinations (DST)", s.Destinations.Top(top), k => k.ToString(), s.All.Count, null);
        Section(w, "Prefixes", s.Prefixes.Top(top), k => k, s.All.Count, null);
        if (Skipped(t, otherPrefixMailAnalysed) is { Length: > 0 } skipped)
        {
            w.WriteLine();
            w.WriteLine(skipped[2..].Replace("not counted", "Not counted", StringComparison.Ordinal));
        }

        if (s.Estimated)
        {
            w.WriteLine();
            foreach (string line in EstimateLines(s.Estimates))
            {
                w.WriteLine(line);
            }
        }
    }

    /// <summary>What the '~' marks mean and the bounds, one sentence a line (only when some figure is an estimate).</summary>
    public static IEnumerable<string> EstimateLines(StatsEstimates e)
    {
        var ci = CultureInfo.InvariantCulture;
        if (e.Bounded)
        {
            yield return string.Create(ci, $"Estimates (~): more than {e.KeyBudget:N0} distinct keys (--max-keys): bounded summaries");
            yield return "  a count marked ~ is at most its error bound over the true count (Space-Saving)";
            yield return string.Create(ci, $"  not listed: a destination had at most {e.DestinationsMaxError:N0} entries, a source {e.SourcesMaxError:N0},");
            yield return string.Create(ci, $"  a UID {e.UidsMaxError:N0}, a port {e.PortsMaxError:N0}, a prefix {e.PrefixesMaxError:N0}");
            yield return string.Create(ci, $"  distinct destinations (HyperLogLog): ±{e.AllDistinctRelativeError * 100:0.0}% all, ±{e.DistinctRelativeError * 100:0.0}% a key (1 s.e.)");
        }

        if (e.NamesDropped > 0)
        {
            yield return string.Create(ci, $"  names past the budget are counted under one name ({e.NamesDropped:N0} times)");
        }

        if (e.AttemptsMaxError > 0)
        {
            yield return string.Create(ci, $"Attempts may be over by at most {e.AttemptsMaxError:N0}: more flows were live at once");
            yield return string.Create(ci, $"than {4L * e.KeyBudget:N0} (a retransmission of a forgotten flow counts again)");
        }

        if (e.TimelineResolution > TimeSpan.FromMinutes(1))
        {
            yield return string.Create(ci, $"The timeline is kept in {e.TimelineResolution.TotalMinutes:N0}-minute buckets: the busiest minute is a bound");
        }
    }

    /// <summary>
    /// "from … to …" and the busiest minute, on the clock with the busiest minute (Timeline.PeakClock): the wall clock, or the time since
    /// boot when the lines give no other ("boot +1h15m02s"); the entries on neither are told, never given a rate.
    /// </summary>
    private static void TimeRange(TextWriter w, TrafficStats s)
    {
        var ci = CultureInfo.InvariantCulture;
        Timeline timeline = s.Timeline;
        ClockKind clock = timeline.PeakClock;
        long dests = s.All.DistinctDestinations;
        if (clock == ClockKind.WallClock && s.All.First is { } first && s.All.Last is { } last)
        {
            w.WriteLine(string.Create(ci, $"from {first:yyyy-MM-dd HH:mm:ss} to {last:yyyy-MM-dd HH:mm:ss}, {Approx(s.All.DistinctDestinationsEstimated)}{dests:N0} different destinations"));
            if (timeline.PeakMinute is { } peak)
            {
                w.WriteLine(timeline.Resolution > TimeSpan.FromMinutes(1)
                    ? string.Create(ci, $"busiest minute: at most {peak.Count:N0} entries, in the {timeline.Resolution.TotalMinutes:N0} minutes from {peak.Start.ToOffset(first.Offset):yyyy-MM-dd HH:mm}")
                    : string.Create(ci, $"busiest minute: {peak.Start.ToOffset(first.Offset):yyyy-MM-dd HH:mm} with {peak.Count:N0} entries"));
            }
        }
        else if (clock == ClockKind.Uptime && s.All.FirstUptime is { } up0 && s.All.LastUptime is { } up1)
        {
            w.WriteLine(string.Create(ci, $"from {BootTime.Format(up0, seconds: true)} to {BootTime.Format(up1, seconds: true)}, {Approx(s.All.DistinctDestinationsEstimated)}{dests:N0} different destinations"));
            w.WriteLine("(times since boot: the lines give no wall-clock time)");
            if (timeline.SinceBoot?.PeakMinute is { } peak)
            {
                w.WriteLine(string.Create(ci, $"busiest minute: {BootTime.Format(peak.SinceBoot)} with {peak.Count:N0} entries"));
            }
        }
        else
        {
            if (s.All.Count > 0)
            {
                w.WriteLine(string.Create(ci, $"no time in the lines (rates unknown), {Approx(s.All.DistinctDestinationsEstimated)}{dests:N0} different destinations"));
            }

            return;
        }

        long offClock = timeline.WithoutTime + (clock == ClockKind.WallClock ? timeline.SinceBoot?.Count ?? 0 : timeline.Count);
        if (offClock > 0)
        {
            w.WriteLine(string.Create(ci, $"{offClock:N0} entries not in these figures: {(timeline.WithoutTime == offClock ? "their lines carry no time" : clock == ClockKind.WallClock ? "no wall-clock time" : "no time since boot")}"));
        }
    }

    /// <summary>A time since boot in a table column: +1:15:02, +12:15:02, +3d02:14.</summary>
    private static string Since(TimeSpan t) =>
        t.Days > 0 ? string.Create(CultureInfo.InvariantCulture, $"+{t.Days}d{t.Hours:00}:{t.Minutes:00}") : string.Create(CultureInfo.InvariantCulture, $"+{t.Hours}:{t.Minutes:00}:{t.Seconds:00}");

    private static void Section<TKey>(TextWriter w, string title, IReadOnlyList<KeyValuePair<TKey, KeyStat>> rows, Func<TKey, string> name, long total, (string Name, KeyStat Stat)? extra)
        where TKey : notnull
    {
        if (rows.Count == 0 && extra is null)
        {
            return;
        }

        var ci = CultureInfo.InvariantCulture;
        w.WriteLine();
        w.WriteLine(title);
        w.WriteLine(string.Create(ci, $"  {"key",-28} {"entries",10} {"share",6} {"dests",7}  {"first",-8}  {"last",-8}"));
        foreach ((TKey key, KeyStat stat) in rows)
        {
            Row(w, name(key), stat, total);
        }

        if (extra is { } x)
        {
            Row(w, x.Name, x.Stat, total);
        }
    }

    private static void Row(TextWriter w, string key, KeyStat stat, long total)
    {
        var ci = CultureInfo.InvariantCulture;
        string k = TerminalText.Fit(key, 28);
        double share = total == 0 ? 0 : 100.0 * stat.Count / total;
        string count = Approx(stat.CountError > 0) + stat.Count.ToString("N0", ci);
        string dests = stat.DistinctDestinations > 0 ? Approx(stat.DistinctDestinationsEstimated) + stat.DistinctDestinations.ToString("N0", ci) : "-";
        w.WriteLine(string.Create(ci, $"  {k,-28} {count,10} {share,5:0.0}% {dests,7}  {stat.First?.ToString("HH:mm:ss", ci) ?? (stat.FirstUptime is { } f ? Since(f) : "-"),-8}  {stat.Last?.ToString("HH:mm:ss", ci) ?? (stat.LastUptime is { } l ? Since(l) : "-"),-8}"));
    }

    /// <summary>"~" before an estimated figure, else "".</summary>
    public static string Approx(bool estimated) => estimated ? "~" : "";

    public static void Json(Stream output, TrafficStats s, ScanTotals t, int top, SpamVerdict verdict, bool indented = true)
    {
        using var j = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = indented });
        j.WriteStartObject();
        j.WriteString("schema", "mailguard.report/1");
        j.WriteStartObject("totals");
        j.WriteNumber("bytes", t.Bytes);
        j.WriteNumber("lines", t.Lines);
        j.WriteNumber("entries", t.Entries);
        j.WriteNumber("malformed", t.Malformed);
        j.WriteNumber("other_prefix", t.OtherPrefix);
        j.WriteNumber("other_prefix_mail", t.OtherPrefixMail);
        j.WriteNumber("look_alike", t.LookAlike);
        j.WriteNumber("journal_blobs", t.Blobs);
        j.WriteNumber("overlong_lines", t.OverlongLines);
        j.WriteNumber("binary_lines", t.BinaryLines);
        j.WriteNumber("excluded", t.Excluded);
        j.WriteNumber("duplicates", t.Duplicates);
        j.WriteNumber("forged", t.Forged);
        j.WriteNumber("capped_repeat_notices", t.CappedRepeatNotices);
        j.WriteNumber("capped_repeat_copies", t.CappedRepeatCopies);
        j.WriteNumber("distinct_destinations", s.All.DistinctDestinations);
        if (s.All.DistinctDestinationsEstimated)
        {
            j.WriteBoolean("distinct_destinations_estimated", true);
            j.WriteNumber("distinct_destinations_relative_error", Math.Round(s.All.DistinctRelativeError, 4));
        }

        Time(j, "first", s.All.First);
        Time(j, "last", s.All.Last);
        SinceBoot(j, "first_since_boot_seconds", s.All.FirstUptime);
        SinceBoot(j, "last_since_boot_seconds", s.All.LastUptime);
        j.WriteEndObject();
        VerdictReport.Json(j, verdict, top);
        VerdictReport.HostsJson(j, verdict, top);
        AttributionReport.Json(j, verdict.Attribution, verdict.Options.UserNames, top);
        Array(j, "destinations", s.Destinations.Top(top), (w, k) => w.WriteString("key", k.ToString()), null);
        Array(j, "ports", s.Ports.Top(top), (w, k) => w.WriteNumber("key", k), null);
        Array(j, "uids", s.Uids.Top(top), (w, k) => w.WriteNumber("key", k), s.WithoutUid.Count > 0 ? s.WithoutUid : null);
        Array(j, "sources", s.Sources.Top(top), (w, k) => w.WriteString("key", k.ToString()), null);
        Array(j, "out_interfaces", s.OutInterfaces.Top(top), (w, k) => w.WriteString("key", k), null);
        Array(j, "prefixes", s.Prefixes.Top(top), (w, k) => w.WriteString("key", k), null);
        TimelineJson(j, s.Timeline);
        if (s.Estimated)
        {
            EstimatesJson(j, s.Estimates);
        }

        j.WriteEndObject();
        j.Flush();
        output.WriteByte((byte)'\n');
    }

    private static void Array<TKey>(Utf8JsonWriter j, string name, IReadOnlyList<KeyValuePair<TKey, KeyStat>> rows, Action<Utf8JsonWriter, TKey> key, KeyStat? nullKey)
        where TKey : notnull
    {
        j.WriteStartArray(name);
        var all = new List<(bool IsNull, TKey Key, KeyStat Stat)>();
        foreach ((TKey k, KeyStat st) in rows)
        {
            all.Add((false, k, st));
        }

        if (nullKey is not null)
        {
            all.Add((true, default!, nullKey));
            all.Sort((a, b) => b.Stat.Count.CompareTo(a.Stat.Count));
        }

        foreach ((bool isNull, TKey k, KeyStat st) in all)
        {
            j.WriteStartObject();
            if (isNull)
            {
                j.WriteNull("key");
            }
            else
            {
                key(j, k);
            }

            j.WriteNumber("count", st.Count);
            j.WriteNumber("distinct_destinations", st.DistinctDestinations);
            EstimatedFields(j, st);
            Time(j, "first", st.First);
            Time(j, "last", st.Last);
            if (st.FirstUptime is not null)
            {
                SinceBoot(j, "first_since_boot_seconds", st.FirstUptime);
                SinceBoot(j, "last_since_boot_seconds", st.LastUptime);
            }

            j.WriteEndObject();
        }

        j.WriteEndArray();
    }

    /// <summary>On an estimated row: "estimated": true, "error_bound" (of count and attempts), and the distinct count's relative error.</summary>
    public static void EstimatedFields(Utf8JsonWriter j, KeyStat st)
    {
        if (st.CountError == 0 && !st.DistinctDestinationsEstimated)
        {
            return;
        }

        j.WriteBoolean("estimated", true);
        j.WriteNumber("error_bound", st.CountError);
        if (st.DistinctDestinationsEstimated)
        {
            j.WriteNumber("distinct_destinations_relative_error", Math.Round(st.DistinctRelativeError, 4));
        }
    }

    private static void EstimatesJson(Utf8JsonWriter j, StatsEstimates e)
    {
        j.WriteStartObject("estimates");
        j.WriteNumber("key_budget", e.KeyBudget);
        j.WriteBoolean("bounded", e.Bounded);
        j.WriteNumber("kept_per_histogram", e.KeptPerHistogram);
        j.WriteNumber("distinct_relative_error", Math.Round(e.DistinctRelativeError, 4));
        j.WriteNumber("all_distinct_relative_error", Math.Round(e.AllDistinctRelativeError, 4));
        j.WriteStartObject("max_error");
        (string Table, long Bound)[] bounds =
        [
            ("destinations", e.DestinationsMaxError), ("sources", e.SourcesMaxError), ("uids", e.UidsMaxError), ("ports", e.PortsMaxError),
            ("prefixes", e.PrefixesMaxError), ("interfaces", e.InterfacesMaxError), ("services", e.ServicesMaxError), ("attempts", e.AttemptsMaxError),
        ];
        foreach ((string table, long bound) in bounds)
        {
            j.WriteNumber(table, bound);
        }

        j.WriteEndObject();
        j.WriteNumber("destinations_dropped", e.DestinationsDropped);
        j.WriteNumber("keys_dropped", e.KeysDropped);
        j.WriteNumber("names_dropped", e.NamesDropped);
        j.WriteNumber("timeline_resolution_seconds", (long)e.TimelineResolution.TotalSeconds);
        j.WriteEndObject();
    }

    private static void TimelineJson(Utf8JsonWriter j, Timeline all)
    {
        ClockKind clock = all.PeakClock;
        Timeline? timeline = all.On(clock);
        TimeSpan width = timeline?.SuggestWidth(60) ?? TimeSpan.FromMinutes(1);
        j.WriteStartObject("timeline");
        j.WriteString("clock", ClockName(clock));
        j.WriteNumber("bucket_seconds", (long)width.TotalSeconds);
        j.WriteNumber("without_time", all.WithoutTime + all.Count + (all.SinceBoot?.Count ?? 0) - (timeline?.Count ?? 0));
        j.WriteStartArray("buckets");
        foreach (TimeBucket b in timeline?.Buckets(width) ?? [])
        {
            j.WriteStartObject();
            if (clock == ClockKind.Uptime)
            {
                j.WriteNumber("since_boot_seconds", (long)b.SinceBoot.TotalSeconds);
            }
            else
            {
                j.WriteString("start", b.Start);
            }

            j.WriteNumber("count", b.Count);
            j.WriteEndObject();
        }

        j.WriteEndArray();
        j.WriteEndObject();
    }

    /// <summary>The JSON name of a clock: wall-clock, uptime, none.</summary>
    public static string ClockName(ClockKind clock) => clock switch
    {
        ClockKind.WallClock => "wall-clock",
        ClockKind.Uptime => "uptime",
        _ => "none",
    };

    /// <summary>A time since boot in seconds (to the microsecond), or null.</summary>
    public static void SinceBoot(Utf8JsonWriter j, string name, TimeSpan? t)
    {
        if (t is { } v)
        {
            j.WriteNumber(name, Math.Round(v.TotalSeconds, 6));
        }
        else
        {
            j.WriteNull(name);
        }
    }

    public static void Time(Utf8JsonWriter j, string name, DateTimeOffset? t)
    {
        if (t is { } v)
        {
            j.WriteString(name, v);
        }
        else
        {
            j.WriteNull(name);
        }
    }

    public static void Csv(TextWriter w, TrafficStats s, int top)
    {
        w.WriteLine("section,key,count,distinct_destinations,first,last");
        CsvRows(w, "destination", s.Destinations.Top(top), k => k.ToString());
        CsvRows(w, "port", s.Ports.Top(top), k => k.ToString(CultureInfo.InvariantCulture));
        CsvRows(w, "uid", s.Uids.Top(top), k => k.ToString(CultureInfo.InvariantCulture));
        if (s.WithoutUid.Count > 0)
        {
            CsvRows(w, "uid", [new KeyValuePair<string, KeyStat>("", s.WithoutUid)], k => k);
        }

        CsvRows(w, "source", s.Sources.Top(top), k => k.ToString());
        CsvRows(w, "prefix", s.Prefixes.Top(top), k => k);
    }

    private static void CsvRows<TKey>(TextWriter w, string section, IReadOnlyList<KeyValuePair<TKey, KeyStat>> rows, Func<TKey, string> name)
        where TKey : notnull
    {
        foreach ((TKey key, KeyStat st) in rows)
        {
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{section},{TerminalText.CsvCell(name(key))},{st.Count},{st.DistinctDestinations},{st.First:o},{st.Last:o}"));
        }
    }

    public static Encoding Utf8 { get; } = new UTF8Encoding(false);
}
