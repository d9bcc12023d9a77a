using System.Runtime.InteropServices;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing;

/// <summary>The clock a time or a rate was measured on.</summary>
public enum ClockKind
{
    /// <summary>None: the lines carried no time (<c>journalctl -o cat</c>, <c>dmesg -t</c>), so no rate can be told.</summary>
    None = 0,

    /// <summary>The wall clock: the date and time the lines give (syslog stamps, journal JSON, <c>dmesg -T</c>).</summary>
    WallClock,

    /// <summary>
    /// The kernel's time since boot, for lines that give nothing else (<c>dmesg</c>, <c>/dev/kmsg</c>, journalctl
    /// <c>short-monotonic</c> and <c>short-delta</c>): a clock of its own, never mixed with the wall clock.
    /// </summary>
    Uptime,
}

/// <summary>One interval of a <see cref="Timeline"/>.</summary>
/// <param name="Start">
/// The start of the interval (UTC). On the <see cref="ClockKind.Uptime"/> clock the boot counts as 0001-01-01T00:00Z:
/// read <see cref="SinceBoot"/> instead.
/// </param>
/// <param name="Count">Entries in [<paramref name="Start"/>, <paramref name="Start"/> + width).</param>
public readonly record struct TimeBucket(DateTimeOffset Start, long Count)
{
    /// <summary>On the <see cref="ClockKind.Uptime"/> clock: the start as the time since boot.</summary>
    public TimeSpan SinceBoot => TimeSpan.FromTicks(Start.UtcTicks);
}

/// <summary>
/// Entries over time, kept per minute (UTC) and summed into wider buckets on demand. Entries whose lines gave no
/// wall-clock time but the kernel's time since boot are kept apart, per minute since boot, in <see cref="SinceBoot"/>.
/// </summary>
/// <remarks>
/// Memory grows with the number of distinct minutes (a year of logs: at most 525,600 small entries), not with the entries;
/// past the stats' key budget (<see cref="TrafficStatsOptions.KeyBudget"/>) the minutes are summed into wider buckets
/// (<see cref="Resolution"/>: 5, 10, 30, 60 minutes… a day, then doubling), so that it holds at most that many.
/// </remarks>
public sealed class Timeline
{
    private static readonly long[] s_ladder = [1, 5, 10, 30, 60, 120, 360, 720, 1440];
    private Dictionary<long, long> _perMinute = []; // bucket start (minute) → count
    private long _step = 1; // minutes per bucket
    private int _maxBuckets; // 0: no limit
    private long _openMinute = long.MinValue; // entries of the current minute gather here, not in the dictionary
    private long _openCount;

    /// <summary>Creates an empty timeline on the wall clock.</summary>
    public Timeline()
        : this(ClockKind.WallClock)
    {
    }

    private Timeline(ClockKind clock) => Clock = clock;

    /// <summary>The clock of the buckets: <see cref="ClockKind.WallClock"/>, or <see cref="ClockKind.Uptime"/> for <see cref="SinceBoot"/>.</summary>
    public ClockKind Clock { get; }

    /// <summary>
    /// The entries that had only the kernel's time since boot (raw <c>dmesg</c>, <c>/dev/kmsg</c>, journalctl
    /// <c>short-monotonic</c>/<c>short-delta</c>), per minute since boot (<see cref="ClockKind.Uptime"/>); null when there were none.
    /// Uptimes of several boots share this one axis.
    /// </summary>
    public Timeline? SinceBoot { get; private set; }

    /// <summary>Entries with no time at all (neither a wall-clock time nor the kernel's time since boot), not in any bucket.</summary>
    public long WithoutTime { get; private set; }

    /// <summary>Entries in buckets (of this clock).</summary>
    public long Count { get; private set; }

    /// <summary>
    /// The clock to tell a rate on: the one whose busiest minute holds the most entries (on a tie the one with more entries,
    /// then the wall clock), so that the rate told is the highest measured; <see cref="ClockKind.None"/> when no entry had a time.
    /// </summary>
    public ClockKind PeakClock
    {
        get
        {
            long wall = PeakMinute?.Count ?? 0;
            long boot = SinceBoot?.PeakMinute?.Count ?? 0;
            return wall == 0 && boot == 0 ? ClockKind.None
                : boot > wall || (boot == wall && SinceBoot!.Count > Count) ? ClockKind.Uptime
                : ClockKind.WallClock;
        }
    }

