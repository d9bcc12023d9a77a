using System.Globalization;
using System.Text;
using MailGuard.Parsing;

namespace MailGuard.Analysis.Internals;

/// <summary>The words of a <see cref="SpamVerdict"/>: headline and summary with the evidence figures.</summary>
internal static class Text
{
    private static readonly CultureInfo s_ci = CultureInfo.InvariantCulture;

    public static string Headline(SpamVerdict v, VerdictOptions o) => v.Class switch
    {
        VerdictClass.DirectToMx => $"Direct-to-MX spam from {v.Culprit!.Label}, {Word(v.Confidence)} confidence",
        VerdictClass.ProxyRelay => $"Spam relayed for {v.Culprit!.Label}, {Word(v.Confidence)} confidence",
        VerdictClass.RelayAbuse => $"Relay abuse (stolen credentials?) by {v.Culprit!.Label}, {Word(v.Confidence)} confidence",
        VerdictClass.RetryingClient => $"One client retrying: {v.Culprit!.Label}, {Word(v.Confidence)} confidence",
        VerdictClass.Unclear => $"Mail traffic from {v.Culprit!.Label} that fits no known pattern, {Word(v.Confidence)} confidence",
        VerdictClass.NoLogLines => "No LOG line at all: nothing was logged here, so nothing can be told (a diagnosis, not an all-clear)",
        VerdictClass.MailUnderOtherPrefixes => "Mail traffic under other prefixes was not analysed: run with --all",
        VerdictClass.ForgedLog when v.Forged[0].Evidence == ForgeryEvidence.ImpossibleDevice => "Forged kernel log lines: they name a network device no kernel can print",
        VerdictClass.ForgedLog => $"Forged kernel log lines, written by {Writer(v.Forged[0], o)}",
        _ when v.Culprit is { SuspiciousName: true } c => $"{(Quiet(c, o) ? "A low rate of" : "Little")} mail traffic from {c.Label}: check these lines first",
        _ when v.Stats is { Estimated: true } s && s.Estimates.Bounded && MissedBelow(s.Estimates) > 0 =>
            string.Create(s_ci, $"Nothing suspicious among the senders kept, but the figures are estimates: a sender with up to {MissedBelow(s.Estimates):N0} entries may be missing"),
        _ => v.MailAttempts == 0 ? "Nothing suspicious: no outgoing mail traffic was logged" : "Nothing suspicious",
    };

    /// <summary>Past the key budget: the most entries an actor (source, UID, service, interface) that is not listed can have had.</summary>
    private static long MissedBelow(StatsEstimates e) => Math.Max(Math.Max(e.SourcesMaxError, e.UidsMaxError), Math.Max(e.ServicesMaxError, e.InterfacesMaxError));

    /// <summary>What is estimated, said in the summary: never an all-clear on figures that may hide a sender.</summary>
    private static void Estimates(StringBuilder sb, StatsEstimates e)
    {
        if (e.Bounded)
        {
            sb.Append(s_ci, $" The log holds more distinct keys than mgscan counts exactly ({e.KeyBudget:N0}, --max-keys), so these figures are estimates:");
            sb.Append(s_ci, $" a count marked ~ may be over by its error bound, the numbers of servers are within ±{e.DistinctRelativeError * 100:0.0}% (one standard error)");
            long missed = MissedBelow(e);
            sb.Append(missed > 0
                ? string.Create(s_ci, $", and a sender with up to {missed:N0} entries may not be listed at all.")
                : ", and every sender is listed.");
        }

        if (e.AttemptsMaxError > 0)
        {
            sb.Append(s_ci, $" Attempts may be over by up to {e.AttemptsMaxError:N0} (more flows were live at once than are kept).");
        }

        if (e.TimelineResolution > TimeSpan.FromMinutes(1))
        {
            sb.Append(s_ci, $" Rates come from {e.TimelineResolution.TotalMinutes:N0}-minute buckets: the rate per minute is an upper bound.");
        }
    }

