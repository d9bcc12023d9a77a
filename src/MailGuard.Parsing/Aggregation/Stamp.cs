namespace MailGuard.Parsing.Internals;

/// <summary>An entry's time, worked out once per entry for every histogram it updates (UTC ticks, minute, offset).</summary>
internal readonly struct Stamp
{
    /// <summary>UTC ticks, or <see cref="long.MinValue"/> when the entry had no absolute time.</summary>
    public readonly long Ticks;

    /// <summary>Minutes since 0001-01-01 UTC.</summary>
    public readonly long Minute;

    /// <summary>The UTC offset the log gave.</summary>
    public readonly TimeSpan Offset;

    public Stamp(DateTimeOffset? time)
    {
        if (time is { } t)
        {
            Ticks = t.UtcTicks;
            Minute = Ticks / TimeSpan.TicksPerMinute;
            Offset = t.Offset;
        }
        else
        {
            Ticks = long.MinValue;
        }
    }

    public bool HasTime => Ticks != long.MinValue;
}
