using System.Runtime.InteropServices;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing;

/// <summary>One interval of a <see cref="Timeline"/>.</summary>
/// <param name="Start">The start of the interval (UTC).</param>
/// <param name="Count">Entries in [<paramref name="Start"/>, <paramref name="Start"/> + width).</param>
public readonly record struct TimeBucket(DateTimeOffset Start, long Count);

/// <summary>Entries over time, kept per minute (UTC) and summed into wider buckets on demand.</summary>
/// <remarks>Memory grows with the number of distinct minutes (a year of logs: at most 525,600 small entries), not with the entries.</remarks>
public sealed class Timeline
{
    private readonly Dictionary<long, long> _perMinute = [];
    private long _openMinute = long.MinValue; // entries of the current minute gather here, not in the dictionary
    private long _openCount;

    /// <summary>Entries without an absolute time (e.g. raw <c>dmesg</c> output), not in any bucket.</summary>
    public long WithoutTime { get; private set; }

    /// <summary>Entries in buckets.</summary>
    public long Count { get; private set; }

    /// <summary>The number of distinct minutes with entries.</summary>
    public int Minutes => Flushed.Count;

    /// <summary>The busiest minute and its count, or null when no entry had a time.</summary>
    public TimeBucket? PeakMinute
    {
        get
        {
            TimeBucket? best = null;
            foreach ((long minute, long count) in Flushed)
            {
                if (best is not { } b || count > b.Count || (count == b.Count && minute < b.Start.UtcTicks / TimeSpan.TicksPerMinute))
                {
                    best = new TimeBucket(Start(minute), count);
                }
            }

            return best;
        }
    }

    /// <summary>The entries summed into consecutive buckets of <paramref name="width"/>, from the first to the last entry, empty buckets included.</summary>
    /// <param name="width">The bucket width: a whole number of minutes, at least one.</param>
    /// <returns>The buckets in time order (empty when no entry had a time).</returns>
    /// <exception cref="ArgumentOutOfRangeException">The width is not a whole number of minutes, or it would give more than a million buckets.</exception>
    public IReadOnlyList<TimeBucket> Buckets(TimeSpan width)
    {
        if (Flushed.Count == 0)
        {
            _ = Step(width);
            return [];
        }

        (long first, long last) = Range();
        return Buckets(width, Start(first), Start(last));
    }

    /// <summary>
    /// The entries summed into the buckets of <paramref name="width"/> that cover <paramref name="from"/> to
    /// <paramref name="to"/> (buckets aligned to whole multiples of the width since 0001-01-01 UTC, so the
    /// buckets of two timelines over the same range line up); entries outside are left out.
    /// </summary>
    /// <param name="width">The bucket width: a whole number of minutes, at least one.</param>
    /// <param name="from">The first instant to cover.</param>
    /// <param name="to">The last instant to cover.</param>
    /// <returns>The buckets in time order.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The width is not a whole number of minutes, or it would give more than a million buckets.</exception>
    public IReadOnlyList<TimeBucket> Buckets(TimeSpan width, DateTimeOffset from, DateTimeOffset to)
    {
        long step = Step(width);
        long firstBucket = (from.UtcTicks / TimeSpan.TicksPerMinute) / step;
        long lastBucket = (to.UtcTicks / TimeSpan.TicksPerMinute) / step;
        long n = lastBucket - firstBucket + 1;
        if (n > 1_000_000 || n < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, "The bucket width is too small for the time range, or the range is empty.");
        }

        var counts = new long[n];
        foreach ((long minute, long count) in Flushed)
        {
            long bucket = (minute / step) - firstBucket;
            if (bucket >= 0 && bucket < n)
            {
                counts[bucket] += count;
            }
        }

        var buckets = new TimeBucket[n];
        for (int i = 0; i < n; i++)
        {
            buckets[i] = new TimeBucket(Start((firstBucket + i) * step), counts[i]);
        }

        return buckets;
    }

    private static long Step(TimeSpan width)
    {
        long step = width.Ticks / TimeSpan.TicksPerMinute;
        if (step < 1 || width.Ticks % TimeSpan.TicksPerMinute != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, "The bucket width must be a whole number of minutes.");
        }

        return step;
    }

    /// <summary>The smallest of 1, 5, 10, 15, 30 minutes, 1, 2, 3, 6, 12 hours, 1 day (or whole days beyond) that gives at most <paramref name="maxBuckets"/> buckets.</summary>
    /// <param name="maxBuckets">The most buckets wanted (at least 1).</param>
    /// <returns>The width.</returns>
    public TimeSpan SuggestWidth(int maxBuckets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBuckets, 1);
        if (Flushed.Count == 0)
        {
            return TimeSpan.FromMinutes(1);
        }

        (long first, long last) = Range();
        ReadOnlySpan<int> steps = [1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];
        foreach (int step in steps)
        {
            if (Count(step) <= maxBuckets)
            {
                return TimeSpan.FromMinutes(step);
            }
        }

        long days = 2;
        while (Count(days * 1440) > maxBuckets)
        {
            days++;
        }

        return TimeSpan.FromDays(days);

        long Count(long step) => (last / step) - (first / step) + 1;
    }

    /// <summary>The start of the earliest minute with at least <paramref name="count"/> entries, or null.</summary>
    /// <param name="count">The threshold.</param>
    /// <returns>The minute's start (UTC), or null.</returns>
    public DateTimeOffset? FirstMinuteWithAtLeast(long count)
    {
        long best = long.MaxValue;
        foreach ((long minute, long n) in Flushed)
        {
            if (n >= count && minute < best)
            {
                best = minute;
            }
        }

        return best == long.MaxValue ? null : Start(best);
    }

    internal void Add(in Stamp time, long copies)
    {
        if (!time.HasTime)
        {
            WithoutTime += copies;
            return;
        }

        long minute = time.Minute;
        if (minute != _openMinute)
        {
            Flush();
            _openMinute = minute;
        }

        _openCount += copies;
        Count += copies;
    }

    internal void Merge(Timeline other)
    {
        foreach ((long minute, long count) in other.Flushed)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(Flushed, minute, out _) += count;
        }

        Count += other.Count;
        WithoutTime += other.WithoutTime;
    }

    /// <summary>The per-minute counts with the open minute written in.</summary>
    private Dictionary<long, long> Flushed
    {
        get
        {
            Flush();
            return _perMinute;
        }
    }

    private void Flush()
    {
        if (_openCount != 0)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(_perMinute, _openMinute, out _) += _openCount;
            _openCount = 0;
        }
    }

    private (long First, long Last) Range()
    {
        long first = long.MaxValue, last = long.MinValue;
        foreach (long minute in Flushed.Keys)
        {
            first = Math.Min(first, minute);
            last = Math.Max(last, minute);
        }

        return (first, last);
    }

    private static DateTimeOffset Start(long minute) => new(minute * TimeSpan.TicksPerMinute, TimeSpan.Zero);
}
