using System.Diagnostics;
using System.Text.Json;

namespace MailGuard.Cli.Tests;

/// <summary>--format ndjson: one ECS-named JSON object per entry, for log shippers (docs/entries-ndjson.md).</summary>
public class NdjsonTests
{
    private static JsonElement[] Lines(string stdout) =>
        [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];

    [Fact]
    public void Mgscan_Ndjson_OneObjectPerEntry_WithTheFiguresOfTheList()
    {
        (int code, string stdout, string err) = MgscanTests.Run(null, "--format", "ndjson", "--passwd", "samples/logs/passwd", "samples/logs/kern.log");
        Assert.Equal(0, code);
        Assert.Equal("mgscan: 73 lines, 55 entries; not counted: 8 other netfilter entries\n", err);
        JsonElement[] lines = Lines(stdout);
        Assert.Equal(55, lines.Length);
        (_, string list, _) = MgscanTests.Run(null, "--list", "--passwd", "samples/logs/passwd", "samples/logs/kern.log");
        string[] listed = list.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(listed.Length, lines.Length);

        JsonElement first = lines[0];
        Assert.Equal("2026-11-23T19:23:50+00:00", first.GetProperty("@timestamp").GetString());
        Assert.Equal("vps01", first.GetProperty("host").GetProperty("name").GetString());
        Assert.Equal("192.0.2.10", first.GetProperty("source").GetProperty("ip").GetString());
        Assert.Equal(60502, first.GetProperty("source").GetProperty("port").GetInt32());
        Assert.Equal("198.51.100.7", first.GetProperty("destination").GetProperty("ip").GetString());
        Assert.Equal(25, first.GetProperty("destination").GetProperty("port").GetInt32());
        Assert.Equal("tcp", first.GetProperty("network").GetProperty("transport").GetString());
        Assert.Equal("106", first.GetProperty("user").GetProperty("id").GetString());
        Assert.Equal("eth0", first.GetProperty("observer").GetProperty("egress").GetProperty("interface").GetProperty("name").GetString());
        Assert.Equal("IPTABLES TCP-OUT 25:", first.GetProperty("rule").GetProperty("name").GetString());
        Assert.Equal(25, first.GetProperty("mailguard").GetProperty("rule_port").GetInt32());

        for (int i = 0; i < lines.Length; i++)
        {
            // the same entry as --list's line i: user, destination and port
            JsonElement e = lines[i];
            string uid = e.TryGetProperty("user", out JsonElement user)
                ? user.GetProperty("id").GetString() + (user.TryGetProperty("name", out JsonElement n) ? $"({n.GetString()})" : "")
                : "-";
            string dst = e.GetProperty("destination").GetProperty("ip").GetString()!;
            Assert.Contains($"uid={uid} ", listed[i], StringComparison.Ordinal);
            Assert.Contains(dst.Contains(':', StringComparison.Ordinal) ? $"-> [{dst}]:" : $"-> {dst}:", listed[i], StringComparison.Ordinal);
        }

        Assert.Contains(lines, l => l.TryGetProperty("user", out JsonElement u) && u.TryGetProperty("name", out JsonElement n) && n.GetString() == "www-data");
        Assert.Contains(lines, l => l.TryGetProperty("observer", out JsonElement o) && o.TryGetProperty("ingress", out _)); // forwarded traffic: IN= set
    }

