namespace MailGuard.Parsing;

/// <summary>Settings of an <see cref="EnvelopeParser"/>.</summary>
public sealed record EnvelopeOptions
{
    /// <summary>
    /// The instant the log was written up to (e.g. the file's modification time): a year-less RFC 3164
    /// timestamp gets this year, or the year before when that would put it more than a day after this
    /// instant (so a log that runs across New Year gets December in the old year). Default: now.
    /// </summary>
    public DateTimeOffset ReferenceTime { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The UTC offset of timestamps that carry none (RFC 3164, <c>dmesg -T</c>, unknown zone names), when <see cref="TimeZone"/> is null. Default: UTC.</summary>
    public TimeSpan AssumedOffset { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// The zone of timestamps that carry no offset, when set: each local time gets the offset its zone had then, so a
    /// log that runs across a daylight-saving change is right on both sides (an hour that occurs twice is read as the
    /// first; one that is skipped, with the offset before the change). Wins over <see cref="AssumedOffset"/>. Default: null.
    /// </summary>
    public TimeZoneInfo? TimeZone { get; init; }
}
