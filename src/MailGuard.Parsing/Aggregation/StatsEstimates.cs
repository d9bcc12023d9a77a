namespace MailGuard.Parsing;

/// <summary>
/// Which figures of a <see cref="TrafficStats"/> are estimates, and their bounds (<see cref="TrafficStats.Estimates"/>). All
/// zero while every figure is exact, that is while no table had more distinct keys than <see cref="KeyBudget"/>.
/// </summary>
/// <remarks>
/// Counts past the budget are Space-Saving summaries (Metwally, Agrawal, El Abbadi 2005): each listed count is at most its
/// <see cref="KeyStat.CountError"/> over the true one, never under, and a key that is not listed had at most the table's
/// <c>…MaxError</c> entries — so an actor with more entries than that is always listed. Distinct counts are HyperLogLog
/// estimates (Flajolet et al. 2007) with the relative standard errors given here (about two thirds of estimates fall
/// within one, 95 % within two).
/// </remarks>
public sealed record StatsEstimates
{
    /// <summary>The budget in force (<see cref="TrafficStatsOptions.KeyBudget"/>).</summary>
    public int KeyBudget { get; init; }

    /// <summary>True when the statistics went past the budget and count into bounded summaries.</summary>
    public bool Bounded { get; init; }

    /// <summary>Past the budget: the most keys each histogram of sources, UIDs, services, ports, interfaces and prefixes keeps.</summary>
    public int KeptPerHistogram { get; init; }

    /// <summary>The relative standard error of a key's distinct destinations (and of an interface's distinct sources); 0 when exact.</summary>
    public double DistinctRelativeError { get; init; }

    /// <summary>The relative standard error of the distinct destinations of all entries; 0 when exact.</summary>
    public double AllDistinctRelativeError { get; init; }

    /// <summary>The most a destination's count can be over, and the most a destination not listed had.</summary>
    public long DestinationsMaxError { get; init; }

    /// <summary>Destinations dropped (others counted in their place).</summary>
    public long DestinationsDropped { get; init; }

    /// <summary>As <see cref="DestinationsMaxError"/>, for sources.</summary>
    public long SourcesMaxError { get; init; }

    /// <summary>As <see cref="DestinationsMaxError"/>, for UIDs.</summary>
    public long UidsMaxError { get; init; }

    /// <summary>As <see cref="DestinationsMaxError"/>, for destination ports.</summary>
    public long PortsMaxError { get; init; }

    /// <summary>As <see cref="DestinationsMaxError"/>, for prefixes.</summary>
    public long PrefixesMaxError { get; init; }

    /// <summary>As <see cref="DestinationsMaxError"/>, for input and output interfaces.</summary>
    public long InterfacesMaxError { get; init; }

    /// <summary>As <see cref="DestinationsMaxError"/>, for services.</summary>
    public long ServicesMaxError { get; init; }

    /// <summary>Keys of sources, UIDs, ports, interfaces, prefixes and services dropped (others counted in their place).</summary>
    public long KeysDropped { get; init; }

    /// <summary>How often a prefix or interface name past the budget was met: those are counted under one name.</summary>
    public long NamesDropped { get; init; }

    /// <summary>Live flows forgotten (more than 4 × the budget at once): attempts may be over by at most this many.</summary>
    public long AttemptsMaxError { get; init; }

    /// <summary>The width of the timeline's buckets: one minute, wider past the budget (the busiest minute is then an upper bound).</summary>
    public TimeSpan TimelineResolution { get; init; } = TimeSpan.FromMinutes(1);
}
