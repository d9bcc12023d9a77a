using System.Numerics;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// A set of small non-negative ids (dense destination numbers): an open-addressing hash table while it
/// is sparse, a bit set once it holds more than 1/32 of the ids seen so far. Adding is one probe or
/// one bit; nothing is allocated except when the table or the bit set grows.
/// </summary>
internal sealed class IdSet
{
    private int[] _table = new int[8]; // id + 1; 0 = empty
    private ulong[]? _bits;

    public int Count { get; private set; }

    /// <summary>Adds an id; true when it was not in the set.</summary>
    public bool Add(int id)
    {
        if (_bits is { } bits)
        {
            int word = id >> 6;
            if (word >= bits.Length)
            {
                if (Count * 32L < (word + 1L) * 64)
                {
                    ToTable(); // the new id would make the bits sparse: back to a table
                    return Add(id);
                }

                Array.Resize(ref _bits, Math.Max(word + 1, bits.Length * 2));
                bits = _bits;
            }

            ulong mask = 1UL << (id & 63);
            if ((bits[word] & mask) != 0)
            {
                return false;
            }

            bits[word] |= mask;
            Count++;
            return true;
        }

        if (!Insert(_table, id))
        {
            return false;
        }

        Count++;
        if (Count * 2 > _table.Length)
        {
            Grow(id);
        }

        return true;
    }

    /// <summary>Adds every id of <paramref name="other"/>: word by word when it is a bit set.</summary>
    public void UnionWith(IdSet other)
    {
        if (other._bits is not { } theirs)
        {
            foreach (int slot in other._table)
            {
                if (slot != 0)
                {
                    Add(slot - 1);
                }
            }

            return;
        }

        ulong[] bits = _bits ?? [];
        if (_bits is null)
        {
            int words = theirs.Length;
            foreach (int slot in _table)
            {
                words = Math.Max(words, ((slot - 1) >> 6) + 1);
            }

            bits = new ulong[words];
            foreach (int slot in _table)
            {
                if (slot != 0)
                {
                    bits[(slot - 1) >> 6] |= 1UL << ((slot - 1) & 63);
                }
            }

            _table = [];
        }
        else if (bits.Length < theirs.Length)
        {
            Array.Resize(ref bits, theirs.Length);
        }

        int count = 0;
        for (int w = 0; w < bits.Length; w++)
        {
            if (w < theirs.Length)
            {
                bits[w] |= theirs[w];
            }

            count += BitOperations.PopCount(bits[w]);
        }

        _bits = bits;
        Count = count;
    }

    /// <summary>Every id in the set, in no order.</summary>
    public IEnumerable<int> Ids()
    {
        if (_bits is { } bits)
        {
            for (int w = 0; w < bits.Length; w++)
            {
                ulong word = bits[w];
                while (word != 0)
                {
                    int bit = BitOperations.TrailingZeroCount(word);
                    yield return (w << 6) + bit;
                    word &= word - 1;
                }
            }

            yield break;
        }

        foreach (int slot in _table)
        {
            if (slot != 0)
            {
                yield return slot - 1;
            }
        }
    }

    private void ToTable()
    {
        int size = 8;
        while (size < Count * 4)
        {
            size *= 2;
        }

        int[] table = new int[size];
        foreach (int id in Ids())
        {
            Insert(table, id);
        }

        _table = table;
        _bits = null;
    }

    private static bool Insert(int[] table, int id)
    {
        int mask = table.Length - 1;
        int i = (int)((uint)(id * -1640531535) >> 8) & mask; // Fibonacci hashing spreads sequential ids
        while (true)
        {
            int slot = table[i];
            if (slot == 0)
            {
                table[i] = id + 1;
                return true;
            }

            if (slot == id + 1)
            {
                return false;
            }

            i = (i + 1) & mask;
        }
    }

    private void Grow(int lastId)
    {
        int maxId = lastId;
        foreach (int slot in _table)
        {
            maxId = Math.Max(maxId, slot - 1);
        }

        if (Count * 32L > maxId)
        {
            // Dense: a bit per id costs less than the table.
            var bits = new ulong[(maxId >> 6) + 1];
            foreach (int slot in _table)
            {
                if (slot != 0)
                {
                    bits[(slot - 1) >> 6] |= 1UL << ((slot - 1) & 63);
                }
            }

            _bits = bits;
            _table = [];
            return;
        }

        int[] table = new int[_table.Length * 2];
        foreach (int slot in _table)
        {
            if (slot != 0)
            {
                Insert(table, slot - 1);
            }
        }

        _table = table;
    }
}
