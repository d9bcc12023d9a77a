using System.Globalization;
using MailGuard.Analysis.Internals;
using MailGuard.Parsing;

namespace MailGuard.Analysis;

/// <summary>What the outgoing mail traffic looks like.</summary>
public enum VerdictClass
{
    /// <summary>Little mail traffic, at a low rate, to few servers: nothing to act on.</summary>
    NothingSuspicious = 0,

    /// <summary>Spam sent straight to other domains' mail servers: port 25, many different destinations.</summary>
    DirectToMx,

    /// <summary>A proxy or VPN service relaying its clients' mail traffic (forwarded from many clients, or a proxy daemon's UID).</summary>
    ProxyRelay,

    /// <summary>Many connections to one or a few submission relays (465/587): e.g. stolen SMTP credentials.</summary>
    RelayAbuse,

    /// <summary>One client retrying a few servers again and again: a stuck mail queue or a misconfigured program.</summary>
    RetryingClient,

    /// <summary>Much mail traffic that fits none of the patterns above.</summary>
    Unclear,

    /// <summary>
    /// No spam pattern among the genuine entries, but the log holds records that pose as the kernel's LOG lines and
    /// that it says a process wrote (<see cref="SpamVerdict.Forged"/>): someone is forging the evidence.
    /// </summary>
    ForgedLog,

    /// <summary>
    /// The input held no netfilter LOG line at all (<see cref="ScanTotals.NetfilterLines"/> is 0): not an all-clear but a
    /// diagnosis — the LOG rules are missing, log elsewhere (another network namespace, the journal only), or the input
    /// is not the kernel's log. The summary names the input and the causes; the advice gives the rules.
    /// </summary>
    NoLogLines,

    /// <summary>
    /// No spam pattern among the selected entries, but outgoing mail connections were logged under prefixes the selection
    /// left out (<see cref="ScanTotals.OtherPrefixMail"/>): they were not analysed, so this is no all-clear.
    /// </summary>
    MailUnderOtherPrefixes,
}

/// <summary>A prefix whose entries were analysed although the prefix filter does not select it: outgoing mail connections logged by other rules.</summary>
/// <param name="Prefix">The log prefix (log text: escape it before showing it).</param>
/// <param name="Entries">Its entries.</param>
/// <param name="FrontEnd">The firewall front-end that writes it (<see cref="FirewallFrontEnds.Name"/>), or null.</param>
public sealed record DiscoveredPrefix(string Prefix, long Entries, string? FrontEnd);

/// <summary>How sure the verdict is.</summary>
public enum Confidence
{
    /// <summary>The figures only just fit the class, or the actor made a minority of the traffic.</summary>
    Low = 0,

    /// <summary>The figures fit; the actor made most of the traffic.</summary>
    Medium,

    /// <summary>The figures fit by a wide margin and one actor made nearly all the traffic.</summary>
    High,
}

/// <summary>What kind of sender an <see cref="Actor"/> is.</summary>
public enum ActorKind
{
    /// <summary>A local user or service (<c>UID=</c>).</summary>
    User = 0,

    /// <summary>Clients whose traffic came in through an interface and was forwarded (a VPN, containers, a LAN).</summary>
    ForwardedInterface,

    /// <summary>A source address, for entries without <c>UID=</c> that were not forwarded (rules without <c>--log-uid</c>).</summary>
    Source,

    /// <summary>A systemd service named by a per-service LOG rule's prefix (<see cref="ServicePrefix"/>): one of the services behind a shared UID.</summary>
    Service,
}

/// <summary>One candidate sender of mail traffic, with the evidence.</summary>
public sealed class Actor
{
    internal Actor(ActorKind kind, string key, string label, KeyStat stat, IReadOnlyCollection<ushort> mailPorts, long allMailAttempts, string? userName = null)
    {
        UserName = userName;
        Kind = kind;
        Key = key;
        Label = label;
        Stat = stat;
        var ports = new SortedDictionary<ushort, PortCount>();
        if (stat.Ports is { } perPort)
        {
            foreach ((ushort port, PortCount count) in perPort)
            {
                if (mailPorts.Contains(port))
                {
                    ports[port] = count;
                    MailAttempts += count.Attempts;
                    MailPackets += count.Packets;
                }
            }
        }

        MailPorts = ports;
        Share = allMailAttempts == 0 ? 0 : (double)MailAttempts / allMailAttempts;
        RateClock = stat.AttemptTimeline?.PeakClock ?? ClockKind.None;
        Timeline? rated = stat.AttemptTimeline?.On(RateClock);
        PeakMinute = rated?.PeakMinute;
        AttemptsOffClock = stat.Attempts - (rated?.Count ?? 0);
    }