    /// <summary>The buckets of one clock: this timeline, <see cref="SinceBoot"/>, or null (no entry on that clock, or <see cref="ClockKind.None"/>).</summary>
    /// <param name="clock">The clock.</param>
    /// <returns>The timeline of that clock, or null.</returns>
    public Timeline? On(ClockKind clock) => clock switch
    {
        ClockKind.WallClock when Clock == ClockKind.WallClock && Count > 0 => this,
        ClockKind.Uptime => Clock == ClockKind.Uptime ? this : SinceBoot,
        _ => null,
    };

    /// <summary>The number of distinct minutes with entries (of buckets, when <see cref="Resolution"/> is wider than a minute).</summary>
    public int Minutes => Flushed.Count;

    /// <summary>
    /// The width of the buckets kept: one minute, or wider once more distinct minutes were seen than the key budget allows
    /// (<see cref="TrafficStatsOptions.KeyBudget"/>). When wider, <see cref="PeakMinute"/> is the busiest bucket: an upper bound of
    /// the busiest minute's count.
    /// </summary>
    public TimeSpan Resolution => TimeSpan.FromMinutes(_step);

    /// <summary>The most buckets kept (0: no limit); past it the buckets widen.</summary>
    internal int MaxBuckets
    {
        get => _maxBuckets;
        set
        {
            _maxBuckets = value;
            SinceBoot?.MaxBuckets = value;
            Flush();
            Widen();
            _openMinute = long.MinValue;
        }
    }

    /// <summary>
    /// The busiest minute (of this clock) and its count, or null when no entry had a time on it. When <see cref="Resolution"/> is
    /// wider than a minute: the busiest bucket, whose count bounds the busiest minute's from above.
    /// </summary>
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
            if (step % _step == 0 && Count(step) <= maxBuckets)
            {
                return TimeSpan.FromMinutes(step);
            }
        }

        long days = 2;
        while ((days * 1440) % _step != 0 || Count(days * 1440) > maxBuckets)
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
            if (time.HasUptime)
            {
                (SinceBoot ??= new Timeline(ClockKind.Uptime) { MaxBuckets = _maxBuckets }).AddMinute(time.Minute, copies);
            }
            else
            {
                WithoutTime += copies;
            }

            return;
        }

        AddMinute(time.Minute, copies);
    }

    private void AddMinute(long minute, long copies)
    {
        minute -= minute % _step;
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
        Flush();
        if (other._step > _step)
        {
            Rebucket(other._step);
        }

        foreach ((long minute, long count) in other.Flushed)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(_perMinute, minute - (minute % _step), out _) += count;
        }

        Count += other.Count;
        WithoutTime += other.WithoutTime;
        if (other.SinceBoot is not null)
        {
            (SinceBoot ??= new Timeline(ClockKind.Uptime) { MaxBuckets = _maxBuckets }).Merge(other.SinceBoot);
        }

        Widen();
    }

    /// <summary>Empties the timeline for reuse (its limit stays).</summary>
    internal void Clear()
    {
        _perMinute.Clear();
        _step = 1;
        _openMinute = long.MinValue;
        _openCount = 0;
        Count = 0;
        WithoutTime = 0;
        SinceBoot?.Clear();
    }

    /// <summary>Widens the buckets along the ladder until at most <see cref="MaxBuckets"/> are kept.</summary>
    private void Widen()
    {
        if (_maxBuckets <= 0 || _perMinute.Count <= _maxBuckets)
        {
            return;
        }

        long step = _step;
        while (CountAt(step) > _maxBuckets)
        {
            int at = Array.IndexOf(s_ladder, step);
            step = at >= 0 && at + 1 < s_ladder.Length ? s_ladder[at + 1] : step * 2;
        }

        Rebucket(step);

        int CountAt(long width)
        {
            if (width == _step)
            {
                return _perMinute.Count;
            }

            var seen = new HashSet<long>();
            foreach (long minute in _perMinute.Keys)
            {
                seen.Add(minute - (minute % width));
            }

            return seen.Count;
        }
    }

    /// <summary>Sums the buckets into buckets of <paramref name="step"/> minutes (a multiple of the present width).</summary>
    private void Rebucket(long step)
    {
        var wider = new Dictionary<long, long>();
        foreach ((long minute, long count) in _perMinute)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(wider, minute - (minute % step), out _) += count;
        }

        _perMinute = wider;
        _step = step;
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
            if (_maxBuckets > 0 && _perMinute.Count > _maxBuckets)
            {
                Widen();
                _openMinute = long.MinValue;
            }
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
