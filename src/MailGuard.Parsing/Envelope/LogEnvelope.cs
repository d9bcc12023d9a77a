namespace MailGuard.Parsing;

/// <summary>The wrapper a line was written in, as recognised by <see cref="EnvelopeParser"/>.</summary>
public enum LogFormat : byte
{
    /// <summary>No header recognised: the whole line is the message (<c>journalctl -o cat</c>, <c>dmesg -t</c>, or unknown text).</summary>
    Bare = 0,

    /// <summary>RFC 3164 / BSD: <c>Nov  3 04:05:06 host tag: msg</c> (rsyslog traditional, syslog-ng and busybox defaults, journalctl <c>short</c> and <c>short-precise</c>).</summary>
    Rfc3164,

    /// <summary>RFC 3339 timestamp: <c>2026-11-23T18:03:11.361404+00:00 host tag: msg</c> (rsyslog file format, journalctl <c>short-iso</c>, <c>short-iso-precise</c>, syslog-ng ISODATE).</summary>
    Rfc3339,

    /// <summary>RFC 5424: <c>&lt;4&gt;1 2026-11-23T18:03:11.361404+00:00 host kernel - - - msg</c>.</summary>
    Rfc5424,

    /// <summary>journalctl <c>short-full</c>: <c>Thu 2022-01-13 00:17:01 UTC host kernel: msg</c>.</summary>
    JournalShortFull,

    /// <summary>journalctl <c>short-unix</c>: <c>1642033021.964974 host kernel: msg</c>.</summary>
    JournalShortUnix,

    /// <summary>journalctl <c>short-monotonic</c>: <c>[1840802.579931] host kernel: msg</c>.</summary>
    JournalShortMonotonic,

    /// <summary>journalctl <c>json</c> (also <c>json-seq</c>, <c>json-sse</c>): one object per line, <c>MESSAGE</c> as a string or an array of bytes.</summary>
    JournalJson,

    /// <summary>A <c>MESSAGE=</c> line of journalctl <c>export</c> or <c>verbose</c> output.</summary>
    JournalExport,

    /// <summary>dmesg default: <c>[  123.456789] msg</c>; also <c>dmesg -r</c> with <c>&lt;4&gt;</c> in front.</summary>
    Dmesg,

    /// <summary><c>dmesg -T</c>: <c>[Mon Nov 23 22:33:00 2026] msg</c>.</summary>
    DmesgCtime,

    /// <summary><c>dmesg --time-format=iso</c>: <c>2026-11-23T22:33:00,459614+00:00 msg</c>.</summary>
    DmesgIso,

    /// <summary><c>dmesg -x</c>: <c>kern  :warn  : [  123.456789] msg</c>.</summary>
    DmesgDecorated,

    /// <summary><c>/dev/kmsg</c> records: <c>4,511,719221538,-;msg</c>.</summary>
    Kmsg,

    /// <summary>
    /// journalctl <c>short-delta</c>: <c>[ 4326.833849 &lt;    1.012691 &gt;] host kernel: msg</c> (<c>*&gt;</c> where the
    /// boot changed), and on its first line the stamp alone, padded: <c>[ 4325.821158                ] host kernel: msg</c>.
    /// </summary>
    JournalShortDelta,
}

/// <summary>What a line is, beyond its format.</summary>
public enum EnvelopeKind : byte
{
    /// <summary>A log message (see <see cref="LogEnvelope.Message"/>).</summary>
    Message = 0,

    /// <summary>An empty or blank line.</summary>
    Empty,

    /// <summary>A journalctl separator such as <c>-- Boot 0123… --</c> or <c>-- No entries --</c>.</summary>
    Separator,

    /// <summary>journalctl replaced a non-UTF-8 message by <c>[193B blob data]</c>: its text is lost (run journalctl with <c>-a</c> or <c>-o json</c>).</summary>
    Blob,

    /// <summary>
    /// <c>last message repeated N times</c> (sysklogd, busybox, old rsyslog): the previous line stands for
    /// <see cref="LogEnvelope.RepeatCount"/> further copies.
    /// </summary>
    RepeatedPrevious,

    /// <summary>
    /// A journal JSON record that cannot be decoded: cut (a full disk, a partial write), not valid JSON, or
    /// a <c>MESSAGE</c> with an escape that is not text (a lone surrogate). journald never writes such a record.
    /// </summary>
    Damaged,
}

