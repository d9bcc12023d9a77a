using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace MailGuard.Cli.Tests;

/// <summary>--format prometheus: the report in the text exposition format (docs/prometheus.md).</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class PrometheusTests
{
    private const string Incident = "samples/logs/incident-webshell.log";

    /// <summary>The value of each series, by its whole name with labels.</summary>
    private static Dictionary<string, double> Series(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#'))
            .ToDictionary(l => l[..l.LastIndexOf(' ')], l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    [Fact]
    public void Mgscan_Prometheus_GivesTheJsonReportsFigures_PerActorAndPort()
    {
        (int code, string text, string err) = MgscanTests.Run(null, "--format", "prometheus", "--passwd", "samples/logs/passwd", Incident);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Dictionary<string, double> series = Series(text);
        (_, string json, _) = MgscanTests.Run(null, "--format", "json", "--passwd", "samples/logs/passwd", Incident);
        JsonElement report = JsonDocument.Parse(json).RootElement;
        foreach (JsonElement actor in report.GetProperty("actors").EnumerateArray())
        {
            string labels = $"host=\"vps01\",actor_kind=\"{actor.GetProperty("kind").GetString()}\",actor=\"{actor.GetProperty("key")}\",user=\"{(actor.GetProperty("user").ValueKind == JsonValueKind.String ? actor.GetProperty("user").GetString() : "")}\"";
            foreach (JsonProperty port in actor.GetProperty("ports").EnumerateObject())
            {
                Assert.Equal(port.Value.GetProperty("attempts").GetInt64(), series[$"mailguard_connection_attempts_total{{{labels},port=\"{port.Name}\"}}"]);
                Assert.Equal(port.Value.GetProperty("packets").GetInt64(), series[$"mailguard_packets_total{{{labels},port=\"{port.Name}\"}}"]);
            }

            Assert.Equal(actor.GetProperty("distinct_destinations").GetInt64(), series[$"mailguard_destinations{{{labels}}}"]);
        }

        Assert.Equal(1656, series["mailguard_connection_attempts_total{host=\"vps01\",actor_kind=\"uid\",actor=\"33\",user=\"www-data\",port=\"25\"}"]);
        Assert.Equal(1, series["mailguard_verdict{host=\"vps01\",class=\"direct-to-mx\"}"]);
        Assert.Equal(0, series["mailguard_verdict{host=\"vps01\",class=\"nothing-suspicious\"}"]);
        Assert.Equal(6356, series.Where(s => s.Key.StartsWith("mailguard_lines_total{", StringComparison.Ordinal)).Sum(s => s.Value)); // every line, once
        Assert.Equal(6060, series["mailguard_lines_total{kind=\"entry\"}"]);
        Assert.Equal(report.GetProperty("totals").GetProperty("last").GetDateTimeOffset().ToUnixTimeSeconds(), series["mailguard_last_entry_timestamp_seconds{host=\"vps01\"}"]);
        Assert.Equal(0, series["mailguard_estimated"]);
    }

    [Fact]
    public void Mgscan_Prometheus_Top_BoundsTheActors_AndSumsTheRestAsOther()
    {
        (int code, string text, _) = MgscanTests.Run(null, "--format", "prometheus", "--top", "1", "--passwd", "samples/logs/passwd", Incident);
        Assert.Equal(0, code);
        Dictionary<string, double> series = Series(text);
        Assert.Single(series.Keys, k => k.StartsWith("mailguard_destinations{", StringComparison.Ordinal));
        Assert.Equal(57, series["mailguard_connection_attempts_total{host=\"vps01\",actor_kind=\"other\",actor=\"other\",user=\"\",port=\"25\"}"]); // uid 107
        Assert.Equal(1, series["mailguard_connection_attempts_total{host=\"vps01\",actor_kind=\"other\",actor=\"other\",user=\"\",port=\"587\"}"]); // uid 0
    }

    [Fact]
    public void Mgscan_Prometheus_PassesPromtool_AlsoWithHostileNames()
    {
        string? promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists);
        if (promtool is null)
        {
            Assert.Skip("promtool is missing (apt-get install prometheus; .ci/run installs it)");
        }

        using var dir = new TempDir();
        string passwd = dir.Write("passwd", "www\"data\\\u001b[2J:x:33:33::/var/www:/usr/sbin/nologin\n"u8.ToArray());
        foreach (string[] args in new[]
        {
            new[] { "--passwd", "samples/logs/passwd", Incident },
            ["--passwd", passwd, Incident],
            ["--passwd", "samples/logs/passwd", "--all", "samples/logs/incident-proxy.log"],
            ["samples/logs/journal-cat.txt"],
            ["--max-keys", "64", Incident],
            ["samples/logs/central-mixed.log"], // three hosts
        })
        {
            (int code, string text, _) = MgscanTests.Run(null, ["--format", "prometheus", .. args]);
            Assert.True(code is 0 or 1, $"{string.Join(' ', args)}: exit {code}");
            Assert.DoesNotContain('\u001b', text);
            var psi = new ProcessStartInfo(promtool, ["check", "metrics"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            using Process p = Process.Start(psi)!;
            p.StandardInput.Write(text);
            p.StandardInput.Close();
            string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            Assert.True(p.WaitForExit(30_000));
            Assert.True(p.ExitCode == 0, $"{string.Join(' ', args)}: {output}");
            if (args.Length > 1 && args[1] == passwd)
            {
                Assert.Contains("user=\"www\\\"data\\\\\\\\x1b[2J\"", text, StringComparison.Ordinal); // "  \  ESC: escaped, the ESC as text
            }
        }
    }
}
