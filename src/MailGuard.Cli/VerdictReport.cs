using System.Globalization;
using System.Text;
using System.Text.Json;
using MailGuard.Analysis;
using MailGuard.Parsing;

namespace MailGuard.Cli;

/// <summary>Renders a <see cref="SpamVerdict"/>: the story on top, the advice, a timeline chart and the actors.</summary>
internal static class VerdictReport
{
    private const int Width = 80;
    private static readonly CultureInfo s_ci = CultureInfo.InvariantCulture;

    public static void Table(TextWriter w, SpamVerdict v, int top)
    {
        foreach (string line in Wrap(TerminalText.Escape("VERDICT: " + v.Headline), Width, "         "))
        {
            w.WriteLine(line);
        }

        foreach (string line in Wrap(TerminalText.Escape(v.Summary), Width))
        {
            w.WriteLine(line);
        }

        if (v.Behind is { } behind)
        {
            foreach (string line in Wrap(TerminalText.Escape(behind), Width))
            {
                w.WriteLine(line);
            }
        }

        if (v.Advice.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("What to do");
            int n = 1;
            foreach (Advice step in v.Advice)
            {
                foreach (string line in Wrap(TerminalText.Escape(string.Create(s_ci, $"  {n++}. {step.Title}")), Width, "     "))
                {
                    w.WriteLine(line);
                }

                foreach (string command in step.Commands)
                {
                    w.WriteLine("     " + command);
                }
            }
        }

        if (v.Class != VerdictClass.NothingSuspicious && Series(v) is { Count: > 0 } series)
        {
            w.WriteLine();
            Chart(w, v, series);
        }

        Actors(w, v, top);
        Hosts(w, v, top);
        if (v.Attribution is { } join)
        {
            AttributionReport.Table(w, join, v.Options.UserNames, top);
        }
    }

    /// <summary>With several hosts in the input: each host's entries, attempts, distinct destinations and the class of its traffic alone.</summary>
    private static void Hosts(TextWriter w, SpamVerdict v, int top)
    {
        if (v.Hosts.Count == 0)
        {
            return;
        }

        w.WriteLine();
        w.WriteLine(string.Create(s_ci, $"Hosts ({v.Hosts.Count:N0}; each host's traffic judged on its own)"));
        w.WriteLine(string.Create(s_ci, $"  {"host",-24} {"entries",9} {"attempts",9} {"dests",7}  verdict"));
        foreach (HostVerdict h in v.Hosts.Take(top))
        {
            string count = Report.Approx(h.Stat.CountError > 0) + h.Stat.Count.ToString("N0", s_ci);
            string attempts = Report.Approx(h.Stat.CountError > 0) + h.Stat.Attempts.ToString("N0", s_ci);
            string dests = Report.Approx(h.Stat.DistinctDestinationsEstimated) + h.Stat.DistinctDestinations.ToString("N0", s_ci);
            string culprit = h.Culprit is { } c && h.Class is not (VerdictClass.NothingSuspicious or VerdictClass.ForgedLog) ? " (" + TerminalText.Escape(c.Label) + ")" : "";
            w.WriteLine(string.Create(s_ci, $"  {TerminalText.Fit(h.Label, 24),-24} {count,9} {attempts,9} {dests,7}  {Name(h.Class)}{culprit}"));
        }

        if (v.Hosts.Count > top)
        {
            w.WriteLine(string.Create(s_ci, $"  ({v.Hosts.Count - top:N0} more hosts: --top N shows more)"));
        }
    }

    /// <summary>The <c>hosts</c> array: <c>{key, count, attempts, destinations, verdict}</c> per host, most attempts first; written only when the input holds several hosts.</summary>
    public static void HostsJson(Utf8JsonWriter j, SpamVerdict v, int top)
    {
        if (v.Hosts.Count == 0)
        {
            return;
        }

        j.WriteNumber("hosts_total", v.Hosts.Count);
        j.WriteStartArray("hosts");
        foreach (HostVerdict h in v.Hosts.Take(top))
        {
            j.WriteStartObject();
            j.WriteString("key", h.Host);
            j.WriteNumber("count", h.Stat.Count);
            j.WriteNumber("attempts", h.Stat.Attempts);
            j.WriteNumber("destinations", h.Stat.DistinctDestinations);
            j.WriteString("verdict", Name(h.Class));
            j.WriteString("confidence", h.Confidence.ToString().ToLowerInvariant());
            if (h.Culprit is { } c)
            {
                j.WriteString("culprit", c.Label);
            }

            Report.EstimatedFields(j, h.Stat);
            WriteTime(j, "first", h.Stat.First);
            WriteTime(j, "last", h.Stat.Last);
            j.WriteEndObject();
        }

        j.WriteEndArray();
    }

