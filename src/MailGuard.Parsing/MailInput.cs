using Microsoft.Win32.SafeHandles;

namespace MailGuard.Parsing;

/// <summary>One thing a <see cref="MailScan"/> reads: a file (rotated, compressed or not), a stream, standard input.</summary>
public sealed class MailInput
{
    private readonly Func<Stream>? _open;

    private MailInput(string name, string? path, Func<Stream>? open, DateTimeOffset? writtenUpTo)
    {
        Name = name;
        Path = path;
        _open = open;
        WrittenUpTo = writtenUpTo;
    }

    /// <summary>A name for messages: the path, <c>-</c> for standard input, or what the caller chose.</summary>
    public string Name { get; }

    /// <summary>The file's path, or null for a stream.</summary>
    public string? Path { get; }

    /// <summary>The instant the input was written up to (for year-less timestamps), when the caller knows it.</summary>
    public DateTimeOffset? WrittenUpTo { get; }

    /// <summary>A log file: compression (gzip, xz, zstd, bzip2) is detected by content; its modification time gives year-less stamps their year.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The input.</returns>
    public static MailInput File(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new MailInput(path, path, null, null);
    }

    /// <summary>A stream (compression detected by content); the scan disposes it.</summary>
    /// <param name="name">A name for messages.</param>
    /// <param name="stream">The log text.</param>
    /// <param name="writtenUpTo">The instant it was written up to, for year-less timestamps; null: when the scan starts.</param>
    /// <returns>The input.</returns>
    public static MailInput Stream(string name, Stream stream, DateTimeOffset? writtenUpTo = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(stream);
        return new MailInput(name, null, () => stream, writtenUpTo);
    }

    /// <summary>
    /// A log file followed as <c>tail -F</c> does: what is there, then what is appended, across logrotate's rename-and-create
    /// and <c>copytruncate</c>, without losing or counting a line twice; the scan ends only on its cancellation token. Read
    /// as a stream (year-less stamps take the scan's start as their reference). Only whole lines are read: an unfinished
    /// last line waits for its end.
    /// </summary>
    /// <param name="path">The file; it must exist when the scan starts.</param>
    /// <param name="poll">How often to look for new lines when nothing is new; null: every 250 ms.</param>
    /// <returns>The input.</returns>
    public static MailInput Follow(string path, TimeSpan? poll = null) => Follow(path, null, default, poll);

    /// <summary>
    /// A log file followed as <see cref="Follow(string, TimeSpan?)"/> does, from where <paramref name="state"/> says the last
    /// run stopped (as <see cref="Resume"/> begins), until <paramref name="stop"/> fires: then what is already written is
    /// read, the input ends, the scan completes and the position is stored in the state (save it after the scan). The
    /// scan's own cancellation token still stops at once, and then stores nothing.
    /// </summary>
    /// <param name="path">The file; it must exist when the scan starts.</param>
    /// <param name="state">Where each file was read up to; null: read from the start, store nothing.</param>
    /// <param name="stop">Ends the follow cleanly (a signal, a service stopping).</param>
    /// <param name="poll">How often to look for new lines when nothing is new; null: every 250 ms.</param>
    /// <returns>The input.</returns>
    public static MailInput Follow(string path, ReadState? state, CancellationToken stop, TimeSpan? poll = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        TimeSpan every = poll ?? TimeSpan.FromMilliseconds(250);
        return every > TimeSpan.Zero
            ? new MailInput(path, null, () => new TrackedFile(path, follow: true, every, state, stop), null)
            : throw new ArgumentOutOfRangeException(nameof(poll), "The poll interval must be positive.");
    }

    /// <summary>
    /// The lines of a log file written since the last run that used <paramref name="state"/>: from where that run stopped,
    /// to the last whole line the file has when the scan opens it (an unfinished line is left for the next run). When the
    /// file was rotated since, the rest of the old one — found among the rotated files beside it by its content, compressed
    /// or not — and every file rotated after it are read first (<see cref="ResumeKind.AfterRotation"/>); when the place is
    /// in no file any more, the file is read from its start and <see cref="ReadState.Results"/> says lines may be missing
    /// (<see cref="ResumeKind.NotFound"/>). Once read to its end, the new position is stored in the state: save it after the scan.
    /// Year-less stamps take the file's modification time as their reference.
    /// </summary>
    /// <param name="path">The file (the current one: <c>/var/log/kern.log</c>).</param>
    /// <param name="state">Where each file was read up to (<see cref="ReadState.Load"/>).</param>
    /// <returns>The input.</returns>
    public static MailInput Resume(string path, ReadState state)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(state);
        DateTimeOffset? written = System.IO.File.Exists(path) ? System.IO.File.GetLastWriteTimeUtc(path) : null;
        return new MailInput(path, null, () => new TrackedFile(path, follow: false, TimeSpan.Zero, state, default), written);
    }

    /// <summary>
    /// Standard input, named <c>-</c>: read from the process's descriptor 0 directly (a closed pipe and a blocked read are
    /// both seen at once, unlike through <see cref="Console.OpenStandardInput()"/>).
    /// </summary>
    /// <returns>The input.</returns>
    public static MailInput StandardInput() => new("-", null, OpenStandardInput, null);

    /// <summary>Opens the input for reading (files: shared with writers and rotation).</summary>
    internal Stream Open() => _open?.Invoke()
        ?? new FileStream(Path!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);

    private static Stream OpenStandardInput() => OperatingSystem.IsWindows()
        ? Console.OpenStandardInput()
        : new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0, isAsync: false);
}

/// <summary>What happened to one input of a <see cref="MailScan"/>.</summary>
/// <param name="Name">The input's name.</param>
/// <param name="Error">Why it could not be opened or read to its end (missing, unreadable, corrupt compressed data: <see cref="CompressedDataException"/>), or null.</param>
/// <param name="Opened">False when it could not even be opened (nothing of it was read).</param>
public sealed record MailInputResult(string Name, Exception? Error, bool Opened);

/// <summary>One selected entry, as <see cref="MailScanOptions.OnEntry"/> hands it on (a convenience: an object and strings per entry).</summary>
/// <param name="Time">The line's absolute time, when it has one.</param>
/// <param name="Uptime">The kernel's time since boot, when the line gives it.</param>
/// <param name="Host">The host name of the line, or empty.</param>
/// <param name="Prefix">The rule's log prefix (log text: escape it before showing it).</param>
/// <param name="RulePort">The port in the prefix (<c>IPTABLES TCP-OUT 25:</c>), or -1.</param>
/// <param name="In">The input interface (<c>IN=</c>), empty for locally generated packets.</param>
/// <param name="Out">The output interface (<c>OUT=</c>).</param>
/// <param name="Src">The source address.</param>
/// <param name="Dst">The destination address.</param>
/// <param name="Spt">The source port, or 0.</param>
/// <param name="Dpt">The destination port, or 0.</param>
/// <param name="Uid">The local sender's UID (<c>UID=</c>), when logged.</param>
/// <param name="Gid">Its GID, when logged.</param>
/// <param name="Copies">How many entries the line stands for (1 plus a repeat notice's count).</param>
public sealed record MailEntry(DateTimeOffset? Time, TimeSpan? Uptime, string Host, string Prefix, int RulePort, string In, string Out, NetAddress Src, NetAddress Dst, ushort Spt, ushort Dpt, uint? Uid, uint? Gid, long Copies);