    [Fact]
    public void Mgscan_Ndjson_LogText_IsJsonEscaped_NotPassedRaw()
    {
        string line = "Nov 23 02:14:07 vps kernel: [81234.567890] IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=203.0.113.7 DST=198.51.100.23 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF PROTO=TCP SPT=51234 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 \n";
        string hostile = line.Replace("IPTABLES TCP-OUT 25:", "\"}\u001b[2J\\TCP-OUT 25:", StringComparison.Ordinal);
        (int code, string stdout, _) = MgscanTests.Run(line + hostile, "--format", "ndjson", "--all");
        Assert.Equal(0, code);
        Assert.DoesNotContain('\u001b', stdout);
        JsonElement[] lines = Lines(stdout);
        Assert.Equal(2, lines.Length);
        Assert.Equal("\"}\u001b[2J\\TCP-OUT 25:", lines[1].GetProperty("rule").GetProperty("name").GetString()); // what was logged, exactly
        Assert.Contains("\\u001B[2J", stdout, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Mgscan_Ndjson_EverySample_ValidatesAgainstTheSchema()
    {
        if (!PythonHas("jsonschema"))
        {
            Assert.Skip("python3 with jsonschema is needed (apt-get install python3-jsonschema; .ci/run installs it)");
        }

        string dir = Directory.CreateTempSubdirectory("mgscan-ndjson-").FullName;
        try
        {
            int total = 0;
            string[] samples = ["kern.log", "messages", "journal.json", "dmesg.txt", "kern-rfc3339.log", "syslog-rfc5424.log", "incident-proxy.log", "incident-no-uid.log", "journal-cat.txt"];
            foreach (string sample in samples)
            {
                (int code, string stdout, _) = MgscanTests.Run(null, "--format", "ndjson", "--all", "--passwd", "samples/logs/passwd", "samples/logs/" + sample);
                Assert.True(code is 0 or 1, $"{sample}: exit {code}");
                await File.WriteAllTextAsync(Path.Combine(dir, sample + ".ndjson"), stdout, TestContext.Current.CancellationToken);
                total += Lines(stdout).Length;
            }

            Assert.True(total > 1000, $"{total} entries");
            var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in new[] { "-c", Validator, Path.Combine(MgscanTests.Root, "docs/entries-ndjson.schema.json"), dir })
            {
                psi.ArgumentList.Add(a);
            }

            using Process p = Process.Start(psi)!;
            string output = await p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken) + await p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            Assert.True(p.WaitForExit(60_000));
            Assert.True(p.ExitCode == 0, output);
            Assert.Equal($"{total} valid\n", output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Every line of every .ndjson file in a directory against the schema, with format checks (date-time, ipv4/ipv6).</summary>
    private const string Validator = """
        import json, os, sys
        from jsonschema import Draft202012Validator, FormatChecker
        schema = json.load(open(sys.argv[1]))
        Draft202012Validator.check_schema(schema)
        v = Draft202012Validator(schema, format_checker=FormatChecker())
        n = 0
        for f in sorted(os.listdir(sys.argv[2])):
            for i, line in enumerate(open(os.path.join(sys.argv[2], f), encoding="utf-8")):
                errors = list(v.iter_errors(json.loads(line)))
                if errors:
                    sys.exit(f"{f}:{i + 1}: {errors[0].message} at {list(errors[0].path)}")
                n += 1
        print(f"{n} valid")
        """;

    [Fact]
    public void Deploy_VectorConfig_Parses_AndRunsMgscanFollowingWithNdjson()
    {
        if (!PythonHas("tomllib"))
        {
            Assert.Skip("python3 3.11 or later (tomllib) parses the Vector config");
        }

        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("import json, sys, tomllib; c = tomllib.load(open(sys.argv[1], 'rb')); s = c['sources']['mailguard']; print(json.dumps([s['type'], s['mode'], s['command'], s['decoding']['codec'], c['sinks']['mail_connections']['inputs']]))");
        psi.ArgumentList.Add(Path.Combine(MgscanTests.Root, "deploy/vector/mailguard.toml"));
        using Process p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(30_000));
        Assert.Equal(0, p.ExitCode);
        JsonElement c = JsonDocument.Parse(output).RootElement;
        Assert.Equal("exec", c[0].GetString());
        Assert.Equal("streaming", c[1].GetString());
        string[] command = [.. c[2].EnumerateArray().Select(a => a.GetString()!)];
        Assert.Equal("json", c[3].GetString());
        Assert.Equal("mailguard", c[4][0].GetString());

        // the command is one mgscan accepts: its options checked by mgscan itself (the log and the state made local)
        Assert.EndsWith("mgscan", command[0], StringComparison.Ordinal);
        Assert.Equal(["--follow", "--state", "/var/lib/vector/mgscan.state", "--format", "ndjson", "/var/log/kern.log"], command[1..]);
    }

    private static bool PythonHas(string module)
    {
        try
        {
            using Process p = Process.Start(new ProcessStartInfo("python3", ["-c", "import " + module]) { RedirectStandardError = true })!;
            p.StandardError.ReadToEnd();
            return p.WaitForExit(30_000) && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
