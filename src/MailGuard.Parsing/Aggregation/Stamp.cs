namespace MailGuard.Parsing.Internals;

/// <summary>
/// An entry's time, worked out once per entry for every histogram it updates: the wall clock (UTC ticks, minute,
/// offset) when the line gave one, else the kernel's time since boot (a clock of its own, never mixed with the wall
/// clock), else none.
/// </summary>
internal readonly struct Stamp
{
    /// <summary>Uptimes beyond this are not believed (and would not fit a <see cref="DateTimeOffset"/> counted from year 1).</summary>
    public static readonly long MaxUptimeTicks = TimeSpan.FromDays(100_000).Ticks;

    /// <summary>UTC ticks, or <see cref="long.MinValue"/> when the entry had no absolute time.</summary>
    public readonly long Ticks;

    /// <summary>Minutes since 0001-01-01 UTC; for an entry with only an uptime, minutes since boot.</summary>
    public readonly long Minute;

    /// <summary>The UTC offset the log gave.</summary>
    public readonly TimeSpan Offset;

    /// <summary>For an entry without an absolute time, the kernel's time since boot in ticks; otherwise <see cref="long.MinValue"/>.</summary>
    public readonly long Uptime;

    public Stamp(DateTimeOffset? time, TimeSpan? uptime = null)
    {
        Uptime = long.MinValue;
        if (time is { } t)
        {
            Ticks = t.UtcTicks;
            Minute = Ticks / TimeSpan.TicksPerMinute;
            Offset = t.Offset;
        }
        else
        {
            Ticks = long.MinValue;
            if (uptime is { Ticks: >= 0 } up && up.Ticks <= MaxUptimeTicks)
            {
                Uptime = up.Ticks;
                Minute = Uptime / TimeSpan.TicksPerMinute;
            }
        }
    }

    /// <summary>The entry had a wall-clock time.</summary>
    public bool HasTime => Ticks != long.MinValue;

    /// <summary>The entry had no wall-clock time but the kernel's time since boot.</summary>
    public bool HasUptime => Uptime != long.MinValue;
}
