namespace MailGuard.Parsing;

/// <summary>
/// Settings of a <see cref="MailScan"/>: which entries count, how times are read, what is remembered. Immutable;
/// change one setting with <c>with</c> (<c>options with { Since = … }</c>).
/// </summary>
public sealed record MailScanOptions
{
    /// <summary>Which log prefixes are selected. Default <see cref="PrefixFilter.TcpOut"/> (the README's rules and the per-service ones).</summary>
    public PrefixFilter Filter { get; init; } = PrefixFilter.TcpOut;

    /// <summary>When set, only entries to these destination ports (<c>DPT=</c>) count.</summary>
    public IReadOnlyCollection<ushort>? Ports { get; init; }

    /// <summary>When set, entries before this instant (or without an absolute time) do not count.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>When set, entries after this instant (or without an absolute time) do not count.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>
    /// The mail ports: outgoing connections to them logged under another prefix are noticed (<see cref="ScanTotals.OtherPrefixMail"/>,
    /// <see cref="TrafficStats.OtherPrefixMail"/>). Default 25, 465, 587, 2525.
    /// </summary>
    public IReadOnlyCollection<ushort> MailPorts { get; init; } = [25, 465, 587, 2525];

    /// <summary>The zone of timestamps without an offset (syslog's <c>Nov 23 02:14:07</c>): each gets the offset of its own date. Default: this machine's zone.</summary>
    public TimeZoneInfo TimeZone { get; init; } = TimeZoneInfo.Local;

    /// <summary>
    /// The instant the logs were written up to, for the year of year-less timestamps. Default null: each file's
    /// modification time, and for a stream the time the scan starts.
    /// </summary>
    public DateTimeOffset? ReferenceTime { get; init; }

    /// <summary>Packets of one flow less than this apart are one connection attempt (<see cref="TrafficStatsOptions.RetryWindow"/>). Default 2 minutes.</summary>
    public TimeSpan RetryWindow { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The most distinct keys (destinations, sources, UIDs, their combinations, names, minutes) counted exactly
    /// (<see cref="TrafficStatsOptions.KeyBudget"/>): below it every figure is exact; past it the statistics switch to bounded
    /// summaries and say so (<see cref="TrafficStats.Estimates"/>), so a stream that runs for months, or floods the log with
    /// forged keys, keeps memory flat. Default <see cref="TrafficStatsOptions.DefaultKeyBudget"/> (the whole mgscan process
    /// stays under 100 MB); at least 64.
    /// </summary>
    public int KeyBudget { get; init; } = TrafficStatsOptions.DefaultKeyBudget;

    /// <summary>The statistics' settings.</summary>
    /// <summary>
    /// True (the default): files among the inputs whose first lines are an application log's (Postfix, Exim, V2Ray/Xray,
    /// shadowsocks-libev, PHP's mail.log) are joined with the attempts (<see cref="MailScanReport.Attribution"/>); a file
    /// holding both (a syslog) is read for both. False: every input is read for netfilter entries only.
    /// </summary>
    public bool JoinApplicationLogs { get; init; } = true;

    /// <summary>Told of each attempt in order when application logs are joined (set by <see cref="MailScan"/> for its inner kernel scan).</summary>
    internal AppLogs.IAttemptListener? AttemptListener { get; init; }

    /// <summary>Keep every decision of the join (<see cref="Attribution.Trace"/>), for tests.</summary>
    internal bool TraceJoin { get; init; }

    internal TrafficStatsOptions Stats => new() { RetryWindow = RetryWindow, KeyBudget = KeyBudget };

    /// <summary>Longer lines are skipped and counted (<see cref="ScanTotals.OverlongLines"/>). Default 64 KiB.</summary>
    public int MaxLineLength { get; init; } = 64 * 1024;

    /// <summary>The most copies a second a repeat notice may stand for (<see cref="LogScannerOptions.MaxRepeatRate"/>). Default 10,000.</summary>
    public int MaxRepeatRate { get; init; } = 10_000;

    /// <summary>How far apart in time two copies of one line in two inputs may be and still count once (<see cref="LogScannerOptions.DuplicateWindow"/>). Default 10 s.</summary>
    public TimeSpan DuplicateWindow { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many cores a large file is read on. Default 0: all of them.</summary>
    public int Parallelism { get; init; }

    /// <summary>
    /// When an input cannot be opened (missing, unreadable), scan nothing and say so in <see cref="MailScanReport.Inputs"/>:
    /// the input that is missing may hold the evidence. Default true; false scans the others.
    /// </summary>
    public bool RequireEveryInput { get; init; } = true;

    /// <summary>
    /// Called on the scanning thread for every selected entry, in input order (the entries of a large file are then read
    /// on one core). A convenience: each call allocates a <see cref="MailEntry"/> and its strings. Null: none.
    /// </summary>
    public Action<MailEntry>? OnEntry { get; init; }

    /// <summary>Called when every line that has arrived was read and a live stream waits for more (the place to flush output).</summary>
    public Action? Waiting { get; init; }

    /// <summary>
    /// When set, called about every <see cref="SnapshotInterval"/> with a report of what was read so far (a copy: it stays as
    /// it is while the scan goes on), also while a live stream is silent (checked every 250 ms); never at the same time as
    /// the scan, so it may read the report at leisure, but the scan waits for it. For live views of a stream that never ends;
    /// the inputs are then read on one core.
    /// </summary>
    public Action<MailScanReport>? OnSnapshot { get; init; }

    /// <summary>How often <see cref="OnSnapshot"/> is called. Default 1 second.</summary>
    public TimeSpan SnapshotInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The line parser's settings for an input written up to <paramref name="reference"/>.</summary>
    internal LogLineParserOptions Parser(DateTimeOffset reference) => new()
    {
        Filter = Filter,
        Ports = Ports,
        Since = Since,
        Until = Until,
        MailPorts = MailPorts,
        SkipOtherLines = true, // the statistics need entries only
        LeanEntries = OnEntry is null && AttemptListener is null, // and of them only addresses, ports, UID/GID, interfaces and prefix (the join needs the TCP flags: a SYN opens a connection)
        Envelope = new EnvelopeOptions { TimeZone = TimeZone, ReferenceTime = reference },
    };

    /// <summary>The scanner's settings.</summary>
    internal LogScannerOptions Scanner(DateTimeOffset reference) => new()
    {
        Parser = Parser(reference),
        MaxLineLength = MaxLineLength,
        MaxRepeatRate = MaxRepeatRate,
        DuplicateWindow = DuplicateWindow,
        Waiting = Waiting,
    };
}