    public static string Summary(SpamVerdict v, VerdictOptions o)
    {
        var sb = new StringBuilder();
        Actor? a = v.Culprit;
        if (v.Class == VerdictClass.NoLogLines)
        {
            NoLogLines(sb, v);
        }
        else if (a is null)
        {
            sb.Append("The log holds no connection attempt to a mail port (").Append(Ports(o.MailPorts)).Append(").");
        }
        else
        {
            sb.Append(s_ci, $"{Opening(a)} made {a.Share * 100:0}% of the logged mail connections: {Attempts(a)} to ");
            sb.Append(a.Stat.DistinctDestinations == 1 ? "1 server" : string.Create(s_ci, $"{a.Stat.DistinctDestinations:N0} different servers"));
            sb.Append(" on ").Append(PortList(a)).Append(Between(a));
            sb.Append(Rate(a));

            sb.Append(" — ").Append(Meaning(v, a, o)).Append('.');
            if (a.SuspiciousName)
            {
                sb.Append(" But the interface name ").Append(ShellWord.Quote(a.Key)).Append(" is not one a system would choose (they are up to 15 letters, digits, '_', '.', '-' or '@'):")
                    .Append(" these lines may be forged by a local user writing to the log; check them before acting on them.");
            }
        }

        if (!v.UidLogged && v.MailAttempts > 0 && (a is null || a.Kind != ActorKind.ForwardedInterface))
        {
            sb.Append(" The log has no UID= field: the LOG rules lack --log-uid, so the local user cannot be named (see the advice).");
        }

        if (a is { Kind: ActorKind.User, SharedUid: true } && v.Class is not VerdictClass.NothingSuspicious)
        {
            sb.Append(' ').Append(Opening(a)).Append(" is a UID that several services run as, and the log cannot tell which of them sent this");
            if (uint.TryParse(a.Key, NumberStyles.None, s_ci, out uint uid) && o.ServicesByUid.TryGetValue(uid, out IReadOnlyList<string>? units) && units.Count > 0)
            {
                sb.Append(s_ci, $" (running as it: {string.Join(", ", units.Take(8))}{(units.Count > 8 ? ", …" : "")})");
            }

            sb.Append("; per-service LOG rules name each one next time (see the advice).");
        }

        if (v.Forged.Count > 0)
        {
            Forgery(sb, v, o);
        }

        if (v.Stats is { Estimated: true } stats)
        {
            Estimates(sb, stats.Estimates);
        }


        if (v.Class == VerdictClass.MailUnderOtherPrefixes)
        {
            sb.Append(s_ci, $" But {v.Totals!.OtherPrefixMail:N0} outgoing connection{(v.Totals.OtherPrefixMail == 1 ? " to a mail port was" : "s to mail ports were")} logged under prefixes the selection ('{Shown(o.Filter)}') leaves out, and not analysed: run mgscan again with --all.");
        }

        return sb.ToString();
    }

    /// <summary>"No 'IPTABLES TCP-OUT &lt;port&gt;:' entry; analysed instead: …" (the first line of a report).</summary>
    public static string Discovered(SpamVerdict v)
    {
        var sb = new StringBuilder();
        sb.Append(s_ci, $"No '{Shown(v.Options.Filter)}' entry in the log; analysed instead: the outgoing mail connections other rules logged, under ");
        int shown = 0;
        foreach (DiscoveredPrefix d in v.DiscoveredPrefixes)
        {
            if (shown++ < 5)
            {
                sb.Append(shown > 1 ? ", " : "").Append('\'').Append(d.Prefix.TrimEnd()).Append('\'');
                sb.Append(s_ci, $" ({d.Entries:N0}{(d.FrontEnd is { } fe ? ", " + fe : "")})");
            }
        }

        if (shown > 5)
        {
            sb.Append(s_ci, $" and {shown - 5:N0} more");
        }

        return sb.Append('.').ToString();
    }

    /// <summary>A prefix filter as a reader knows it: the default's port wildcard as &lt;port&gt;.</summary>
    private static string Shown(PrefixFilter filter) => ReferenceEquals(filter, PrefixFilter.TcpOut) ? "IPTABLES TCP-OUT <port>:" : filter.Text;

    /// <summary>What the input was, and why it may hold no LOG line.</summary>
    private static void NoLogLines(StringBuilder sb, SpamVerdict v)
    {
        ScanTotals t = v.Totals!;
        if (t.Lines == 0)
        {
            sb.Append("The input holds no line at all — an empty file or stream, or a journal without kernel records (is journald running? does journalctl -k show anything?) — so nothing about outgoing mail can be told from it.");
            return;
        }

        sb.Append(s_ci, $"The input ({t.Lines:N0} line{(t.Lines == 1 ? "" : "s")}");
        if (t.Lines > 0 && t.Formats.Count > 0)
        {
            sb.Append(", ").Append(string.Join(", ", t.Formats.Select(FormatName).Distinct()));
        }

        sb.Append(") holds no netfilter LOG line of any prefix: nothing about outgoing mail can be told from it. Likely causes: no LOG rule ")
            .Append("(mgscan rules --check says what is missing); rules inside a container or another network namespace (the kernel drops ")
            .Append("their LOG lines unless net.netfilter.nf_log_all_netns=1); the kernel's messages go to the journal only, not to this ")
            .Append("file (journalctl -k -o json | mgscan); rules that log with NFLOG to ulogd instead of LOG; a rate limit that dropped them all; ")
            .Append("or this is not the kernel's log.");
        if (t.Blobs > 0)
        {
            sb.Append(s_ci, $" {t.Blobs:N0} kernel line{(t.Blobs == 1 ? "" : "s")} were hidden by journalctl as [blob data]: run journalctl with -a or -o json.");
        }
    }

