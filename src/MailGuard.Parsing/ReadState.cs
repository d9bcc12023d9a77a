using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace MailGuard.Parsing;

/// <summary>
/// How far each log file was read, kept between runs in a small JSON file, so that a job started every few minutes reads
/// only the lines written since its last run — across logrotate's rename-and-create (the rest of the old file, now
/// <c>kern.log.1</c> or <c>kern.log.1.gz</c>, and every file rotated since, are read first) and <c>copytruncate</c>.
/// Use it with <see cref="MailInput.Resume"/> or <see cref="MailInput.Follow(string, ReadState?, CancellationToken, TimeSpan?)"/>; save it after the scan.
/// </summary>
/// <remarks>
/// A file is recognised by its content, not by its inode: a hash of its first bytes (up to 256) and of the bytes just
/// before the place read up to (up to 256). An inode is reused once a file is deleted, and <c>copytruncate</c> keeps the
/// inode while it replaces the content; the content tells both apart. A position moves only when its input was read to
/// its end (or, when followed, until the follow was stopped): a scan that was cancelled or failed leaves it where it
/// was, so the next run reads those lines again rather than losing them.
/// </remarks>
/// <example>
/// <code>
/// ReadState state = ReadState.Load("/var/lib/mailguard/state.json");
/// MailScanReport report = await MailScan.ScanAsync([MailInput.Resume("/var/log/kern.log", state)]);
/// state.Save("/var/lib/mailguard/state.json");
/// </code>
/// </example>
public sealed class ReadState
{
    /// <summary>The <c>schema</c> of the file: a reader refuses other schemas.</summary>
    public const string Schema = "mailguard.state/1";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, ReadPosition> _positions = new(StringComparer.Ordinal);
    private readonly List<ResumeResult> _results = [];

    /// <summary>An empty state: every file is read from its start.</summary>
    public ReadState()
    {
    }

    /// <summary>What each resumed or followed input did in the scans that used this state, in the order they were opened.</summary>
    public IReadOnlyList<ResumeResult> Results
    {
        get
        {
            lock (_lock)
            {
                return [.. _results];
            }
        }
    }

    /// <summary>How many files have a position.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _positions.Count;
            }
        }
    }

    /// <summary>Reads a state file; a missing file is an empty state (the first run).</summary>
    /// <param name="path">The state file.</param>
    /// <returns>The state.</returns>
    /// <exception cref="InvalidDataException">The file is not a state file of this schema (damaged, or another program's).</exception>
    /// <exception cref="IOException">It could not be read.</exception>
    /// <exception cref="UnauthorizedAccessException">It may not be read.</exception>
    public static ReadState Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var state = new ReadState();
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return state;
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(bytes);
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("schema", out JsonElement schema) || schema.GetString() != Schema)
            {
                throw new InvalidDataException($"{path}: not a mgscan state file (schema {Schema})");
            }

            foreach (JsonElement f in root.GetProperty("files").EnumerateArray())
            {
                var position = new ReadPosition(
                    f.GetProperty("offset").GetInt64(),
                    f.GetProperty("head_length").GetInt32(),
                    Convert.FromHexString(f.GetProperty("head_sha256").GetString()!),
                    f.GetProperty("tail_length").GetInt32(),
                    Convert.FromHexString(f.GetProperty("tail_sha256").GetString()!),
                    f.GetProperty("saved").GetDateTimeOffset());
                if (position.Offset < 0 || position.HeadLength is < 0 or > ReadPosition.HashedLength || position.TailLength is < 0 or > ReadPosition.HashedLength
                    || position.HeadHash.Length != 32 || position.TailHash.Length != 32 || position.TailLength > position.Offset)
                {
                    throw new InvalidDataException($"{path}: a position out of range");
                }

                state._positions[f.GetProperty("path").GetString()!] = position;
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a valid mgscan state file: {e.Message}", e);
        }

        return state;
    }

    /// <summary>Writes the state: to a new file beside it, then renamed over it, so that a crash leaves the old state or the new one, never half of one.</summary>
    /// <param name="path">The state file.</param>
    /// <exception cref="IOException">It could not be written.</exception>
    /// <exception cref="UnauthorizedAccessException">It may not be written.</exception>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = System.IO.Path.GetFullPath(path);
        string temp = full + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                using (var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true }))
                {
                    json.WriteStartObject();
                    json.WriteString("schema", Schema);
                    json.WriteStartArray("files");
                    lock (_lock)
                    {
                        foreach ((string key, ReadPosition p) in _positions.OrderBy(static p => p.Key, StringComparer.Ordinal))
                        {
                            json.WriteStartObject();
                            json.WriteString("path", key);
                            json.WriteNumber("offset", p.Offset);
                            json.WriteNumber("head_length", p.HeadLength);
                            json.WriteString("head_sha256", Convert.ToHexStringLower(p.HeadHash));
                            json.WriteNumber("tail_length", p.TailLength);
                            json.WriteString("tail_sha256", Convert.ToHexStringLower(p.TailHash));
                            json.WriteString("saved", p.Saved);
                            json.WriteEndObject();
                        }
                    }

                    json.WriteEndArray();
                    json.WriteEndObject();
                }

                file.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    internal ReadPosition? Find(string key)
    {
        lock (_lock)
        {
            return _positions.GetValueOrDefault(key);
        }
    }

    internal void Set(string key, ReadPosition position)
    {
        lock (_lock)
        {
            _positions[key] = position;
        }
    }

    internal void Add(ResumeResult result)
    {
        lock (_lock)
        {
            _results.Add(result);
        }
    }
}