    /// <summary>True when <see cref="PeakMinute"/> comes from buckets wider than a minute (past the key budget): an upper bound.</summary>
    public bool PeakIsUpperBound => Stat.AttemptTimeline?.On(RateClock)?.Resolution > TimeSpan.FromMinutes(1);

    /// <summary>A peak from wide buckets is at most the busiest minute of all entries: the tighter of the two upper bounds.</summary>
    internal void BoundPeak(Actor all)
    {
        if (PeakIsUpperBound && PeakMinute is { } mine && all.RateClock == RateClock && all.PeakMinute is { } overall && overall.Count < mine.Count)
        {
            PeakMinute = mine with { Count = overall.Count };
        }
    }

    /// <summary>What kind of sender this is.</summary>
    public ActorKind Kind { get; }

    /// <summary>
    /// The host whose log lines these are (<see cref="TrafficStats.Hosts"/>) when the input holds several hosts: uid 1801
    /// on two hosts is two actors, and <see cref="Label"/> starts with the host (<c>vps-17 uid 1801</c>). Null for one host.
    /// </summary>
    public string? Host { get; internal init; }

    /// <summary>The key: the UID as a number, the interface name, or the address.</summary>
    public string Key { get; }

    /// <summary>For users: the name from the passwd data, or null.</summary>
    public string? UserName { get; }

    /// <summary>For people: <c>uid 33 (www-data)</c>, <c>clients behind wg0</c>, <c>192.0.2.10</c>; for a <see cref="SuspiciousName"/>, <c>clients behind suspicious interface 'x;id>P;#'</c>.</summary>
    public string Label { get; }

    /// <summary>
    /// True for forwarded clients behind an interface name no system would choose (not 1 to 15 letters, digits, '_',
    /// '.', '-' or '@'): its lines may be forged by a local user writing to the log. The verdict then says so, is of
    /// low confidence, and advises checking the lines instead of blocking the name.
    /// </summary>
    public bool SuspiciousName => Kind == ActorKind.ForwardedInterface && !ShellWord.IsUsualInterfaceName(Key);

    /// <summary>Everything known about this actor's entries (all ports).</summary>
    public KeyStat Stat { get; }

    /// <summary>Connection attempts to mail ports.</summary>
    public long MailAttempts { get; }

    /// <summary>Logged packets to mail ports (retransmissions included).</summary>
    public long MailPackets { get; }

    /// <summary>Packets and attempts per mail port.</summary>
    public IReadOnlyDictionary<ushort, PortCount> MailPorts { get; }

    /// <summary>This actor's share of all mail connection attempts (0 to 1).</summary>
    public double Share { get; }

    /// <summary>
    /// The minute with the most attempts (any port) on <see cref="RateClock"/> (on the uptime clock its start is
    /// <see cref="TimeBucket.SinceBoot"/>); null when no attempt had a time: the rate is unknown.
    /// </summary>
    public TimeBucket? PeakMinute { get; private set; }

    /// <summary>
    /// The clock the rate was measured on: the one whose busiest minute holds most of the actor's attempts
    /// (<see cref="Timeline.PeakClock"/>); <see cref="ClockKind.None"/> when none had a time.
    /// </summary>
    public ClockKind RateClock { get; }

    /// <summary>Attempts (any port) not on <see cref="RateClock"/> — without a time, or on the other clock — and so not in <see cref="PeakMinute"/>.</summary>
    public long AttemptsOffClock { get; }

    /// <summary>
    /// For users: whether several services often run as this UID (0, 65534, or a name in <see cref="VerdictOptions.SharedUsers"/>
    /// or <see cref="VerdictOptions.ProxyUsers"/>), so that the log cannot tell which one sent the traffic.
    /// </summary>
    public bool SharedUid { get; internal init; }

    /// <summary>Attempts on one port.</summary>
    /// <param name="port">The port.</param>
    /// <returns>The attempts, 0 when none.</returns>
    public long AttemptsTo(ushort port) => MailPorts.TryGetValue(port, out PortCount c) ? c.Attempts : 0;
}

