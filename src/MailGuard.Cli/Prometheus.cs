using System.Globalization;
using System.Text;
using MailGuard.Analysis;
using MailGuard.Parsing;

namespace MailGuard.Cli;

/// <summary>
/// <c>--format prometheus</c>: the report in Prometheus's text exposition format (0.0.4), for node_exporter's textfile
/// collector (a cron job writes it, with <c>--state</c> for what is new). Written by hand: a dozen series of one scrape
/// need no client library, and the binary stays AOT-clean and small. The series and labels are in docs/prometheus.md.
/// </summary>
internal static class Prometheus
{
    /// <summary>The <c>Content-Type</c> of the text exposition format, as <c>mgscan serve</c> sends it.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Writes the metrics of <paramref name="verdict"/>'s statistics into <paramref name="output"/> (any stream: standard output, a buffer) and flushes it.</summary>
    public static void Write(Stream output, SpamVerdict verdict, ScanTotals totals, int top)
    {
        output.Write(Render(verdict, totals, top));
        output.Flush();
    }

    /// <summary>The metrics of <paramref name="verdict"/>'s statistics as UTF-8 bytes: the top <paramref name="top"/> actors, the rest as <c>actor="other"</c>.</summary>
    public static byte[] Render(SpamVerdict verdict, ScanTotals totals, int top)
    {
        var s = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        IReadOnlyList<Actor> actors = verdict.Actors;
        int shown = Math.Min(top, actors.Count);
        string one = OneHost(verdict);

        Header(s, "mailguard_connection_attempts_total", "counter", "Connection attempts to mail ports logged by the netfilter LOG rules (retransmissions of one attempt counted once), per actor and port.");
        PerPort(s, "mailguard_connection_attempts_total", actors, shown, one, static c => c.Attempts);
        Header(s, "mailguard_packets_total", "counter", "Logged packets to mail ports, retransmissions included, per actor and port.");
        PerPort(s, "mailguard_packets_total", actors, shown, one, static c => c.Packets);

        Header(s, "mailguard_destinations", "gauge", "Distinct destination addresses per actor (all ports; an estimate past --max-keys).");
        for (int i = 0; i < shown; i++)
        {
            s.Append(ci, $"mailguard_destinations{{{Labels(actors[i], one)}}} {actors[i].Stat.DistinctDestinations}\n");
        }

        Header(s, "mailguard_lines_total", "counter", "Lines read, by kind: selected entries and the lines that were not counted (as the report's 'Not counted').");
        long other = totals.Lines - totals.NetfilterLines - totals.Blobs - totals.OverlongLines - totals.BinaryLines;
        foreach ((string kind, long n) in new (string, long)[]
        {
            ("entry", totals.Entries), ("excluded", totals.Excluded), ("duplicate", totals.Duplicates), ("other_prefix", totals.OtherPrefix),
            ("malformed", totals.Malformed), ("look_alike", totals.LookAlike), ("forged", totals.Forged), ("blob", totals.Blobs),
            ("overlong", totals.OverlongLines), ("binary", totals.BinaryLines), ("other", Math.Max(0, other)),
        })
        {
            s.Append(ci, $"mailguard_lines_total{{kind=\"{kind}\"}} {n}\n");
        }

        // Per host: the one host of the input (its name, or "" when the lines carry none), or each host of several.
        var hosts = new List<(string Host, DateTimeOffset? Last, VerdictClass Class)>();
        if (verdict.Hosts.Count == 0)
        {
            hosts.Add((one, verdict.Stats.All.Last, verdict.Class));
        }

        foreach (HostVerdict h in verdict.Hosts)
        {
            hosts.Add((h.Host, h.Stat.Last, h.Class));
        }

        if (hosts.Exists(static h => h.Last is not null))
        {
            Header(s, "mailguard_last_entry_timestamp_seconds", "gauge", "The time of the last selected entry of each host, in seconds since the epoch.");
            foreach ((string host, DateTimeOffset? last, _) in hosts)
            {
                if (last is { } t)
                {
                    s.Append(ci, $"mailguard_last_entry_timestamp_seconds{{host=\"{Value(host)}\"}} {t.ToUnixTimeMilliseconds() / 1000.0:0.###}\n");
                }
            }
        }

        Header(s, "mailguard_verdict", "gauge", "1 for the class of each host's traffic, 0 for the others.");
        foreach ((string host, _, VerdictClass cls) in hosts)
        {
            foreach (VerdictClass c in Enum.GetValues<VerdictClass>())
            {
                s.Append(ci, $"mailguard_verdict{{host=\"{Value(host)}\",class=\"{VerdictReport.Name(c)}\"}} {(c == cls ? 1 : 0)}\n");
            }
        }

        Header(s, "mailguard_estimated", "gauge", "1 when the figures are estimates (more distinct keys than --max-keys), else 0.");
        s.Append(ci, $"mailguard_estimated {(verdict.Stats.Estimated ? 1 : 0)}\n");

        return Encoding.UTF8.GetBytes(s.ToString());
    }

    private static void Header(StringBuilder s, string name, string type, string help) =>
        s.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void PerPort(StringBuilder s, string name, IReadOnlyList<Actor> actors, int shown, string one, Func<PortCount, long> value)
    {
        var ci = CultureInfo.InvariantCulture;
        var rest = new SortedDictionary<ushort, long>();
        for (int i = 0; i < actors.Count; i++)
        {
            foreach ((ushort port, PortCount count) in actors[i].MailPorts.OrderBy(static p => p.Key))
            {
                if (i < shown)
                {
                    s.Append(ci, $"{name}{{{Labels(actors[i], one)},port=\"{port}\"}} {value(count)}\n");
                }
                else
                {
                    rest[port] = rest.GetValueOrDefault(port) + value(count);
                }
            }
        }

        foreach ((ushort port, long n) in rest)
        {
            s.Append(ci, $"{name}{{host=\"{Value(one)}\",actor_kind=\"other\",actor=\"other\",user=\"\",port=\"{port}\"}} {n}\n");
        }
    }

    /// <summary>The host of an input that holds one (its name; empty when its lines carry none); empty when it holds several.</summary>
    private static string OneHost(SpamVerdict v)
    {
        IReadOnlyList<KeyValuePair<string, KeyStat>> hosts = v.Stats.Hosts.Top(2);
        return v.Hosts.Count == 0 && hosts.Count > 0 ? hosts[0].Key : "";
    }

    /// <summary>The actor's labels; <c>host</c> is its host's name (with one host in the input, that host's).</summary>
    private static string Labels(Actor a, string one)
    {
        string kind = a.Kind switch
        {
            ActorKind.User => "uid",
            ActorKind.ForwardedInterface => "interface",
            ActorKind.Service => "service",
            _ => "source",
        };
        return $"host=\"{Value(a.Host ?? one)}\",actor_kind=\"{kind}\",actor=\"{Value(a.Key)}\",user=\"{Value(a.UserName ?? "")}\"";
    }

    /// <summary>A label value: log text made safe (control characters as \xNN text), then escaped as the format requires.</summary>
    private static string Value(string text) =>
        TerminalText.Escape(text).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
