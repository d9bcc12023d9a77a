using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing;

/// <summary>What one line of a log is, as far as MailGuard is concerned.</summary>
public enum LineKind : byte
{
    /// <summary>Anything else: another program's message, a kernel message that is not netfilter text, unknown text.</summary>
    Other = 0,

    /// <summary>A netfilter entry whose prefix the filter selects (see <see cref="LogRecord.Entry"/>).</summary>
    Entry,

    /// <summary>A netfilter entry with a prefix the filter does not select.</summary>
    OtherPrefix,

    /// <summary>A netfilter message that the filter selects (or whose prefix could not be told) but that stops early or holds unexpected text.</summary>
    Malformed,

    /// <summary>An ebtables or ulogd line: looks like netfilter text but is another format.</summary>
    LookAlike,

    /// <summary>A journalctl separator (<c>-- Boot … --</c>), an empty line: no data.</summary>
    Separator,

    /// <summary>A kernel message journalctl hid as <c>[NNNB blob data]</c>: it may have been an entry, its text is lost.</summary>
    Blob,

    /// <summary><c>last message repeated N times</c>: the previous line stands for <see cref="LogEnvelope.RepeatCount"/> more copies.</summary>
    RepeatedPrevious,

    /// <summary>An entry the filter selects, left out by <see cref="LogLineParserOptions.Ports"/>, <see cref="LogLineParserOptions.Since"/> or <see cref="LogLineParserOptions.Until"/>.</summary>
    Excluded,

    /// <summary>A line holding a NUL byte (a binary file, a log cut by a crash): not parsed.</summary>
    Binary,

    /// <summary>A netfilter line that another input of the same scan already gave (Debian writes kernel lines to both <c>kern.log</c> and <c>syslog</c>), or the lead-in of a <see cref="ParallelScan"/> chunk; not counted again.</summary>
    Duplicate,

    /// <summary>
    /// A forged LOG line, never counted as an entry: netfilter text in a record that the log says a process wrote, not
    /// the kernel (<see cref="LogEnvelope.Origin"/> is <see cref="LineOrigin.Process"/>: the journal's <c>_TRANSPORT</c>
    /// is not <c>kernel</c>, or the tag carries a process ID; the writer is in <see cref="LogEnvelope.SenderUid"/>,
    /// <see cref="LogEnvelope.SenderPid"/> and <see cref="LogEnvelope.SenderCommand"/>), or text no kernel can print:
    /// a device name no device can have (<see cref="NetfilterError.InvalidInterface"/>).
    /// </summary>
    Forged,
}

/// <summary>Settings of a <see cref="LogLineParser"/>.</summary>
public sealed record LogLineParserOptions
{
    /// <summary>Which prefixes count as entries. Default: <see cref="PrefixFilter.TcpOut"/>.</summary>
    public PrefixFilter Filter { get; init; } = PrefixFilter.TcpOut;

    /// <summary>Year inference and time zone settings for the envelope.</summary>
    public EnvelopeOptions Envelope { get; init; } = new();

    /// <summary>When set, only entries to these destination ports (<c>DPT=</c>) are selected; the others are <see cref="LineKind.Excluded"/>.</summary>
    public IReadOnlyCollection<ushort>? Ports { get; init; }

    /// <summary>When set, entries before this instant, or without an absolute time, are <see cref="LineKind.Excluded"/>.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>When set, entries after this instant, or without an absolute time, are <see cref="LineKind.Excluded"/>.</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>
    /// When true, a line that cannot hold a netfilter entry — no <c>IN=</c> in it, and not a repeat notice,
    /// a journal blob, a JSON record or a separator — comes back as <see cref="LineKind.Other"/> without
    /// its envelope being parsed (its <see cref="LogRecord.Envelope"/> is empty). Saves the envelope parse
    /// of most lines of a mixed syslog; leave it false when the sink wants the other lines' time or text.
    /// </summary>
    public bool SkipOtherLines { get; init; }

    /// <summary>
    /// When true, an entry in the kernel's usual layout (IPv4 or IPv6, TCP or UDP) is read for the fields a
    /// traffic report uses only — prefix, <c>IN=</c>, <c>OUT=</c>, <c>SRC=</c>, <c>DST=</c>, <c>PROTO=</c>,
    /// <c>SPT=</c>, <c>DPT=</c>, IP and UDP <c>LEN=</c>, <c>UID=</c>, <c>GID=</c>, <c>MARK=</c> — and the IPv4 header
    /// fields after <c>TOS=0x</c> and the TCP fields from <c>SEQ=</c> to the options are passed over unchecked and left unset
    /// (<see cref="NetfilterEntry.Fields"/> says which are set). A line damaged only inside those passed-over
    /// fields then counts as an entry, not <see cref="LineKind.Malformed"/>; everything else is as without it.
    /// About 15 % less CPU per entry; leave it false when the sink reads TTL, LEN, window or TCP flags.
    /// </summary>
    public bool LeanEntries { get; init; }

