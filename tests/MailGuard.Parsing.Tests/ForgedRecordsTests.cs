using System.Text;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// Forged LOG lines: netfilter text that the log says a process wrote. The samples are a real journal in which
/// uid 1001 made 3 real attempts (6 kernel records) and wrote 300 records with <c>logger -t kernel</c> that
/// blame uid 107 (samples/capture/forged.sh).
/// </summary>
public class ForgedRecordsTests
{
    private const string Entry = "IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.9 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40001 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=107 GID=113 ";

    private static LineKind Parse(string line, out LogRecord record) => new LogLineParser().Parse(Encoding.UTF8.GetBytes(line), out record);

    [Theory]
    [InlineData("{\"_TRANSPORT\":\"kernel\",\"SYSLOG_IDENTIFIER\":\"kernel\",\"MESSAGE\":\"" + Entry + "\"}", LineOrigin.Kernel, LineKind.Entry)]
    [InlineData("{\"_TRANSPORT\":\"syslog\",\"SYSLOG_IDENTIFIER\":\"kernel\",\"_UID\":\"1001\",\"_PID\":\"4242\",\"_COMM\":\"logger\",\"MESSAGE\":\"" + Entry + "\"}", LineOrigin.Process, LineKind.Forged)]
    [InlineData("{\"MESSAGE\":\"" + Entry + "\",\"_COMM\":\"python3\",\"_TRANSPORT\":\"stdout\",\"_UID\":\"1001\"}", LineOrigin.Process, LineKind.Forged)] // no identifier, any order
    [InlineData("{\"_TRANSPORT\":\"journal\",\"SYSLOG_IDENTIFIER\":\"myapp\",\"MESSAGE\":\"" + Entry + "\"}", LineOrigin.Process, LineKind.Other)] // another program's text: not posing as the kernel
    [InlineData("{\"SYSLOG_IDENTIFIER\":\"kernel\",\"MESSAGE\":\"" + Entry + "\"}", LineOrigin.Unverified, LineKind.Entry)] // no transport recorded
    [InlineData("Dec 07 02:20:06 vps01 kernel[11154]: " + Entry, LineOrigin.Process, LineKind.Forged)] // journalctl / imjournal print the writer's PID
    [InlineData("Dec 07 02:20:06 vps01 kernel: " + Entry, LineOrigin.Unverified, LineKind.Entry)]
    [InlineData("<4>1 2026-12-07T02:20:06+00:00 vps01 kernel 4242 - - " + Entry, LineOrigin.Process, LineKind.Forged)] // RFC 5424 PROCID
    [InlineData("<4>1 2026-12-07T02:20:06+00:00 vps01 kernel - - - " + Entry, LineOrigin.Unverified, LineKind.Entry)]
    [InlineData("[  619.411321] " + Entry, LineOrigin.Unverified, LineKind.Entry)]
    [InlineData("Dec  7 03:23:49 vm kernel[4242] " + Entry, LineOrigin.Process, LineKind.Forged)] // a central rsyslog writing an RFC 5424 record with a PROCID: APP-NAME[PROCID], no colon
    [InlineData("Dec  7 03:23:49 vm kernel " + Entry, LineOrigin.Unverified, LineKind.Entry)]
    public void Parse_RecordsWriter_TellsOriginAndForgery(string line, LineOrigin origin, LineKind kind)
    {
        Assert.Equal(kind, Parse(line, out LogRecord r));
        Assert.Equal(origin, r.Envelope.Origin);
    }

    [Fact]
    public void Parse_JournalRecordOfAProcess_GivesItsUidPidAndCommand()
    {
        LineKind kind = Parse("{\"_TRANSPORT\":\"syslog\",\"_UID\":\"1001\",\"_PID\":\"4242\",\"_COMM\":\"logger\",\"SYSLOG_IDENTIFIER\":\"kernel\",\"MESSAGE\":\"" + Entry + "\"}", out LogRecord r);
        Assert.Equal(LineKind.Forged, kind);
        Assert.Equal(1001u, r.Envelope.SenderUid);
        Assert.Equal(4242u, r.Envelope.SenderPid);
        Assert.Equal("logger", Encoding.UTF8.GetString(r.Envelope.SenderCommand));
        Assert.Equal(107u, r.Entry.Uid); // what the forger claimed
    }

    [Theory]
    [InlineData("Dec 07 02:20:06 vps01 last message repeated 5 times", LineKind.RepeatedPrevious)] // sysklogd/busybox: no tag
    [InlineData("Dec 07 02:20:06 vps01 kernel: last message repeated 5 times", LineKind.RepeatedPrevious)]
    [InlineData("Dec 07 02:20:06 vps01 kernel[4242]: last message repeated 5 times", LineKind.Other)] // a process posing as the kernel
    [InlineData("Dec 07 02:20:06 vps01 evil: last message repeated 5 times", LineKind.Other)] // another program's words
    public void Parse_RepeatNotice_CountsOnlyFromTheDaemon(string line, LineKind kind) =>
        Assert.Equal(kind, Parse(line, out _));

