using System.Globalization;
using System.Text.RegularExpressions;

namespace MailGuard.Parsing;

/// <summary>
/// Files that are one log cut by logrotate (<c>kern.log</c>, <c>kern.log.1</c>, <c>kern.log.2.gz</c>… or
/// <c>kern.log-20261130</c>…): read one after the other, oldest first, they are the log as it was written, so they can be
/// read as one stream on all cores (<see cref="StreamBlocks"/>) instead of merged line by line in time order on one thread.
/// </summary>
/// <remarks>
/// Taken only when it gives what the merge gives: every file in one directory with one base name and one naming scheme;
/// the first line of every non-empty file carries a time and is no repeat notice, and those times grow from the oldest file to the newest (a
/// set whose names and times disagree is merged); and one reference time gives year-less stamps the year each file's own
/// modification time gives them (the oldest first line less than 364 days before the newest modification). Logs of
/// different names (<c>kern.log</c> and <c>syslog</c> hold the same lines) are merged, their duplicates counted once.
/// </remarks>
internal static partial class RotationChain
{
    /// <summary>One file of the chain.</summary>
    /// <param name="Input">Its index among the scan's inputs.</param>
    /// <param name="Format">The wrapper of its first line, or -1 when it is empty.</param>
    internal readonly record struct Link(int Input, int Format);

    /// <summary>The chain of <paramref name="paths"/>, oldest first, and the reference time for all of them; null when they must be merged.</summary>
    public static (List<Link> Oldest, DateTimeOffset Reference)? Plan(IReadOnlyList<string> paths, MailScanOptions options)
    {
        if (paths.Count < 2)
        {
            return null;
        }

        string? dir = null;
        string? name = null;
        int scheme = 0; // 1: numbers, 2: dates
        var files = new List<(int Input, long Order, DateTimeOffset Modified)>(paths.Count);
        for (int i = 0; i < paths.Count; i++)
        {
            string full = Path.GetFullPath(paths[i]);
            string file = Path.GetFileName(full);
            Match m = Rotated().Match(file);
            string baseName = m.Success ? file[..m.Index] : file;
            int fileScheme = !m.Success ? 0 : m.Groups["n"].Success ? 1 : 2;
            if ((dir ??= Path.GetDirectoryName(full)) != Path.GetDirectoryName(full) || (name ??= baseName) != baseName
                || (fileScheme != 0 && scheme != 0 && fileScheme != scheme))
            {
                return null;
            }

            scheme = fileScheme == 0 ? scheme : fileScheme;
            // the current file is the newest; .1 .2.gz: older as the number grows; -20261130: older as the date shrinks
            long order = fileScheme == 0 ? long.MinValue
                : fileScheme == 1 ? long.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture)
                : -long.Parse(m.Groups["d"].Value, CultureInfo.InvariantCulture);
            files.Add((i, order, File.GetLastWriteTimeUtc(full)));
        }

        files.Sort(static (a, b) => b.Order.CompareTo(a.Order)); // oldest first
        for (int i = 1; i < files.Count; i++)
        {
            if (files[i].Order == files[i - 1].Order)
            {
                return null; // kern.log.2 and kern.log.2.gz: which is older?
            }
        }

        DateTimeOffset newest = files.Max(static f => f.Modified);
        DateTimeOffset reference = options.ReferenceTime ?? newest;
        var chain = new List<Link>(files.Count);
        long previous = long.MinValue;
        foreach ((int input, _, DateTimeOffset modified) in files)
        {
            if (First(paths[input], options, options.ReferenceTime ?? modified) is not { } first)
            {
                return null;
            }

            if (first.Format >= 0)
            {
                if (first.Time is not { } time || time.UtcTicks < previous || (options.ReferenceTime is null && newest - time >= TimeSpan.FromDays(364)))
                {
                    return null;
                }

                previous = time.UtcTicks;
            }

            chain.Add(new Link(input, first.Format));
        }

        return (chain, reference);
    }

    /// <summary>The time and wrapper of a file's first line (format -1: empty file); null when it cannot be read.</summary>
    private static (DateTimeOffset? Time, int Format)? First(string path, MailScanOptions options, DateTimeOffset reference)
    {
        try
        {
            using Stream text = LogScanner.OpenMaybeGzip(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1));
            byte[] head = new byte[Math.Min(options.MaxLineLength + 1, 1 << 20)];
            int n = text.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            if (n == 0)
            {
                return (null, -1);
            }

            int end = head.AsSpan(0, n).IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = head.AsSpan(0, end < 0 ? n : end);
            if (line.Length > options.MaxLineLength || line.Contains((byte)0))
            {
                return null;
            }

            if (new LogLineParser(options.Parser(reference)).Parse(line, out LogRecord record, skipOther: false) == LineKind.RepeatedPrevious)
            {
                return null; // read alone, a file's opening repeat notice has no message before it; after the previous file, it would
            }

            return (record.Envelope.Time, (int)record.Envelope.Format);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return null; // the merge reports it
        }
    }

    [GeneratedRegex(@"(\.(?<n>\d{1,4})|-(?<d>\d{8}))(\.(gz|xz|zst|bz2))?$")]
    private static partial Regex Rotated();
}

/// <summary>
/// The text of several inputs, one after the other: an input that ends without a line end gets one (so its last line and
/// the next input's first stay two lines), and one that fails (damaged compressed data, an I/O error) ends there with its
/// error kept on it, as when it is read alone, and the next goes on.
/// </summary>
internal sealed class ConcatStream(IReadOnlyList<LogInput> inputs) : ReadOnlyStream
{
    private int _current;
    private bool _lineEnded = true;

    /// <summary>Line ends added after inputs that ended without one (not bytes of the inputs).</summary>
    public long AddedLineEnds { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        while (_current < inputs.Count && !buffer.IsEmpty)
        {
            LogInput input = inputs[_current];
            int n;
            try
            {
                n = input.Stream.Read(buffer);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                input.Error ??= e;
                n = 0;
            }

            if (n > 0)
            {
                _lineEnded = buffer[n - 1] == (byte)'\n';
                return n;
            }

            _current++;
            if (!_lineEnded)
            {
                _lineEnded = true;
                AddedLineEnds++;
                buffer[0] = (byte)'\n';
                return 1;
            }
        }

        return 0;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return new ValueTask<int>(Read(buffer.Span)); // regular files: read on the reading thread
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}
