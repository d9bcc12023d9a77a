using System.Globalization;
using System.Text.Json;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// The real captures in samples/logs against the figures an independent script (samples/capture/expected.py,
/// plain regexes) wrote to samples/logs/expected.json.
/// </summary>
public class SampleLogTests
{
    public static TheoryData<string> Files()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Repo.Samples, "expected.json")));
        var data = new TheoryData<string>();
        foreach (JsonProperty p in doc.RootElement.EnumerateObject())
        {
            data.Add(p.Name);
        }

        return data;
    }

    [Fact]
    public void Samples_CoverEveryWrapperFamily()
    {
        Assert.True(Files().Count >= 20, "expected.json lists the sample files");
        var formats = new HashSet<LogFormat>();
        var parser = new LogLineParser();
        foreach (string file in Files())
        {
            foreach (byte[] line in Repo.Lines(Path.Combine(Repo.Samples, file)))
            {
                if (parser.Parse(line, out LogRecord r) == LineKind.Entry)
                {
                    formats.Add(r.Envelope.Format);
                }
            }
        }

        LogFormat[] required =
        [
            LogFormat.Rfc3164, LogFormat.Rfc3339, LogFormat.Rfc5424, LogFormat.JournalShortFull, LogFormat.JournalShortUnix,
            LogFormat.JournalShortMonotonic, LogFormat.JournalJson, LogFormat.Dmesg, LogFormat.DmesgCtime, LogFormat.DmesgIso,
            LogFormat.Kmsg, LogFormat.Bare, LogFormat.JournalShortDelta,
        ];
        Assert.All(required, f => Assert.Contains(f, formats));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Parse_SampleLog_MatchesTheIndependentCount(string file)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Repo.Samples, "expected.json")));
        JsonElement want = doc.RootElement.GetProperty(file);

        var parser = new LogLineParser(new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero) } });
        var byPort = new Dictionary<string, int>();
        var byUid = new Dictionary<string, int>();
        var dsts = new HashSet<NetAddress>();
        long entries = 0;
        int lines = 0, netfilter = 0, noUid = 0, malformed = 0, blobs = 0, timed = 0;
        foreach (byte[] line in Repo.Lines(Path.Combine(Repo.Samples, file)))
        {
            lines++;
            LineKind kind = parser.Parse(line, out LogRecord r);
            if (kind is LineKind.Entry or LineKind.OtherPrefix or LineKind.Malformed)
            {
                netfilter++;
            }

            malformed += kind == LineKind.Malformed ? 1 : 0;
            blobs += kind == LineKind.Blob ? 1 : 0;
            if (kind != LineKind.Entry)
            {
                continue;
            }

            entries += r.Copies;
            string port = r.RulePort.ToString(CultureInfo.InvariantCulture);
            byPort[port] = byPort.GetValueOrDefault(port) + 1;
            if (r.Entry.Has(NetfilterFields.Uid))
            {
                string uid = r.Entry.Uid.ToString(CultureInfo.InvariantCulture);
                byUid[uid] = byUid.GetValueOrDefault(uid) + 1;
            }
            else
            {
                noUid++;
            }

            dsts.Add(r.Entry.Dst);
            Assert.Equal(NetfilterProtocol.Tcp, r.Entry.Proto);
            Assert.Equal(r.RulePort, r.Entry.Dpt);
            timed += r.Envelope.Time is not null || r.Envelope.Uptime is not null ? 1 : 0;
        }

        Assert.Equal(want.GetProperty("total_lines").GetInt32(), lines);
        Assert.Equal(want.GetProperty("netfilter_lines").GetInt32(), netfilter);
        Assert.Equal(want.GetProperty("journal_blobs").GetInt32(), blobs); // journalctl short*: the Latin-1 prefix line is "[182B blob data]"
        Assert.Equal(want.GetProperty("tcp_out").GetInt32(), entries);
        Assert.Equal(0, malformed);
        Assert.Equal(want.GetProperty("clock").GetString() == "none" ? 0 : entries, timed); // journalctl -o cat prints no time
        foreach (JsonProperty p in want.GetProperty("tcp_out_by_port").EnumerateObject())
        {
            Assert.Equal(p.Value.GetInt32(), byPort.GetValueOrDefault(p.Name));
        }

        foreach (JsonProperty p in want.GetProperty("tcp_out_by_uid").EnumerateObject())
        {
            Assert.Equal(p.Value.GetInt32(), byUid.GetValueOrDefault(p.Name));
        }

        Assert.Equal(want.GetProperty("tcp_out_by_uid").EnumerateObject().Count(), byUid.Count);
        Assert.Equal(want.GetProperty("tcp_out_without_uid").GetInt32(), noUid);
        Assert.Equal(want.GetProperty("tcp_out_distinct_dst").GetInt32(), dsts.Count);
        var listed = want.GetProperty("tcp_out_dst_list").EnumerateArray().Select(e => NetAddress.TryParse(e.GetString(), out NetAddress a) ? a : default).ToHashSet();
        Assert.Equal(listed.OrderBy(a => a), dsts.OrderBy(a => a));
    }

    /// <summary>
    /// The busiest minute on the clock the lines give: the wall clock, or for dmesg, /dev/kmsg and journalctl
    /// short-monotonic/short-delta the kernel's time since boot (these had no timeline at all before: "peak 0/min").
    /// </summary>
    [Theory]
    [MemberData(nameof(Files))]
    public void Timeline_SampleLog_PeakMinuteOnTheClockTheLinesGive(string file)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Repo.Samples, "expected.json")));
        JsonElement want = doc.RootElement.GetProperty(file);
        var stats = new TrafficStats();
        var parser = new LogLineParser(new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 12, 8, 0, 0, 0, TimeSpan.Zero) } });
        foreach (byte[] line in Repo.Lines(Path.Combine(Repo.Samples, file)))
        {
            if (parser.Parse(line, out LogRecord r) == LineKind.Entry)
            {
                stats.Add(ref r);
            }
        }

        Timeline timeline = stats.Timeline;
        string clock = timeline.PeakClock switch { ClockKind.WallClock => "wall-clock", ClockKind.Uptime => "uptime", _ => "none" };
        Assert.Equal(want.GetProperty("clock").GetString(), clock);
        JsonElement peak = want.GetProperty("tcp_out_peak_minute");
        Assert.Equal(peak.ValueKind == JsonValueKind.Null ? null : peak.GetInt64(), timeline.On(timeline.PeakClock)?.PeakMinute?.Count);
        Assert.Equal(clock == "none" ? stats.All.Count : 0, timeline.WithoutTime);
        Assert.Equal(clock == "uptime" ? stats.All.Count : 0, timeline.SinceBoot?.Count ?? 0);
    }
}
