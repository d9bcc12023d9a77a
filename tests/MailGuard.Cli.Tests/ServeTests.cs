using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace MailGuard.Cli.Tests;

/// <summary>
/// <c>mgscan serve</c>: /metrics while a followed log grows, scraped by HttpClient and by a real Prometheus; the alerting
/// rules (promtool) and the systemd unit of deploy/. Loopback only; every process is stopped and every file removed.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class ServeTests
{
    /// <summary>How long a test waits for a figure to show (they show within seconds).</summary>
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    /// <summary>uid 33's series for port 25: the web shell's spam in samples/logs/incident-webshell.log.</summary>
    private const string Uid33 = "actor_kind=\"uid\",actor=\"33\",user=\"www-data\",port=\"25\"";
    private const string Rules = "deploy/prometheus/mailguard.rules.yml";
    private const string Unit = "deploy/systemd/mgscan-exporter.service";

    /// <summary>The sample's lines cut in two (the first 3,000, the rest), as they are appended to the followed log.</summary>
    private static (byte[] First, byte[] Second) Halves()
    {
        byte[] all = File.ReadAllBytes(Path.Combine(MgscanTests.Root, "samples/logs/incident-webshell.log"));
        int cut = 0;
        for (int n = 0; n < 3000; n++)
        {
            cut = Array.IndexOf(all, (byte)'\n', cut) + 1;
        }

        return (all[..cut], all[cut..]);
    }

    /// <summary>The two halves to append, each with uid 33's attempts to port 25 once it is appended (from <c>mgscan --format json</c>).</summary>
    private static (byte[] Lines, long Expected)[] Stages(TempDir dir)
    {
        (byte[] first, byte[] second) = Halves();
        return [(first, JsonAttempts(dir, "first.log", first)), (second, JsonAttempts(dir, "all.log", [.. first, .. second]))];
    }

    /// <summary>uid 33's attempts to port 25 in <c>mgscan --format json</c> of <paramref name="bytes"/>.</summary>
    private static long JsonAttempts(TempDir dir, string name, byte[] bytes)
    {
        (int code, string json, string err) = MgscanTests.Run(null, "--format", "json", "--passwd", "samples/logs/passwd", dir.Write(name, bytes));
        Assert.True(code == 0, err);
        JsonElement actor = JsonDocument.Parse(json).RootElement.GetProperty("actors").EnumerateArray().Single(a => a.GetProperty("key").ToString() == "33");
        return actor.GetProperty("ports").GetProperty("25").GetProperty("attempts").GetInt64();
    }

    /// <summary>Runs a tool to its end with <paramref name="stdin"/>: its exit code and what it printed.</summary>
    private static (int Code, string Output) Tool(string file, byte[] stdin, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = MgscanTests.Root };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.BaseStream.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args)}: not finished within 60 s");
        }

        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>The value of the series whose labels contain <paramref name="labels"/>, or null.</summary>
    private static double? Value(string metrics, string name, string labels) =>
        metrics.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(labels, StringComparison.Ordinal))
            .Select(l => (double?)double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).FirstOrDefault();

    /// <summary><c>mgscan serve</c> on a free port reading a sample (samples/logs/<paramref name="sample"/>) from standard input.</summary>
    private static (int Port, Running Mgscan) ServeStandardInput(string sample, string options = "")
    {
        int port = FreePort();
        return (port, new("sh", ["-c", $"exec dotnet '{Path.Combine(AppContext.BaseDirectory, "mgscan.dll")}' serve --listen 127.0.0.1:{port} {options} < samples/logs/{sample}"]));
    }

    /// <summary>Asks <paramref name="probe"/> every 250 ms until it gives true, for at most <see cref="s_wait"/>; fails with what it last said.</summary>
    private static async Task Until(string what, Func<Task<(bool Done, string Seen)>> probe)
    {
        var clock = Stopwatch.StartNew();
        string seen = "";
        while (clock.Elapsed < s_wait)
        {
            try
            {
                (bool done, seen) = await probe();
                if (done)
                {
                    return;
                }
            }
            catch (HttpRequestException e)
            {
                seen = e.Message;
            }

            await Task.Delay(250, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"{what}: not within {s_wait.TotalSeconds} s; last seen: {seen}");
    }

    /// <summary>A process started by a test: its output collected, stopped by SIGTERM or killed on dispose.</summary>
    private sealed class Running : IDisposable
    {
        private readonly Process _p;
        private readonly StringBuilder _out = new();

        public Running(string file, IEnumerable<string> args)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = MgscanTests.Root };
            psi.Environment["TZ"] = "UTC";
            foreach (string a in args)
            {
                psi.ArgumentList.Add(a);
            }

            _p = Process.Start(psi)!;
            _p.OutputDataReceived += (_, e) => Append(e.Data);
            _p.ErrorDataReceived += (_, e) => Append(e.Data);
            _p.BeginOutputReadLine();
            _p.BeginErrorReadLine();
        }

        public static Running Mgscan(params string[] args) => new("dotnet", [Path.Combine(AppContext.BaseDirectory, "mgscan.dll"), .. args]);

        public string Output
        {
            get
            {
                lock (_out)
                {
                    return _out.ToString();
                }
            }
        }

        public bool HasExited => _p.HasExited;

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_out)
                {
                    _out.Append(line).Append('\n');
                }
            }
        }

        /// <summary>SIGTERM, then the exit code (null: still running after 20 s).</summary>
        public int? Terminate()
        {
            using (Process kill = Process.Start("kill", ["-TERM", _p.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
            }

            if (!_p.WaitForExit(20_000))
            {
                return null;
            }

            _p.WaitForExit(); // the output read to its end
            return _p.ExitCode;
        }

        public void Dispose()
        {
            if (!_p.HasExited)
            {
                _p.Kill(entireProcessTree: true);
                _p.WaitForExit();
            }

            _p.Dispose();
        }
    }

    [Fact]
    public async Task Serve_FollowedLog_MetricsFollowTheAppendedLines_404Elsewhere_SigtermExits0()
    {
        using var dir = new TempDir();
        (byte[] Lines, long Expected)[] stages = Stages(dir);
        string log = dir.Write("kern.log", []);
        int port = FreePort();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string url = $"http://127.0.0.1:{port}";
        using Running mgscan = Running.Mgscan("serve", "--listen", $"127.0.0.1:{port}", "--passwd", "samples/logs/passwd", "--follow", log);

        await Until("GET / answers", async () => (!mgscan.HasExited && (await http.GetAsync(url + "/", TestContext.Current.CancellationToken)).IsSuccessStatusCode, mgscan.Output));
        Assert.Equal("mgscan serve: the metrics are at /metrics\n", await http.GetStringAsync(url + "/", TestContext.Current.CancellationToken));
        foreach ((byte[] lines, long expected) in stages)
        {
            await File.AppendAllBytesAsync(log, lines, TestContext.Current.CancellationToken);
            await Until($"uid 33's attempts reach {expected}", async () =>
            {
                using HttpResponseMessage r = await http.GetAsync(url + "/metrics", TestContext.Current.CancellationToken);
                string text = await r.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
                return (r.StatusCode == HttpStatusCode.OK && Value(text, "mailguard_connection_attempts_total", Uid33) == expected, $"{(int)r.StatusCode} {Value(text, "mailguard_connection_attempts_total", Uid33)}");
            });
        }

        using (HttpResponseMessage metrics = await http.GetAsync(url + "/metrics", TestContext.Current.CancellationToken))
        {
            Assert.Equal("text/plain; version=0.0.4; charset=utf-8", metrics.Content.Headers.ContentType!.ToString());
            string text = await metrics.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.Equal(1, Value(text, "mailguard_verdict", "class=\"direct-to-mx\""));
            if (File.Exists("/usr/bin/promtool"))
            {
                (int code, string said) = Tool("/usr/bin/promtool", Encoding.UTF8.GetBytes(text), "check", "metrics");
                Assert.True(code == 0, said);
            }
        }

        using (HttpResponseMessage missing = await http.GetAsync(url + "/nothing-here", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        Assert.Equal(0, mgscan.Terminate());
        Assert.Equal("", mgscan.Output);
    }

    [Fact]
    public async Task Serve_ScrapedByARealPrometheus_GivesTheUidsAttempts_AndTheAlertsFire()
    {
        const string prometheus = "/usr/bin/prometheus";
        if (!File.Exists(prometheus))
        {
            Assert.Skip("prometheus is missing (apt-get install prometheus; .ci/run installs it): no real scrape");
        }

        using var dir = new TempDir();
        (byte[] Lines, long Expected)[] stages = Stages(dir);
        string log = dir.Write("kern.log", []);
        int port = FreePort();
        int promPort = FreePort();
        string config = dir.Write("prometheus.yml", Encoding.UTF8.GetBytes($"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - {Path.Combine(MgscanTests.Root, Rules)}
            scrape_configs:
              - job_name: mgscan
                static_configs:
                  - targets: ['127.0.0.1:{port}']

            """));
        using Running mgscan = Running.Mgscan("serve", "--listen", $"127.0.0.1:{port}", "--passwd", "samples/logs/passwd", "--follow", log);
        using Running server = new(prometheus, [
            "--config.file=" + config, "--storage.tsdb.path=" + Path.Combine(dir.Path, "tsdb"), "--web.listen-address=127.0.0.1:" + promPort.ToString(CultureInfo.InvariantCulture),
        ]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string api = $"http://127.0.0.1:{promPort}/api/v1/";
        async Task<JsonElement> Get(string path)
        {
            string json = await http.GetStringAsync(api + path, TestContext.Current.CancellationToken);
            return JsonDocument.Parse(json).RootElement.GetProperty("data").Clone();
        }

        string query = "query?query=" + Uri.EscapeDataString("mailguard_connection_attempts_total{job=\"mgscan\",actor_kind=\"uid\",actor=\"33\",port=\"25\"}");
        foreach ((byte[] lines, long expected) in stages)
        {
            await File.AppendAllBytesAsync(log, lines, TestContext.Current.CancellationToken);
            await Until($"Prometheus has uid 33's attempts at {expected}", async () =>
            {
                JsonElement result = (await Get(query)).GetProperty("result");
                string? value = result.GetArrayLength() == 1 ? result[0].GetProperty("value")[1].GetString() : null;
                return (value == expected.ToString(CultureInfo.InvariantCulture), $"{result}; {server.Output[^Math.Min(400, server.Output.Length)..]}");
            });
        }

        // MailGuardVerdict fires at once; MailGuardSpamSender (for: 1m) is pending or firing for uid 33: its increase over
        // 10 minutes is the second half's attempts (extrapolated), far over 100, to far over 20 destinations.
        await Until("the alerts for uid 33 and the verdict", async () =>
        {
            JsonElement alerts = (await Get("alerts")).GetProperty("alerts");
            bool verdict = alerts.EnumerateArray().Any(a => a.GetProperty("labels").GetProperty("alertname").GetString() == "MailGuardVerdict"
                && a.GetProperty("labels").GetProperty("class").GetString() == "direct-to-mx" && a.GetProperty("state").GetString() == "firing");
            bool sender = alerts.EnumerateArray().Any(a => a.GetProperty("labels").GetProperty("alertname").GetString() == "MailGuardSpamSender"
                && a.GetProperty("labels").GetProperty("actor").GetString() == "33" && a.GetProperty("state").GetString() is "pending" or "firing");
            return (verdict && sender, alerts.ToString());
        });

        Assert.Equal(0, mgscan.Terminate());
        Assert.Equal("", mgscan.Output);
    }

    [Fact]
    public void Rules_PassPromtoolCheckRules_AndTheirUnitTests()
    {
        const string promtool = "/usr/bin/promtool";
        if (!File.Exists(promtool))
        {
            Assert.Skip("promtool is missing (apt-get install prometheus; .ci/run installs it)");
        }

        (int code, string said) = Tool(promtool, [], "check", "rules", Rules);
        Assert.True(code == 0, said);
        Assert.Contains("SUCCESS: 2 rules found", said, StringComparison.Ordinal);
        (code, said) = Tool(promtool, [], "test", "rules", "deploy/prometheus/mailguard.rules.test.yml");
        Assert.True(code == 0, said);
        Assert.Contains("SUCCESS", said, StringComparison.Ordinal);
    }

    [Fact]
    public void SystemdUnit_IsHardened_AndPassesSystemdAnalyzeVerify()
    {
        string text = File.ReadAllText(Path.Combine(MgscanTests.Root, Unit));
        string[] lines = [.. text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))];
        Assert.All(lines, l => Assert.True(l.StartsWith('[') && l.EndsWith(']') || l.Contains('=', StringComparison.Ordinal), $"not a section or a setting: {l}"));
        foreach (string setting in new[]
        {
            "ExecStart=/usr/local/bin/mgscan serve --listen 127.0.0.1:9329 --follow /var/log/kern.log", "DynamicUser=yes", "SupplementaryGroups=adm systemd-journal",
            "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes", "ReadOnlyPaths=/var/log",
            "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "CapabilityBoundingSet=",
        })
        {
            Assert.Contains(setting, lines);
        }

        string? analyze = new[] { "/usr/bin/systemd-analyze", "/bin/systemd-analyze" }.FirstOrDefault(File.Exists);
        if (analyze is null)
        {
            Assert.Skip("systemd-analyze is missing: the unit was only parsed, not verified");
        }

        // verify wants ExecStart's binary to exist: point it at this build's mgscan (or true) in a copy.
        using var dir = new TempDir();
        string binary = new[] { Path.Combine(AppContext.BaseDirectory, "mgscan"), "/bin/true" }.First(File.Exists);
        string copy = dir.Write("mgscan-exporter.service", Encoding.UTF8.GetBytes(text.Replace("/usr/local/bin/mgscan", binary, StringComparison.Ordinal)));
        (int code, string said) = Tool(analyze, [], "verify", copy);
        Assert.True(code == 0, said);
    }

    [Theory]
    [InlineData("1.2.3:4")]
    [InlineData("::1:9329")]
    [InlineData("[::1]:0")]
    [InlineData("localhost:99999")]
    [InlineData("[127.0.0.1]:9329")]
    [InlineData("example.org:9329")]
    public void Serve_BadListenAddress_SaysSoInOneLine_Exit2(string listen)
    {
        (int code, string stdout, string stderr) = MgscanTests.Run(null, "serve", "--listen", listen, "samples/logs/kern.log");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"mgscan: --listen: '{listen}' is not HOST:PORT with an IP address and a port from 1 to 65535: 127.0.0.1:9329, [::1]:9329, localhost:9329\n", stderr);
    }

    [Fact]
    public void Serve_PortInUse_SaysSoInOneLine_Exit2()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        (int code, string stdout, string stderr) = MgscanTests.Run(null, "serve", "--listen", $"127.0.0.1:{port}", "samples/logs/kern.log");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"mgscan: --listen 127.0.0.1:{port}: the address is in use (another mgscan serve or exporter on this port?)\n", stderr);
    }

    [Fact]
    public async Task Serve_StandardInput_OversizedOrSilentRequests_AreBounded_ThenMetricsStillServed()
    {
        (int port, Running started) = ServeStandardInput("incident-webshell.log", "--passwd samples/logs/passwd");
        using Running mgscan = started;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string url = $"http://127.0.0.1:{port}/metrics";
        await Until("the whole of standard input served", async () =>
        {
            using HttpResponseMessage r = await http.GetAsync(url, TestContext.Current.CancellationToken);
            string text = await r.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            return (Value(text, "mailguard_connection_attempts_total", Uid33) == 1656, mgscan.Output);
        });

        // A request head over 8 KiB: 431, and the connection closed.
        using (var big = new TcpClient())
        {
            await big.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
            NetworkStream stream = big.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /metrics HTTP/1.1\r\nX: " + new string('a', 9000)), TestContext.Current.CancellationToken);
            string answer = await new StreamReader(stream).ReadToEndAsync(TestContext.Current.CancellationToken);
            Assert.StartsWith("HTTP/1.1 431 ", answer, StringComparison.Ordinal);
        }

        // A client that sends nothing is dropped after the read timeout (5 s), without an answer.
        using (var silent = new TcpClient())
        {
            await silent.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
            var clock = Stopwatch.StartNew();
            string answer = await new StreamReader(silent.GetStream()).ReadToEndAsync(TestContext.Current.CancellationToken);
            Assert.Equal("", answer);
            Assert.InRange(clock.Elapsed.TotalSeconds, 4, 30);
        }

        using (HttpResponseMessage post = await http.PostAsync(url, new StringContent(""), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        }

        Assert.Equal(1656, Value(await http.GetStringAsync(url, TestContext.Current.CancellationToken), "mailguard_connection_attempts_total", Uid33));
        Assert.Equal(0, mgscan.Terminate());
        Assert.Equal("", mgscan.Output);
    }

    /// <summary>
    /// serve over a long stream stays within the bound of the live issue: 3,000,000 entries of loggen's flood (1,000,000
    /// destinations, 100,000 sources, 1,000 UIDs, uid 4242 planted at 1 %) through a pipe into <c>mgscan serve</c>, scraped
    /// every second while it reads; its peak resident set (VmHWM) stays under 300 MB, and the planted UID is served.
    /// </summary>
    [Fact]
    public async Task Serve_AFloodOfDistinctKeysOnStandardInput_StaysWithinTheMemoryBound()
    {
        using var dir = new TempDir();
        int port = FreePort();
        string config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        string loggen = Path.Combine(MgscanTests.Root, "benchmarks", "MailGuard.LogGen", "bin", config, "net10.0", "loggen.dll");
        string pid = Path.Combine(dir.Path, "pid"), planted = Path.Combine(dir.Path, "planted");
        using var mgscan = new Running("sh", ["-c",
            $"dotnet '{loggen}' flood --out - --entries 3000000 --destinations 1000000 --sources 100000 --uids 1000 --heavy 1 2>'{planted}' "
            + $"| dotnet '{Path.Combine(AppContext.BaseDirectory, "mgscan.dll")}' serve --listen 127.0.0.1:{port} & echo $! > '{pid}'; wait"]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string url = $"http://127.0.0.1:{port}/metrics";
        var clock = Stopwatch.StartNew();
        string metrics = "";
        while (clock.Elapsed < TimeSpan.FromMinutes(5) && !(File.Exists(planted) && new FileInfo(planted).Length > 0 && metrics.Contains("actor=\"4242\"", StringComparison.Ordinal)))
        {
            try
            {
                metrics = await http.GetStringAsync(url, TestContext.Current.CancellationToken);
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(1000, TestContext.Current.CancellationToken);
        }

        await Task.Delay(3000, TestContext.Current.CancellationToken); // the last snapshot, after the input's end
        metrics = await http.GetStringAsync(url, TestContext.Current.CancellationToken);
        string status = File.ReadAllText($"/proc/{File.ReadAllText(pid).Trim()}/status");
        long peakKiB = long.Parse(status.Split('\n').Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        Assert.Contains("actor=\"4242\"", metrics, StringComparison.Ordinal);
        Assert.Contains("mailguard_estimated 1", metrics, StringComparison.Ordinal); // past the key budget: the bounded summaries
        Assert.InRange(peakKiB, 1, 300 * 1024);
    }

    /// <summary>A central log on standard input (three hosts, samples/logs/central-mixed.log): each host's series from the snapshots.</summary>
    [Fact]
    public async Task Serve_CentralLogOnStandardInput_ServesEachHostsSeries()
    {
        (int port, Running started) = ServeStandardInput("central-mixed.log");
        using Running mgscan = started;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string metrics = "";
        await Until("the central log served", async () =>
        {
            metrics = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics", TestContext.Current.CancellationToken);
            return (Value(metrics, "mailguard_connection_attempts_total", "host=\"db-02\",actor_kind=\"uid\",actor=\"107\"") == 243, mgscan.Output);
        });

        // The figures of HostsTests (counted by samples/capture/central.py --count).
        Assert.Equal(1656, Value(metrics, "mailguard_connection_attempts_total", "host=\"web-17\",actor_kind=\"uid\",actor=\"33\""));
        Assert.Equal(57, Value(metrics, "mailguard_connection_attempts_total", "host=\"web-17\",actor_kind=\"uid\",actor=\"107\""));
        Assert.Equal(1, Value(metrics, "mailguard_verdict", "host=\"web-17\",class=\"direct-to-mx\""));
        Assert.Equal(1, Value(metrics, "mailguard_verdict", "host=\"vpn-03\",class=\"proxy-relay\""));
        Assert.Equal(1, Value(metrics, "mailguard_verdict", "host=\"db-02\",class=\"nothing-suspicious\""));
        Assert.Equal(0, mgscan.Terminate());
    }
}