    private static string FormatName(LogFormat f) => f switch
    {
        LogFormat.Rfc3164 => "syslog (traditional)",
        LogFormat.Rfc3339 => "syslog (RFC 3339)",
        LogFormat.Rfc5424 => "syslog (RFC 5424)",
        LogFormat.JournalJson => "journal JSON",
        LogFormat.JournalExport => "journal export",
        LogFormat.JournalShortFull or LogFormat.JournalShortUnix or LogFormat.JournalShortMonotonic or LogFormat.JournalShortDelta => "journalctl text",
        LogFormat.Dmesg or LogFormat.DmesgCtime or LogFormat.DmesgIso or LogFormat.DmesgDecorated => "dmesg",
        LogFormat.Kmsg => "/dev/kmsg",
        _ => "plain text",
    };

    /// <summary>The forged records: how many, who wrote them or why they cannot be the kernel's, whom they blame.</summary>
    private static void Forgery(StringBuilder sb, SpamVerdict v, VerdictOptions o)
    {
        long records = 0;
        foreach (ForgedRecordWriter w in v.Forged)
        {
            records += w.Records;
        }

        ForgedRecordWriter top = v.Forged[0];
        string others = top.Records == records ? "" : string.Create(s_ci, $" ({top.Records:N0} of them; the others come from {v.Forged.Count - 1:N0} more writer{(v.Forged.Count == 2 ? "" : "s")})");
        sb.Append(s_ci, $" {records:N0} record{(records == 1 ? "" : "s")} that pose as the kernel's LOG lines ");
        sb.Append(top.Evidence == ForgeryEvidence.ImpossibleDevice
            ? string.Create(s_ci, $"name the network device '{top.Device}'{others}, which no device can be called (at most 15 bytes, no '/', ':' or space)")
            : $"{(records == 1 ? "was" : "were")} written by {Writer(top, o)}{others}");
        if (top.ClaimedUids.Count > 0)
        {
            uint claimed = top.ClaimedUids[0].Key;
            sb.Append(", claiming ").Append(o.UserNames.TryGetValue(claimed, out string? name) ? string.Create(s_ci, $"uid {claimed} ({name})") : string.Create(s_ci, $"uid {claimed}"));
        }

        sb.Append(top.Evidence switch
        {
            ForgeryEvidence.JournalTransport => ": the journal recorded who wrote them.",
            ForgeryEvidence.ProcessIdTag => ": their tag carries a process ID (kernel[PID]:), which the kernel's own lines never have.",
            _ => ": no kernel wrote them; a local user did (or the file is damaged).",
        });
        sb.Append(" They are not counted as traffic, and whoever forges the evidence is a suspect.");
    }

    /// <summary>The writer of forged records: <c>uid 1001 (alice), command logger, pid 4242</c>.</summary>
    public static string Writer(ForgedRecordWriter w, VerdictOptions o)
    {
        var sb = new StringBuilder();
        if (w.Uid is { } uid)
        {
            sb.Append(s_ci, $"uid {uid}");
            if (o.UserNames.TryGetValue(uid, out string? name))
            {
                sb.Append(" (").Append(name).Append(')');
            }
        }
        else
        {
            sb.Append(w.Evidence == ForgeryEvidence.ImpossibleDevice ? "an unknown writer" : "processes"); // a text log names no user
        }

        if (w.Command is { } command)
        {
            sb.Append(", command ").Append(command);
        }

        if (w.LastPid is { } pid)
        {
            sb.Append(w.Uid is null ? string.Create(s_ci, $" (the last of them pid {pid})") : string.Create(s_ci, $", pid {pid}"));
        }

        return sb.ToString();
    }

    private static string Meaning(SpamVerdict v, Actor a, VerdictOptions o) => v.Class switch
    {
        VerdictClass.DirectToMx when a.UserName is { } u && o.MailUsers.Contains(u) =>
            "the mail server itself is sending in bulk: something feeds its queue (a web form, a compromised account)",
        VerdictClass.DirectToMx when a.UserName is { } u && o.WebUsers.Contains(u) =>
            "the pattern of a compromised web application sending spam directly to mail servers",
        VerdictClass.DirectToMx => "the pattern of a compromised account or program sending spam directly to mail servers",
        VerdictClass.ProxyRelay when a.Kind == ActorKind.ForwardedInterface =>
            "the pattern of a VPN or proxy whose clients send spam through this server",
        VerdictClass.ProxyRelay => "the pattern of a proxy service relaying its clients' spam",
        VerdictClass.RelayAbuse => "the pattern of one submission relay abused, e.g. with stolen SMTP credentials",
        VerdictClass.RetryingClient => "one client retrying the same servers: a stuck mail queue or a misconfigured program, not a spam run",
        VerdictClass.Unclear when !Quiet(a, o) && (a.PeakMinute?.Count ?? 0) <= o.QuietMaxPerMinute && a.Stat.DistinctDestinations < o.DirectToMxMinDestinations =>
            a.PeakMinute is null ? "neither direct-to-MX nor relay abuse, and without times it cannot be called quiet; look at the actors below"
            : string.Create(s_ci, $"neither direct-to-MX nor relay abuse, and with {a.AttemptsOffClock:N0} attempt{(a.AttemptsOffClock == 1 ? "" : "s")} outside the measured rate it cannot be called quiet; look at the actors below"),
        VerdictClass.Unclear => "more than a quiet server sends, but neither direct-to-MX nor relay abuse; look at the actors below",
        VerdictClass.ForgedLog => Quiet(a, o) ? "a normal, low rate among the genuine entries" : "too few genuine attempts to act on",
        VerdictClass.MailUnderOtherPrefixes => Quiet(a, o) ? "a normal, low rate among the selected entries" : "too few selected attempts to act on",
        _ => Quiet(a, o) ? "a normal, low rate" : a.PeakMinute is null ? "too few attempts to act on (their rate is unknown)" : "too few attempts to act on",
    };

