using System.Globalization;
using System.Text;

namespace MailGuard.Parsing.Tests;

/// <summary>Resuming where the last run stopped (<see cref="ReadState"/>), across real logrotate runs while nothing reads.</summary>
public sealed class ResumeTests : IDisposable
{
    private static readonly MailScanOptions Utc = new() { ReferenceTime = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero), TimeZone = TimeZoneInfo.Utc };

    private readonly string _dir = Directory.CreateTempSubdirectory("mailguard-resume-").FullName;
    private readonly HashSet<int> _counted = [];
    private int _written;
    private int _lost;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string Log => Path.Combine(_dir, "kern.log");

    private string StateFile => Path.Combine(_dir, "mgscan.state");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Resume_ReadsOnlyWhatIsNew_AndAnUnfinishedLineWaitsForItsEnd()
    {
        Append(3);
        ResumeResult first = await RunAsync(expected: 3);
        Assert.Equal(ResumeKind.FirstRead, first.Kind);
        Assert.Equal(new FileInfo(Log).Length, first.ReadTo);

        Append(2);
        ResumeResult second = await RunAsync(expected: 2);
        Assert.Equal(ResumeKind.Continued, second.Kind);
        Assert.Equal(first.ReadTo, second.From);

        await RunAsync(expected: 0); // nothing new

        // a writer in the middle of a line: the line is left for the next run, not cut in two
        byte[] line = Line(_written);
        await File.AppendAllBytesAsync(Log, line[..40], Token);
        ResumeResult waiting = await RunAsync(expected: 0);
        Assert.Equal(second.ReadTo, waiting.ReadTo);
        await File.AppendAllBytesAsync(Log, line[40..], Token);
        _written++;
        Append(1);
        await RunAsync(expected: 2);
        Assert.Equal(_written, _counted.Count);
    }

    [Fact]
    public async Task Resume_AcrossRealRotationsWhileNotRunning_CountsEveryLineOnce()
    {
        Append(3);
        await RunAsync(expected: 3);

        // rename and create, once: the rest of kern.log.1, then the new kern.log
        Append(2);
        await RotateAsync("create\n  compress\n  delaycompress");
        Append(2);
        ResumeResult once = await RunAsync(expected: 4);
        Assert.Equal(ResumeKind.AfterRotation, once.Kind);
        Assert.Equal([Log + ".1"], once.RotatedFiles);

        // two rotations in a row: the rest of the file read last time is in kern.log.2.gz now, compressed
        Append(1);
        await RotateAsync("create\n  compress\n  delaycompress");
        Append(1);
        await RotateAsync("create\n  compress\n  delaycompress");
        Append(1);
        Assert.True(File.Exists(Log + ".2.gz"));
        ResumeResult twice = await RunAsync(expected: 3);
        Assert.Equal(ResumeKind.AfterRotation, twice.Kind);
        Assert.Equal([Log + ".2.gz", Log + ".1"], twice.RotatedFiles);

        // copytruncate: kern.log copied to kern.log.1 (same start, same inode kept for kern.log) and emptied
        Append(2);
        await RotateAsync("copytruncate");
        Assert.Equal(0, new FileInfo(Log).Length);
        Append(1);
        ResumeResult truncated = await RunAsync(expected: 3);
        Assert.Equal(ResumeKind.AfterRotation, truncated.Kind);
        Assert.Equal([Log + ".1"], truncated.RotatedFiles);

        await RunAsync(expected: 0);
        Assert.Equal(_written, _counted.Count);
    }

    [Fact]
    public async Task Resume_WhenThePlaceIsInNoFileAnyMore_ReadsFromTheStart_AndSaysLinesMayBeMissing()
    {
        Append(3);
        await RunAsync(expected: 3);
        Append(2); // written, then rotated away and deleted before any run read them
        await RotateAsync("create\n  rotate 0");
        Assert.False(File.Exists(Log + ".1"));
        Append(1);
        ResumeResult lost = await RunAsync(expected: 1, lost: 2);
        Assert.Equal(ResumeKind.NotFound, lost.Kind);
        Assert.Equal(0, lost.From);
    }

    [Fact]
    public async Task Resume_AScanThatDoesNotReadToTheEnd_LeavesThePositionWhereItWas()
    {
        Append(3);
        await RunAsync(expected: 3);
        Append(2);
        var state = ReadState.Load(StateFile);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        MailScanReport r = await MailScan.ScanAsync([MailInput.Resume(Log, state)], Utc, cancelled.Token);
        Assert.True(r.Cancelled);
        Assert.Null(Assert.Single(state.Results).ReadTo);
        state.Save(StateFile);
        await RunAsync(expected: 2); // read again, not lost
    }

    [Fact]
    public async Task Follow_WithAState_StopsCleanlyOnItsToken_AndTheNextRunResumesThere()
    {
        Append(3);
        var state = new ReadState();
        long latest = -1;
        using var stop = new CancellationTokenSource();
        var options = Utc with { SnapshotInterval = TimeSpan.FromMilliseconds(50), OnSnapshot = r => Interlocked.Exchange(ref latest, r.Totals.Entries) };
        Task<MailScanReport> scan = MailScan.ScanAsync([MailInput.Follow(Log, state, stop.Token, TimeSpan.FromMilliseconds(50))], options, Token);
        for (int i = 0; i < 400 && Interlocked.Read(ref latest) != 3; i++)
        {
            await Task.Delay(50, Token);
        }

        Append(2);
        await File.AppendAllBytesAsync(Log, Line(_written)[..30], Token); // unfinished when the follow stops: next run's
        await stop.CancelAsync();
        MailScanReport report = await scan.WaitAsync(TimeSpan.FromSeconds(20), Token);
        Assert.False(report.Cancelled); // the input ended: everything read is in the report
        Assert.Equal(5, report.Totals.Entries);
        Assert.Equal(new FileInfo(Log).Length - 30, Assert.Single(state.Results).ReadTo);
        state.Save(StateFile);
        _counted.UnionWith(Enumerable.Range(0, 5));

        await File.AppendAllBytesAsync(Log, Line(_written++)[30..], Token);
        ResumeResult next = await RunAsync(expected: 1);
        Assert.Equal(ResumeKind.Continued, next.Kind);
    }

    [Fact]
    public async Task Follow_TwoRotationsBetweenTwoPolls_ReadsTheFileInBetween()
    {
        Append(3);
        long latest = -1;
        using var stop = new CancellationTokenSource();
        var options = Utc with { SnapshotInterval = TimeSpan.FromMilliseconds(50), OnSnapshot = r => Interlocked.Exchange(ref latest, r.Totals.Entries) };
        var seen = new System.Collections.Concurrent.ConcurrentBag<int>();
        Task<MailScanReport> scan = MailScan.ScanAsync(
            [MailInput.Follow(Log, null, stop.Token, TimeSpan.FromSeconds(3))], options with { OnEntry = e => seen.Add(e.Spt - 40000) }, Token);
        for (int i = 0; i < 400 && Interlocked.Read(ref latest) != 3; i++)
        {
            await Task.Delay(20, Token);
        }

        // within one poll interval: two rotations (the file read is kern.log.2.gz by the next poll, the one between is kern.log.1)
        Append(2);
        await RotateAsync("create\n  compress\n  delaycompress");
        Append(2);
        await RotateAsync("create\n  compress\n  delaycompress");
        Append(1);
        Assert.True(File.Exists(Log + ".2.gz"));
        for (int i = 0; i < 400 && Interlocked.Read(ref latest) != 8; i++)
        {
            await Task.Delay(50, Token);
        }

        await stop.CancelAsync();
        MailScanReport report = await scan.WaitAsync(TimeSpan.FromSeconds(20), Token);
        Assert.Equal(8, report.Totals.Entries);
        Assert.Equal(Enumerable.Range(0, 8), seen.Order());
    }

    [Fact]
    public async Task ReadState_AMissingFileIsEmpty_ADamagedOneIsRefused_ASavedOneRoundTrips()
    {
        Assert.Equal(0, ReadState.Load(StateFile).Count);
        await File.WriteAllTextAsync(StateFile, "{\"schema\":\"mailguard.state/1\",\"files\":[{\"path\":\"/x\"}]}", Token);
        Assert.Throws<InvalidDataException>(() => ReadState.Load(StateFile));
        await File.WriteAllTextAsync(StateFile, "not json", Token);
        Assert.Throws<InvalidDataException>(() => ReadState.Load(StateFile));
        await File.WriteAllTextAsync(StateFile, "{\"schema\":\"logtail/1\",\"files\":[]}", Token);
        Assert.Throws<InvalidDataException>(() => ReadState.Load(StateFile));

        File.Delete(StateFile);
        Append(2);
        await RunAsync(expected: 2);
        ReadState saved = ReadState.Load(StateFile);
        Assert.Equal(1, saved.Count);
        string text = await File.ReadAllTextAsync(StateFile, Token);
        Assert.Contains(Path.GetFullPath(Log).Replace("\\", "\\\\", StringComparison.Ordinal), text, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp")); // written beside, renamed over
    }

    /// <summary>One run as a cron job does it: load the state, scan what is new, save; checks no line is counted twice.</summary>
    private async Task<ResumeResult> RunAsync(int expected, int lost = 0)
    {
        var state = ReadState.Load(StateFile);
        var seen = new List<int>();
        MailScanReport r = await MailScan.ScanAsync([MailInput.Resume(Log, state)], Utc with { OnEntry = e => seen.Add(e.Spt - 40000) }, Token);
        Assert.Null(r.Inputs[0].Error);
        Assert.Equal(expected, r.Totals.Entries);
        foreach (int n in seen)
        {
            Assert.True(_counted.Add(n), $"entry {n} counted twice");
        }

        state.Save(StateFile);
        ResumeResult result = Assert.Single(state.Results);
        Assert.NotNull(result.ReadTo);
        _lost += lost;
        Assert.Equal(_written, _counted.Count + _lost); // every line written: counted once, or said to be missing
        return result;
    }

    private void Append(int count)
    {
        using var f = new FileStream(Log, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        for (int i = 0; i < count; i++)
        {
            f.Write(Line(_written++));
        }
    }

    /// <summary>Entry <paramref name="n"/>: its number is in the source port, every destination a new one.</summary>
    private static byte[] Line(int n) => Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $"Nov 23 02:{n / 60:00}:{n % 60:00} vps kernel: [81234.{n:000000}] IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=203.0.113.7 DST=198.51.{n / 250}.{n % 250 + 1} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF PROTO=TCP SPT={40000 + n} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 \n"));

    private async Task RotateAsync(string how)
    {
        string? logrotate = new[] { "/usr/sbin/logrotate", "/sbin/logrotate", "/usr/bin/logrotate" }.FirstOrDefault(File.Exists);
        if (logrotate is null)
        {
            Assert.Skip("logrotate is not installed (apt-get install logrotate): rotation is tested with the real tool");
        }

        string conf = Path.Combine(_dir, "rotate.conf");
        await File.WriteAllTextAsync(conf, $"{Log} {{\n  {(how.Contains("rotate", StringComparison.Ordinal) ? "" : "rotate 5\n  ")}{how}\n}}\n", Token);
        using var p = System.Diagnostics.Process.Start(logrotate, ["-f", "-s", Path.Combine(_dir, "logrotate.status"), conf])!;
        await p.WaitForExitAsync(Token);
        Assert.Equal(0, p.ExitCode);
    }
}