    /// <summary>The timelines to chart: all mail attempts, then the top three actors, on one shared time axis of at most 60 buckets.</summary>
    private static List<(string Label, IReadOnlyList<TimeBucket> Buckets)> Series(SpamVerdict v)
    {
        var series = new List<(string, IReadOnlyList<TimeBucket>)>();
        if (v.Culprit is null || v.All.AttemptTimeline?.On(v.Clock) is not { Count: > 0 } all || all.FirstMinuteWithAtLeast(1) is not { } from)
        {
            return series;
        }

        TimeSpan width = all.SuggestWidth(ChartColumns);
        IReadOnlyList<TimeBucket> total = all.Buckets(width);
        DateTimeOffset to = total[^1].Start;
        series.Add(("all", total));
        foreach (Actor a in v.Actors.Where(a => a.MailAttempts > 0 && a.Stat.AttemptTimeline?.On(v.Clock) is { Count: > 0 }).Take(3))
        {
            series.Add((a.Label, a.Stat.AttemptTimeline!.On(v.Clock)!.Buckets(width, from, to)));
        }

        return series;
    }

    private const int ChartColumns = 58;
    private const int ChartLabel = 21;

    /// <summary>One bar line per series (marks scaled to the series' own highest bucket), a time axis, and the burst marked.</summary>
    private static void Chart(TextWriter w, SpamVerdict v, List<(string Label, IReadOnlyList<TimeBucket> Buckets)> series)
    {
        const string Bars = " ▁▂▃▄▅▆▇█";
        IReadOnlyList<TimeBucket> axis = series[0].Buckets;
        TimeSpan width = axis.Count > 1 ? axis[1].Start - axis[0].Start : v.All.AttemptTimeline!.On(v.Clock)!.SuggestWidth(ChartColumns);
        w.WriteLine(string.Create(s_ci, $"Attempts over time (a mark per {Duration(width)}; each line scaled to its own peak)"));
        foreach ((string label, IReadOnlyList<TimeBucket> buckets) in series)
        {
            long max = buckets.Max(b => b.Count);
            var bar = new StringBuilder(TerminalText.Fit(label, ChartLabel - 2).PadRight(ChartLabel));
            foreach (TimeBucket b in buckets)
            {
                bar.Append(b.Count == 0 ? Bars[0] : Bars[(int)Math.Max(1, Math.Round(8.0 * b.Count / max))]);
            }

            w.WriteLine(bar.ToString().TrimEnd());
        }

        bool boot = v.Clock == ClockKind.Uptime; // the axis counts from boot: "boot +1h15m … +1h17m"
        string first = boot ? BootTime.Format(axis[0].SinceBoot) : axis[0].Start.ToString("HH:mm", s_ci);
        string last = boot ? BootTime.Format(axis[^1].SinceBoot + width)[5..] : (axis[^1].Start + width).ToString("HH:mm", s_ci);
        w.WriteLine(new string(' ', ChartLabel) + first + new string(' ', Math.Max(1, axis.Count - first.Length - last.Length)) + last);
        if ((v.BurstStart ?? (v.BurstSinceBoot is { } sinceBoot ? new DateTimeOffset(sinceBoot.Ticks, TimeSpan.Zero) : null)) is { } burst)
        {
            for (int i = 0; i < axis.Count; i++)
            {
                if (burst >= axis[i].Start && burst < axis[i].Start + width)
                {
                    string mark = "^ burst from " + (boot ? BootTime.Format(burst - DateTimeOffset.MinValue) : burst.ToString("yyyy-MM-dd HH:mm", s_ci));
                    int at = ChartLabel + i;
                    w.WriteLine(at + mark.Length <= Width ? new string(' ', at) + mark : new string(' ', Math.Max(0, at - mark.Length + 1)) + mark[2..] + " ^");
                    break;
                }
            }
        }
    }