/// <summary>The verdict on one host's entries, when the input holds several hosts (<see cref="SpamVerdict.Hosts"/>).</summary>
/// <param name="Host">The host name (log text: escape it before showing it); empty for lines without one.</param>
/// <param name="Stat">All the host's selected entries: count, attempts, distinct destinations, time range.</param>
/// <param name="Class">The pattern of the host's traffic, judged on its entries alone.</param>
/// <param name="Confidence">How sure.</param>
/// <param name="Culprit">The host's actor with the most mail attempts, or null.</param>
public sealed record HostVerdict(string Host, KeyStat Stat, VerdictClass Class, Confidence Confidence, Actor? Culprit)
{
    /// <summary>How the host is named in labels: <see cref="Host"/>, or <c>(no host)</c> for lines without one.</summary>
    public string Label => LabelOf(Host);

    internal static string LabelOf(string host) => host.Length == 0 ? "(no host)" : host;
}

/// <summary>A commanded step of the advice.</summary>
/// <param name="Title">What the step does, in a line.</param>
/// <param name="Commands">Shell commands (lines starting with <c>#</c> are comments).</param>
public sealed record Advice(string Title, IReadOnlyList<string> Commands);

/// <summary>
/// The conclusion a sysadmin can act on: which actor (user, forwarded clients, address) sent the mail
/// traffic, which pattern it follows, the evidence, how sure, and the commands that contain it.
/// </summary>
/// <example>
/// <code>
/// SpamVerdict v = SpamVerdict.Analyze(stats, new VerdictOptions { UserNames = UserNames.Parse(File.ReadAllText("/etc/passwd")) });
/// Console.WriteLine(v.Headline); // Direct-to-MX spam from uid 33 (www-data), high confidence
/// Console.WriteLine(v.Summary);
/// </code>
/// </example>
public sealed class SpamVerdict
{
    private readonly DateTimeOffset? _burst; // on the culprit's rate clock

    private SpamVerdict(KeyStat all, VerdictClass cls, Confidence confidence, Actor? culprit, IReadOnlyList<Actor> actors, long attempts, long packets, bool uidLogged, DateTimeOffset? burst, IReadOnlyList<ForgedRecordWriter> forged, VerdictOptions options)
    {
        Forged = forged;
        Options = options;
        All = all;
        Class = cls;
        Confidence = confidence;
        Culprit = culprit;
        Actors = actors;
        MailAttempts = attempts;
        MailPackets = packets;
        UidLogged = uidLogged;
        _burst = burst;
    }

    /// <summary>The pattern.</summary>
    public VerdictClass Class { get; }

    /// <summary>All selected entries (every port): attempts over time in <see cref="KeyStat.AttemptTimeline"/>.</summary>
    public KeyStat All { get; }

    /// <summary>How sure.</summary>
    public Confidence Confidence { get; }

    /// <summary>The actor the verdict is about (the one with most mail attempts), or null when there was no mail traffic.</summary>
    public Actor? Culprit { get; }

    /// <summary>Every candidate, most mail attempts first (when the input holds several hosts, each host's actors: <see cref="Actor.Host"/>).</summary>
    public IReadOnlyList<Actor> Actors { get; }

    /// <summary>
    /// When the input holds several hosts (a central log server's file, several hosts' files): each host's figures and
    /// the class of its traffic on its own, most attempts first. Empty for one host. With several hosts, users are
    /// shown by number: one passwd file cannot name the users of several machines.
    /// </summary>
    public IReadOnlyList<HostVerdict> Hosts { get; private init; } = [];

    /// <summary>All connection attempts to mail ports.</summary>
    public long MailAttempts { get; }

    /// <summary>All logged packets to mail ports.</summary>
    public long MailPackets { get; }

    /// <summary>False when no entry carried <c>UID=</c>: the LOG rules lack <c>--log-uid</c> and local senders cannot be told apart.</summary>
    public bool UidLogged { get; }

    /// <summary>
    /// When the culprit's traffic turned into a burst (the first minute with at least <see cref="VerdictOptions.BurstMinPerMinute"/>
    /// attempts and a quarter of its peak), or null; on the wall clock only (see <see cref="BurstSinceBoot"/>).
    /// </summary>
    public DateTimeOffset? BurstStart => Clock == ClockKind.WallClock ? _burst : null;