    /// <summary>Whether the rate is known to be low: the busiest minute, with every attempt whose time is not on its clock added, stays quiet.</summary>
    private static bool Quiet(Actor a, VerdictOptions o) => (a.PeakMinute?.Count ?? 0) + a.AttemptsOffClock <= o.QuietMaxPerMinute;

    /// <summary>", up to 16 a minute", with the attempts that measure left out, or that no rate was measured.</summary>
    private static string Rate(Actor a)
    {
        if (a.PeakMinute is not { } peak)
        {
            return ", at a rate the log cannot tell (its lines carry no time)";
        }

        string rate = string.Create(s_ci, $", up to {peak.Count:N0} a minute{(a.PeakIsUpperBound ? " (an upper bound: the figures are estimates)" : "")}");
        return a.AttemptsOffClock == 0 ? rate
            : rate + string.Create(s_ci, $" ({a.AttemptsOffClock:N0} more attempt{(a.AttemptsOffClock == 1 ? "" : "s")} without a {(a.RateClock == ClockKind.Uptime ? "time since boot" : "wall-clock time")} not counted in that)");
    }

    /// <summary>" between 02:14 and 03:43 (2026-11-23)" on the wall clock, " between boot +2h14m and boot +3h43m (…)" on the uptime clock.</summary>
    private static string Between(Actor a) =>
        a.RateClock != ClockKind.Uptime ? Between(a.Stat.First, a.Stat.Last)
        : a.Stat.FirstUptime is { } f && a.Stat.LastUptime is { } l ? $" between {BootTime.Format(f, seconds: true)} and {BootTime.Format(l, seconds: true)} (time since boot: the lines give no wall-clock time)"
        : "";

    private static string Attempts(Actor a) =>
        a.MailPackets == a.MailAttempts
            ? string.Create(s_ci, $"{a.MailAttempts:N0} attempt{(a.MailAttempts == 1 ? "" : "s")}")
            : string.Create(s_ci, $"{a.MailAttempts:N0} attempt{(a.MailAttempts == 1 ? "" : "s")} ({a.MailPackets:N0} packets with retransmissions)");

    private static string PortList(Actor a)
    {
        var ports = a.MailPorts.Where(p => p.Value.Attempts > 0).OrderByDescending(p => p.Value.Attempts).Select(p => p.Key).ToList();
        return ports.Count switch
        {
            0 => "no mail port",
            1 => $"port {ports[0]}",
            _ => "ports " + string.Join(", ", ports.Select(p => string.Create(s_ci, $"{p} ({a.MailPorts[p].Attempts:N0})"))),
        };
    }

    private static string Ports(IReadOnlyCollection<ushort> ports) => string.Join(", ", ports.Order());

    public static string Between(DateTimeOffset? first, DateTimeOffset? last)
    {
        if (first is not { } f || last is not { } l)
        {
            return "";
        }

        return f.Date == l.Date
            ? string.Create(s_ci, $" between {f:HH:mm} and {l:HH:mm} ({f:yyyy-MM-dd})")
            : string.Create(s_ci, $" between {f:yyyy-MM-dd HH:mm} and {l:yyyy-MM-dd HH:mm}");
    }

    private static string Word(Confidence c) => c switch
    {
        Confidence.High => "high",
        Confidence.Medium => "medium",
        _ => "low",
    };

    /// <summary>An actor's label at the start of a sentence: capitalised, unless it starts with a host name (log text, kept as it is).</summary>
    private static string Opening(Actor a) => a.Host is null ? Capital(a.Label) : a.Label;

    private static string Capital(string s) => s.Length == 0 || s.StartsWith("uid ", StringComparison.Ordinal) ? s : char.ToUpperInvariant(s[0]) + s[1..];
}

/// <summary>The advice of a <see cref="SpamVerdict"/>: commands that contain the traffic, find the process, keep the rules.</summary>
internal static class AdviceFor
{
    /// <summary>
    /// The <c>--log-prefix</c> argument for the port in the shell variable <c>$p</c>, double-quoted: the selection's own
    /// prefix (its <c>#</c> the port) when it names one, else the default <c>IPTABLES TCP-OUT $p:</c>.
    /// </summary>
    internal static string LogPrefix(PrefixFilter filter)
    {
        string text = filter.Kind switch
        {
            PrefixFilterKind.Exact => filter.Text,
            PrefixFilterKind.Pattern when filter.Text.IndexOfAny(['*', '?']) < 0 => filter.Text,
            _ => PrefixFilter.TcpOut.Text,
        };
        var quoted = new StringBuilder("\"");
        foreach (char c in text)
        {
            _ = c switch
            {
                '#' => quoted.Append("$p"),
                '"' or '\\' or '$' or '`' => quoted.Append('\\').Append(c),
                _ => quoted.Append(c),
            };
        }

        return quoted.Append('"').ToString();
    }

