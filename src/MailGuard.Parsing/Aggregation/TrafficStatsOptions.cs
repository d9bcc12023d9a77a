namespace MailGuard.Parsing;

/// <summary>Settings of a <see cref="TrafficStats"/>.</summary>
public sealed record TrafficStatsOptions
{
    /// <summary>The default <see cref="KeyBudget"/>: 20,000 distinct keys per table (the whole mgscan process stays under 100 MB).</summary>
    public const int DefaultKeyBudget = 20_000;

    /// <summary>
    /// Packets of one flow (SRC, SPT, DST, DPT) less than this apart are one connection attempt (SYN
    /// retransmissions). Linux retries a SYN after 1, 2, 4, 8, 16, 32 s (tcp_syn_retries = 6), so the
    /// longest gap inside one attempt is about a minute; a new attempt from the same source port within two
    /// minutes is rare (the kernel cycles through ~28,000 ephemeral ports). Default 2 minutes.
    /// </summary>
    public TimeSpan RetryWindow { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The most distinct keys counted exactly: destinations, combinations of source, UID, port, interfaces and prefix (so
    /// sources, UIDs, services), names of prefixes and interfaces (an eighth of it), minutes of a timeline; 4 times as many
    /// live flows for telling attempts apart. Below it every figure is exact. Past it the statistics switch to bounded
    /// summaries, so memory stays flat however many keys a stream brings (every key can be forged by a local user writing
    /// log lines): the destinations keep the <c>KeyBudget</c> most frequent (Space-Saving, each count within its
    /// <see cref="KeyStat.CountError"/>), sources, UIDs, services, interfaces and prefixes an eighth of it each, distinct
    /// counts become HyperLogLog estimates (<see cref="KeyStat.DistinctDestinationsEstimated"/>), timelines widen their
    /// buckets (<see cref="Timeline.Resolution"/>); <see cref="TrafficStats.Estimates"/> says what is estimated and by how much.
    /// Default <see cref="DefaultKeyBudget"/>; at least 64.
    /// </summary>
    public int KeyBudget
    {
        get => _keyBudget;
        init => _keyBudget = value >= 64 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The key budget must be at least 64.");
    }

    private readonly int _keyBudget = DefaultKeyBudget;
}