    [Theory]
    [InlineData("journal-forged.json", 6, 300, 1001u, "logger")]
    [InlineData("journal-forged.txt", 6, 300, null, null)]
    [InlineData("messages-forged", 6, 300, null, null)]
    [InlineData("messages-kernel-only", 6, 0, null, null)] // rsyslog filtered on $!_TRANSPORT == "kernel"
    public async Task ScanAsync_RealForgedJournal_CountsTheKernelsEntriesAndNamesTheForger(string file, long entries, long forged, uint? writer, string? command)
    {
        var scanner = new LogScanner(new LogScannerOptions { Parser = new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 12, 8, 0, 0, 0, TimeSpan.Zero) } } });
        await using FileStream stream = File.OpenRead(Path.Combine(Repo.Samples, file));
        TrafficStatsSink sink = await scanner.ScanAsync(stream, new TrafficStatsSink(new TrafficStats()), TestContext.Current.CancellationToken);
        TrafficStats stats = sink.Stats;

        Assert.Equal(entries, scanner.Totals.Entries);
        Assert.Equal(forged, scanner.Totals.Forged);
        Assert.Equal(forged, stats.Forged.Count);
        Assert.Equal([1001u], stats.Uids.Top().Select(k => k.Key)); // the framed uid 107 sent nothing
        if (forged == 0)
        {
            Assert.Empty(stats.Forged.Writers);
            return;
        }

        ForgedRecordWriter w = Assert.Single(stats.Forged.Writers);
        Assert.Equal(writer, w.Uid);
        Assert.Equal(command, w.Command);
        Assert.Equal(forged, w.Records);
        Assert.NotNull(w.LastPid);
        Assert.Equal(new KeyValuePair<uint, long>(107, forged), Assert.Single(w.ClaimedUids));
    }

    [Fact]
    public void Analyze_ForgedRecordsBesideQuietTraffic_IsForgedLogNamingTheWriterAndWhomItBlamed()
    {
        var stats = new TrafficStats();
        var parser = new LogLineParser(new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 12, 8, 0, 0, 0, TimeSpan.Zero) } });
        foreach (byte[] line in Repo.Lines(Path.Combine(Repo.Samples, "journal-forged.json")))
        {
            switch (parser.Parse(line, out LogRecord r))
            {
                case LineKind.Entry:
                    stats.Add(ref r);
                    break;
                case LineKind.Forged:
                    stats.Forged.Add(ref r);
                    break;
            }
        }

        var names = new Dictionary<uint, string> { [107] = "postfix", [1001] = "mallory" };
        SpamVerdict v = SpamVerdict.Analyze(stats, new VerdictOptions { UserNames = names });
        Assert.Equal(VerdictClass.ForgedLog, v.Class);
        Assert.StartsWith("Forged kernel log lines, written by uid 1001 (mallory), command logger, pid ", v.Headline, StringComparison.Ordinal);
        Assert.Contains("300 records that pose as the kernel's LOG lines were written by uid 1001 (mallory)", v.Summary, StringComparison.Ordinal);
        Assert.Contains("claiming uid 107 (postfix)", v.Summary, StringComparison.Ordinal);
        Advice step = Assert.Single(v.Advice, a => a.Title.Contains("forged", StringComparison.Ordinal));
        Assert.Contains("journalctl _UID=1001 SYSLOG_IDENTIFIER=kernel -o verbose | head -n 40   # the forged records", step.Commands);
        Assert.Equal("1001", Assert.Single(v.Actors).Key);
    }

    [Fact]
    public void Merge_TwoParts_AddsWritersAndClaims()
    {
        ForgedRecords a = Count(("1001", "1"), ("1001", "2"), ("33", "1"));
        ForgedRecords b = Count(("1001", "2"), ("0", "5"));
        a.Merge(b);
        Assert.Equal(5, a.Count);
        Assert.Equal([1001u, 0u, 33u], a.Writers.Select(w => w.Uid!.Value));
        ForgedRecordWriter top = a.Writers[0];
        Assert.Equal(3, top.Records);
        Assert.Equal([new KeyValuePair<uint, long>(2, 2), new KeyValuePair<uint, long>(1, 1)], top.ClaimedUids);
    }

    private static ForgedRecords Count(params (string Writer, string Claimed)[] records)
    {
        var forged = new ForgedRecords();
        var parser = new LogLineParser();
        foreach ((string writer, string claimed) in records)
        {
            string line = "{\"_TRANSPORT\":\"syslog\",\"_UID\":\"" + writer + "\",\"SYSLOG_IDENTIFIER\":\"kernel\",\"MESSAGE\":\"" + Entry.Replace("UID=107", "UID=" + claimed, StringComparison.Ordinal) + "\"}";
            Assert.Equal(LineKind.Forged, parser.Parse(Encoding.UTF8.GetBytes(line), out LogRecord r));
            forged.Add(ref r);
        }

        return forged;
    }
}