    public static IReadOnlyList<Advice> Verdict(SpamVerdict v, VerdictOptions o)
    {
        var steps = new List<Advice>();
        Actor? a = v.Culprit;
        if (a is { SuspiciousName: true })
        {
            steps.Add(CheckForged(a)); // a block rule for a forged name cannot be right, and the name is hostile text
            return steps;
        }

        var present = new HashSet<string>(o.UserNames.Values);
        string? mailUser = o.MailUsers.FirstOrDefault(present.Contains);
        List<Advice> behind = v.Class is VerdictClass.NothingSuspicious or VerdictClass.NoLogLines or VerdictClass.ForgedLog ? [] : [.. Behind.Steps(v, o)];
        bool named = v.Attribution is { } join && Behind.UidOf(a) is { } culpritUid && join.Attributed.Any(x => x.Uid == culpritUid);
        steps.AddRange(behind);
        switch (v.Class)
        {
            case VerdictClass.DirectToMx when a is { Kind: ActorKind.User } && a.UserName is { } u && o.MailUsers.Contains(u) && named:
                break; // the application logs named who fed the queue (above)
            case VerdictClass.DirectToMx when a is { Kind: ActorKind.User } && a.UserName is { } u && o.MailUsers.Contains(u):
                steps.Add(new Advice($"Find what feeds the mail server's queue ({u})", [
                    "mailq | tail -n 5                      # or: postqueue -p / exim -bpc",
                    "postcat -q QUEUE_ID | head -n 40       # who submitted one of the queued messages",
                    "grep -i 'sasl_username\\|uid=' /var/log/mail.log | sort | uniq -c | sort -rn | head",
                ]));
                break;
            case VerdictClass.DirectToMx when a is { Kind: ActorKind.User }:
                steps.Add(OwnerBlock(a, mailUser, [25]));
                steps.Add(FindProcess(a, 25, v.BurstStart, o));
                break;
            case VerdictClass.RelayAbuse when a is { Kind: ActorKind.User }:
                steps.Add(OwnerBlock(a, null, [.. a.MailPorts.Keys.Where(p => p != 25)]));
                steps.Add(FindProcess(a, a.MailPorts.Keys.Where(p => p != 25).DefaultIfEmpty((ushort)587).First(), v.BurstStart, o));
                steps.Add(new Advice("Find the script and change its SMTP password (it is probably stolen)", [
                    $"grep -rIl --include='*.php' -e 'smtp' -e 'SMTPAuth' {Home(a)} 2>/dev/null | head",
                ]));
                break;
            case VerdictClass.ProxyRelay when a is { Kind: ActorKind.ForwardedInterface }:
                steps.Add(ForwardBlock(a.Key, o.MailPorts));
                steps.Add(new Advice($"Find the clients behind {a.Key} (their addresses are in the Sources table)", a.Key.StartsWith("wg", StringComparison.Ordinal)
                    ? [$"wg show {ShellWord.Quote(a.Key)} allowed-ips        # which peer owns each address", "conntrack -L -p tcp --dport 25 2>/dev/null | head"]
                    : [$"ip neigh show dev {ShellWord.Quote(a.Key)}", "conntrack -L -p tcp --dport 25 2>/dev/null | head"]));
                break;
            case VerdictClass.ProxyRelay when a is { Kind: ActorKind.User }:
                steps.Add(OwnerBlock(a, null, [.. o.MailPorts.Order()]));
                steps.Add(new Advice($"Stop the proxy from connecting to mail ports for its clients ({a.UserName})", [
                    "# squid: acl mail_ports port 25 465 587 / http_access deny CONNECT mail_ports",
                    "# dante: socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 port = 25 }",
                    $"ss -tnp state syn-sent '( dport = :25 )'   # the proxy's current attempts",
                ]));
                break;
            case VerdictClass.Unclear when a is { Kind: ActorKind.User }:
                steps.Add(FindProcess(a, a.MailPorts.OrderByDescending(p => p.Value.Attempts).Select(p => p.Key).DefaultIfEmpty((ushort)25).First(), v.BurstStart, o));
                break;
            case VerdictClass.RetryingClient when a is { Kind: ActorKind.User }:
                steps.Add(FindProcess(a, a.MailPorts.Keys.DefaultIfEmpty((ushort)25).First(), null, o));
                steps.Add(new Advice("Fix or stop the program's mail step (it cannot reach its server)", [
                    $"crontab -l -u {ShellWord.Quote(a.UserName ?? a.Key)}",
                    $"systemctl list-timers --all | head -n 20",
                ]));
                break;
            case VerdictClass.DirectToMx or VerdictClass.RetryingClient or VerdictClass.RelayAbuse or VerdictClass.Unclear or VerdictClass.ProxyRelay when a is { Kind: ActorKind.Service }:
                steps.Add(ServiceBlock(a, v.Class == VerdictClass.RelayAbuse ? [.. a.MailPorts.Keys.Where(p => p != 25)] : v.Class == VerdictClass.DirectToMx ? [25] : [.. o.MailPorts.Order()]));
                steps.Add(new Advice($"Look at what {a.Label} does", [
                    $"systemctl status {ShellWord.Quote(a.Key + ".service")}   # the prefix holds at most 17 characters of the unit's name",
                    $"journalctl -u {ShellWord.Quote(a.Key + ".service")} -n 50",
                ]));
                break;
            case VerdictClass.DirectToMx or VerdictClass.RetryingClient or VerdictClass.RelayAbuse or VerdictClass.Unclear when a is not null:
                steps.Add(new Advice("Find the process sending now (the log cannot name the user)", [
                    $"ss -tnp state syn-sent '( {string.Join(" or ", o.MailPorts.Order().Select(p => string.Create(CultureInfo.InvariantCulture, $"dport = :{p}")))} )'",
                    "ps -o user,pid,lstart,cmd -p PID",
                ]));
                break;
        }

        if (a is { Kind: ActorKind.User, SharedUid: true } && v.Class is not VerdictClass.NothingSuspicious)
        {
            steps.Add(SharedUid(a, o));
        }

        if (!v.UidLogged && v.MailAttempts > 0 && (a is null || a.Kind != ActorKind.ForwardedInterface))
        {
            string ports = string.Join(' ', o.MailPorts.Order());
            string prefix = LogPrefix(o.Filter);
            steps.Add(new Advice("Log the UID, so that the next incident names the user (--log-uid)", [
                $"for p in {ports}; do iptables -D OUTPUT -p tcp --dport $p -j LOG --log-prefix {prefix}; done",
                $"for p in {ports}; do iptables -I OUTPUT -p tcp --dport $p -j LOG --log-prefix {prefix} --log-uid; done",
                $"# nftables: tcp dport $p log prefix {prefix} flags skuid",
                "# the same with ip6tables",
            ]));
        }

        if (v.Forged.Count > 0)
        {
            steps.Add(Forgers(v.Forged, o));
        }

        if (v.Class == VerdictClass.NoLogLines)
        {
            steps.AddRange(Diagnose(o));
        }

        if (v.Class is not (VerdictClass.NothingSuspicious or VerdictClass.ForgedLog or VerdictClass.NoLogLines or VerdictClass.MailUnderOtherPrefixes))
        {
            steps.Add(Persist(o.Family));
        }

        return steps;
    }

