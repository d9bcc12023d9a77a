using System.Runtime.InteropServices;
using System.Text;

namespace MailGuard.Parsing;

/// <summary>
/// Who wrote forged LOG lines (<see cref="LineKind.Forged"/>): records with netfilter text that the log says a
/// process wrote, not the kernel. Forging kernel lines is evidence in itself: a local user trying to hide
/// its traffic or to put it on another user.
/// </summary>
/// <remarks>Grouped by the writer's UID (the journal's trusted <c>_UID</c>); records whose writer is unknown
/// (a <c>kernel[PID]</c> tag in a text log) form one group. Allocates only for a new writer.</remarks>
public sealed class ForgedRecords
{
    private readonly Dictionary<uint, Writer> _writers = [];
    private const uint UnknownUid = uint.MaxValue;

    /// <summary>All forged records.</summary>
    public long Count { get; private set; }

    /// <summary>The writers, most records first.</summary>
    public IReadOnlyList<ForgedRecordWriter> Writers
    {
        get
        {
            var list = new List<ForgedRecordWriter>(_writers.Count);
            foreach ((uint uid, Writer w) in _writers)
            {
                var claimed = new List<KeyValuePair<uint, long>>(w.ClaimedUids);
                claimed.Sort(static (a, b) => b.Value != a.Value ? b.Value.CompareTo(a.Value) : a.Key.CompareTo(b.Key));
                list.Add(new ForgedRecordWriter(uid == UnknownUid ? null : uid, w.Command, w.LastPid, w.Records, w.First, w.Last, claimed, w.WithoutUid));
            }

            list.Sort(static (a, b) => b.Records != a.Records ? b.Records.CompareTo(a.Records) : Nullable.Compare(a.Uid, b.Uid));
            return list;
        }
    }

    /// <summary>Counts one forged record (<see cref="LineKind.Forged"/>).</summary>
    /// <param name="record">The parsed line.</param>
    public void Add(ref LogRecord record)
    {
        Count++;
        ref LogEnvelope env = ref record.Envelope;
        ref Writer? slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_writers, env.SenderUid ?? UnknownUid, out _);
        slot ??= new Writer { Command = env.SenderCommand.IsEmpty ? null : Encoding.UTF8.GetString(env.SenderCommand) };
        Writer w = slot;
        w.Records++;
        w.LastPid = env.SenderPid ?? w.LastPid;
        if (env.Time is { } t)
        {
            w.First = w.First is { } f && f <= t ? f : t;
            w.Last = w.Last is { } l && l >= t ? l : t;
        }

        if (record.Entry.Has(NetfilterFields.Uid))
        {
            CollectionsMarshal.GetValueRefOrAddDefault(w.ClaimedUids, record.Entry.Uid, out _)++;
        }
        else
        {
            w.WithoutUid++;
        }
    }

    /// <summary>Adds the records of another instance.</summary>
    /// <param name="other">Forged records of another input or part.</param>
    public void Merge(ForgedRecords other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Count += other.Count;
        foreach ((uint uid, Writer theirs) in other._writers)
        {
            ref Writer? slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_writers, uid, out _);
            Writer mine = slot ??= new Writer { Command = theirs.Command };
            mine.Records += theirs.Records;
            mine.WithoutUid += theirs.WithoutUid;
            mine.LastPid = theirs.LastPid ?? mine.LastPid;
            mine.First = Min(mine.First, theirs.First);
            mine.Last = Max(mine.Last, theirs.Last);
            foreach ((uint claimed, long n) in theirs.ClaimedUids)
            {
                CollectionsMarshal.GetValueRefOrAddDefault(mine.ClaimedUids, claimed, out _) += n;
            }
        }
    }

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a <= b ? a : b;

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a >= b ? a : b;

    private sealed class Writer
    {
        public string? Command;
        public uint? LastPid;
        public long Records;
        public long WithoutUid;
        public DateTimeOffset? First;
        public DateTimeOffset? Last;
        public readonly Dictionary<uint, long> ClaimedUids = [];
    }
}

/// <summary>One writer of forged LOG lines (see <see cref="ForgedRecords"/>).</summary>
/// <param name="Uid">The writer's user ID (the journal's <c>_UID</c>), or null when the log does not say.</param>
/// <param name="Command">The writer's command name (the journal's <c>_COMM</c>, JSON escapes as written), or null.</param>
/// <param name="LastPid">The process ID of its last record, or null.</param>
/// <param name="Records">How many records it wrote.</param>
/// <param name="First">The time of its first record, when known.</param>
/// <param name="Last">The time of its last record, when known.</param>
/// <param name="ClaimedUids">The <c>UID=</c> values its records claimed, with how often, most first: whom it tried to blame.</param>
/// <param name="WithoutUid">Its records without <c>UID=</c>.</param>
public sealed record ForgedRecordWriter(uint? Uid, string? Command, uint? LastPid, long Records, DateTimeOffset? First, DateTimeOffset? Last, IReadOnlyList<KeyValuePair<uint, long>> ClaimedUids, long WithoutUid);
