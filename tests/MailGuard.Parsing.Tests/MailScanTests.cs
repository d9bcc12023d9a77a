using System.Globalization;
using System.IO.Compression;
using System.IO.Pipelines;
using System.Text;

namespace MailGuard.Parsing.Tests;

/// <summary>The library's entry point: what it reads, how it decides, what it hands on while it reads.</summary>
public class MailScanTests
{
    private static readonly MailScanOptions Utc = new() { ReferenceTime = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero), TimeZone = TimeZoneInfo.Utc };

    private static string Sample(string name) => Path.Combine(Repo.Samples, name);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Every figure of a report as text, to compare two reads of the same bytes.</summary>
    private static string Fingerprint(MailScanReport r)
    {
        var s = new StringBuilder();
        foreach (var p in typeof(ScanTotals).GetProperties())
        {
            if (p.PropertyType == typeof(long))
            {
                s.Append(CultureInfo.InvariantCulture, $"{p.Name}={p.GetValue(r.Totals)} ");
            }
        }

        s.AppendLine();
        static string Stat(KeyStat k) => string.Create(CultureInfo.InvariantCulture, $"{k.Count}/{k.Attempts}/{k.DistinctDestinations}/{k.First:O}/{k.Last:O}");
        s.AppendLine(Stat(r.All));
        foreach ((ushort key, KeyStat stat) in r.Ports.Top())
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"port {key} {Stat(stat)}");
        }

        foreach ((uint key, KeyStat stat) in r.Uids.Top())
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"uid {key} {Stat(stat)}");
        }

        foreach ((NetAddress key, KeyStat stat) in r.Sources.Top())
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"src {key} {Stat(stat)}");
        }

        foreach ((NetAddress key, KeyStat stat) in r.Destinations.Top())
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"dst {key} {Stat(stat)}");
        }

        foreach ((string key, KeyStat stat) in r.Prefixes.Top())
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"prefix {key} {Stat(stat)}");
        }

        foreach (TimeBucket b in r.Timeline.Buckets(TimeSpan.FromMinutes(1)))
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"minute {b.Start:O} {b.Count}");
        }

        return s.ToString();
    }

    [Fact]
    public async Task FilesAsync_TheSample_GivesItsIndependentFigures()
    {
        MailScanReport r = await MailScan.FilesAsync([Sample("kern.log")], Utc, Token);
        Assert.True(r.Complete);
        Assert.Equal(73, r.Totals.Lines);
        Assert.Equal(55, r.Totals.Entries);
        Assert.Equal(55, r.All.Count);
        Assert.Equal(15, r.All.DistinctDestinations);
        Assert.Equal([new MailInputResult(Sample("kern.log"), null, true)], r.Inputs);
    }

    [Fact]
    public async Task FilesAsync_AnInputThatCannotBeRead_GivesNoFiguresAndSaysWhich()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"mailguard-missing-{Guid.NewGuid():N}.log");
        MailScanReport r = await MailScan.FilesAsync([Sample("kern.log"), missing], Utc, Token);
        Assert.False(r.Complete);
        Assert.Equal(0, r.Totals.Lines); // half the evidence is not an answer
        Assert.Equal(0, r.All.Count);
        Assert.True(r.Inputs[0].Opened);
        Assert.False(r.Inputs[1].Opened);
        Assert.IsType<FileNotFoundException>(r.Inputs[1].Error);

        MailScanReport rest = await MailScan.FilesAsync([Sample("kern.log"), missing], Utc with { RequireEveryInput = false }, Token);
        Assert.False(rest.Complete);
        Assert.Equal(55, rest.Totals.Entries);
        Assert.Null(rest.Inputs[0].Error);
        Assert.IsType<FileNotFoundException>(rest.Inputs[1].Error);
    }

    [Fact]
    public async Task FilesAsync_ALargeFile_OnAllCoresGivesTheReportOfOneCoreAndOfItsGzip()
    {
        string dir = Directory.CreateTempSubdirectory("mailguard-mailscan-").FullName;
        try
        {
            // kern.log 1,100 times over (17.9 MB, above the size read in parallel), each copy at another hour and day.
            string path = Path.Combine(dir, "big.log");
            string[] lines = File.ReadAllText(Sample("kern.log"), Encoding.Latin1).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            await using (var w = new StreamWriter(path, false, Encoding.Latin1))
            {
                for (int copy = 0; copy < 1100; copy++)
                {
                    string stamp = string.Create(CultureInfo.InvariantCulture, $"{CultureInfo.InvariantCulture.DateTimeFormat.GetAbbreviatedMonthName(1 + (copy / 100 % 11))} {1 + (copy % 25),2} {copy / 25 % 24:00}");
                    foreach (string line in lines)
                    {
                        await w.WriteAsync((line.StartsWith("Nov 23 ", StringComparison.Ordinal) ? stamp + line[9..] : line) + "\n");
                    }
                }
            }

            Assert.True(new FileInfo(path).Length > 16 << 20);
            await using (FileStream src = File.OpenRead(path))
            await using (var gz = new GZipStream(File.Create(path + ".gz"), CompressionLevel.Fastest))
            {
                await src.CopyToAsync(gz, Token);
            }

            MailScanReport parallel = await MailScan.FilesAsync([path], Utc with { Parallelism = 2 }, Token);
            MailScanReport one = await MailScan.FilesAsync([path], Utc with { Parallelism = 1 }, Token);
            MailScanReport gzip = await MailScan.FilesAsync([path + ".gz"], Utc with { Parallelism = 2 }, Token);
            MailScanReport pipe = await MailScan.StreamAsync(new OneWay(File.OpenRead(path)), Utc with { Parallelism = 2 }, Token);
            Assert.Equal(Fingerprint(one), Fingerprint(pipe)); // read in blocks
            Assert.Equal(55 * 1100, one.Totals.Entries);
            Assert.Equal(Fingerprint(one), Fingerprint(parallel));
            Assert.Equal(Fingerprint(one), Fingerprint(gzip).Replace($"Bytes={gzip.Totals.Bytes}", $"Bytes={one.Totals.Bytes}", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task FilesAsync_RotatedOverlappingFiles_CountEachLineOnce()
    {
        // Debian's kern.log and syslog hold the same kernel lines: read together, each entry counts once.
        MailScanReport one = await MailScan.FilesAsync([Sample("kern.log")], Utc, Token);
        MailScanReport both = await MailScan.FilesAsync([Sample("kern.log"), Sample("kern.log")], Utc, Token);
        Assert.Equal(one.All.Count, both.All.Count);
        Assert.Equal(one.All.Attempts, both.All.Attempts);
        Assert.Equal(one.Totals.NetfilterLines, both.Totals.Duplicates); // every netfilter line of the second copy
    }

    [Fact]
    public async Task StreamAsync_GzipByContent_GivesTheFiguresOfThePlainFile()
    {
        var gz = new MemoryStream();
        await using (var z = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            await z.WriteAsync(await File.ReadAllBytesAsync(Sample("kern.log"), Token), Token);
        }

        gz.Position = 0;
        MailScanReport r = await MailScan.StreamAsync(gz, Utc, Token);
        Assert.True(r.Complete);
        Assert.Equal(55, r.All.Count);
        Assert.Equal(15, r.All.DistinctDestinations);
        Assert.Equal("stream", r.Inputs[0].Name);
    }

    [Fact]
    public async Task OnEntry_HandsOnEveryEntryWithItsFields()
    {
        var entries = new List<MailEntry>();
        MailScanReport r = await MailScan.FilesAsync([Sample("incident-webshell.log")], Utc with { OnEntry = entries.Add }, Token);
        Assert.Equal(r.Totals.Entries, entries.Sum(e => e.Copies));
        Assert.Equal(r.Uids[33]!.Count, entries.Where(e => e.Uid == 33).Sum(e => e.Copies));
        MailEntry first = entries[0];
        Assert.Equal("IPTABLES TCP-OUT 25:", first.Prefix);
        Assert.Equal(25, first.RulePort);
        Assert.Equal(25, first.Dpt);
        Assert.Equal(r.All.First, entries.Min(e => e.Time));
    }

    [Fact]
    public async Task OnSnapshot_WhileAStreamIsWritten_ReportsWhatWasReadSoFar()
    {
        var pipe = new Pipe();
        var seen = new List<long>();
        var fiveSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Utc with
        {
            SnapshotInterval = TimeSpan.FromMilliseconds(100),
            OnSnapshot = r =>
            {
                lock (seen)
                {
                    seen.Add(r.Totals.Entries);
                    if (r.Totals.Entries == 5 && r.All.Count == 5 && seen.Count(n => n == 5) == 3)
                    {
                        fiveSeen.TrySetResult(); // three reports of the same 5 entries: the silent stream still gets them
                    }
                }
            },
        };
        Task<MailScanReport> scan = MailScan.StreamAsync(pipe.Reader.AsStream(), options, Token);
        await pipe.Writer.WriteAsync(Entries(0, 5), Token);
        await fiveSeen.Task.WaitAsync(TimeSpan.FromSeconds(20), Token); // a report before the stream ends
        await pipe.Writer.WriteAsync(Entries(5, 5), Token);
        await pipe.Writer.CompleteAsync();
        MailScanReport final = await scan.WaitAsync(TimeSpan.FromSeconds(20), Token);
        Assert.Equal(10, final.Totals.Entries);
        Assert.Equal(10, final.All.Count);
        Assert.True(final.Complete);
        lock (seen)
        {
            Assert.Contains(5, seen);
            Assert.All(seen, n => Assert.InRange(n, 0, 10));
        }
    }

    [Fact]
    public async Task Cancel_ASilentStream_ReportsWhatWasReadAndSaysSo()
    {
        var pipe = new Pipe();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var options = Utc with
        {
            SnapshotInterval = TimeSpan.Zero,
            OnSnapshot = r =>
            {
                if (r.Totals.Entries == 3)
                {
                    cts.Cancel(); // the stream stays open: only the token ends the scan
                }
            },
        };
        Task<MailScanReport> scan = MailScan.StreamAsync(pipe.Reader.AsStream(), options, cts.Token);
        await pipe.Writer.WriteAsync(Entries(0, 3), Token);
        MailScanReport r = await scan.WaitAsync(TimeSpan.FromSeconds(20), Token);
        Assert.True(r.Cancelled);
        Assert.False(r.Complete);
        Assert.Equal(3, r.Totals.Entries);
        Assert.Equal(3, r.All.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task StreamAsync_InBlocks_GivesTheLineByLineFigures_AcrossBlockEdges(int parallelism)
    {
        // An entry ends right before the first cut, its repeat notice and a retransmission open the next block (parsed by
        // another worker on 2 cores), and a 5 MiB line (longer than a block) comes later.
        var text = new MemoryStream();
        void Write(string line) => text.Write(Encoding.ASCII.GetBytes(line + "\n"));
        string filler = "Nov 23 02:13:00 vps kernel: [81000.000000] eth0: link is up " + new string('x', 100);
        string entry = Encoding.ASCII.GetString(Entries(7, 1)).TrimEnd('\n');
        int cut = parallelism == 1 ? StreamBlocks.BlockSize : StreamBlocks.ParallelBlockSize;
        while (text.Length + filler.Length + 1 + entry.Length + 1 < cut - 200)
        {
            Write(filler);
        }

        Write("padding " + new string('y', (int)(cut - text.Length - entry.Length - 2 - 8)));
        Write(entry);
        Assert.Equal(cut, text.Length); // the entry's newline is the first block's last byte
        Write("Nov 23 02:14:09 vps kernel: last message repeated 4 times");
        Write(entry.Replace("02:14:07", "02:14:10", StringComparison.Ordinal)); // the same SYN again: a retransmission
        Write(new string('z', 5 << 20));
        Write(Encoding.ASCII.GetString(Entries(20, 3)).TrimEnd('\n'));
        byte[] all = text.ToArray();

        var reference = new TrafficStats();
        var scanner = new LogScanner(new LogScannerOptions { Parser = new LogLineParserOptions { SkipOtherLines = true, LeanEntries = true, Envelope = new EnvelopeOptions { ReferenceTime = Utc.ReferenceTime!.Value, TimeZone = TimeZoneInfo.Utc } } });
        await scanner.ScanAsync(new MemoryStream(all), new TrafficStatsSink(reference), Token);
        Assert.Equal(1 + 4 + 1 + 3, scanner.Totals.Entries);
        Assert.Equal(1, scanner.Totals.OverlongLines);

        MailScanReport blocks = await MailScan.StreamAsync(new OneWay(new MemoryStream(all)), Utc with { Parallelism = parallelism }, Token);
        Assert.Equal(scanner.Totals.Lines, blocks.Totals.Lines);
        Assert.Equal(scanner.Totals.Bytes, blocks.Totals.Bytes);
        Assert.Equal(scanner.Totals.Entries, blocks.Totals.Entries);
        Assert.Equal(scanner.Totals.OverlongLines, blocks.Totals.OverlongLines);
        Assert.Equal(reference.All.Count, blocks.All.Count);
        Assert.Equal(reference.All.Attempts, blocks.All.Attempts); // the retransmission after the cut is no new attempt
        Assert.Equal(4, blocks.All.Attempts);
    }

    /// <summary>incident-webshell.log cut as logrotate cuts it: the oldest third compressed, the middle one ending without a line end.</summary>
    private static string[] RotatedSet(string dir, bool damaged = false)
    {
        byte[] all = File.ReadAllBytes(Sample("incident-webshell.log"));
        int a = all.AsSpan(0, all.Length / 3).LastIndexOf((byte)'\n') + 1;
        int b = all.AsSpan(0, 2 * all.Length / 3).LastIndexOf((byte)'\n') + 1;
        string log = Path.Combine(dir, "kern.log");
        using (var gz = new GZipStream(File.Create(log + ".2.gz"), CompressionLevel.Fastest))
        {
            gz.Write(all.AsSpan(0, a));
        }

        if (damaged)
        {
            byte[] gzip = File.ReadAllBytes(log + ".2.gz");
            File.WriteAllBytes(log + ".2.gz", gzip[..(gzip.Length / 2)]); // a copy that stopped
        }

        File.WriteAllBytes(log + ".1", all[a..(b - 1)]); // no line end after its last line
        File.WriteAllBytes(log, all[b..]);
        return [log, log + ".1", log + ".2.gz"];
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RotatedSet_ReadAsOneStreamOnEveryCore_GivesEveryFigureOfTheMerge(bool damaged)
    {
        string dir = Directory.CreateTempSubdirectory("mailguard-chain-").FullName;
        try
        {
            string[] set = RotatedSet(dir, damaged);
            Assert.NotNull(RotationChain.Plan(set, Utc)); // taken: one log cut by logrotate
            MailScanReport merged = await MailScan.FilesAsync(set, Utc with { Parallelism = 1 }, Token); // one core: the merge
            MailScanReport chain = await MailScan.FilesAsync(set, Utc with { Parallelism = 2 }, Token);
            Assert.Equal(Fingerprint(merged), Fingerprint(chain));
            Assert.Equal(merged.Totals.Formats, chain.Totals.Formats);
            Assert.Equal(merged.Inputs.Select(i => i.Error?.GetType()), chain.Inputs.Select(i => i.Error?.GetType()));
            Assert.Equal(damaged, chain.Inputs[2].Error is CompressedDataException);
            Assert.True(chain.Totals.Entries > (damaged ? 3000 : 6000));

            MailScanReport whole = await MailScan.FilesAsync([Sample("incident-webshell.log")], Utc, Token);
            if (!damaged)
            {
                Assert.Equal(whole.Totals.Entries, chain.Totals.Entries);
                Assert.Equal(whole.All.Attempts, chain.All.Attempts);
                Assert.Equal(whole.Totals.Bytes - 1, chain.Totals.Bytes); // the line end cut off kern.log.1 is not made up
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void RotatedSet_IsMerged_WhenItIsNotOneLogCutInTime()
    {
        string dir = Directory.CreateTempSubdirectory("mailguard-chain-").FullName;
        try
        {
            string[] set = RotatedSet(dir);
            string log = set[0];

            // two logs that hold the same lines (Debian's kern.log and syslog): merged, duplicates counted once
            File.Copy(log, Path.Combine(dir, "syslog"));
            Assert.Null(RotationChain.Plan([log, Path.Combine(dir, "syslog")], Utc));

            // names and times disagree: kern.log.1 holds older lines than kern.log.2.gz
            File.Move(log + ".1", log + ".3");
            Assert.Null(RotationChain.Plan([log, log + ".3", log + ".2.gz"], Utc));
            Assert.NotNull(RotationChain.Plan([log, log + ".2.gz"], Utc));

            // year-less stamps whose year depends on each file's own time: the oldest line a year before the newest file
            var noReference = new MailScanOptions { TimeZone = TimeZoneInfo.Utc };
            File.SetLastWriteTimeUtc(log + ".2.gz", new DateTime(2026, 11, 23, 3, 0, 0, DateTimeKind.Utc));
            File.SetLastWriteTimeUtc(log, new DateTime(2026, 11, 24, 0, 0, 0, DateTimeKind.Utc));
            Assert.NotNull(RotationChain.Plan([log, log + ".2.gz"], noReference));
            File.SetLastWriteTimeUtc(log, new DateTime(2027, 11, 24, 0, 0, 0, DateTimeKind.Utc));
            Assert.Null(RotationChain.Plan([log, log + ".2.gz"], noReference));

            // a file that opens with a repeat notice: read alone it ties to nothing, after the file before it would tie to its last line
            File.WriteAllText(log + ".1", "Nov 23 02:10:00 vps kernel: last message repeated 3 times\n");
            Assert.Null(RotationChain.Plan([log, log + ".1", log + ".2.gz"], Utc));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Different logs merged: a kern.log with repeat notices of both kinds (one claiming more than its interval allows, some
    /// after lines of other prefixes), its syslog holding most of the same lines among other programs' (a binary and an
    /// over-long line too, some entries twice), another host's log whose year-less stamps take the year of its own file's
    /// time, a damaged .gz and a missing file.
    /// </summary>
    private static string[] DifferentLogs(string dir)
    {
        var kern = new List<string>();
        int n = 0;
        bool capped = false;
        foreach (string line in File.ReadAllLines(Sample("incident-webshell.log"), Encoding.Latin1))
        {
            int tag = line.IndexOf("kernel: ", StringComparison.Ordinal);
            bool entry = tag > 0 && line.Contains("IN=", StringComparison.Ordinal);
            n += entry ? 1 : 0;
            if (entry && n % 89 == 0)
            {
                kern.Add(line[..(tag + 8)] + "message repeated 2 times: [ " + line[(tag + 8)..] + "]");
                continue;
            }

            kern.Add(line);
            if (entry && (n % 97 == 0 || (!line.Contains("TCP-OUT", StringComparison.Ordinal) && n % 7 == 0)))
            {
                kern.Add(line[..(tag + 8)] + "last message repeated 3 times");
            }
            else if (entry && n >= 1000 && !capped && line.Contains("TCP-OUT", StringComparison.Ordinal))
            {
                kern.Add(line[..(tag + 8)] + "last message repeated 99999 times"); // more than a second allows
                capped = true;
            }
        }

        var syslog = new List<string>();
        for (int i = 0; i < kern.Count; i++)
        {
            if (i % 50 == 7)
            {
                continue; // not every line of one log is in the other
            }

            syslog.Add(kern[i]);
            if (i % 200 == 3)
            {
                syslog.Add(kern[i]); // two real copies in one input count twice
            }

            if (i % 3 == 0)
            {
                syslog.Add(kern[i][..16] + "vps01 CRON[4242]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)");
            }

            if (i == 2000)
            {
                syslog.Add(kern[i][..16] + "vps01 app: \0 \0 binary");
                syslog.Add(kern[i][..16] + "vps01 app: " + new string('x', 70_000));
            }
        }

        string kernPath = Path.Combine(dir, "kern.log");
        string syslogPath = Path.Combine(dir, "syslog");
        string other = Path.Combine(dir, "mail01.log");
        string damaged = Path.Combine(dir, "retry.log.gz");
        File.WriteAllLines(kernPath, kern, Encoding.Latin1);
        File.WriteAllLines(syslogPath, syslog, Encoding.Latin1);
        File.Copy(Sample("incident-relay-abuse.log"), other);
        byte[] gzip = Compressed.Gzip(File.ReadAllBytes(Sample("incident-retry.log")));
        File.WriteAllBytes(damaged, gzip[..(gzip.Length / 2)]);
        File.SetLastWriteTimeUtc(kernPath, new DateTime(2026, 11, 24, 3, 0, 0, DateTimeKind.Utc));
        File.SetLastWriteTimeUtc(syslogPath, new DateTime(2026, 11, 24, 3, 0, 0, DateTimeKind.Utc));
        File.SetLastWriteTimeUtc(other, new DateTime(2028, 1, 10, 0, 0, 0, DateTimeKind.Utc)); // its Nov 23 is in 2027
        return [kernPath, syslogPath, other, damaged, Path.Combine(dir, "gone.log")];
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Merge_DifferentLogsOnEveryCore_GivesEveryFigureOfTheLineByLineMerge(bool ports)
    {
        string dir = Directory.CreateTempSubdirectory("mailguard-merge-").FullName;
        try
        {
            string[] files = DifferentLogs(dir);
            var options = new MailScanOptions { TimeZone = TimeZoneInfo.Utc, RequireEveryInput = false, Ports = ports ? [25] : null };
            Assert.Null(RotationChain.Plan(files[..3], options));
            MailScanReport lines = await MailScan.FilesAsync(files, options with { Parallelism = 1 }, Token); // line by line, one thread
            MailScanReport blocks = await MailScan.FilesAsync(files, options with { Parallelism = 2 }, Token);
            Assert.Equal(Fingerprint(lines), Fingerprint(blocks));
            Assert.Equal(lines.Totals.Formats, blocks.Totals.Formats);
            Assert.Equal(lines.Inputs.Select(i => (i.Name, i.Opened, i.Error?.GetType())), blocks.Inputs.Select(i => (i.Name, i.Opened, i.Error?.GetType())));

            // what the inputs exercise
            Assert.IsType<CompressedDataException>(blocks.Inputs[3].Error);
            Assert.False(blocks.Inputs[4].Opened);
            Assert.True(blocks.Totals.Duplicates > 16_000);
            Assert.Equal(2, blocks.Totals.CappedRepeatNotices); // kern.log's and syslog's: each input's notice is its own
            Assert.Equal(1, blocks.Totals.BinaryLines);
            Assert.Equal(1, blocks.Totals.OverlongLines);
            Assert.True(blocks.Totals.OtherPrefix > 0);
            Assert.Equal(ports, blocks.Totals.Excluded > 0);
            Assert.Contains(blocks.Timeline.Buckets(TimeSpan.FromHours(1)), b => b.Start.Year == 2027 && b.Count > 0); // mail01's own year
            Assert.Contains(blocks.Timeline.Buckets(TimeSpan.FromHours(1)), b => b.Start.Year == 2026 && b.Count > 0);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Follow_AcrossRealLogrotate_CreateAndCopytruncate_CountsEveryLineOnce()
    {
        string? logrotate = new[] { "/usr/sbin/logrotate", "/sbin/logrotate", "/usr/bin/logrotate" }.FirstOrDefault(File.Exists);
        if (logrotate is null)
        {
            Assert.Skip("logrotate is not installed (apt-get install logrotate): rotation is tested with the real tool");
        }

        string dir = Directory.CreateTempSubdirectory("mailguard-follow-").FullName;
        try
        {
            string log = Path.Combine(dir, "kern.log");
            await File.WriteAllBytesAsync(log, Entries(0, 3), Token);
            long latest = -1;
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);
            var options = Utc with { SnapshotInterval = TimeSpan.FromMilliseconds(50), OnSnapshot = r => Interlocked.Exchange(ref latest, r.Totals.Entries) };
            Task<MailScanReport> scan = MailScan.ScanAsync([MailInput.Follow(log, TimeSpan.FromMilliseconds(50))], options, cts.Token);
            async Task Until(long entries)
            {
                for (int i = 0; i < 400 && Interlocked.Read(ref latest) != entries; i++)
                {
                    await Task.Delay(50, Token);
                }

                Assert.Equal(entries, Interlocked.Read(ref latest));
            }

            async Task Rotate(string how)
            {
                string conf = Path.Combine(dir, how + ".conf");
                await File.WriteAllTextAsync(conf, $"{log} {{\n  rotate 5\n  {how}\n}}\n", Token);
                using var p = System.Diagnostics.Process.Start(logrotate, ["-f", "-s", Path.Combine(dir, "state"), conf]);
                await p.WaitForExitAsync(Token);
                Assert.Equal(0, p.ExitCode);
            }

            async Task Append(byte[] lines)
            {
                await using var f = new FileStream(log, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
                await f.WriteAsync(lines, Token);
            }

            await Until(3); // what was there
            await Append(Entries(3, 2));
            await Until(5); // what was appended

            await Rotate("create"); // kern.log → kern.log.1, a new empty kern.log
            Assert.True(File.Exists(log + ".1"));
            await Append(Entries(5, 2));
            await Until(7);

            await Rotate("copytruncate"); // kern.log copied to kern.log.1 and emptied in place
            Assert.Equal(0, new FileInfo(log).Length);
            await Append(Entries(7, 1));
            await Until(8);

            await cts.CancelAsync();
            MailScanReport r = await scan.WaitAsync(TimeSpan.FromSeconds(20), Token);
            Assert.True(r.Cancelled);
            Assert.Equal(8, r.Totals.Entries); // no line lost, none twice
            Assert.Equal(8, r.All.Attempts);
            Assert.Equal(8, r.All.DistinctDestinations);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Follow_AMissingFile_IsNotOpened()
    {
        MailScanReport r = await MailScan.ScanAsync([MailInput.Follow(Path.Combine(Path.GetTempPath(), $"mailguard-none-{Guid.NewGuid():N}.log"))], Utc, Token);
        Assert.False(r.Inputs[0].Opened);
        Assert.IsType<FileNotFoundException>(r.Inputs[0].Error);
    }

    /// <summary>A stream that can only be read forward, as a pipe.</summary>
    private sealed class OneWay(Stream inner) : ReadOnlyStream
    {
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 65536));

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>Kernel LOG lines of uid 1001, one a second, to distinct destinations.</summary>
    private static byte[] Entries(int from, int count)
    {
        var s = new StringBuilder();
        for (int i = from; i < from + count; i++)
        {
            s.Append(CultureInfo.InvariantCulture, $"Nov 23 02:14:{i:00} vps kernel: [81234.{i:000000}] IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=203.0.113.7 DST=198.51.100.{i + 1} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF PROTO=TCP SPT={51234 + i} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 \n");
        }

        return Encoding.ASCII.GetBytes(s.ToString());
    }
}