    /// <summary>
    /// The mail ports, to notice outgoing mail connections logged under another prefix: an entry whose prefix
    /// <see cref="Filter"/> does not select, but that leaves through an interface (<c>OUT=</c> set: OUTPUT or FORWARD)
    /// over TCP to one of these ports, stays <see cref="LineKind.OtherPrefix"/> with <see cref="LogRecord.OutgoingMail"/>
    /// set (counted in <see cref="ScanTotals.OtherPrefixMail"/>; <see cref="TrafficStatsSink"/> keeps them in
    /// <see cref="TrafficStats.OtherPrefixMail"/>). Null: not noticed.
    /// </summary>
    public IReadOnlyCollection<ushort>? MailPorts { get; init; }
}

/// <summary>One line taken apart: the envelope, and for netfilter lines the entry.</summary>
public ref struct LogRecord
{
    /// <summary>The wrapper parts of the line (time, host, tag, message).</summary>
    public LogEnvelope Envelope;

    /// <summary>The netfilter entry; meaningful when <see cref="Status"/> is not <see cref="NetfilterParseStatus.NotNetfilter"/>. Ranges are relative to <see cref="Message"/>.</summary>
    public NetfilterEntry Entry;

    /// <summary>What the netfilter parser found in the message.</summary>
    public NetfilterParseStatus Status;

    /// <summary>The port of the rule taken from the prefix by the filter's <c>#</c> (e.g. 25 for <c>IPTABLES TCP-OUT 25:</c>), or -1.</summary>
    public int RulePort;

    /// <summary>
    /// For <see cref="LineKind.OtherPrefix"/>: an outgoing TCP connection to one of <see cref="LogLineParserOptions.MailPorts"/>
    /// (mail traffic logged by another rule).
    /// </summary>
    public bool OutgoingMail;

    /// <summary>The message the entry was parsed from.</summary>
    public readonly ReadOnlySpan<byte> Message => Envelope.Message;

    /// <summary>The rule's log prefix bytes.</summary>
    public readonly ReadOnlySpan<byte> Prefix => Entry.Prefix.Slice(Envelope.Message);

    /// <summary>How many entries the line stands for: 1 plus rsyslog's <c>message repeated N times</c> count.</summary>
    public readonly long Copies => 1L + Envelope.RepeatCount;
}

/// <summary>
/// The whole per-line pipeline: envelope (any wrapper), netfilter entry, prefix filter. One instance per
/// thread; no allocation per line.
/// </summary>
/// <example>
/// <code>
/// var parser = new LogLineParser();
/// LineKind kind = parser.Parse("Nov 23 02:14:07 vps kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=203.0.113.7 DST=198.51.100.23 …"u8, out LogRecord r);
/// if (kind == LineKind.Entry) Console.WriteLine($"{r.Entry.Uid} -> {r.Entry.Dst}:{r.Entry.Dpt}");
/// </code>
/// </example>
public sealed class LogLineParser
{
    private readonly EnvelopeParser _envelope;
    private readonly ulong[]? _ports;
    private readonly ulong[]? _mailPorts;
    private readonly long _since;
    private readonly long _until;
    private readonly bool _timeBounded;
    private readonly bool _skipOther;
    private readonly BodyReading _reading;

    /// <summary>Creates a parser.</summary>
    /// <param name="options">The filter and the envelope settings; defaults when null.</param>
    public LogLineParser(LogLineParserOptions? options = null)
    {
        options ??= new LogLineParserOptions();
        Options = options;
        Filter = options.Filter;
        _envelope = new EnvelopeParser(options.Envelope);
        _ports = Bits(options.Ports);

        _mailPorts = Bits(options.MailPorts);
        _timeBounded = options.Since is not null || options.Until is not null;
        _skipOther = options.SkipOtherLines;
        _reading = options.LeanEntries ? BodyReading.Lean : BodyReading.Common;
        _since = options.Since?.UtcTicks ?? long.MinValue;
        _until = options.Until?.UtcTicks ?? long.MaxValue;
    }

    /// <summary>The settings in use.</summary>
    public LogLineParserOptions Options { get; }

    /// <summary>Whether <see cref="LogLineParserOptions.SkipOtherLines"/> is on.</summary>
    internal bool SkipsOtherLines => _skipOther;

    /// <summary>The prefix filter in use.</summary>
    public PrefixFilter Filter { get; }

    /// <summary>Parses one line.</summary>
    /// <param name="line">The raw bytes of the line, with or without its terminator.</param>
    /// <param name="record">The parts; its spans are valid until the next call.</param>
    /// <returns>What the line is.</returns>
    public LineKind Parse(ReadOnlySpan<byte> line, out LogRecord record) => Parse(line, out record, _skipOther);