    /// <summary>The burst's start as the kernel's time since boot, when the culprit's lines gave no wall-clock time (<see cref="ClockKind.Uptime"/>); otherwise null.</summary>
    public TimeSpan? BurstSinceBoot => Clock == ClockKind.Uptime && _burst is { } b ? TimeSpan.FromTicks(b.UtcTicks) : null;

    /// <summary>
    /// The clock of the rates, the burst and the timeline: the culprit's <see cref="Actor.RateClock"/> (without a culprit, that of
    /// all attempts); <see cref="ClockKind.None"/> when the lines carried no time, so no rate was measured.
    /// </summary>
    public ClockKind Clock => Culprit?.RateClock ?? All.AttemptTimeline?.PeakClock ?? ClockKind.None;

    /// <summary>
    /// The writers of forged LOG lines (<see cref="LineKind.Forged"/>: netfilter text the log says a process wrote,
    /// not the kernel), most records first; empty when there were none. They are never counted as traffic; the
    /// summary and the advice name them in every class.
    /// </summary>
    public IReadOnlyList<ForgedRecordWriter> Forged { get; }

    /// <summary>The settings the verdict was reached with (thresholds, user names, mail ports).</summary>
    public VerdictOptions Options { get; }

    /// <summary>What was read, when the caller passed it (<see cref="Analyze(TrafficStats, ScanTotals?, VerdictOptions?)"/>); null otherwise.</summary>
    public ScanTotals? Totals { get; private init; }

    /// <summary>
    /// The statistics the verdict was reached on: those given, or, when their selected prefixes logged nothing, their
    /// <see cref="TrafficStats.OtherPrefixMail"/> (outgoing mail connections under other rules' prefixes). Render these.
    /// </summary>
    public TrafficStats Stats { get; private init; } = null!;

    /// <summary>
    /// Prefixes of analysed entries that <see cref="VerdictOptions.Filter"/> does not select: outgoing mail connections
    /// found under other rules' prefixes, analysed because the selection logged nothing; most entries first.
    /// </summary>
    public IReadOnlyList<DiscoveredPrefix> DiscoveredPrefixes { get; private init; } = [];

    /// <summary>A sentence naming <see cref="DiscoveredPrefixes"/> (the first line of a report), or null when there are none.</summary>
    public string? Selection { get; private set; }

    /// <summary>
    /// What the application logs tell behind the culprit's UID (who submitted, which proxy user or script, how many
    /// attempts stayed unexplained), or null without a join, a UID culprit or a suspicion.
    /// </summary>
    public string? Behind { get; private set; }

    /// <summary>The scan's join with the application logs, when it had any (<see cref="MailScanReport.Attribution"/>).</summary>
    public Attribution? Attribution { get; private init; }

    /// <summary>One line: the class, the culprit and the confidence.</summary>
    public string Headline { get; private set; } = "";

    /// <summary>A sentence or two with the evidence figures and what the pattern means.</summary>
    public string Summary { get; private set; } = "";

    /// <summary>What to do: contain, find the process, keep the rules, make the next incident attributable.</summary>
    public IReadOnlyList<Advice> Advice { get; private set; } = [];

    /// <summary>Analyses the statistics of a scan.</summary>
    /// <param name="stats">The statistics (all entries selected by the scan).</param>
    /// <param name="options">Thresholds, names, family; defaults when null.</param>
    /// <returns>The verdict.</returns>
    public static SpamVerdict Analyze(TrafficStats stats, VerdictOptions? options = null) => Analyze(stats, null, options);

    /// <summary>
    /// Analyses the statistics of a scan, knowing what was read: an input without any LOG line gets a diagnosis
    /// (<see cref="VerdictClass.NoLogLines"/>), and mail traffic under prefixes the selection left out refuses the all-clear
    /// (<see cref="VerdictClass.MailUnderOtherPrefixes"/>).
    /// </summary>
    /// <param name="stats">The statistics (all entries selected by the scan).</param>
    /// <param name="totals">What the scan read; null: as <see cref="Analyze(TrafficStats, VerdictOptions?)"/>.</param>
    /// <param name="options">Thresholds, names, family, the prefix filter; defaults when null.</param>
    /// <returns>The verdict.</returns>
    public static SpamVerdict Analyze(TrafficStats stats, ScanTotals? totals, VerdictOptions? options = null) => Analyze(stats, totals, options, null);

