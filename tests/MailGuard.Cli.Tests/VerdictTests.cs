using System.Text.Json;

namespace MailGuard.Cli.Tests;

/// <summary>mgscan on the incident samples: the first lines tell the story; the JSON has the verdict; the report fits 80 columns.</summary>
public class VerdictTests
{
    [Theory]
    [InlineData("incident-webshell.log", "VERDICT: Direct-to-MX spam from uid 33 (www-data), high confidence", "direct-to-mx")]
    [InlineData("incident-proxy.log", "VERDICT: Spam relayed for 40 forwarded clients behind wg0, high confidence", "proxy-relay")]
    [InlineData("incident-relay-abuse.log", "VERDICT: Relay abuse (stolen credentials?) by uid 1002 (shop), high confidence", "relay-abuse")]
    [InlineData("incident-retry.log", "VERDICT: One client retrying: uid 1005 (backup), high confidence", "retrying-client")]
    [InlineData("incident-clean.log", "VERDICT: Nothing suspicious", "nothing-suspicious")]
    [InlineData("incident-no-uid.log", "VERDICT: Direct-to-MX spam from 192.0.2.10, high confidence", "direct-to-mx")]
    public void Mgscan_Incident_FirstLinesTellTheStory(string file, string headline, string cls)
    {
        (int code, string table, string stderr) = MgscanTests.Run(null, "samples/logs/" + file, "--passwd", "samples/logs/passwd");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        string[] lines = table.Split('\n');
        Assert.Equal(headline, lines[0]);
        Assert.Contains(" made ", lines[1], StringComparison.Ordinal); // who, then the figures
        Assert.All(lines.Where(l => !l.StartsWith("     ", StringComparison.Ordinal)), l => Assert.True(l.Length <= 80, $"over 80 columns: {l}")); // commands may be longer

        (_, string json, _) = MgscanTests.Run(null, "samples/logs/" + file, "--passwd", "samples/logs/passwd", "--format", "json");
        using var doc = JsonDocument.Parse(json);
        JsonElement verdict = doc.RootElement.GetProperty("verdict");
        Assert.Equal(cls, verdict.GetProperty("class").GetString());
        Assert.Equal(headline["VERDICT: ".Length..], verdict.GetProperty("headline").GetString());
        Assert.True(doc.RootElement.GetProperty("actors").GetArrayLength() > 0);
    }

    [Fact]
    public void Mgscan_Webshell_ChartsTheTimelineAndMarksTheBurst()
    {
        (_, string table, _) = MgscanTests.Run(null, "samples/logs/incident-webshell.log", "--passwd", "samples/logs/passwd");
        Assert.Contains("Attempts over time (a mark per 5 min; each line scaled to its own peak)", table, StringComparison.Ordinal);
        Assert.Contains("^ burst from 2026-11-23 02:14", table, StringComparison.Ordinal);
        Assert.Matches(@"\n  uid 33 \(www-data\) +1,656 +97% +1,553 +1,656 +0 +0 +56\n", table);
        Assert.Matches(@"\nuid 33 \(www-data\) +[ ▁▂▃▄▅▆▇█]+\n", table);

        (_, string json, _) = MgscanTests.Run(null, "samples/logs/incident-webshell.log", "--passwd", "samples/logs/passwd", "--format", "json");
        using var doc = JsonDocument.Parse(json);
        JsonElement timeline = doc.RootElement.GetProperty("verdict").GetProperty("timeline");
        Assert.Equal(300, timeline.GetProperty("bucket_seconds").GetInt64());
        JsonElement[] series = [.. timeline.GetProperty("series").EnumerateArray()];
        Assert.Equal("all", series[0].GetProperty("actor").GetString());
        Assert.Equal("uid 33 (www-data)", series[1].GetProperty("actor").GetString());
        Assert.Equal(1656, series[1].GetProperty("attempts").EnumerateArray().Sum(e => e.GetInt64()));
        Assert.Equal("2026-11-23T02:14:00+00:00", doc.RootElement.GetProperty("verdict").GetProperty("burst_start").GetString());
    }

    [Fact]
    public void Mgscan_SetAndMailPorts_ChangeTheVerdict()
    {
        (int code, string stdout, _) = MgscanTests.Run(null, "samples/logs/incident-webshell.log", "--passwd", "samples/logs/passwd", "--set", "direct-min-destinations=5000");
        Assert.Equal(0, code);
        Assert.StartsWith("VERDICT: Mail traffic from uid 33 (www-data) that fits no known pattern", stdout, StringComparison.Ordinal); // 1,553 servers are no longer a wide fan-out

        (_, stdout, _) = MgscanTests.Run(null, "samples/logs/incident-webshell.log", "--passwd", "samples/logs/passwd", "--mail-ports", "submission");
        Assert.StartsWith("VERDICT: Nothing suspicious\nuid 0 (root) made 100% of the logged mail connections: 1 attempt (5 packets", stdout, StringComparison.Ordinal);

        (code, _, string stderr) = MgscanTests.Run(null, "samples/logs/incident-webshell.log", "--set", "fanout=3");
        Assert.Equal(2, code);
        Assert.Contains("mgscan: --set: 'fanout=3' is not NAME=VALUE with a NAME of min-attempts, direct-min-destinations", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Mgscan_MissingPasswdFile_SaysSoAndExits2()
    {
        (int code, string stdout, string stderr) = MgscanTests.Run(null, "samples/logs/incident-webshell.log", "--passwd", "no/such/passwd");
        Assert.Equal(2, code);
        Assert.Contains("mgscan: no/such/passwd: no such file (users are shown by number)", stderr, StringComparison.Ordinal);
        Assert.StartsWith("VERDICT: Direct-to-MX spam from uid 33, high confidence", stdout, StringComparison.Ordinal);
    }
}
