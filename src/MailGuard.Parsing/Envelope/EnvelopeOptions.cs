namespace MailGuard.Parsing;

/// <summary>Settings of an <see cref="EnvelopeParser"/>.</summary>
public sealed class EnvelopeOptions
{
    /// <summary>
    /// The instant the log was written up to (e.g. the file's modification time): a year-less RFC 3164
    /// timestamp gets this year, or the year before when that would put it more than a day after this
    /// instant (so a log that runs across New Year gets December in the old year). Default: now.
    /// </summary>
    public DateTimeOffset ReferenceTime { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The UTC offset of timestamps that carry none (RFC 3164, <c>dmesg -T</c>, unknown zone names). Default: UTC.</summary>
    public TimeSpan AssumedOffset { get; init; } = TimeSpan.Zero;
}
