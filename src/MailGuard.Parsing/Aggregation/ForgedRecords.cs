using System.Runtime.InteropServices;
using System.Text;

namespace MailGuard.Parsing;

/// <summary>
/// Who wrote forged LOG lines (<see cref="LineKind.Forged"/>): records with netfilter text that the log says a
/// process wrote, not the kernel. Forging kernel lines is evidence in itself: a local user trying to hide
/// its traffic or to put it on another user.
/// </summary>
/// <remarks>Grouped by the evidence and the writer's UID (the journal's trusted <c>_UID</c>); records whose writer
/// the log does not name (a <c>kernel[PID]</c> tag, an impossible device name in a text log) form one group per
/// evidence. Allocates only for a new writer.</remarks>
public sealed class ForgedRecords
{
    private readonly Dictionary<(uint Uid, ForgeryEvidence Evidence), Writer> _writers = [];
    private const uint UnknownUid = uint.MaxValue;

    /// <summary>All forged records.</summary>
    public long Count { get; private set; }

    /// <summary>The most claimed UIDs kept per writer (a forger can claim any): the records claiming others are counted in <see cref="ForgedRecordWriter.OtherClaimedUids"/>.</summary>
    internal int MaxClaimedUids { get; set; } = int.MaxValue;

    /// <summary>The writers, most records first.</summary>
    public IReadOnlyList<ForgedRecordWriter> Writers
    {
        get
        {
            var list = new List<ForgedRecordWriter>(_writers.Count);
            foreach (((uint uid, ForgeryEvidence evidence), Writer w) in _writers)
            {
                var claimed = new List<KeyValuePair<uint, long>>(w.ClaimedUids);
                claimed.Sort(static (a, b) => b.Value != a.Value ? b.Value.CompareTo(a.Value) : a.Key.CompareTo(b.Key));
                list.Add(new ForgedRecordWriter(uid == UnknownUid ? null : uid, w.Command, w.LastPid, w.Records, w.First, w.Last, claimed, w.WithoutUid)
                {
                    Evidence = evidence,
                    Device = w.Device,
                    OtherClaimedUids = w.OtherClaimed,
                });
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
        ForgeryEvidence evidence = env.Origin != LineOrigin.Process ? ForgeryEvidence.ImpossibleDevice
            : env.Format == LogFormat.JournalJson ? ForgeryEvidence.JournalTransport
            : ForgeryEvidence.ProcessIdTag;
        ref Writer? slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_writers, (env.SenderUid ?? UnknownUid, evidence), out bool known);
        if (!known)
        {
            slot = new Writer { Command = env.SenderCommand.IsEmpty ? null : Encoding.UTF8.GetString(env.SenderCommand) };
            if (evidence == ForgeryEvidence.ImpossibleDevice && record.Entry.ErrorOffset >= 0)
            {
                ReadOnlySpan<byte> at = record.Message[record.Entry.ErrorOffset..];
                int end = at.IndexOf((byte)' ');
                slot.Device = Encoding.UTF8.GetString(end < 0 ? at : at[..end]);
            }
        }

        Writer w = slot!;
        w.Records++;
        w.LastPid = env.SenderPid ?? w.LastPid;
        if (env.Time is { } t)
        {
            w.First = w.First is { } f && f <= t ? f : t;
            w.Last = w.Last is { } l && l >= t ? l : t;
        }

        if (record.Entry.Has(NetfilterFields.Uid))
        {
            Claim(w, record.Entry.Uid, 1);
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
        foreach (((uint, ForgeryEvidence) key, Writer theirs) in other._writers)
        {
            ref Writer? slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_writers, key, out _);
            Writer mine = slot ??= new Writer { Command = theirs.Command, Device = theirs.Device };
            mine.Records += theirs.Records;
            mine.WithoutUid += theirs.WithoutUid;
            mine.LastPid = theirs.LastPid ?? mine.LastPid;
            mine.First = Min(mine.First, theirs.First);
            mine.Last = Max(mine.Last, theirs.Last);
            foreach ((uint claimed, long n) in theirs.ClaimedUids)
            {
                Claim(mine, claimed, n);
            }

            mine.OtherClaimed += theirs.OtherClaimed;
        }
    }

    private void Claim(Writer w, uint uid, long n)
    {
        if (w.ClaimedUids.Count >= MaxClaimedUids && !w.ClaimedUids.ContainsKey(uid))
        {
            w.OtherClaimed += n;
            return;
        }

        CollectionsMarshal.GetValueRefOrAddDefault(w.ClaimedUids, uid, out _) += n;
    }

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a <= b ? a : b;

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a >= b ? a : b;

    private sealed class Writer
    {
        public string? Command;
        public string? Device;
        public uint? LastPid;
        public long Records;
        public long WithoutUid;
        public long OtherClaimed;
        public DateTimeOffset? First;
        public DateTimeOffset? Last;
        public readonly Dictionary<uint, long> ClaimedUids = [];
    }
}

/// <summary>How a line was found to be forged.</summary>
public enum ForgeryEvidence
{
    /// <summary>The journal recorded that a process wrote it (<c>_TRANSPORT</c> is not <c>kernel</c>), with the writer's UID, PID and command.</summary>
    JournalTransport = 0,

    /// <summary>Its tag carries a process ID (<c>kernel[4242]:</c>, or an RFC 5424 PROCID), which the kernel's own lines never have.</summary>
    ProcessIdTag,

    /// <summary>It names a network device no device can have (<see cref="NetfilterError.InvalidInterface"/>): no kernel printed it.</summary>
    ImpossibleDevice,
}

/// <summary>One writer of forged LOG lines (see <see cref="ForgedRecords"/>).</summary>
/// <param name="Uid">The writer's user ID (the journal's <c>_UID</c>), or null when the log does not say.</param>
/// <param name="Command">The writer's command name (the journal's <c>_COMM</c>), or null; log text: escape it before showing it.</param>
/// <param name="LastPid">The process ID of its last record, or null.</param>
/// <param name="Records">How many records it wrote.</param>
/// <param name="First">The time of its first record, when known.</param>
/// <param name="Last">The time of its last record, when known.</param>
/// <param name="ClaimedUids">The <c>UID=</c> values its records claimed, with how often, most first: whom it tried to blame.</param>
/// <param name="WithoutUid">Its records without <c>UID=</c>.</param>
public sealed record ForgedRecordWriter(uint? Uid, string? Command, uint? LastPid, long Records, DateTimeOffset? First, DateTimeOffset? Last, IReadOnlyList<KeyValuePair<uint, long>> ClaimedUids, long WithoutUid)
{
    /// <summary>How its lines were found to be forged.</summary>
    public ForgeryEvidence Evidence { get; init; }

    /// <summary>Records that claimed a UID not kept in <see cref="ClaimedUids"/>: past the key budget (<see cref="TrafficStatsOptions.KeyBudget"/> / 8 claimed UIDs a writer); 0 otherwise.</summary>
    public long OtherClaimedUids { get; init; }

    /// <summary>For <see cref="ForgeryEvidence.ImpossibleDevice"/>: the first such device name, as written (log text: escape it before showing it).</summary>
    public string? Device { get; init; }
}