/// <summary>How a resumed or followed input began (<see cref="ReadState"/>).</summary>
public enum ResumeKind
{
    /// <summary>The state had no position for the file: it was read from its start.</summary>
    FirstRead,

    /// <summary>The file is the one read last time: read from where that run stopped.</summary>
    Continued,

    /// <summary>The file was rotated since: the rest of the old one (found among the rotated files) and every file rotated after it were read first.</summary>
    AfterRotation,

    /// <summary>
    /// The place the last run stopped at is in no file here any more (rotated away and deleted, or the file was edited): the
    /// file was read from its start, and lines written between may be missing from the report.
    /// </summary>
    NotFound,
}

/// <summary>What one resumed or followed input did (<see cref="ReadState.Results"/>).</summary>
public sealed class ResumeResult
{
    internal ResumeResult(string path, ResumeKind kind, long from, IReadOnlyList<string> rotatedFiles)
    {
        Path = path;
        Kind = kind;
        From = from;
        RotatedFiles = rotatedFiles;
    }

    /// <summary>The file's full path (the key of its position).</summary>
    public string Path { get; }

    /// <summary>How it began.</summary>
    public ResumeKind Kind { get; }

    /// <summary>The byte of the file (the one now at <see cref="Path"/>, or the rotated one for <see cref="ResumeKind.AfterRotation"/>) the read began at.</summary>
    public long From { get; }

    /// <summary>The rotated files read before the file, oldest first (for <see cref="ResumeKind.AfterRotation"/>).</summary>
    public IReadOnlyList<string> RotatedFiles { get; }

    /// <summary>The byte of the file read up to, once it was read to its end (or its follow was stopped); null while it was not: its position did not move.</summary>
    public long? ReadTo { get; internal set; }
}

/// <summary>One file's position: how far it was read and hashes that recognise it.</summary>
internal sealed record ReadPosition(long Offset, int HeadLength, byte[] HeadHash, int TailLength, byte[] TailHash, DateTimeOffset Saved)
{
    /// <summary>How many bytes at the start, and before the offset, are hashed.</summary>
    public const int HashedLength = 256;

    /// <summary>The position of <paramref name="file"/> read up to <paramref name="offset"/>.</summary>
    public static ReadPosition Of(Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset)
    {
        Span<byte> bytes = stackalloc byte[HashedLength];
        int head = RandomAccess.Read(file, bytes[..(int)Math.Min(HashedLength, offset)], 0);
        byte[] headHash = SHA256.HashData(bytes[..head]);
        int tailLength = (int)Math.Min(HashedLength, offset);
        int tail = RandomAccess.Read(file, bytes[..tailLength], offset - tailLength);
        byte[] tailHash = SHA256.HashData(bytes[..tail]);
        return new ReadPosition(offset, head, headHash, tail, tailHash, DateTimeOffset.UtcNow);
    }

    /// <summary>Whether <paramref name="file"/> begins as the file did and holds the same bytes before the offset.</summary>
    public bool Matches(Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
        if (RandomAccess.GetLength(file) < Offset)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[HashedLength];
        return RandomAccess.Read(file, bytes[..HeadLength], 0) == HeadLength && SHA256.HashData(bytes[..HeadLength]).AsSpan().SequenceEqual(HeadHash)
            && RandomAccess.Read(file, bytes[..TailLength], Offset - TailLength) == TailLength && SHA256.HashData(bytes[..TailLength]).AsSpan().SequenceEqual(TailHash);
    }

    /// <summary>Whether the text of a (maybe compressed) stream begins as the file did; if so, the stream is left at the offset, after checking the bytes before it.</summary>
    public bool MatchesText(Stream text)
    {
        Span<byte> bytes = stackalloc byte[HashedLength];
        if (text.ReadAtLeast(bytes[..HeadLength], HeadLength, throwOnEndOfStream: false) != HeadLength || !SHA256.HashData(bytes[..HeadLength]).AsSpan().SequenceEqual(HeadHash))
        {
            return false;
        }

        long skip = Offset - TailLength - HeadLength;
        if (skip < 0)
        {
            // the head and the tail overlap (a file shorter than 512 bytes): read on to the offset, hashing the tail from what was read
            Span<byte> rest = stackalloc byte[HashedLength * 2];
            bytes[..HeadLength].CopyTo(rest);
            int more = (int)(Offset - HeadLength);
            if (more > 0 && text.ReadAtLeast(rest.Slice(HeadLength, more), more, throwOnEndOfStream: false) != more)
            {
                return false;
            }

            return SHA256.HashData(rest.Slice((int)(Offset - TailLength), TailLength)).AsSpan().SequenceEqual(TailHash);
        }

        byte[] buffer = new byte[64 * 1024];
        while (skip > 0)
        {
            int n = text.Read(buffer, 0, (int)Math.Min(buffer.Length, skip));
            if (n == 0)
            {
                return false;
            }

            skip -= n;
        }

        return text.ReadAtLeast(bytes[..TailLength], TailLength, throwOnEndOfStream: false) == TailLength && SHA256.HashData(bytes[..TailLength]).AsSpan().SequenceEqual(TailHash);
    }
}
