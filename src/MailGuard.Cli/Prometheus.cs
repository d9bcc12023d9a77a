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

        Header(s, "mailguard_connection_attempts_total", "counter", "Connection attempts to mail ports logged by the netfilter LOG rules (retransmissions of one attempt counted once), per actor and port.");
        PerPort(s, "mailguard_connection_attempts_total", actors, shown, static c => c.Attempts);
        Header(s, "mailguard_packets_total", "counter", "Logged packets to mail ports, retransmissions included, per actor and port.");
        PerPort(s, "mailguard_packets_total", actors, shown, static c => c.Packets);

        Header(s, "mailguard_destinations", "gauge", "Distinct destination addresses per actor (all ports; an estimate past --max-keys).");
        for (int i = 0; i < shown; i++)
        {
            s.Append(ci, $"mailguard_destinations{{{Labels(actors[i])}}} {actors[i].Stat.DistinctDestinations}\n");
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

        if (verdict.Stats.All.Last is { } last)
        {
            Header(s, "mailguard_last_entry_timestamp_seconds", "gauge", "The time of the last selected entry, in seconds since the epoch.");
            s.Append(ci, $"mailguard_last_entry_timestamp_seconds{{host=\"\"}} {last.ToUnixTimeMilliseconds() / 1000.0:0.###}\n");
        }

        Header(s, "mailguard_verdict", "gauge", "1 for the verdict's class, 0 for the others.");
        foreach (VerdictClass c in Enum.GetValues<VerdictClass>())
        {
            s.Append(ci, $"mailguard_verdict{{host=\"\",class=\"{VerdictReport.Name(c)}\"}} {(c == verdict.Class ? 1 : 0)}\n");
        }

        Header(s, "mailguard_estimated", "gauge", "1 when the figures are estimates (more distinct keys than --max-keys), else 0.");
        s.Append(ci, $"mailguard_estimated {(verdict.Stats.Estimated ? 1 : 0)}\n");

        return Encoding.UTF8.GetBytes(s.ToString());
    }

    private static void Header(StringBuilder s, string name, string type, string help) =>
        s.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void PerPort(StringBuilder s, string name, IReadOnlyList<Actor> actors, int shown, Func<PortCount, long> value)
    {
        var ci = CultureInfo.InvariantCulture;
        var rest = new SortedDictionary<ushort, long>();
        for (int i = 0; i < actors.Count; i++)
        {
            foreach ((ushort port, PortCount count) in actors[i].MailPorts.OrderBy(static p => p.Key))
            {
                if (i < shown)
                {
                    s.Append(ci, $"{name}{{{Labels(actors[i])},port=\"{port}\"}} {value(count)}\n");
                }
                else
                {
                    rest[port] = rest.GetValueOrDefault(port) + value(count);
                }
            }
        }

        foreach ((ushort port, long n) in rest)
        {
            s.Append(ci, $"{name}{{host=\"\",actor_kind=\"other\",actor=\"other\",user=\"\",port=\"{port}\"}} {n}\n");
        }
    }

    /// <summary>The actor's labels; <c>host</c> is empty until figures are kept per host.</summary>
    private static string Labels(Actor a)
    {
        string kind = a.Kind switch
        {
            ActorKind.User => "uid",
            ActorKind.ForwardedInterface => "interface",
            ActorKind.Service => "service",
            _ => "source",
        };
        return $"host=\"\",actor_kind=\"{kind}\",actor=\"{Value(a.Key)}\",user=\"{Value(a.UserName ?? "")}\"";
    }

    /// <summary>A label value: log text made safe (control characters as \xNN text), then escaped as the format requires.</summary>
    private static string Value(string text) =>
        TerminalText.Escape(text).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