    private static Advice OwnerBlock(Actor a, string? mailUser, IReadOnlyList<ushort> ports)
    {
        string dports = ports.Count == 1 ? string.Create(CultureInfo.InvariantCulture, $"--dport {ports[0]}") : "-m multiport --dports " + string.Join(",", ports);
        string nftPorts = ports.Count == 1 ? ports[0].ToString(CultureInfo.InvariantCulture) : "{ " + string.Join(", ", ports) + " }";
        return mailUser is not null && ports.Count == 1 && ports[0] == 25
            ? new Advice($"Let only the mail server ({mailUser}) connect to port 25", [
                $"iptables -I OUTPUT -p tcp --dport 25 -m owner ! --uid-owner {ShellWord.Quote(mailUser)} -j REJECT --reject-with tcp-reset",
                $"ip6tables -I OUTPUT -p tcp --dport 25 -m owner ! --uid-owner {ShellWord.Quote(mailUser)} -j REJECT --reject-with tcp-reset",
                $"# nftables: nft insert rule inet filter output tcp dport 25 meta skuid != {ShellWord.Quote(mailUser)} reject with tcp reset",
            ])
            : new Advice($"Stop {a.Label} from connecting to {(ports.Count == 1 ? "port " + dports[8..] : "ports " + string.Join(", ", ports))}", [
                $"iptables -I OUTPUT -p tcp {dports} -m owner --uid-owner {ShellWord.Quote(a.Key)} -j REJECT --reject-with tcp-reset",
                $"ip6tables -I OUTPUT -p tcp {dports} -m owner --uid-owner {ShellWord.Quote(a.Key)} -j REJECT --reject-with tcp-reset",
                $"# nftables: nft insert rule inet filter output tcp dport {nftPorts} meta skuid {ShellWord.Quote(a.Key)} reject with tcp reset",
            ]);
    }