    /// <summary>
    /// Analyses the statistics of a scan with its join with the application logs: the verdict then says who behind the
    /// culprit's UID sent it (<see cref="Behind"/>) and its advice names them.
    /// </summary>
    /// <param name="stats">The statistics (all entries selected by the scan).</param>
    /// <param name="totals">What the scan read, or null.</param>
    /// <param name="options">Thresholds, names, family, the prefix filter; defaults when null.</param>
    /// <param name="attribution">The join (<see cref="MailScanReport.Attribution"/>), or null.</param>
    /// <returns>The verdict.</returns>
    public static SpamVerdict Analyze(TrafficStats stats, ScanTotals? totals, VerdictOptions? options, Attribution? attribution)
    {
        ArgumentNullException.ThrowIfNull(stats);
        options ??= new VerdictOptions();
        TrafficStats selected = stats;
        if (stats.All.Count == 0 && stats.HasOtherPrefixMail)
        {
            stats = stats.OtherPrefixMail; // the selection logged nothing, other rules logged mail traffic: that is the evidence
        }

        var all = new Actor(ActorKind.Source, "*", "all", stats.All, options.MailPorts, 0);
        long total = all.MailAttempts;
        List<string> hosts = SeveralHosts(stats);
        List<Actor> actors = hosts.Count == 0 ? Candidates(stats, options, total) : HostCandidates(stats, hosts, options, total);
        foreach (Actor actor in actors)
        {
            actor.BoundPeak(all);
        }

        Actor? culprit = actors.Count > 0 && actors[0].MailAttempts > 0 ? actors[0] : null;
        bool uidLogged = stats.Uids.Count > 0;

        (VerdictClass cls, Confidence confidence) = culprit is null ? (VerdictClass.NothingSuspicious, Confidence.High) : Classify(culprit, total, options);
        confidence = culprit is { SuspiciousName: true } ? Confidence.Low : confidence;
        DateTimeOffset? burst = cls is VerdictClass.NothingSuspicious or VerdictClass.RetryingClient || culprit is null ? null : Burst(culprit, options);
        IReadOnlyList<ForgedRecordWriter> forged = selected.Forged.Writers;
        if (cls == VerdictClass.NothingSuspicious && forged.Count > 0)
        {
            (cls, confidence) = (VerdictClass.ForgedLog, Confidence.High); // the journal recorded who wrote them
        }
        else if (cls == VerdictClass.NothingSuspicious && totals is { NetfilterLines: 0 })
        {
            (cls, confidence) = (VerdictClass.NoLogLines, Confidence.High);
        }
        else if (cls == VerdictClass.NothingSuspicious && ReferenceEquals(stats, selected) && (totals is { OtherPrefixMail: > 0 } || selected.HasOtherPrefixMail))
        {
            (cls, confidence) = (VerdictClass.MailUnderOtherPrefixes, Confidence.Low);
        }

        var verdict = new SpamVerdict(stats.All, cls, confidence, culprit, actors, total, all.MailPackets, uidLogged, burst, forged, options)
        {
            Attribution = attribution,
            Totals = totals,
            Stats = stats,
            DiscoveredPrefixes = Discovered(stats, options.Filter),
            Hosts = hosts.Count == 0 ? [] : HostVerdicts(stats, hosts, options),
        };
        verdict.Selection = verdict.DiscoveredPrefixes.Count > 0 ? Text.Discovered(verdict) : null;
        verdict.Headline = Text.Headline(verdict, options);
        verdict.Summary = Text.Summary(verdict, options);
        verdict.Behind = cls is VerdictClass.NothingSuspicious or VerdictClass.NoLogLines or VerdictClass.ForgedLog ? null : MailGuard.Analysis.Behind.Sentence(verdict, options);
        verdict.Advice = AdviceFor.Verdict(verdict, options);
        if (culprit?.Host is { } host)
        {
            verdict.Advice = OnHost(verdict.Advice, host);
        }

        return verdict;
    }

    /// <summary>The host names of <see cref="TrafficStats.Hosts"/> when at least two are named (lines without a host beside one named host are that host's); else empty.</summary>
    private static List<string> SeveralHosts(TrafficStats stats)
    {
        var hosts = new List<string>();
        int named = 0;
        foreach ((string host, KeyStat _) in stats.Hosts.Top())
        {
            hosts.Add(host);
            named += host.Length > 0 ? 1 : 0;
        }

        return named > 1 ? hosts : [];
    }

