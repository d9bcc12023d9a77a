using System.Runtime.InteropServices;

namespace MailGuard.Parsing;

/// <summary>What is known about one key (a destination, a port, a UID…): how often, when, to how many destinations.</summary>
public sealed class KeyStat
{
    private HashSet<NetAddress>? _destinations;

    /// <summary>Entries with this key.</summary>
    public long Count { get; private set; }

    /// <summary>The earliest time seen, when the lines carried times.</summary>
    public DateTimeOffset? First { get; private set; }

    /// <summary>The latest time seen.</summary>
    public DateTimeOffset? Last { get; private set; }

    /// <summary>How many different destination addresses the entries with this key went to.</summary>
    public int DistinctDestinations => _destinations?.Count ?? 0;

    internal void Add(long copies, DateTimeOffset? time, NetAddress dst, bool trackDestinations)
    {
        Count += copies;
        if (time is { } t)
        {
            if (First is null || t < First)
            {
                First = t;
            }

            if (Last is null || t > Last)
            {
                Last = t;
            }
        }

        if (trackDestinations && !dst.IsNone)
        {
            (_destinations ??= []).Add(dst);
        }
    }

    internal void Merge(KeyStat other)
    {
        Count += other.Count;
        if (other.First is { } f && (First is null || f < First))
        {
            First = f;
        }

        if (other.Last is { } l && (Last is null || l > Last))
        {
            Last = l;
        }

        if (other._destinations is not null)
        {
            (_destinations ??= []).UnionWith(other._destinations);
        }
    }
}

/// <summary>A histogram: per key, a <see cref="KeyStat"/>.</summary>
/// <typeparam name="TKey">The key: an address, a port, a UID, a name.</typeparam>
public sealed class KeyStats<TKey>
    where TKey : notnull
{
    private readonly Dictionary<TKey, KeyStat> _map = [];
    private readonly bool _trackDestinations;

    internal KeyStats(bool trackDestinations) => _trackDestinations = trackDestinations;

    /// <summary>The number of different keys.</summary>
    public int Count => _map.Count;

    /// <summary>The stat of one key, or null.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The stat, or null when the key was not seen.</returns>
    public KeyStat? this[TKey key] => _map.GetValueOrDefault(key);

    /// <summary>Every key with its stat, highest count first (ties by key order).</summary>
    /// <param name="top">At most this many (0: all).</param>
    /// <returns>The sorted list.</returns>
    public IReadOnlyList<KeyValuePair<TKey, KeyStat>> Top(int top = 0)
    {
        var list = new List<KeyValuePair<TKey, KeyStat>>(_map);
        list.Sort(static (a, b) =>
        {
            int c = b.Value.Count.CompareTo(a.Value.Count);
            return c != 0 ? c : Comparer<TKey>.Default.Compare(a.Key, b.Key);
        });
        if (top > 0 && list.Count > top)
        {
            list.RemoveRange(top, list.Count - top);
        }

        return list;
    }

    internal void Add(TKey key, long copies, DateTimeOffset? time, NetAddress dst)
    {
        ref KeyStat? stat = ref CollectionsMarshal.GetValueRefOrAddDefault(_map, key, out _);
        stat ??= new KeyStat();
        stat.Add(copies, time, dst, _trackDestinations);
    }

    internal void Merge(KeyStats<TKey> other)
    {
        foreach ((TKey key, KeyStat stat) in other._map)
        {
            ref KeyStat? mine = ref CollectionsMarshal.GetValueRefOrAddDefault(_map, key, out _);
            mine ??= new KeyStat();
            mine.Merge(stat);
        }
    }
}
