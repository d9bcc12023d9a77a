using System.Runtime.InteropServices;
using System.Text;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// Names from the log (prefixes, interfaces, hosts) numbered by their raw bytes: each distinct name is decoded to a string
/// once, when first seen; raw bytes that are not UTF-8 (a Latin-1 prefix) are shown with replacement characters but keyed
/// by their bytes.
/// </summary>
internal sealed class NameInterner
{
    private readonly Dictionary<int, List<int>> _idsByHash = [];
    private readonly List<string> _names = [];
    private readonly List<byte[]> _bytes = [];

    /// <summary>How many names are numbered.</summary>
    public int Count => _names.Count;

    /// <summary>The text of a name.</summary>
    public string this[int id] => _names[id];

    /// <summary>The bytes of a name.</summary>
    public byte[] BytesOf(int id) => _bytes[id];

    /// <summary>The id of <paramref name="bytes"/>, or -1 when not numbered yet.</summary>
    public int Find(ReadOnlySpan<byte> bytes)
    {
        if (_idsByHash.TryGetValue(Hash(bytes), out List<int>? bucket))
        {
            foreach (int id in bucket)
            {
                if (_bytes[id].AsSpan().SequenceEqual(bytes))
                {
                    return id;
                }
            }
        }

        return -1;
    }

    /// <summary>Numbers a name not numbered yet (<see cref="Find"/> gave -1); <paramref name="known"/> is its text when already decoded.</summary>
    public int Add(ReadOnlySpan<byte> bytes, string? known = null)
    {
        ref List<int>? bucket = ref CollectionsMarshal.GetValueRefOrAddDefault(_idsByHash, Hash(bytes), out _);
        bucket ??= [];
        _names.Add(known ?? Encoding.UTF8.GetString(bytes));
        _bytes.Add(bytes.ToArray());
        bucket.Add(_names.Count - 1);
        return _names.Count - 1;
    }

    private static int Hash(ReadOnlySpan<byte> bytes)
    {
        var hc = default(HashCode);
        hc.AddBytes(bytes);
        return hc.ToHashCode();
    }
}
