using System.Diagnostics;

namespace MailGuard.Cli.Tests;

/// <summary>Runs the real mgscan (the built mgscan.dll) and checks stdout, stderr and the exit code.</summary>
public class MgscanTests
{
    internal static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MailGuard.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("MailGuard.sln not found");
    }

    internal static (int Code, string Out, string Err) Run(string? stdin, params string[] args) =>
        RunBytes(stdin is null ? null : stdin.StartsWith('@') ? File.ReadAllBytes(Path.Combine(Root, "samples/logs", stdin[1..])) : System.Text.Encoding.UTF8.GetBytes(stdin), args);

    /// <summary>Runs mgscan with environment variables set.</summary>
    internal static (int Code, string Out, string Err) Run(string? stdin, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunBytes(stdin is null ? null : System.Text.Encoding.UTF8.GetBytes(stdin), environment, args);

    /// <summary>Runs mgscan with <paramref name="stdin"/> as its standard input (null: none, closed at once).</summary>
    internal static (int Code, string Out, string Err) RunBytes(byte[]? stdin, params string[] args) => RunBytes(stdin, new Dictionary<string, string>(), args);

    private static (int Code, string Out, string Err) RunBytes(byte[]? stdin, IReadOnlyDictionary<string, string> environment, string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = Root,
        };
        psi.Environment["TZ"] = "UTC"; // year-less stamps are local time: pin the zone
        foreach ((string name, string value) in environment)
        {
            psi.Environment[name] = value;
        }

        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mgscan.dll"));
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            // "@file" above: the raw bytes of a sample log, as `cat samples/logs/file | mgscan` sends them.
            p.StandardInput.BaseStream.Write(stdin);
        }

        p.StandardInput.Close();
        Assert.True(p.WaitForExit(60_000), "mgscan did not finish within 60 s");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Mgscan_SampleKernLog_ListsEveryEntryAndSummarises()
    {
        (int code, string stdout, string stderr) = Run(null, "--list", "samples/logs/kern.log");
        Assert.Equal(0, code);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(55, lines.Length);
        Assert.Equal(42, lines.Count(l => l.EndsWith("rule=25", StringComparison.Ordinal)));
        Assert.Equal(28, lines.Count(l => l.Contains("uid=1001", StringComparison.Ordinal) && l.EndsWith("rule=25", StringComparison.Ordinal)));
        Assert.Contains("73 lines, 55 entries; not counted: 8 other netfilter entries", stderr, StringComparison.Ordinal);
        Assert.Contains("rule=25", lines[0], StringComparison.Ordinal);

        // With a passwd file, the users are named as in the report.
        (code, stdout, _) = Run(null, "--list", "--passwd", "samples/logs/passwd", "samples/logs/incident-webshell.log");
        Assert.Equal(0, code);
        Assert.Contains(stdout.Split('\n'), l => l.Contains("uid=33(www-data) ", StringComparison.Ordinal));
        Assert.Contains(stdout.Split('\n'), l => l.Contains("uid=107(postfix) ", StringComparison.Ordinal));
    }

    [Fact]
    public void Mgscan_StandardInput_EqualsTheFile()
    {
        (int code, string fromStdin, _) = Run("@kern.log", "--format", "json"); // the raw bytes (one line is Latin-1)
        (_, string fromFile, _) = Run(null, "--format", "json", "samples/logs/kern.log");
        Assert.Equal(0, code);
        Assert.Equal(fromFile, fromStdin);
    }

    /// <summary>The captured sample logs: the files samples/logs/expected.json has figures for.</summary>
    public static TheoryData<string> SampleLogs()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Root, "samples/logs/expected.json")));
        return [.. doc.RootElement.EnumerateObject().Where(p => p.Value.ValueKind == System.Text.Json.JsonValueKind.Object && p.Value.TryGetProperty("tcp_out", out _)).Select(p => p.Name).Order()];
    }

    [Theory]
    [MemberData(nameof(SampleLogs))]
    public void Mgscan_EachSampleLog_GivesTheIndependentFiguresAndStdinEqualsTheFile(string name)
    {
        // samples/logs/expected.json: per file, counted by an independent script (samples/capture/expected.py).
        using var expectedDoc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Root, "samples/logs/expected.json")));
        System.Text.Json.JsonElement expected = expectedDoc.RootElement.GetProperty(name);
        (int code, string stdout, string stderr) = Run(null, "--format", "json", "--top", "1000", "samples/logs/" + name);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal(expected.GetProperty("tcp_out").GetInt64(), doc.RootElement.GetProperty("totals").GetProperty("entries").GetInt64());
        Assert.Equal(expected.GetProperty("tcp_out_distinct_dst").GetInt64(), doc.RootElement.GetProperty("totals").GetProperty("distinct_destinations").GetInt64());
        var ports = doc.RootElement.GetProperty("ports").EnumerateArray().ToDictionary(e => e.GetProperty("key").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), e => e.GetProperty("count").GetInt64());
        Assert.Equal(expected.GetProperty("tcp_out_by_port").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()), ports);
        var uids = doc.RootElement.GetProperty("uids").EnumerateArray().Where(e => e.GetProperty("key").ValueKind != System.Text.Json.JsonValueKind.Null)
            .ToDictionary(e => e.GetProperty("key").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture), e => e.GetProperty("count").GetInt64());
        Assert.Equal(expected.GetProperty("tcp_out_by_uid").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()), uids);

        (int stdinCode, string fromStdin, _) = Run("@" + name, "--format", "json", "--top", "1000");
        Assert.Equal(0, stdinCode);
        // The advice may differ: a file's name tells the Linux family; and a file's other programs' lines (the Postfix lines
        // of a syslog) are joined with its kernel lines, a stream's are not (application logs are read from files only).
        Assert.Equal(WithoutAdvice(stdout), WithoutAdvice(fromStdin));

        static string WithoutAdvice(string json)
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(json)!;
            node["verdict"]!.AsObject().Remove("advice");
            node["verdict"]!.AsObject().Remove("behind");
            node.AsObject().Remove("attribution");
            return node.ToJsonString();
        }
    }

    [Fact]
    public void Mgscan_MissingFile_NamesItAndExits2WithoutAReport()
    {
        // Issue 12: a named file that is missing never yields a verdict (it may hold the evidence).
        (int code, string stdout, string stderr) = Run(null, "--list", "no/such/file.log", "samples/logs/kern.log");
        Assert.Equal(2, code);
        Assert.Contains("mgscan: no/such/file.log: no such file", stderr, StringComparison.Ordinal);
        Assert.Contains("mgscan: no report: an input could not be read", stderr, StringComparison.Ordinal);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void Mgscan_NoLogLineAtAll_Exits3()
    {
        (int code, string stdout, _) = Run("Nov 23 02:14:07 vps sshd[1]: hello\n", "--list");
        Assert.Equal(3, code);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void Mgscan_OtherNetfilterLinesButNoEntry_Exits1()
    {
        (int code, string stdout, _) = Run("Nov 23 02:14:07 vps kernel: [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:8c:1e:47:fe:54:00:8c:1e:47:08:00 SRC=203.0.113.9 DST=192.0.2.10 LEN=40 TOS=0x00 PREC=0x00 TTL=50 ID=1 PROTO=TCP SPT=4000 DPT=22 WINDOW=1024 RES=0x00 SYN URGP=0 \n", "--list");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void Mgscan_AllOption_SelectsEveryNetfilterEntry()
    {
        (int code, string stdout, _) = Run(null, "--all", "--list", "samples/logs/kern.log");
        Assert.Equal(0, code);
        Assert.Equal(63, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Mgscan_Help_DescribesTheOptions()
    {
        (int code, string stdout, _) = Run(null, "--help");
        Assert.Equal(0, code);
        Assert.Contains("--prefix", stdout, StringComparison.Ordinal);
        Assert.Contains("--all", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Mgscan_JsonTop_LimitsEveryList_AndGivesItsLength()
    {
        // --top bounds every array of the report (300,000 UIDs made a 141 MB actors array before), and says how many there are.
        (int code, string stdout, _) = Run(null, "--format", "json", "--top", "1", "samples/logs/incident-webshell.log");
        Assert.Equal(0, code);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        System.Text.Json.JsonElement root = doc.RootElement;
        foreach (string array in new[] { "destinations", "ports", "uids", "sources", "actors" })
        {
            Assert.Equal(1, root.GetProperty(array).GetArrayLength());
        }

        (_, string all, _) = Run(null, "--format", "json", "--top", "100", "samples/logs/incident-webshell.log");
        using var full = System.Text.Json.JsonDocument.Parse(all);
        Assert.Equal(3, full.RootElement.GetProperty("actors").GetArrayLength()); // uid 33, 107 and 0
        Assert.Equal(3, root.GetProperty("actors_total").GetInt32());
        Assert.Equal(full.RootElement.GetProperty("actors")[0].GetRawText(), root.GetProperty("actors")[0].GetRawText());

        (_, string forged, _) = Run(null, "--format", "json", "--top", "1", "samples/logs/journal-forged.json");
        using var f = System.Text.Json.JsonDocument.Parse(forged);
        System.Text.Json.JsonElement verdict = f.RootElement.GetProperty("verdict");
        Assert.Equal(1, verdict.GetProperty("forged_total").GetInt32());
        Assert.Equal(1, verdict.GetProperty("forged").GetArrayLength());
        Assert.Equal(verdict.GetProperty("forged")[0].GetProperty("claimed_uids").GetArrayLength(), Math.Min(1, verdict.GetProperty("forged")[0].GetProperty("claimed_uids_total").GetInt32()));
    }

    [Fact]
    public void Mgscan_JsonFormat_FollowsTheDocumentedSchema()
    {
        (int code, string stdout, _) = Run(null, "--format", "json", "--top", "100", "samples/logs/kern.log");
        Assert.Equal(0, code);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("mailguard.report/1", root.GetProperty("schema").GetString());
        Assert.Equal(73, root.GetProperty("totals").GetProperty("lines").GetInt64());
        Assert.Equal(55, root.GetProperty("totals").GetProperty("entries").GetInt64());
        Assert.Equal(0, root.GetProperty("totals").GetProperty("malformed").GetInt64());
        foreach (string array in new[] { "destinations", "ports", "uids", "sources" })
        {
            long[] counts = root.GetProperty(array).EnumerateArray().Select(e => e.GetProperty("count").GetInt64()).ToArray();
            Assert.Equal(counts.OrderByDescending(c => c), counts);
            Assert.Equal(55, counts.Sum());
        }

        var ports = root.GetProperty("ports").EnumerateArray().ToDictionary(e => e.GetProperty("key").GetInt32(), e => e.GetProperty("count").GetInt64());
        Assert.Equal(new Dictionary<int, long> { [25] = 42, [587] = 9, [465] = 4 }, ports);
        var uids = root.GetProperty("uids").EnumerateArray().ToList();
        Assert.Equal(1001, uids[0].GetProperty("key").GetInt32());
        Assert.Equal(32, uids[0].GetProperty("count").GetInt64());
        Assert.Contains(uids, e => e.GetProperty("key").ValueKind == System.Text.Json.JsonValueKind.Null && e.GetProperty("count").GetInt64() == 4);
        Assert.Equal("198.51.100.25", root.GetProperty("destinations")[0].GetProperty("key").GetString());
        Assert.Equal(0, root.GetProperty("totals").GetProperty("excluded").GetInt64());
        Assert.Equal(0, root.GetProperty("totals").GetProperty("duplicates").GetInt64());

        // timeline: per-minute buckets (the sample spans two minutes), gap-free, summing to the entries.
        var timeline = root.GetProperty("timeline");
        Assert.Equal(60, timeline.GetProperty("bucket_seconds").GetInt64());
        Assert.Equal(0, timeline.GetProperty("without_time").GetInt64());
        var buckets = timeline.GetProperty("buckets").EnumerateArray().ToList();
        Assert.Equal(["2026-11-23T19:23:00+00:00", "2026-11-23T19:24:00+00:00"], buckets.Select(b => b.GetProperty("start").GetString()));
        Assert.Equal(55, buckets.Sum(b => b.GetProperty("count").GetInt64()));
    }

    [Fact]
    public void Mgscan_GzipRotatedFile_GivesTheSameTotalsAsThePlainText()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mgscan-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            byte[] data = File.ReadAllBytes(Path.Combine(Root, "samples/logs/kern.log"));
            using (var f = File.Create(Path.Combine(dir, "kern.log.2.gz")))
            using (var z = new System.IO.Compression.GZipStream(f, System.IO.Compression.CompressionLevel.Fastest))
            {
                z.Write(data);
            }

            (int code, string fromGz, _) = Run(null, "--format", "json", Path.Combine(dir, "kern.log.2.gz"));
            (_, string fromPlain, _) = Run(null, "--format", "json", "samples/logs/kern.log");
            Assert.Equal(0, code);
            Assert.Equal(fromPlain, fromGz);

            File.WriteAllBytes(Path.Combine(dir, "cut.gz"), File.ReadAllBytes(Path.Combine(dir, "kern.log.2.gz"))[..600]);
            (int cutCode, _, string err) = Run(null, "--format", "json", Path.Combine(dir, "cut.gz"));
            Assert.Equal(2, cutCode);
            Assert.Contains("cut.gz", err, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