    private static void Actors(TextWriter w, SpamVerdict v, int top)
    {
        if (v.Actors.Count == 0)
        {
            return;
        }

        w.WriteLine();
        w.WriteLine("Who sends mail traffic (connection attempts; a retransmitted SYN counts once)");
        w.WriteLine(string.Create(s_ci, $"  {"actor",-26} {"attempts",8} {"share",5} {"dests",6} {"25",6} {"465",5} {"587",6} {"peak/min",8}"));
        foreach (Actor a in v.Actors.Take(top))
        {
            if (a.MailAttempts == 0)
            {
                continue;
            }

            string label = TerminalText.Fit(a.Label, 26);
            string attempts = Report.Approx(a.Stat.CountError > 0) + a.MailAttempts.ToString("N0", s_ci);
            string dests = Report.Approx(a.Stat.DistinctDestinationsEstimated) + a.Stat.DistinctDestinations.ToString("N0", s_ci);
            w.WriteLine(string.Create(s_ci, $"  {label,-26} {attempts,8} {a.Share * 100,4:0}% {dests,6} {a.AttemptsTo(25),6:N0} {a.AttemptsTo(465),5:N0} {a.AttemptsTo(587),6:N0} {(a.PeakMinute is { } peak ? peak.Count.ToString("N0", s_ci) : "-"),8}"));
        }

        if (v.MailPackets != v.MailAttempts)
        {
            w.WriteLine(string.Create(s_ci, $"  ({v.MailAttempts:N0} attempts = {v.MailPackets:N0} logged packets: a dropped SYN is sent again)"));
        }
    }