    /// <summary>No LOG line: find out why, then log what mgscan needs (one rule per mail port, with the UID and a rate limit).</summary>
    private static IEnumerable<Advice> Diagnose(VerdictOptions o)
    {
        string ports = string.Join(' ', o.MailPorts.Order());
        string prefix = LogPrefix(o.Filter);
        LogRateLimit limit = LogRateLimit.Default; // the same as mgscan rules
        string iptLimit = string.Create(CultureInfo.InvariantCulture, $"-m limit --limit {limit.RateText} --limit-burst {limit.Burst}");
        yield return new Advice("Find out why nothing was logged", [
            "mgscan rules --check                     # as root: which LOG rules are missing",
            "iptables -S OUTPUT | grep -e LOG -e NFLOG; nft list ruleset | grep -w log",
            "cat /proc/net/netfilter/nf_log           # NONE next to 2 (IPv4): no logger is bound yet",
            "sysctl net.netfilter.nf_log_all_netns    # 0: LOG rules in containers or other namespaces write nothing",
            "ls -l /var/log/kern.log* /var/log/messages* 2>/dev/null; journalctl -k -n 5",
        ]);
        yield return new Advice("Log outgoing mail connections with the UID, rate-limited so a flood cannot fill the disk", [
            $"for p in {ports}; do iptables -I OUTPUT -p tcp --syn --dport $p {iptLimit} -j LOG --log-prefix {prefix} --log-uid; done",
            $"for p in {ports}; do ip6tables -I OUTPUT -p tcp --syn --dport $p {iptLimit} -j LOG --log-prefix {prefix} --log-uid; done",
            string.Create(CultureInfo.InvariantCulture, $"# nftables: for p in {ports}; do nft \"add rule inet filter output tcp dport $p tcp flags & (fin | syn | rst | ack) == syn limit rate {limit.RateText} burst {limit.Burst} packets log prefix \\{prefix[..^1]}\\\" flags skuid\"; done"),
            "mgscan rules                             # the whole rule set (log, then drop) for iptables, nft, firewalld and ufw",
        ]);
    }

    /// <summary>Block one service by its cgroup (the rule a per-service LOG rule mirrors).</summary>
    private static Advice ServiceBlock(Actor a, IReadOnlyList<ushort> ports)
    {
        string dports = ports.Count == 1 ? string.Create(CultureInfo.InvariantCulture, $"--dport {ports[0]}") : "-m multiport --dports " + string.Join(",", ports);
        string nftPorts = ports.Count == 1 ? ports[0].ToString(CultureInfo.InvariantCulture) : "{ " + string.Join(", ", ports) + " }";
        string path = "system.slice/" + a.Key + ".service";
        return new Advice($"Stop {a.Label} from connecting to {(ports.Count == 1 ? "port " + dports[8..] : "ports " + string.Join(", ", ports))}", [
            $"iptables -I OUTPUT -p tcp {dports} -m cgroup --path {ShellWord.Quote(path)} -j REJECT --reject-with tcp-reset",
            $"ip6tables -I OUTPUT -p tcp {dports} -m cgroup --path {ShellWord.Quote(path)} -j REJECT --reject-with tcp-reset",
            $"# nftables: nft insert rule inet filter output tcp dport {nftPorts} socket cgroupv2 level 2 {NftString(path)} reject with tcp reset",
        ]);
    }

    /// <summary>A UID that several services run as: the log cannot tell them apart; the next one can.</summary>
    private static Advice SharedUid(Actor a, VerdictOptions o)
    {
        var commands = new List<string>
        {
            $"ps -o pid,unit,lstart,cmd -u {ShellWord.Quote(a.Key)}   # the services running as this UID",
        };
        IReadOnlyList<string> units = uint.TryParse(a.Key, NumberStyles.None, CultureInfo.InvariantCulture, out uint uid) && o.ServicesByUid.TryGetValue(uid, out IReadOnlyList<string>? known) ? known : [];
        commands.Add(units.Count > 0
            ? "mgscan rules --per-service " + string.Join(' ', units.Take(8).Select(ShellWord.Quote)) + "   # LOG rules that name each service"
            : "mgscan rules --per-service UNIT...   # LOG rules that name each service (the units from the line above)");
        return new Advice($"Tell apart the services that run as {a.Label}", commands);
    }

    private static Advice ForwardBlock(string iface, IReadOnlyCollection<ushort> mailPorts)
    {
        string ports = string.Join(",", mailPorts.Order());
        return new Advice($"Stop forwarding mail traffic from {iface}", [
            $"iptables -I FORWARD -i {ShellWord.Quote(iface)} -p tcp -m multiport --dports {ports} -j REJECT --reject-with tcp-reset",
            $"ip6tables -I FORWARD -i {ShellWord.Quote(iface)} -p tcp -m multiport --dports {ports} -j REJECT --reject-with tcp-reset",
            $"# nftables: nft insert rule inet filter forward iifname {NftString(iface)} tcp dport {{ {string.Join(", ", mailPorts.Order())} }} reject with tcp reset",
        ]);
    }

