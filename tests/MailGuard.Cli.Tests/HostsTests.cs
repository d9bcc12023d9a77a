using System.Globalization;
using System.Text.Json;

namespace MailGuard.Cli.Tests;

/// <summary>
/// Hosts as a dimension (issue 16, item 1): a central log server's file and per-host split files. The sample
/// samples/logs/central-mixed.log is three hosts' captures with their host field rewritten (samples/capture/central.py):
/// web-17 (incident-webshell.log, traditional stamps), vpn-03 (incident-proxy.log, RFC 3339) and db-02 (incident-clean.log,
/// the tag without its colon, "db-02 kernel [ 1651.237375] IPTABLES …").
/// </summary>
/// <remarks>
/// The figures are counted without mgscan, by <c>python3 samples/capture/central.py --count</c> (entries are the
/// <c>IPTABLES TCP-OUT N:</c> lines; an attempt is a packet of a flow — host, SRC, DST, SPT, DPT — not seen in the 2 minutes
/// before; destinations are distinct DST=):
/// <code>
/// web-17               entries   6060 attempts   1714 destinations   1562
/// web-17 uid 33        entries   5770 attempts   1656 destinations   1553
/// web-17 uid 107       entries    285 attempts     57 destinations      8
/// vpn-03               entries   4499 attempts   1295 destinations   1076
/// vpn-03 uid -         entries   4389 attempts   1273 destinations   1074   (forwarded, behind wg0)
/// vpn-03 uid 107       entries    110 attempts     22 destinations      2
/// db-02                entries    312 attempts    245 destinations     21
/// db-02 uid 107        entries    303 attempts    243 destinations     20
/// </code>
/// They are also samples/logs/incidents.json's ground truth of each source file (entries, attempts, destinations).
/// </remarks>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class HostsTests
{
    /// <summary>host: count, attempts, destinations, verdict class.</summary>
    private static readonly (string Host, long Count, long Attempts, long Destinations, string Verdict)[] s_hosts =
    [
        ("web-17", 6060, 1714, 1562, "direct-to-mx"),
        ("vpn-03", 4499, 1295, 1076, "proxy-relay"),
        ("db-02", 312, 245, 21, "nothing-suspicious"),
    ];

    private const string Central = "samples/logs/central-mixed.log";

    private static JsonElement Json(params string[] args)
    {
        (int code, string json, string err) = MgscanTests.Run(null, ["--format", "json", .. args]);
        Assert.True(code == 0, $"exit {code}: {err}");
        return JsonDocument.Parse(json).RootElement;
    }

    /// <summary>
    /// samples/logs/central-real.log: the real captures of three machines (samples/capture/central.py --real: the apps and
    /// apps-exim kernel logs, kern-rfc3339.log; traditional, tag without colon, RFC 3339). Each host's entries, attempts
    /// and destinations, and each host's UIDs, as `central.py --real --count` counts them without mgscan.
    /// </summary>
    [Fact]
    public void CentralLogOfRealCaptures_GivesEachHostsAndEachHostsUidsFigures()
    {
        JsonElement report = Json("samples/logs/central-real.log");
        Assert.Equal(
            [("mx-01", 58L, 44L, 12L), ("web-03", 55L, 25L, 15L), ("mx-02", 27L, 17L, 6L)],
            report.GetProperty("hosts").EnumerateArray().Select(h => (h.GetProperty("key").GetString(), h.GetProperty("count").GetInt64(), h.GetProperty("attempts").GetInt64(), h.GetProperty("destinations").GetInt64())));
        var actors = report.GetProperty("actors").EnumerateArray().Where(a => a.GetProperty("kind").GetString() == "uid")
            .ToDictionary(a => a.GetProperty("label").GetString()!, a => (a.GetProperty("attempts").GetInt64(), a.GetProperty("distinct_destinations").GetInt64()));
        Assert.Equal((19L, 7L), actors["mx-01 uid 1802"]);
        Assert.Equal((17L, 6L), actors["mx-01 uid 102"]);
        Assert.Equal((8L, 4L), actors["mx-01 uid 1803"]);
        Assert.Equal((17L, 6L), actors["mx-02 uid 999"]);
        Assert.Equal((16L, 14L), actors["web-03 uid 1001"]);
        Assert.Equal((4L, 2L), actors["web-03 uid 33"]);
        Assert.Equal((2L, 2L), actors["web-03 uid 106"]);
        Assert.StartsWith("Mail traffic from mx-01 uid 1802", report.GetProperty("verdict").GetProperty("headline").GetString(), StringComparison.Ordinal);
    }

    private static void AssertHosts(JsonElement report)
    {
        JsonElement[] hosts = [.. report.GetProperty("hosts").EnumerateArray()];
        Assert.Equal(3, report.GetProperty("hosts_total").GetInt32());
        Assert.Equal(s_hosts.Length, hosts.Length); // sorted by attempts
        for (int i = 0; i < hosts.Length; i++)
        {
            Assert.Equal(s_hosts[i].Host, hosts[i].GetProperty("key").GetString());
            Assert.Equal(s_hosts[i].Count, hosts[i].GetProperty("count").GetInt64());
            Assert.Equal(s_hosts[i].Attempts, hosts[i].GetProperty("attempts").GetInt64());
            Assert.Equal(s_hosts[i].Destinations, hosts[i].GetProperty("destinations").GetInt64());
            Assert.Equal(s_hosts[i].Verdict, hosts[i].GetProperty("verdict").GetString());
        }

        Assert.Equal(10871, report.GetProperty("totals").GetProperty("entries").GetInt64());
        Assert.Equal(0, report.GetProperty("totals").GetProperty("duplicates").GetInt64());
    }

    /// <summary>The actors as "label: attempts/destinations".</summary>
    private static List<string> Actors(JsonElement report) =>
        [.. report.GetProperty("actors").EnumerateArray().Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.GetProperty("label").GetString()}: {a.GetProperty("attempts").GetInt64()}/{a.GetProperty("distinct_destinations").GetInt64()}"))];

    [Fact]
    public void Mgscan_CentralLog_PerHostFigures_AndTheVerdictNamesTheHostAndUid()
    {
        JsonElement report = Json(Central);
        AssertHosts(report);
        JsonElement verdict = report.GetProperty("verdict");
        Assert.Equal("direct-to-mx", verdict.GetProperty("class").GetString());
        Assert.Equal("Direct-to-MX spam from web-17 uid 33, medium confidence", verdict.GetProperty("headline").GetString()); // 51 % of all hosts' attempts
        JsonElement culprit = verdict.GetProperty("culprit");
        Assert.Equal("web-17", culprit.GetProperty("host").GetString());
        Assert.Equal(33, culprit.GetProperty("key").GetInt32());
        Assert.Equal(1656, culprit.GetProperty("attempts").GetInt64());
        Assert.Equal(1553, culprit.GetProperty("distinct_destinations").GetInt64());
        Assert.StartsWith("On web-17: ", verdict.GetProperty("advice")[0].GetProperty("title").GetString(), StringComparison.Ordinal);

        // uid 107 (postfix) on three hosts is three actors.
        List<string> actors = Actors(report);
        Assert.Contains("db-02 uid 107: 243/20", actors);
        Assert.Contains("web-17 uid 107: 57/8", actors);
        Assert.Contains("vpn-03 uid 107: 22/2", actors);
        Assert.Contains("40 forwarded clients behind vpn-03 wg0: 1273/1074", actors);
    }

    [Fact]
    public void Mgscan_CentralLog_Table_HasTheHostsTable()
    {
        (int code, string text, string err) = MgscanTests.Run(null, Central);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.StartsWith("VERDICT: Direct-to-MX spam from web-17 uid 33, medium confidence\nweb-17 uid 33 made 51% of the logged mail connections: 1,656 attempts", text, StringComparison.Ordinal);
        Assert.Contains(
            """
            Hosts (3; each host's traffic judged on its own)
              host                       entries  attempts   dests  verdict
              web-17                       6,060     1,714   1,562  direct-to-mx (uid 33)
              vpn-03                       4,499     1,295   1,076  proxy-relay (40 forwarded clients behind wg0)
              db-02                          312       245      21  nothing-suspicious

            """,
            text,
            StringComparison.Ordinal);
        Assert.Contains("  web-17 uid 33                 1,656   51%  1,553  1,656     0      0       56\n", text, StringComparison.Ordinal);
    }

    /// <summary>rsyslog's $template RemoteLogs,"/var/log/remote/%HOSTNAME%/kern.log": one file per host, read as several inputs.</summary>
    [Fact]
    public void Mgscan_PerHostSplitFiles_GiveTheCentralLogsFigures()
    {
        using var dir = new TempDir();
        var perHost = new Dictionary<string, MemoryStream>();
        foreach (byte[] line in Lines(File.ReadAllBytes(Path.Combine(MgscanTests.Root, Central))))
        {
            string host = HostOf(line);
            if (!perHost.TryGetValue(host, out MemoryStream? file))
            {
                perHost[host] = file = new MemoryStream();
            }

            file.Write(line);
        }

        var files = new List<string>();
        foreach ((string host, MemoryStream data) in perHost)
        {
            Directory.CreateDirectory(Path.Combine(dir.Path, host));
            files.Add(dir.Write(Path.Combine(host, "kern.log"), data.ToArray()));
        }

        Assert.Equal(3, files.Count);
        JsonElement split = Json([.. files]);
        AssertHosts(split);
        Assert.Equal(Actors(Json(Central)), Actors(split));
    }

    /// <summary>The same bytes through standard input (blocks parsed on all cores, counted in order) and bounded by --max-keys.</summary>
    [Fact]
    public void Mgscan_CentralLog_FromStandardInput_AndPastMaxKeys_KeepsTheHosts()
    {
        (int code, string json, _) = MgscanTests.Run("@central-mixed.log", "--format", "json");
        Assert.Equal(0, code);
        JsonElement piped = JsonDocument.Parse(json).RootElement;
        AssertHosts(piped);
        Assert.Equal(Actors(Json(Central)), Actors(piped));

        // Past the budget: per-host actors in bounded tables; counts stay exact here (error bound 0), distinct counts are estimates.
        JsonElement bounded = Json("--max-keys", "64", Central);
        // db-02's busiest minute is then an upper bound (its timeline in 32 wider buckets): 22 a minute at most, over the
        // quiet bound of 10, so its class is "unclear" rather than an all-clear the figures no longer prove.
        JsonElement[] hosts = [.. bounded.GetProperty("hosts").EnumerateArray()];
        Assert.Equal(
            s_hosts.Select(h => (h.Host, h.Count, h.Attempts, h.Host == "db-02" ? "unclear" : h.Verdict)),
            hosts.Select(h => (h.GetProperty("key").GetString()!, h.GetProperty("count").GetInt64(), h.GetProperty("attempts").GetInt64(), h.GetProperty("verdict").GetString()!)));
        for (int i = 0; i < hosts.Length; i++)
        {
            double destinations = hosts[i].GetProperty("destinations").GetDouble();
            Assert.True(Math.Abs(destinations - s_hosts[i].Destinations) <= 0.15 * s_hosts[i].Destinations, $"{s_hosts[i].Host}: {destinations} destinations");
        }

        JsonElement culprit = bounded.GetProperty("verdict").GetProperty("culprit");
        Assert.Equal("web-17 uid 33", culprit.GetProperty("label").GetString());
        Assert.Equal(1656, culprit.GetProperty("attempts").GetInt64());
        Assert.True(bounded.GetProperty("verdict").GetProperty("culprit").GetProperty("estimated").GetBoolean());
    }

    [Fact]
    public void Mgscan_CentralLog_Prometheus_FillsTheHostLabel_PerHostVerdictAndLastEntry()
    {
        (int code, string text, _) = MgscanTests.Run(null, "--format", "prometheus", Central);
        Assert.Equal(0, code);
        Dictionary<string, double> series = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#'))
            .ToDictionary(l => l[..l.LastIndexOf(' ')], l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        Assert.Equal(1656, series["mailguard_connection_attempts_total{host=\"web-17\",actor_kind=\"uid\",actor=\"33\",user=\"\",port=\"25\"}"]);
        Assert.Equal(243, series["mailguard_connection_attempts_total{host=\"db-02\",actor_kind=\"uid\",actor=\"107\",user=\"\",port=\"25\"}"]);
        Assert.Equal(57, series["mailguard_connection_attempts_total{host=\"web-17\",actor_kind=\"uid\",actor=\"107\",user=\"\",port=\"25\"}"]);
        Assert.Equal(1074, series["mailguard_destinations{host=\"vpn-03\",actor_kind=\"interface\",actor=\"wg0\",user=\"\"}"]);
        foreach ((string host, _, _, _, string verdict) in s_hosts)
        {
            Assert.Equal(1, series[$"mailguard_verdict{{host=\"{host}\",class=\"{verdict}\"}}"]);
            Assert.Equal(1, series.Where(s => s.Key.StartsWith($"mailguard_verdict{{host=\"{host}\",", StringComparison.Ordinal)).Sum(s => s.Value));
        }

        // The last entry of each host (web-17 03:48:38, vpn-03 14:49:27.815, db-02 23:33:19 on 2026-11-23, UTC; grep of the file).
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 3, 48, 38, TimeSpan.Zero).ToUnixTimeSeconds(), series["mailguard_last_entry_timestamp_seconds{host=\"web-17\"}"]);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 14, 49, 27, 815, TimeSpan.Zero).ToUnixTimeMilliseconds() / 1000.0, series["mailguard_last_entry_timestamp_seconds{host=\"vpn-03\"}"]);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 23, 33, 19, TimeSpan.Zero).ToUnixTimeSeconds(), series["mailguard_last_entry_timestamp_seconds{host=\"db-02\"}"]);
    }

    /// <summary>One host: no hosts table, no hosts array, actors without a host, names from the passwd file as before.</summary>
    [Fact]
    public void Mgscan_OneHost_ReportHasNoHostParts()
    {
        (int code, string text, _) = MgscanTests.Run(null, "--passwd", "samples/logs/passwd", "samples/logs/incident-webshell.log");
        Assert.Equal(0, code);
        Assert.StartsWith("VERDICT: Direct-to-MX spam from uid 33 (www-data), high confidence\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Hosts (", text, StringComparison.Ordinal);
        Assert.DoesNotContain("On vps01", text, StringComparison.Ordinal);
        JsonElement report = Json("--passwd", "samples/logs/passwd", "samples/logs/incident-webshell.log");
        Assert.False(report.TryGetProperty("hosts", out _));
        Assert.False(report.GetProperty("verdict").GetProperty("culprit").TryGetProperty("host", out _));
    }

    /// <summary>A host field is log text: a forged one with terminal escapes is shown escaped in the table, the verdict and Prometheus.</summary>
    [Fact]
    public void Mgscan_HostileHostName_IsEscapedEverywhere()
    {
        var log = new System.Text.StringBuilder();
        for (int i = 0; i < 30; i++)
        {
            foreach (string host in new[] { "vps-1", "x\u001b]0;pwned\u0007" })
            {
                log.Append(CultureInfo.InvariantCulture, $"2026-11-23T02:{i:00}:00+00:00 {host} kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.{i} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT={40000 + i} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1801 GID=1801 \n");
            }
        }

        using var dir = new TempDir();
        string file = dir.Write("central.log", System.Text.Encoding.UTF8.GetBytes(log.ToString()));
        foreach (string format in new[] { "table", "prometheus" })
        {
            (int code, string text, string err) = MgscanTests.Run(null, "--format", format, file);
            Assert.Equal(0, code);
            Assert.Equal("", err);
            Assert.DoesNotContain('\u001b', text);
            Assert.DoesNotContain('\u0007', text);
            Assert.Contains(format == "table" ? "x\\x1b]0;pwned\\x07 uid 1801" : "host=\"x\\\\x1b]0;pwned\\\\x07\"", text, StringComparison.Ordinal); // Prometheus escapes the \ again
        }

        JsonElement report = Json(file);
        Assert.Contains(report.GetProperty("hosts").EnumerateArray(), h => h.GetProperty("key").GetString() == "x\u001b]0;pwned\u0007"); // JSON: exact
    }

    private static IEnumerable<byte[]> Lines(byte[] data)
    {
        int start = 0;
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] == (byte)'\n')
            {
                yield return data[start..(i + 1)];
                start = i + 1;
            }
        }
    }

    /// <summary>The host field: after an RFC 3339 stamp ("2026-11-23T12:00:19.365479+00:00 vpn-03 …") or a traditional one ("Nov 23 00:00:00 web-17 …").</summary>
    private static string HostOf(byte[] line)
    {
        string text = System.Text.Encoding.Latin1.GetString(line);
        string rest = char.IsDigit(text[0]) ? text[(text.IndexOf(' ', StringComparison.Ordinal) + 1)..] : text[16..];
        return rest[..rest.IndexOf(' ', StringComparison.Ordinal)];
    }
}
