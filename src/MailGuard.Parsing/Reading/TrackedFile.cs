using Microsoft.Win32.SafeHandles;

namespace MailGuard.Parsing;

/// <summary>
/// A log file read as text from a remembered place (<see cref="ReadState"/>) and, when followed, on as it grows, as
/// <c>tail -F</c> reads it: what is there, then what is appended, across logrotate's rename-and-create (the old file is
/// read to its end first, then the new one from its start) and <c>copytruncate</c> (the file shrinks under the reader:
/// read again from its start).
/// </summary>
/// <remarks>
/// <para>
/// Resuming: when the file at the path is no longer the one read last time, the rest of that one is looked for among the
/// rotated files beside it (<c>.1</c>, <c>.2.gz</c>, <c>-20261207</c>…, compressed or not) by its content, and it and
/// every file rotated after it are read first. Not followed, the read ends at the last line end the file had when it
/// was opened; followed, it ends when the stop token fires and nothing more is there. Either way the position is then
/// stored in the state; a read that did not get that far (cancelled, failed) stores nothing.
/// </para>
/// <para>
/// Only whole lines are handed on: an unfinished last line waits for its end (followed) or for the next run, except at
/// the end of a rotated file, which gets a line end. A new file at the path is told from the one being read by their
/// first bytes (up to 256), not by inode (which .NET does not expose): two logs that begin alike byte for byte would be
/// taken for one. Between a rename and the creation of the new file, the path is missing: the reader waits.
/// </para>
/// </remarks>
internal sealed class TrackedFile : ReadOnlyStream
{
    private const int HeadLength = 256;

    private readonly string _path;
    private readonly string _key;
    private readonly bool _follow;
    private readonly TimeSpan _poll;
    private readonly CancellationToken _stop;
    private readonly ReadState? _state;
    private readonly ResumeResult? _result;
    private readonly Queue<Stream> _before = new(); // text of rotated files to read first
    private FileStream _live;
    private Stream? _liveText; // the live file when it is compressed: read whole, not followed
    private long _offset;
    private long _end; // not followed: the last line end when opened
    private bool _lineEnded = true;
    private bool _finished;

    /// <summary>Opens <paramref name="path"/> (a missing file throws here, as for any input) and plans the read.</summary>
    public TrackedFile(string path, bool follow, TimeSpan poll, ReadState? state, CancellationToken stop)
    {
        _path = path;
        _key = Path.GetFullPath(path);
        _follow = follow;
        _poll = poll;
        _state = state;
        _stop = stop;
        _live = Open(path);
        try
        {
            _result = Plan();
        }
        catch
        {
            Dispose();
            throw;
        }

        if (_result is not null)
        {
            _state!.Add(_result);
        }
    }