    /// <summary>The verdict and the actors; every list at most <paramref name="top"/> long, with its full length in a <c>*_total</c> field.</summary>
    public static void Json(Utf8JsonWriter j, SpamVerdict v, int top)
    {
        j.WriteStartObject("verdict");
        j.WriteString("class", Name(v.Class));
        j.WriteString("confidence", v.Confidence.ToString().ToLowerInvariant());
        j.WriteString("headline", v.Headline);
        j.WriteString("summary", v.Summary);
        if (v.Behind is { } behind)
        {
            j.WriteString("behind", behind);
        }
        else
        {
            j.WriteNull("behind");
        }

        j.WriteBoolean("uid_logged", v.UidLogged);
        j.WriteNumber("mail_attempts", v.MailAttempts);
        j.WriteNumber("mail_packets", v.MailPackets);
        j.WriteString("clock", Report.ClockName(v.Clock));
        if (v.BurstStart is { } burst)
        {
            j.WriteString("burst_start", burst);
        }
        else
        {
            j.WriteNull("burst_start");
        }

        Report.SinceBoot(j, "burst_since_boot_seconds", v.BurstSinceBoot);

        if (v.Culprit is { } c)
        {
            j.WritePropertyName("culprit");
            Actor(j, c);
        }
        else
        {
            j.WriteNull("culprit");
        }

        j.WriteStartArray("advice");
        foreach (Advice step in v.Advice)
        {
            j.WriteStartObject();
            j.WriteString("title", step.Title);
            j.WriteStartArray("commands");
            foreach (string command in step.Commands)
            {
                j.WriteStringValue(command);
            }

            j.WriteEndArray();
            j.WriteEndObject();
        }

        j.WriteEndArray();
        if (v.Selection is { } selection)
        {
            j.WriteString("selection", selection);
        }
        else
        {
            j.WriteNull("selection");
        }

        j.WriteNumber("discovered_prefixes_total", v.DiscoveredPrefixes.Count);
        j.WriteStartArray("discovered_prefixes");
        foreach (DiscoveredPrefix d in v.DiscoveredPrefixes.Take(top))
        {
            j.WriteStartObject();
            j.WriteString("prefix", d.Prefix);
            j.WriteNumber("entries", d.Entries);
            if (d.FrontEnd is { } frontEnd)
            {
                j.WriteString("front_end", frontEnd);
            }

            j.WriteEndObject();
        }

        j.WriteEndArray();
        j.WriteNumber("forged_total", v.Forged.Count);
        j.WriteStartArray("forged");
        foreach (ForgedRecordWriter f in v.Forged.Take(top))
        {
            j.WriteStartObject();
            j.WriteString("evidence", f.Evidence switch
            {
                ForgeryEvidence.JournalTransport => "journal-transport",
                ForgeryEvidence.ProcessIdTag => "process-id-tag",
                _ => "impossible-device",
            });
            if (f.Device is { } device)
            {
                j.WriteString("device", device);
            }

            WriteNumberOrNull(j, "uid", f.Uid);
            if (f.Uid is { } uid && v.Options.UserNames.TryGetValue(uid, out string? user))
            {
                j.WriteString("user", user);
            }

            if (f.Command is { } command)
            {
                j.WriteString("command", command);
            }

            WriteNumberOrNull(j, "last_pid", f.LastPid);
            j.WriteNumber("records", f.Records);
            WriteTime(j, "first", f.First);
            WriteTime(j, "last", f.Last);
            j.WriteNumber("claimed_uids_total", f.ClaimedUids.Count);
            j.WriteStartArray("claimed_uids");
            foreach ((uint claimed, long n) in f.ClaimedUids.Take(top))
            {
                j.WriteStartObject();
                j.WriteNumber("uid", claimed);
                j.WriteNumber("records", n);
                j.WriteEndObject();
            }

            j.WriteEndArray();
            if (f.OtherClaimedUids > 0)
            {
                j.WriteNumber("other_claimed_uids_records", f.OtherClaimedUids); // past the key budget: records claiming UIDs not kept
            }

            j.WriteNumber("without_uid", f.WithoutUid);
            j.WriteEndObject();
        }

        j.WriteEndArray();
        if (Series(v) is { Count: > 0 } series)
        {
            IReadOnlyList<TimeBucket> axis = series[0].Buckets;
            j.WriteStartObject("timeline");
            j.WriteString("clock", Report.ClockName(v.Clock));
            j.WriteNumber("bucket_seconds", (long)(axis.Count > 1 ? (axis[1].Start - axis[0].Start).TotalSeconds : v.All.AttemptTimeline!.On(v.Clock)!.SuggestWidth(ChartColumns).TotalSeconds));
            WriteTime(j, "start", v.Clock == ClockKind.WallClock ? axis[0].Start : null);
            Report.SinceBoot(j, "start_since_boot_seconds", v.Clock == ClockKind.Uptime ? axis[0].SinceBoot : null);
            j.WriteStartArray("series");
            foreach ((string label, IReadOnlyList<TimeBucket> buckets) in series)
            {
                j.WriteStartObject();
                j.WriteString("actor", label);
                j.WriteStartArray("attempts");
                foreach (TimeBucket b in buckets)
                {
                    j.WriteNumberValue(b.Count);
                }

                j.WriteEndArray();
                j.WriteEndObject();
            }

            j.WriteEndArray();
            j.WriteEndObject();
        }
        else
        {
            j.WriteNull("timeline");
        }

        j.WriteEndObject();

        int actors = v.Actors.Count(a => a.MailAttempts > 0);
        j.WriteNumber("actors_total", actors);
        j.WriteStartArray("actors");
        foreach (Actor a in v.Actors.Where(a => a.MailAttempts > 0).Take(top))
        {
            Actor(j, a);
        }

        j.WriteEndArray();
    }