    /// <summary>Each host's actors (<see cref="Actor.Host"/>), users by number.</summary>
    private static List<Actor> HostCandidates(TrafficStats stats, List<string> hosts, VerdictOptions options, long total)
    {
        var actors = new List<Actor>();
        VerdictOptions numbers = options with { UserNames = new Dictionary<uint, string>() };
        foreach (string host in hosts)
        {
            if (host == TrafficStats.OtherHosts)
            {
                continue; // many hosts' entries together: no actor of one host
            }

            TrafficStats part = stats.ForHost(host);
            long hostTotal = new Actor(ActorKind.Source, "*", "all", part.All, options.MailPorts, 0).MailAttempts;
            actors.AddRange(Candidates(part, numbers, total, host, hostTotal));
        }

        actors.Sort(static (a, b) => b.MailAttempts.CompareTo(a.MailAttempts));
        return actors;
    }

    /// <summary>The verdict on each host's entries alone, most attempts first.</summary>
    private static List<HostVerdict> HostVerdicts(TrafficStats stats, List<string> hosts, VerdictOptions options)
    {
        var list = new List<HostVerdict>(hosts.Count);
        VerdictOptions numbers = options with { UserNames = new Dictionary<uint, string>() };
        foreach (string host in hosts)
        {
            TrafficStats part = stats.ForHost(host);
            if (host == TrafficStats.OtherHosts)
            {
                list.Add(new HostVerdict(host, part.All, VerdictClass.Unclear, Confidence.Low, null)); // many hosts together: not judged
                continue;
            }

            SpamVerdict v = Analyze(part, numbers);
            list.Add(new HostVerdict(host, part.All, v.Class, v.Confidence, v.Culprit));
        }

        list.Sort(static (a, b) =>
        {
            int c = b.Stat.Attempts.CompareTo(a.Stat.Attempts);
            return c != 0 ? c : string.CompareOrdinal(a.Host, b.Host);
        });
        return list;
    }

    /// <summary>The advice for a culprit on one host of several: every step is to be taken there.</summary>
    private static List<Advice> OnHost(IReadOnlyList<Advice> advice, string host)
    {
        var steps = new List<Advice>(advice.Count);
        foreach (Advice a in advice)
        {
            steps.Add(a with { Title = $"On {HostVerdict.LabelOf(host)}: {a.Title}" });
        }

        return steps;
    }

    private static List<Actor> Candidates(TrafficStats stats, VerdictOptions options, long total, string? host = null, long hostTotal = -1)
    {
        var actors = new List<Actor>();
        long byUid = 0;
        string on = host is null ? "" : HostVerdict.LabelOf(host) + " ";

        // Services named by per-service rules take their traffic from the UID they run as; the UID keeps the rest.
        foreach ((string service, KeyStat stat) in stats.Services.Top())
        {
            string? user = stat.Uid is { } u && options.UserNames.TryGetValue(u, out string? n) ? n : null;
            string runsAs = stat.Uid is { } uid ? (user is null ? $" (uid {uid})" : $" (uid {uid} {user})") : "";
            var actor = new Actor(ActorKind.Service, service, $"{on}service {service}{runsAs}", stat, options.MailPorts, total, user) { Host = host };
            byUid += actor.MailAttempts;
            actors.Add(actor);
        }

        foreach ((uint uid, KeyStat stat) in stats.UidsWithoutService.Top())
        {
            string label = options.UserNames.TryGetValue(uid, out string? name) ? $"{on}uid {uid} ({name})" : $"{on}uid {uid}";
            var actor = new Actor(ActorKind.User, uid.ToString(CultureInfo.InvariantCulture), label, stat, options.MailPorts, total, name)
            {
                Host = host,
                SharedUid = uid is 0 or 65534 || (name is not null && (options.SharedUsers.Contains(name) || options.ProxyUsers.Contains(name))),
            };
            byUid += actor.MailAttempts;
            actors.Add(actor);
        }

        long forwarded = 0;
        foreach ((string name, KeyStat stat) in stats.InInterfaces.Top())
        {
            if (name.Length > 0 && stat.DistinctSources > 0)
            {
                string behind = ShellWord.IsUsualInterfaceName(name) ? name : "suspicious interface " + ShellWord.Quote(name);
                var actor = new Actor(ActorKind.ForwardedInterface, name, $"{stat.DistinctSources:N0} forwarded client{(stat.DistinctSources == 1 ? "" : "s")} behind {on}{behind}", stat, options.MailPorts, total) { Host = host };
                forwarded += actor.MailAttempts;
                actors.Add(actor);
            }
        }

        // Entries without UID that were not forwarded: only their addresses can tell them apart.
        if (byUid + forwarded < (hostTotal < 0 ? total : hostTotal) / 2)
        {
            foreach ((NetAddress src, KeyStat stat) in stats.Sources.Top(20))
            {
                actors.Add(new Actor(ActorKind.Source, src.ToString(), on + src.ToString(), stat, options.MailPorts, total) { Host = host });
            }
        }

        actors.Sort(static (a, b) => b.MailAttempts.CompareTo(a.MailAttempts));
        return actors;
    }