    /// <summary>How many times the file was found rotated (renamed and created anew) or truncated while followed.</summary>
    public int Rotations { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty || _finished)
        {
            return 0;
        }

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_before.TryPeek(out Stream? rotated) || (_liveText is { } t && (rotated = t) is not null))
            {
                int n = await rotated.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n > 0)
                {
                    _lineEnded = buffer.Span[n - 1] == (byte)'\n';
                    return n;
                }

                await rotated.DisposeAsync().ConfigureAwait(false);
                if (!_before.TryDequeue(out _))
                {
                    _liveText = null;
                    _offset = _live.Length;
                }

                if (EndLine(buffer.Span))
                {
                    return 1;
                }

                continue;
            }

            int read = ReadLive(buffer.Span, wholeLinesOnly: true);
            if (read > 0)
            {
                return read;
            }

            if (!_follow)
            {
                Finish();
                return 0;
            }

            if (RandomAccess.GetLength(_live.SafeFileHandle) < _offset)
            {
                // copytruncate: the file was copied away and emptied; what is in it now was written since.
                _offset = 0;
                Rotations++;
                continue;
            }

            if (TryOpenReplacement() is { } next)
            {
                // rename and create: the old file, read to its end (an unfinished last line too), then the new one from its start.
                read = ReadLive(buffer.Span, wholeLinesOnly: false);
                if (read > 0)
                {
                    next.Dispose();
                    return read;
                }

                foreach (Stream between in RotatedSince())
                {
                    _before.Enqueue(between); // rotated again before this poll saw the first rotation: read first
                }

                await _live.DisposeAsync().ConfigureAwait(false);
                _live = next;
                _offset = 0;
                Rotations++;
                if (EndLine(buffer.Span))
                {
                    return 1;
                }

                continue;
            }

            if (_stop.IsCancellationRequested)
            {
                Finish();
                return 0;
            }

            await Task.Delay(_poll, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads the live file at the offset: up to the last line end read, unless the buffer holds none or <paramref name="wholeLinesOnly"/> is false.</summary>
    private int ReadLive(Span<byte> buffer, bool wholeLinesOnly)
    {
        if (!_follow)
        {
            if (_offset >= _end)
            {
                return 0;
            }

            buffer = buffer[..(int)Math.Min(buffer.Length, _end - _offset)];
            wholeLinesOnly = false; // _end is a line end
        }

        int n = RandomAccess.Read(_live.SafeFileHandle, buffer, _offset);
        if (n > 0 && wholeLinesOnly)
        {
            int last = buffer[..n].LastIndexOf((byte)'\n');
            n = last >= 0 ? last + 1 : n == buffer.Length ? n : 0; // a line longer than the buffer goes on as it is
        }

        if (n > 0)
        {
            _offset += n;
            _lineEnded = buffer[n - 1] == (byte)'\n';
        }

        return n;
    }

    /// <summary>Gives a file that ended without a line end one, so that its last line and the next file's first stay two lines.</summary>
    private bool EndLine(Span<byte> buffer)
    {
        if (_lineEnded)
        {
            return false;
        }

        buffer[0] = (byte)'\n';
        _lineEnded = true;
        return true;
    }

    /// <summary>The read got as far as it was to go: the position is stored.</summary>
    private void Finish()
    {
        _finished = true;
        if (_state is not null && _result is not null)
        {
            _state.Set(_key, ReadPosition.Of(_live.SafeFileHandle, _offset));
            _result.ReadTo = _offset;
        }
    }

    /// <summary>Where the read begins: the rotated files to read first and the offset in the live file.</summary>
    private ResumeResult? Plan()
    {
        ReadPosition? position = _state?.Find(_key);
        bool compressed = IsCompressed(_live.SafeFileHandle);
        ResumeResult? result = null;
        if (_state is null)
        {
            _offset = 0;
        }
        else if (position is null || position.Offset == 0)
        {
            result = new ResumeResult(_key, ResumeKind.FirstRead, 0, []);
        }
        else if (position.Matches(_live.SafeFileHandle))
        {
            _offset = position.Offset;
            result = new ResumeResult(_key, ResumeKind.Continued, position.Offset, []);
        }
        else if (FindRotated(position) is { } found)
        {
            foreach (Stream text in found.Texts)
            {
                _before.Enqueue(text);
            }

            result = new ResumeResult(_key, ResumeKind.AfterRotation, position.Offset, found.Names);
        }
        else
        {
            result = new ResumeResult(_key, ResumeKind.NotFound, 0, []);
        }

        long length = RandomAccess.GetLength(_live.SafeFileHandle);
        if (compressed)
        {
            // a compressed file does not grow: read whole, unless it is the very file read to its end last time
            if (result?.Kind == ResumeKind.Continued && _offset == length)
            {
                _end = length;
            }
            else
            {
                _liveText = LogScanner.OpenMaybeGzip(Open(_path));
                _offset = 0;
                _end = length;
            }
        }
        else if (!_follow)
        {
            _end = LastLineEnd(_live.SafeFileHandle, _offset, length);
        }

        return result;
    }

    /// <summary>The end of the last whole line of the file, at or after <paramref name="from"/> (the length when no line ends there).</summary>
    private static long LastLineEnd(SafeFileHandle file, long from, long length)
    {
        byte[] chunk = new byte[64 * 1024];
        for (long end = length; end > from;)
        {
            int size = (int)Math.Min(chunk.Length, end - from);
            int n = RandomAccess.Read(file, chunk.AsSpan(0, size), end - size);
            int last = chunk.AsSpan(0, n).LastIndexOf((byte)'\n');
            if (last >= 0)
            {
                return end - size + last + 1;
            }

            end -= size;
        }

        return from; // nothing but an unfinished line: left for the next run
    }

    /// <summary>The rotated file that holds the rest of the one read last time, and every one rotated after it: their text, oldest first.</summary>
    private (List<Stream> Texts, List<string> Names)? FindRotated(ReadPosition position) =>
        FindAmongRotated(position.MatchesText, includeIt: true); // left at the place read up to

    /// <summary>
    /// The files rotated after the one just read to its end, oldest first: when logrotate ran twice between two polls, the
    /// file it made the first time is found among the rotated files, newer than the one read (told by its first bytes).
    /// </summary>
    private List<Stream> RotatedSince()
    {
        Span<byte> head = stackalloc byte[HeadLength];
        byte[] mine = head[..RandomAccess.Read(_live.SafeFileHandle, head, 0)].ToArray();
        return FindAmongRotated(text =>
        {
            byte[] theirs = new byte[HeadLength];
            int n = text.ReadAtLeast(theirs, HeadLength, throwOnEndOfStream: false);
            return theirs.AsSpan(0, n).SequenceEqual(mine);
        }, includeIt: false)?.Texts ?? []; // not among them (deleted, or named otherwise): nothing known in between
    }

    /// <summary>
    /// Looks through the rotated files beside the path, newest first, for the one <paramref name="isIt"/> recognises from
    /// its text; returns the text of every file rotated after it (and of it, from where <paramref name="isIt"/> left it,
    /// with <paramref name="includeIt"/>), oldest first, and their names; null when none is it.
    /// </summary>
    private (List<Stream> Texts, List<string> Names)? FindAmongRotated(Func<Stream, bool> isIt, bool includeIt)
    {
        string? dir = Path.GetDirectoryName(_key);
        if (dir is null)
        {
            return null;
        }

        List<string> newestFirst = [.. MachineLogs.Rotated(dir, Path.GetFileName(_key))];
        for (int i = 0; i < newestFirst.Count; i++)
        {
            Stream? text = null;
            try
            {
                text = LogScanner.OpenMaybeGzip(Open(newestFirst[i]));
                if (!isIt(text))
                {
                    text.Dispose();
                    continue;
                }

                var texts = new List<Stream>();
                if (includeIt)
                {
                    texts.Add(text);
                }
                else
                {
                    text.Dispose();
                }

                text = null;
                for (int j = i - 1; j >= 0; j--)
                {
                    texts.Add(LogScanner.OpenMaybeGzip(Open(newestFirst[j])));
                }

                return (texts, newestFirst[..(includeIt ? i + 1 : i)].AsEnumerable().Reverse().ToList());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                text?.Dispose(); // unreadable or damaged: not the one
            }
        }

        return null;
    }

    private static bool IsCompressed(SafeFileHandle file)
    {
        Span<byte> start = stackalloc byte[10];
        int n = RandomAccess.Read(file, start, 0);
        return LogScanner.DetectCompression(start[..n]) != CompressionFormat.None;
    }

    /// <summary>The file now at the path, when it is another file than the one being read; null when it is the same or missing.</summary>
    private FileStream? TryOpenReplacement()
    {
        FileStream candidate;
        try
        {
            candidate = Open(_path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null; // between the rename and the create
        }

        Span<byte> mine = stackalloc byte[HeadLength];
        Span<byte> theirs = stackalloc byte[HeadLength];
        int a = RandomAccess.Read(_live.SafeFileHandle, mine, 0);
        int b = RandomAccess.Read(candidate.SafeFileHandle, theirs, 0);
        if (a == b && mine[..a].SequenceEqual(theirs[..b]))
        {
            candidate.Dispose();
            return null;
        }

        return candidate;
    }

    private static FileStream Open(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _live.Dispose();
            _liveText?.Dispose();
            while (_before.TryDequeue(out Stream? s))
            {
                s.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