/// <summary>Who wrote a line, as far as its wrapper can tell (see <see cref="LogEnvelope.Origin"/>).</summary>
public enum LineOrigin : byte
{
    /// <summary>
    /// The wrapper does not say: a syslog file, journalctl's text output, dmesg. Any local process can write a
    /// line that looks like the kernel's there (<c>logger -t kernel …</c>).
    /// </summary>
    Unverified = 0,

    /// <summary>The journal recorded that the kernel wrote the record (<c>_TRANSPORT=kernel</c>).</summary>
    Kernel,

    /// <summary>
    /// A process wrote it: the journal recorded another transport (<c>_TRANSPORT=syslog</c>, <c>journal</c>,
    /// <c>stdout</c>…), or the tag carries a process ID (<c>kernel[4242]:</c>), which the kernel's own lines
    /// never have. <see cref="LogEnvelope.SenderUid"/>, <see cref="LogEnvelope.SenderPid"/> and
    /// <see cref="LogEnvelope.SenderCommand"/> say which process, where the wrapper records it.
    /// </summary>
    Process,
}

/// <summary>How a <see cref="LogEnvelope.Time"/> was obtained.</summary>
[Flags]
public enum TimestampFlags : byte
{
    /// <summary>The line gave a full date, time and UTC offset.</summary>
    None = 0,

    /// <summary>The line had no year (RFC 3164); it was inferred from <see cref="EnvelopeOptions.ReferenceTime"/>.</summary>
    YearInferred = 1,

    /// <summary>The line had no UTC offset; <see cref="EnvelopeOptions.AssumedOffset"/> was applied.</summary>
    OffsetAssumed = 2,
}

/// <summary>
/// One log line split into its wrapper parts. The spans point into the line, or into the parser's
/// scratch buffer for a JSON message with escapes; they are valid until the next call to the same parser.
/// </summary>
public ref struct LogEnvelope
{
    /// <summary>The wrapper format of the line.</summary>
    public LogFormat Format { get; internal set; }

    /// <summary>Whether the line is a message, a separator, a blob placeholder, a repeat notice or empty.</summary>
    public EnvelopeKind Kind { get; internal set; }

    /// <summary>The message text (after the header, the kernel's <c>[ 123.456789]</c> stamp, and an rsyslog repeat wrapper).</summary>
    public ReadOnlySpan<byte> Message { get; internal set; }

    /// <summary>The host name, when the format has one.</summary>
    public ReadOnlySpan<byte> Host { get; internal set; }

    /// <summary>The syslog tag / identifier without the colon (<c>kernel</c>), when present.</summary>
    public ReadOnlySpan<byte> Tag { get; internal set; }

    /// <summary>The absolute time of the line, when it says enough (see <see cref="TimeFlags"/>).</summary>
    public DateTimeOffset? Time { get; internal set; }

    /// <summary>How <see cref="Time"/> was obtained.</summary>
    public TimestampFlags TimeFlags { get; internal set; }

    /// <summary>The kernel's time since boot (<c>[  123.456789]</c>), when present.</summary>
    public TimeSpan? Uptime { get; internal set; }

    /// <summary>
    /// Further copies the line stands for: N for rsyslog's <c>message repeated N times: [ … ]</c>
    /// (the message is counted 1 + N times), or for <see cref="EnvelopeKind.RepeatedPrevious"/>.
    /// </summary>
    public int RepeatCount { get; internal set; }

    /// <summary>True when the message claims to come from the kernel: a <c>kernel</c>/<c>klogd</c> tag, or a format without tags (see <see cref="Origin"/> for what the wrapper proves).</summary>
    public bool IsKernel { get; internal set; }

    /// <summary>Who wrote the line, as far as the wrapper tells: the journal records it (<c>_TRANSPORT</c>), syslog files do not.</summary>
    public LineOrigin Origin { get; internal set; }

    /// <summary>The user ID of the process that wrote the record (the journal's trusted <c>_UID</c>), when known.</summary>
    public uint? SenderUid { get; internal set; }

    /// <summary>The process ID that wrote the record (the journal's <c>_PID</c>, or the <c>[PID]</c> of a syslog tag), when known.</summary>
    public uint? SenderPid { get; internal set; }

    /// <summary>The command name of the process that wrote the record (the journal's <c>_COMM</c>, decoded), when known.</summary>
    public ReadOnlySpan<byte> SenderCommand { get; internal set; }
}