    private static (VerdictClass, Confidence) Classify(Actor a, long total, VerdictOptions o)
    {
        long attempts = a.MailAttempts;
        int destinations = a.Stat.DistinctDestinations;
        double port25 = attempts == 0 ? 0 : (double)a.AttemptsTo(25) / attempts;
        double submission = attempts == 0 ? 0 : (double)(a.AttemptsTo(465) + a.AttemptsTo(587)) / attempts;
        long peak = (a.PeakMinute?.Count ?? 0) + a.AttemptsOffClock; // at most: attempts without a time on its clock may all fall in that minute
        Confidence bySharePlus(bool wide) => a.Share >= 0.8 && wide ? Confidence.High : a.Share >= 0.5 ? Confidence.Medium : Confidence.Low;

        if (total < o.MinAttempts)
        {
            return (VerdictClass.NothingSuspicious, total == 0 ? Confidence.High : Confidence.Medium);
        }

        bool proxyUser = a.Kind == ActorKind.Service ? IsProxyService(a.Key, o) : a.UserName is { } user && o.ProxyUsers.Contains(user);
        if ((a.Kind == ActorKind.ForwardedInterface && a.Stat.DistinctSources >= o.ProxyMinClients) || (proxyUser && destinations >= o.RetryMaxDestinations))
        {
            return (VerdictClass.ProxyRelay, bySharePlus(a.Stat.DistinctSources >= 2 * o.ProxyMinClients || proxyUser));
        }

        if (submission >= o.RelayMinSubmissionShare && destinations <= o.RelayMaxDestinations && attempts >= o.RelayMinAttempts)
        {
            return (VerdictClass.RelayAbuse, bySharePlus(attempts >= 2 * o.RelayMinAttempts));
        }

        if (destinations <= o.RetryMaxDestinations && attempts >= o.RetryMinAttempts)
        {
            return (VerdictClass.RetryingClient, bySharePlus(attempts >= 2 * o.RetryMinAttempts));
        }

        if (port25 >= o.DirectToMxMinPort25Share && destinations >= o.DirectToMxMinDestinations)
        {
            return (VerdictClass.DirectToMx, bySharePlus(destinations >= 4 * o.DirectToMxMinDestinations));
        }

        if (peak <= o.QuietMaxPerMinute && destinations < o.DirectToMxMinDestinations)
        {
            return (VerdictClass.NothingSuspicious, peak <= o.QuietMaxPerMinute / 2 ? Confidence.High : Confidence.Medium);
        }

        return (VerdictClass.Unclear, Confidence.Low);
    }

    private static List<DiscoveredPrefix> Discovered(TrafficStats stats, PrefixFilter filter)
    {
        var found = new List<DiscoveredPrefix>();
        foreach ((string prefix, KeyStat stat) in stats.Prefixes.Top())
        {
            if (!filter.Matches(System.Text.Encoding.UTF8.GetBytes(prefix), out _))
            {
                found.Add(new DiscoveredPrefix(prefix, stat.Count, FirewallFrontEnds.Name(prefix)));
            }
        }

        return found;
    }

    private static bool IsProxyService(string service, VerdictOptions o)
    {
        foreach (string proxy in o.ProxyServices)
        {
            if (service.StartsWith(proxy, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static DateTimeOffset? Burst(Actor a, VerdictOptions o)
    {
        if (a.Stat.AttemptTimeline?.On(a.RateClock) is not { } timeline || a.PeakMinute is not { } peak)
        {
            return null;
        }

        return timeline.FirstMinuteWithAtLeast(Math.Max(o.BurstMinPerMinute, (peak.Count + 3) / 4));
    }
}
