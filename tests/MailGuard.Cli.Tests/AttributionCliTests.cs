using System.Text.Json;

namespace MailGuard.Cli.Tests;

/// <summary>
/// mgscan with application logs beside the kernel log (issue 15), on the real captures of samples/logs/apps: the
/// verdict's sentence behind the culprit, the advice naming the senders, the "Behind the UIDs" table and JSON, the
/// log to read when it was not given, and application logs alone refused.
/// </summary>
public class AttributionCliTests
{
    private const string Apps = "samples/logs/apps/";

    private static (int Code, string Stdout, string Stderr) Mgscan(params string[] args) =>
        MgscanTests.Run(null, new Dictionary<string, string> { ["TZ"] = "UTC" }, [.. args, "--passwd", Apps + "passwd"]);

    [Fact]
    public void Text_NamesTheSendersBehindEachUid_InTheVerdictTheAdviceAndTheTable()
    {
        (int code, string stdout, string stderr) = Mgscan(Apps + "kern.log", Apps + "mail.log", Apps + "v2ray-access.log", Apps + "shadowsocks.log", Apps + "php-mail.log");
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        Assert.Contains("Behind uid 1802 (v2ray), from the application logs: 15 of its 19 attempts are explained: 10 v2ray user", stdout.ReplaceLineEndings(" ").Replace("  ", " ", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("Remove the proxy user alice@example.com (or change its key); its client is", stdout, StringComparison.Ordinal);
        Assert.Contains("Close the proxy inbound that has no authentication: 203.0.113.81 used it", stdout, StringComparison.Ordinal);
        Assert.Contains("Behind the UIDs, from the application logs (40 of 44 attempts explained)", stdout, StringComparison.Ordinal);
        Assert.Contains("  uid 102 (postfix): 17 attempts, 17 explained, 0 unexplained", stdout, StringComparison.Ordinal);
        Assert.Contains("         8 postfix mail from uid 1801 (webapp) via pickup, script\n              /var/www/html/wp-content/uploads/2026/12/cache.php (6 dest.)", stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("         6 shadowsocks server port 8388 (3 dest.)", stdout, StringComparison.Ordinal);
        Assert.All(stdout.ReplaceLineEndings("\n").Split('\n'), line => Assert.True(line.Length <= 80 || line.StartsWith("     ", StringComparison.Ordinal), line)); // commands may be longer
    }

    [Fact]
    public void Json_HasTheAttribution_WithEveryFigureOfTheTable()
    {
        (int code, string stdout, _) = Mgscan("--format", "json", Apps + "kern.log", Apps + "mail.log", Apps + "v2ray-access.log", Apps + "shadowsocks.log", Apps + "php-mail.log");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        JsonElement a = doc.RootElement.GetProperty("attribution");
        Assert.Equal((44L, 40L, 4L, 0L, 0L), (a.GetProperty("attempts").GetInt64(), a.GetProperty("explained").GetInt64(), a.GetProperty("ambiguous").GetInt64(), a.GetProperty("unexplained").GetInt64(), a.GetProperty("not_opening").GetInt64()));
        Assert.Equal(["postfix", "v2ray", "shadowsocks", "php"], a.GetProperty("logs").EnumerateArray().Select(l => l.GetProperty("program").GetString()));
        JsonElement webshell = a.GetProperty("actors").EnumerateArray().Single(x => x.GetProperty("script").GetString() == "/var/www/html/wp-content/uploads/2026/12/cache.php");
        Assert.Equal((102L, "local_uid", "1801", "pickup", 8L, 6L), (webshell.GetProperty("uid").GetInt64(), webshell.GetProperty("kind").GetString(), webshell.GetProperty("name").GetString(), webshell.GetProperty("via").GetString(), webshell.GetProperty("attempts").GetInt64(), webshell.GetProperty("destinations").GetInt64()));
        Assert.StartsWith("Behind uid 1802 (v2ray)", doc.RootElement.GetProperty("verdict").GetProperty("behind").GetString(), StringComparison.Ordinal);

        (_, string plain, _) = Mgscan("--format", "json", Apps + "kern.log");
        using var without = JsonDocument.Parse(plain);
        Assert.Equal(JsonValueKind.Null, without.RootElement.GetProperty("attribution").ValueKind);
        Assert.Equal(JsonValueKind.Null, without.RootElement.GetProperty("verdict").GetProperty("behind").ValueKind);
    }

    [Fact]
    public void ProxyCulprit_WithoutItsLog_IsToldWhichLogToReadAndHowToTurnItOn()
    {
        (int code, string stdout, _) = Mgscan(Apps + "kern.log", Apps + "mail.log");
        Assert.Equal(0, code);
        Assert.Contains("Turn on the proxy's access log and read it with the kernel log", stdout, StringComparison.Ordinal);
        Assert.Contains("\"log\": {\"access\": \"/var/log/v2ray/access.log\", \"loglevel\": \"info\"}", stdout, StringComparison.Ordinal);
        Assert.Contains("  uid 1802 (v2ray): 19 attempts, 0 explained, 1 ambiguous, 18 unexplained", stdout, StringComparison.Ordinal);

        (_, string given, _) = Mgscan(Apps + "kern.log", Apps + "mail.log", Apps + "v2ray-access.log");
        Assert.DoesNotContain("Turn on the proxy's access log", given, StringComparison.Ordinal);
    }

    [Fact]
    public void ASyslogWithPostfixLines_IsJoined_AndADirectSenderIsToldApart()
    {
        // incident-webshell.log holds Postfix's lines beside the kernel's: read for both. uid 33's 1,656 attempts (its
        // SYNs, counted by a script apart) all lie between the file's first Postfix line (00:02:31) and its last
        // (03:48:52), and no Postfix line explains one: www-data connected to the MXs by itself.
        (int code, string stdout, _) = MgscanTests.Run(null, "samples/logs/incident-webshell.log", "--passwd", "samples/logs/passwd");
        Assert.Equal(0, code);
        Assert.Contains("Behind uid 33 (www-data), from the application logs: none of its 1,656 attempts went through postfix — it connected by itself.",
            string.Join(' ', stdout.ReplaceLineEndings("\n").Split('\n')), StringComparison.Ordinal);
        Assert.Contains("  uid 33 (www-data): 1,656 attempts, 0 explained, 1,656 unexplained", stdout, StringComparison.Ordinal);

        // --no-join: the file is read for its netfilter entries only.
        (code, string json, _) = MgscanTests.Run(null, "samples/logs/incident-webshell.log", "--no-join", "--format", "json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("attribution").ValueKind);
        Assert.Equal(6060, doc.RootElement.GetProperty("totals").GetProperty("entries").GetInt64());
    }

    [Fact]
    public void HostileNamesFromAnApplicationLog_NeverReachTheTerminalRaw_NorACommand()
    {
        // A proxy user name and a client are written by the proxy's clients: terminal escapes in them.
        string dir = Directory.CreateTempSubdirectory("mg-hostile-").FullName;
        try
        {
            var kern = new System.Text.StringBuilder();
            var access = new System.Text.StringBuilder();
            for (int i = 0; i < 30; i++)
            {
                string t = $"12:00:{i + 10:00}";
                kern.Append($"Dec  7 {t} vps01 kernel: [1.0] IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.100.{i + 1} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT={40000 + i} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1802 GID=995 \n");
                access.Append($"2026/12/07 {t} 203.0.113.77:{5000 + i} accepted tcp:198.51.100.{i + 1}:25 [direct] email: evil\u001b]0;pwned\u0007\u001b[2J@x.example\n");
            }

            File.WriteAllText(Path.Combine(dir, "kern.log"), kern.ToString());
            File.WriteAllText(Path.Combine(dir, "access.log"), access.ToString());
            (int code, string stdout, _) = MgscanTests.Run(null, new Dictionary<string, string> { ["TZ"] = "UTC" }, Path.Combine(dir, "kern.log"), Path.Combine(dir, "access.log"));
            Assert.Equal(0, code);
            Assert.Contains("30 v2ray user evil", stdout, StringComparison.Ordinal); // explained, the name escaped
            Assert.DoesNotContain('\u001b', stdout);
            Assert.DoesNotContain('\u0007', stdout);
            Assert.Contains("# the name holds control characters", stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ApplicationLogsAlone_AreRefused_WithWhatToName()
    {
        (int code, string stdout, string stderr) = Mgscan(Apps + "mail.log", Apps + "php-mail.log");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("application logs only; name the kernel log too", stderr, StringComparison.Ordinal);
    }
}
