namespace MailGuard.Parsing;

/// <summary>Settings of a <see cref="TrafficStats"/>.</summary>
public sealed record TrafficStatsOptions
{
    /// <summary>
    /// Packets of one flow (SRC, SPT, DST, DPT) less than this apart are one connection attempt (SYN
    /// retransmissions). Linux retries a SYN after 1, 2, 4, 8, 16, 32 s (tcp_syn_retries = 6), so the
    /// longest gap inside one attempt is about a minute; a new attempt from the same source port within two
    /// minutes is rare (the kernel cycles through ~28,000 ephemeral ports). Default 2 minutes.
    /// </summary>
    public TimeSpan RetryWindow { get; init; } = TimeSpan.FromMinutes(2);
}
