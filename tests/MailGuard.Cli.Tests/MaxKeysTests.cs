using System.Text.Json;

namespace MailGuard.Cli.Tests;

/// <summary>--max-keys: below the budget the reports are today's, byte for byte; past it every estimate is marked, with its bound.</summary>
public class MaxKeysTests
{
    private const string Incident = "samples/logs/incident-webshell.log"; // 1,561 destinations

    [Theory]
    [InlineData("table")]
    [InlineData("json")]
    [InlineData("csv")]
    public void Mgscan_MaxKeysAboveTheKeys_ReportIsByteIdentical(string format)
    {
        (int code, string standard, _) = MgscanTests.Run(null, "--format", format, "--passwd", "samples/logs/passwd", Incident);
        (int code2, string budgeted, _) = MgscanTests.Run(null, "--format", format, "--passwd", "samples/logs/passwd", "--max-keys", "2000", Incident);
        Assert.Equal(0, code);
        Assert.Equal(0, code2);
        Assert.Equal(standard, budgeted);
        Assert.DoesNotContain("estimate", standard, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("~", standard, StringComparison.Ordinal);
    }

    [Fact]
    public void Mgscan_Csv_PastTheBudget_SaysOnStderrThatTheCountsAreEstimates()
    {
        (int code, string csv, string err) = MgscanTests.Run(null, "--format", "csv", "--max-keys", "64", Incident);
        Assert.Equal(0, code);
        Assert.NotEmpty(csv);
        Assert.Equal("mgscan: more distinct keys than --max-keys 64: the counts are estimates; --format json gives the bound of each, a larger --max-keys exact figures\n", err);
        (_, _, err) = MgscanTests.Run(null, "--format", "csv", "--max-keys", "2000", Incident);
        Assert.Equal("", err);
    }

    [Fact]
    public void Mgscan_MaxKeysBelowTheKeys_MarksEstimatesAndStillNamesTheSpammer()
    {
        (int code, string text, string err) = MgscanTests.Run(null, "--passwd", "samples/logs/passwd", "--max-keys", "64", Incident);
        Assert.True(code == 0, err);
        Assert.StartsWith("VERDICT: Direct-to-MX spam from uid 33 (www-data)", text, StringComparison.Ordinal);
        Assert.Contains("these figures are estimates", text, StringComparison.Ordinal);
        Assert.Contains("Estimates (~): more than 64 distinct keys (--max-keys)", text, StringComparison.Ordinal);
        Assert.Contains("not listed: a destination had at most", text, StringComparison.Ordinal);
        Assert.All(text.Split('\n').SkipWhile(l => !l.StartsWith("Estimates", StringComparison.Ordinal)), l => Assert.True(l.Length <= 80, l));

        (code, string json, err) = MgscanTests.Run(null, "--format", "json", "--passwd", "samples/logs/passwd", "--max-keys", "64", Incident);
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(json);
        JsonElement root = doc.RootElement;
        Assert.Equal("mailguard.report/1", root.GetProperty("schema").GetString());
        JsonElement estimates = root.GetProperty("estimates");
        Assert.Equal(64, estimates.GetProperty("key_budget").GetInt32());
        Assert.True(estimates.GetProperty("bounded").GetBoolean());
        Assert.True(root.GetProperty("totals").GetProperty("distinct_destinations_estimated").GetBoolean());
        long total = root.GetProperty("totals").GetProperty("distinct_destinations").GetInt64();
        Assert.InRange(total, 1561 * 0.97, 1561 * 1.03);
        foreach (JsonElement row in root.GetProperty("destinations").EnumerateArray())
        {
            Assert.True(row.GetProperty("estimated").GetBoolean());
            Assert.True(row.GetProperty("error_bound").GetInt64() <= estimates.GetProperty("max_error").GetProperty("destinations").GetInt64());
        }

        JsonElement uid33 = root.GetProperty("uids").EnumerateArray().First(r => r.GetProperty("key").GetInt32() == 33);
        Assert.Equal(0, uid33.GetProperty("error_bound").GetInt64()); // never dropped: its count is exact
        Assert.Equal(5_770, uid33.GetProperty("count").GetInt64());
    }

    [Theory]
    [InlineData("63")]
    [InlineData("abc")]
    public void Mgscan_MaxKeysWrong_IsAnOptionError(string value)
    {
        (int code, string stdout, string stderr) = MgscanTests.Run(null, "--max-keys", value, Incident);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"mgscan: --max-keys: '{value}' is not a whole number from 64 to 2147483647\n", stderr);
    }
}
