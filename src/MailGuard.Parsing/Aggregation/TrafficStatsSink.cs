namespace MailGuard.Parsing;

/// <summary>
/// The sink that fills a <see cref="TrafficStats"/> from a scan: entries are added (with their repeats), a
/// <see cref="LineKind.Duplicate"/> of an entry is only observed (counted elsewhere, but its retransmissions are
/// not new attempts), <see cref="LineKind.Forged"/> records go to <see cref="TrafficStats.Forged"/>, and outgoing mail
/// connections under other prefixes (<see cref="LogRecord.OutgoingMail"/>) to <see cref="TrafficStats.OtherPrefixMail"/>.
/// </summary>
/// <param name="stats">The statistics to fill.</param>
public readonly struct TrafficStatsSink(TrafficStats stats) : ILogSink
{
    /// <summary>The statistics being filled.</summary>
    public TrafficStats Stats { get; } = stats ?? throw new ArgumentNullException(nameof(stats));

    /// <inheritdoc/>
    public void OnLine(LineKind kind, ref LogRecord record)
    {
        switch (kind)
        {
            case LineKind.Entry:
                Stats.Add(ref record);
                break;
            case LineKind.Duplicate when record.Status == NetfilterParseStatus.Entry:
                Stats.Observe(ref record);
                break;
            case LineKind.Forged:
                Stats.Forged.Add(ref record);
                break;
            case LineKind.OtherPrefix when record.OutgoingMail:
                Stats.OtherPrefixMail.Add(ref record);
                break;
        }
    }
}