    /// <summary>
    /// For a culprit whose interface name no system would choose: how to tell whether the kernel wrote these lines
    /// (a local user can write to syslog, not to the kernel's own log), instead of a block rule for the name.
    /// </summary>
    private static Advice CheckForged(Actor a)
    {
        string needle = ShellWord.Quote("IN=" + a.Key + " ");
        return new Advice($"Check these lines before acting on them: no system names an interface {ShellWord.Quote(a.Key)}", [
            "ip -br link                          # the interfaces this host has",
            $"journalctl -k | grep -c -F -e {needle}   # how many the kernel logged this boot (no user can log there)",
            $"grep -l -F -e {needle} /var/log/kern.log* /var/log/syslog* /var/log/messages* 2>/dev/null   # the files holding them",
        ]);
    }

    /// <summary>A string for nft, in the shell: "name" as nft writes it where the name is plain, else the whole of it single-quoted.</summary>
    private static string NftString(string name) => ShellWord.IsPlain(name) ? "\"" + name + "\"" : ShellWord.Quote("\"" + name + "\"");

    /// <summary>A user's home directory in a command: ~name where the name is plain, else looked up (a quoted ~ does not expand).</summary>
    private static string Home(Actor a) => a.UserName is { } u && ShellWord.IsPlain(u) && !char.IsAsciiDigit(u[0]) && u[0] != '-'
        ? "~" + u
        : $"\"$(getent passwd {ShellWord.Quote(a.UserName ?? a.Key)} | cut -d: -f6)\"";

    private static Advice FindProcess(Actor a, ushort port, DateTimeOffset? since, VerdictOptions o)
    {
        string user = a.UserName ?? a.Key;
        var commands = new List<string>
        {
            $"ss -tnp state syn-sent '( dport = :{port} )'     # the process connecting now",
            $"ps -o pid,lstart,cmd -u {ShellWord.Quote(user)}",
            "ls -l /proc/PID/cwd /proc/PID/exe             # where it runs from",
        };
        if (a.UserName is { } name && o.WebUsers.Contains(name))
        {
            string stamp = (since ?? a.Stat.First)?.AddHours(-1).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "2 days ago";
            commands.Add($"find /var/www -name '*.php' -newermt '{stamp}'   # files changed shortly before it began");
        }

        return new Advice($"Find the process of {a.Label}", commands);
    }

    /// <summary>Look at who forged kernel log lines (numeric IDs; a device name from the log only shell-quoted).</summary>
    private static Advice Forgers(IReadOnlyList<ForgedRecordWriter> forged, VerdictOptions o)
    {
        var commands = new List<string>();
        foreach (ForgedRecordWriter w in forged)
        {
            if (commands.Count >= 6)
            {
                break;
            }

            if (w.Uid is { } uid)
            {
                commands.Add(string.Create(CultureInfo.InvariantCulture, $"journalctl _UID={uid} SYSLOG_IDENTIFIER=kernel -o verbose | head -n 40   # the forged records"));
                commands.Add(string.Create(CultureInfo.InvariantCulture, $"ps -o pid,lstart,cmd -u {uid}"));
            }
            else if (w.Evidence == ForgeryEvidence.ImpossibleDevice && w.Device is { } device)
            {
                commands.Add($"grep -n -F -e {ShellWord.Quote(device)} /var/log/kern.log* /var/log/syslog* /var/log/messages* 2>/dev/null | head   # when they were written");
            }
            else if (w.Evidence == ForgeryEvidence.ProcessIdTag)
            {
                commands.Add("journalctl SYSLOG_IDENTIFIER=kernel _TRANSPORT=syslog -o verbose | head -n 40   # who wrote them (_UID, _PID, _COMM)");
            }
        }

        commands.Add("# read the kernel's own records only: journalctl -k, or -o json (mgscan checks _TRANSPORT); docs/verdict.md shows an rsyslog filter");
        ForgedRecordWriter top = forged[0];
        return top.Uid is null
            ? new Advice(top.Evidence == ForgeryEvidence.ImpossibleDevice ? "Find who wrote kernel log lines no kernel can print" : "Find who forged kernel log lines (the journal records the writer of each)", commands)
            : new Advice($"Find out why {Text.Writer(top, o)} forged kernel log lines", commands);
    }

    private static Advice Persist(LinuxFamily family) => family switch
    {
        LinuxFamily.Debian => new Advice("Keep the rules after a reboot (Debian/Ubuntu)", [
            "apt install iptables-persistent && netfilter-persistent save",
            "# nftables: nft list ruleset > /etc/nftables.conf && systemctl enable nftables",
        ]),
        LinuxFamily.RedHat => new Advice("Keep the rules after a reboot (RHEL family)", [
            "dnf install iptables-services && service iptables save && service ip6tables save",
            "# firewalld instead: firewall-cmd --permanent --direct --add-rule ipv4 filter OUTPUT 0 ... ; firewall-cmd --reload",
        ]),
        _ => new Advice("Keep the rules after a reboot", [
            "# Debian/Ubuntu: apt install iptables-persistent && netfilter-persistent save",
            "# RHEL family:   dnf install iptables-services && service iptables save",
            "# nftables:      nft list ruleset > /etc/nftables.conf && systemctl enable nftables",
        ]),
    };
}
