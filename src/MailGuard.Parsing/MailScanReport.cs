namespace MailGuard.Parsing;

/// <summary>
/// What a <see cref="MailScan"/> found: the counts of what was read, the statistics of the selected entries (per port,
/// UID, source, destination, prefix, over time), and what happened to each input. Nothing changes it after it is made: a
/// live scan hands out a new report each time (<see cref="MailScanOptions.OnSnapshot"/>).
/// </summary>
/// <example>
/// <code>
/// MailScanReport report = await MailScan.FilesAsync(["/var/log/kern.log"]);
/// foreach ((ushort port, KeyStat stat) in report.Ports.Top(10))
///     Console.WriteLine($"{port,5} {stat.Count,10:N0}");
/// </code>
/// </example>
public sealed class MailScanReport
{
    internal MailScanReport(MailScanOptions options, TrafficStats stats, ScanTotals totals, IReadOnlyList<MailInputResult> inputs, bool cancelled, Attribution? attribution = null)
    {
        Attribution = attribution;
        Options = options;
        Stats = stats;
        var copy = new ScanTotals();
        copy.Add(totals);
        Totals = copy;
        Inputs = inputs;
        Cancelled = cancelled;
        _ = stats.All; // counts the held-back entries and sums the histograms now: reading the report changes nothing after
    }

    /// <summary>The settings the scan ran with.</summary>
    public MailScanOptions Options { get; }

    /// <summary>What was read and what was not counted (lines, entries, other prefixes, malformed, forged…).</summary>
    public ScanTotals Totals { get; }

    /// <summary>Every input, with why it could not be read (to its end), in the order given.</summary>
    public IReadOnlyList<MailInputResult> Inputs { get; }

    /// <summary>True when the scan stopped early on its cancellation token: the figures cover what was read until then.</summary>
    public bool Cancelled { get; }

    /// <summary>True when every input was opened and read to its end (no error, not cancelled).</summary>
    public bool Complete => !Cancelled && Inputs.All(i => i.Error is null);

    /// <summary>The statistics of the selected entries (and of outgoing mail under other prefixes, <see cref="TrafficStats.OtherPrefixMail"/>). Read them; do not add to them.</summary>
    public TrafficStats Stats { get; }

    /// <summary>All selected entries together: count, attempts, time range, distinct destinations.</summary>
    public KeyStat All => Stats.All;

    /// <summary>Per destination port.</summary>
    public KeyStats<ushort> Ports => Stats.Ports;

    /// <summary>Per local user (<c>UID=</c>); <see cref="TrafficStats.WithoutUid"/> counts the entries without one.</summary>
    public KeyStats<uint> Uids => Stats.Uids;

    /// <summary>Per source address.</summary>
    public KeyStats<NetAddress> Sources => Stats.Sources;

    /// <summary>Per destination address.</summary>
    public DestinationStats Destinations => Stats.Destinations;

    /// <summary>Per log prefix.</summary>
    public KeyStats<string> Prefixes => Stats.Prefixes;

    /// <summary>
    /// The join with the application logs among the inputs (Postfix, Exim, V2Ray/Xray, shadowsocks-libev, PHP's mail.log:
    /// recognised by content), or null when there were none: who behind each UID caused its attempts.
    /// </summary>
    public Attribution? Attribution { get; }

    /// <summary>Entries over time, per minute.</summary>
    public Timeline Timeline => Stats.Timeline;
}
