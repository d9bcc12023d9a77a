using System.Numerics;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// A HyperLogLog distinct counter (Flajolet et al. 2007, with the linear-counting correction for small sets): 2^p one-byte
/// registers, a relative standard error of 1.04 / √(2^p) whatever the number of items. Adding a 64-bit hash (already
/// mixed: <see cref="NetAddress.Hash64"/>) is a shift, a count of leading zeros and a max; nothing is allocated after
/// construction.
/// </summary>
internal sealed class HyperLogLog
{
    private readonly byte[] _registers;
    private readonly int _p;

    public HyperLogLog(int precision)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(precision, 4);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(precision, 18);
        _p = precision;
        _registers = new byte[1 << precision];
    }

    /// <summary>The number of bits that pick a register.</summary>
    public int Precision => _p;

    /// <summary>The relative standard error of <see cref="Estimate"/>: 1.04 / √(2^p).</summary>
    public double RelativeError => RelativeErrorOf(_p);

    /// <summary>1.04 / √(2^<paramref name="precision"/>).</summary>
    public static double RelativeErrorOf(int precision) => 1.04 / Math.Sqrt(1 << precision);

    /// <summary>Adds an item by its 64-bit hash (its bits must be well mixed).</summary>
    public void Add(ulong hash)
    {
        int index = (int)(hash >> (64 - _p));
        ulong rest = (hash << _p) | (1UL << (_p - 1)); // a sentinel bit bounds the run of zeros
        byte rank = (byte)(BitOperations.LeadingZeroCount(rest) + 1);
        ref byte r = ref _registers[index];
        if (rank > r)
        {
            r = rank;
        }
    }

    /// <summary>
    /// Adds every item of <paramref name="other"/>: the register-wise maximum. A sketch of a higher precision is folded to
    /// this one first (its register i is register i &gt;&gt; d here, d = the difference in precision, and the d low bits of i
    /// lead the rank), which gives what adding its items here would have given.
    /// </summary>
    public void UnionWith(HyperLogLog other)
    {
        if (other._p > _p)
        {
            FoldIn(other);
            return;
        }

        if (other._p != _p)
        {
            ThrowHelper.Argument(nameof(other), "The other sketch is less precise.");
        }

        for (int i = 0; i < _registers.Length; i++)
        {
            _registers[i] = Math.Max(_registers[i], other._registers[i]);
        }
    }

    private void FoldIn(HyperLogLog finer)
    {
        int d = finer._p - _p;
        int lowMask = (1 << d) - 1;
        byte[] from = finer._registers;
        for (int i = 0; i < from.Length; i++)
        {
            if (from[i] == 0)
            {
                continue; // no item
            }

            int low = i & lowMask;
            byte rank = low != 0 ? (byte)(d - (32 - BitOperations.LeadingZeroCount((uint)low)) + 1) : (byte)(d + from[i]);
            ref byte r = ref _registers[i >> d];
            if (rank > r)
            {
                r = rank;
            }
        }
    }

    /// <summary>Empties the counter (for reuse).</summary>
    public void Clear() => Array.Clear(_registers);

    /// <summary>The estimated number of distinct items added.</summary>
    public long Estimate()
    {
        int m = _registers.Length;
        double sum = 0;
        int zeros = 0;
        foreach (byte r in _registers)
        {
            sum += Math.ScaleB(1.0, -r);
            zeros += r == 0 ? 1 : 0;
        }

        double alpha = m switch
        {
            16 => 0.673,
            32 => 0.697,
            64 => 0.709,
            _ => 0.7213 / (1 + (1.079 / m)),
        };
        double raw = alpha * m * m / sum;
        if (raw <= 2.5 * m && zeros > 0)
        {
            return (long)Math.Round(m * Math.Log((double)m / zeros)); // linear counting: exact-ish for small sets
        }

        return (long)Math.Round(raw); // 64-bit hashes: no large-range correction needed
    }
}