    /// <summary>Parses a line; <paramref name="skipOther"/> false when the caller already knows it may be an entry (<see cref="LineCandidates"/> found <c>IN=</c> or a notice in it).</summary>
    internal LineKind Parse(ReadOnlySpan<byte> line, out LogRecord record, bool skipOther)
    {
        record = default;
        record.RulePort = -1;
        if (skipOther && !MayBeEntry(line))
        {
            return LineKind.Other;
        }

        _envelope.Parse(line, out record.Envelope);
        switch (record.Envelope.Kind)
        {
            case EnvelopeKind.Empty:
            case EnvelopeKind.Separator:
                return LineKind.Separator;
            case EnvelopeKind.Blob:
                return record.Envelope.IsKernel ? LineKind.Blob : LineKind.Other;
            case EnvelopeKind.RepeatedPrevious:
                // Written by the syslog daemon without a tag; the same words from another program, or from a process
                // posing as the kernel, multiply nothing.
                return record.Envelope.IsKernel && record.Envelope.Origin != LineOrigin.Process ? LineKind.RepeatedPrevious : LineKind.Other;
            case EnvelopeKind.Damaged:
                // A journal record that cannot be read: if it held netfilter text, an entry may be lost, so it is counted.
                return line.IndexOf("IN="u8) >= 0 ? LineKind.Malformed : LineKind.Other;
        }

        if (!record.Envelope.IsKernel)
        {
            return LineKind.Other;
        }

        record.Status = NetfilterParser.Parse(record.Envelope.Message, out record.Entry, _reading);
        switch (record.Status)
        {
            case NetfilterParseStatus.NotNetfilter:
                return LineKind.Other;
            case not NetfilterParseStatus.NotNetfilter when record.Envelope.Origin == LineOrigin.Process:
                return LineKind.Forged;
            case NetfilterParseStatus.Malformed when record.Entry.Error == NetfilterError.InvalidInterface:
                return LineKind.Forged; // a device name no kernel can print: not the kernel's text
            case NetfilterParseStatus.Ebtables:
            case NetfilterParseStatus.Ulogd:
                return LineKind.LookAlike;
        }

        bool selected = Filter.Matches(record.Entry.Prefix.Slice(record.Envelope.Message), out record.RulePort);
        if (!selected)
        {
            record.OutgoingMail = IsOutgoingMail(ref record);
            return LineKind.OtherPrefix;
        }

        if (record.Status != NetfilterParseStatus.Entry)
        {
            return LineKind.Malformed;
        }

        return IsExcluded(ref record) ? LineKind.Excluded : LineKind.Entry;
    }

    /// <summary>
    /// The one rule for "may this line be an entry?" (see <see cref="LogLineParserOptions.SkipOtherLines"/>): it holds a
    /// candidate (<see cref="LineCandidates"/>: <c>IN=</c>, a repeat notice, a journal blob, a NUL byte) or starts specially
    /// (<see cref="HasSpecialStart"/>). The block loop (<see cref="LogScanner.Scan"/>) asks the same per block: one candidate
    /// search over the block, then the start of each line between candidates.
    /// </summary>
    internal static bool MayBeEntry(ReadOnlySpan<byte> line) => LineCandidates.IndexOf(line) >= 0 || HasSpecialStart(line);

    /// <summary>A line whose start the envelope parser treats specially: empty, a separator, journal JSON (a MESSAGE byte array hides "IN=").</summary>
    internal static bool HasSpecialStart(ReadOnlySpan<byte> line)
    {
        if (!line.IsEmpty && line[0] is not ((byte)' ' or (byte)'\t' or 0x1E or (byte)'{' or (byte)'-' or (byte)'d'))
        {
            return false; // most lines: a letter or digit of a time stamp
        }

        ReadOnlySpan<byte> t = line.TrimStart(" \t\u001e"u8);
        return t.IsEmpty || t[0] == (byte)'{' || t[0] == (byte)'-' || t.StartsWith("data:"u8);
    }

    /// <summary>A TCP connection leaving through an interface (<c>OUT=</c> set) to one of <see cref="LogLineParserOptions.MailPorts"/>.</summary>
    private bool IsOutgoingMail(ref LogRecord record)
    {
        ref readonly NetfilterPacket p = ref record.Entry.Packet;
        return _mailPorts is not null && record.Status == NetfilterParseStatus.Entry && record.Entry.Out.Length > 0 && p.Proto == NetfilterProtocol.Tcp
            && p.Has(NetfilterFields.Ports) && (_mailPorts[p.Dpt >> 6] & (1UL << (p.Dpt & 63))) != 0;
    }

    private static ulong[]? Bits(IReadOnlyCollection<ushort>? ports)
    {
        if (ports is null)
        {
            return null;
        }

        var bits = new ulong[65536 / 64];
        foreach (ushort port in ports)
        {
            bits[port >> 6] |= 1UL << (port & 63);
        }

        return bits;
    }

    private bool IsExcluded(ref LogRecord record)
    {
        if (_ports is not null)
        {
            ref readonly NetfilterPacket p = ref record.Entry.Packet;
            if (!p.Has(NetfilterFields.Ports) || (_ports[p.Dpt >> 6] & (1UL << (p.Dpt & 63))) == 0)
            {
                return true;
            }
        }

        if (_timeBounded)
        {
            if (record.Envelope.Time is not { } t)
            {
                return true;
            }

            long ticks = t.UtcTicks;
            return ticks < _since || ticks > _until;
        }

        return false;
    }
}
