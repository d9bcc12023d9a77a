using System.Runtime.InteropServices;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// Tells the netfilter lines that one input of a merged scan already gave from those seen for the first
/// time. A line is known by its time (to the second) and message (a 64-bit hash); for each such line the copies of each
/// input are counted, and a line counts as often as the input that has it most often: the same line in
/// <c>kern.log</c> and <c>syslog</c> counts once, two real copies in one input count twice. Only the lines
/// of the last <c>window</c> ticks (by merge key) are remembered, so memory stays bounded.
/// </summary>
internal sealed class DuplicateWindow(long window)
{
    private static readonly ulong s_seed = (ulong)Random.Shared.NextInt64() | 1;

    private readonly Dictionary<ulong, long> _most = [];
    private readonly Dictionary<ulong, long> _perInput = []; // by Mine(line, input): a 64-bit key hashes faster than a tuple
    private readonly Queue<(long Key, ulong Line, ulong Mine)> _order = new();
    private long _watermark = long.MinValue;

    /// <summary>The lines remembered now (for tests of the bound).</summary>
    public int Remembered => _perInput.Count;

    /// <summary>Counts the line for <paramref name="input"/>; returns <see cref="LineKind.Duplicate"/> when every copy was seen in another input, else the kind with the new copies only.</summary>
    public LineKind Admit(int input, ref LogRecord record, LineKind kind, ScanTotals totals)
    {
        long second = Second(ref record);
        int repeats = record.Envelope.RepeatCount;
        kind = Admit(input, second, LineHash(ref record, second), ref repeats, kind, totals);
        record.Envelope.RepeatCount = repeats;
        return kind;
    }

    /// <summary>
    /// Counts a line known by its <see cref="Second"/> and <see cref="Hash"/> (worked out where it was parsed) for <paramref name="input"/>;
    /// <paramref name="repeatCount"/> (the line's copies less one) is cut to the new copies when some were seen in another input.
    /// </summary>
    public LineKind Admit(int input, long second, ulong line, ref int repeatCount, LineKind kind, ScanTotals totals)
    {
        if (second > _watermark)
        {
            _watermark = second;
            Evict();
        }

        ulong perInput = Mine(line, input);
        ref long mine = ref CollectionsMarshal.GetValueRefOrAddDefault(_perInput, perInput, out bool known);
        if (!known)
        {
            _order.Enqueue((second, line, perInput));
        }

        long copies = 1L + repeatCount;
        mine += copies;
        ref long most = ref CollectionsMarshal.GetValueRefOrAddDefault(_most, line, out _);
        long fresh = Math.Clamp(mine - most, 0, copies);
        most = Math.Max(most, mine);
        if (fresh == copies)
        {
            return kind;
        }

        totals.Duplicates += copies - fresh;
        if (fresh == 0)
        {
            return LineKind.Duplicate;
        }

        repeatCount = (int)fresh - 1;
        return kind;
    }

    /// <summary>
    /// The line's <see cref="Hash"/>, with its host: two machines' identical lines in a central log's per-host files are
    /// two entries.
    /// </summary>
    public static ulong LineHash(ref LogRecord record, long second) =>
        Hash(record.Envelope.Message, second) ^ (record.Envelope.Host.IsEmpty ? 0 : Hash(record.Envelope.Host, 0) * 0x9E3779B97F4A7C15UL);

    /// <summary>The line's time to the whole second: the same line keeps its second in a precise stamp (RFC 3339) and in a traditional one.</summary>
    public static long Second(ref LogRecord record)
    {
        long key = record.Envelope.Time?.UtcTicks ?? record.Envelope.Uptime?.Ticks ?? 0;
        return key - (key % TimeSpan.TicksPerSecond);
    }

    private void Evict()
    {
        long limit = _watermark == long.MinValue ? long.MinValue : _watermark - window;
        while (_order.TryPeek(out (long Key, ulong Line, ulong Mine) oldest) && oldest.Key < limit)
        {
            _order.Dequeue();
            _perInput.Remove(oldest.Mine);
            _most.Remove(oldest.Line);
        }
    }

    /// <summary>The key of a line's copies in one input: the line's hash mixed with the input's (two keys meet by chance once in 2⁶⁴).</summary>
    private static ulong Mine(ulong line, int input) => line ^ ((ulong)(input + 1) * 0x9E3779B97F4A7C15UL);

    /// <summary>A 64-bit hash of the message and time, seeded per process (wyhash-like mixing of 8-byte words).</summary>
    public static ulong Hash(ReadOnlySpan<byte> message, long key)
    {
        const ulong M1 = 0xA0761D6478BD642FUL;
        const ulong M2 = 0xE7037ED1A0B428DBUL;
        ulong h = s_seed ^ (ulong)key ^ ((ulong)message.Length * M1);
        while (message.Length >= 8)
        {
            h = Mix(h ^ BitConverter.ToUInt64(message), M2);
            message = message[8..];
        }

        ulong tail = 0;
        for (int i = 0; i < message.Length; i++)
        {
            tail |= (ulong)message[i] << (8 * i);
        }

        return Mix(Mix(h ^ tail, M2), M1);
    }

    private static ulong Mix(ulong a, ulong b)
    {
        ulong high = Math.BigMul(a, b, out ulong low);
        return high ^ low;
    }
}