    private static void Actor(Utf8JsonWriter j, Actor a)
    {
        j.WriteStartObject();
        j.WriteString("kind", a.Kind switch { ActorKind.User => "uid", ActorKind.ForwardedInterface => "interface", ActorKind.Service => "service", _ => "src" });
        if (a.Kind == ActorKind.User)
        {
            j.WriteNumber("key", uint.Parse(a.Key, s_ci));
            j.WriteBoolean("shared_uid", a.SharedUid);
        }
        else
        {
            j.WriteString("key", a.Key);
        }

        if (a.Kind == ActorKind.Service && a.Stat.Uid is { } uid)
        {
            j.WriteNumber("uid", uid);
        }

        j.WriteString("label", a.Label);
        if (a.Host is { } host)
        {
            j.WriteString("host", host);
        }

        if (a.UserName is { } user)
        {
            j.WriteString("user", user);
        }

        if (a.Stat.Gid is { } gid)
        {
            j.WriteNumber("gid", gid);
        }

        if (a.Kind == ActorKind.ForwardedInterface)
        {
            j.WriteNumber("clients", a.Stat.DistinctSources);
        }

        j.WriteNumber("attempts", a.MailAttempts);
        j.WriteNumber("packets", a.MailPackets);
        j.WriteNumber("share", Math.Round(a.Share, 4));
        j.WriteNumber("distinct_destinations", a.Stat.DistinctDestinations);
        Report.EstimatedFields(j, a.Stat);
        j.WriteStartObject("ports");
        foreach ((ushort port, PortCount count) in a.MailPorts)
        {
            j.WriteStartObject(port.ToString(s_ci));
            j.WriteNumber("attempts", count.Attempts);
            j.WriteNumber("packets", count.Packets);
            j.WriteEndObject();
        }

        j.WriteEndObject();
        WriteTime(j, "first", a.Stat.First);
        WriteTime(j, "last", a.Stat.Last);
        Report.SinceBoot(j, "first_since_boot_seconds", a.Stat.FirstUptime);
        Report.SinceBoot(j, "last_since_boot_seconds", a.Stat.LastUptime);
        j.WriteString("rate_clock", Report.ClockName(a.RateClock));
        if (a.PeakMinute is { } peak)
        {
            j.WriteNumber("peak_attempts_per_minute", peak.Count);
        }
        else
        {
            j.WriteNull("peak_attempts_per_minute"); // no attempt had a time: the rate is unknown, not 0
        }

        WriteTime(j, "peak_minute", a.RateClock == ClockKind.WallClock ? a.PeakMinute?.Start : null);
        Report.SinceBoot(j, "peak_minute_since_boot_seconds", a.RateClock == ClockKind.Uptime ? a.PeakMinute?.SinceBoot : null);
        j.WriteNumber("attempts_off_clock", a.AttemptsOffClock);
        j.WriteEndObject();
    }

    public static string Name(VerdictClass c) => c switch
    {
        VerdictClass.DirectToMx => "direct-to-mx",
        VerdictClass.ProxyRelay => "proxy-relay",
        VerdictClass.RelayAbuse => "relay-abuse",
        VerdictClass.RetryingClient => "retrying-client",
        VerdictClass.Unclear => "unclear",
        VerdictClass.ForgedLog => "forged-log",
        VerdictClass.NoLogLines => "no-log-lines",
        VerdictClass.MailUnderOtherPrefixes => "other-prefixes",
        _ => "nothing-suspicious",
    };

    private static void WriteNumberOrNull(Utf8JsonWriter j, string name, uint? n)
    {
        if (n is { } v)
        {
            j.WriteNumber(name, v);
        }
        else
        {
            j.WriteNull(name);
        }
    }

    private static void WriteTime(Utf8JsonWriter j, string name, DateTimeOffset? t)
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

    private static string Duration(TimeSpan t) =>
        t.TotalDays >= 1 ? string.Create(s_ci, $"{t.TotalDays:0} day{(t.TotalDays >= 2 ? "s" : "")}")
        : t.TotalHours >= 1 ? string.Create(s_ci, $"{t.TotalHours:0} h")
        : string.Create(s_ci, $"{t.TotalMinutes:0} min");

    /// <summary>Words wrapped at <paramref name="width"/> columns; continuation lines start with <paramref name="indent"/>; leading spaces kept.</summary>
    public static IEnumerable<string> Wrap(string text, int width, string indent = "")
    {
        int lead = text.Length - text.TrimStart(' ').Length;
        var line = new StringBuilder(new string(' ', lead));
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > lead && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear().Append(indent);
                lead = indent.Length;
            }

            if (line.Length > lead)
            {
                line.Append(' ');
            }

            line.Append(word);
        }

        if (line.Length > lead)
        {
            yield return line.ToString();
        }
    }
}
