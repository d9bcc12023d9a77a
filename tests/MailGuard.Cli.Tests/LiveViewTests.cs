using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace MailGuard.Cli.Tests;

/// <summary>
/// The live view in a real terminal: tmux runs <c>mgscan &lt; fifo</c> in a 120 × 40 pane while the test writes the incident
/// sample into the FIFO a few lines at a time and never closes it unless the test is about the end of input. The screen is
/// read with capture-pane; tmux itself says whether the pane is left in the alternate screen or with a hidden cursor;
/// <c>stty -g</c> before and after; the raw bytes mgscan wrote (pipe-pane) show the escapes. Every wait is bounded and
/// the tmux server (with the pane's processes) is killed at the end.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class LiveViewTests
{
    private static readonly byte[][] IncidentLines = [.. File.ReadAllLines(Path.Combine(MgscanTests.Root, "samples/logs/incident-webshell.log"), Encoding.Latin1)
        .Select(l => Encoding.Latin1.GetBytes(l + "\n"))];

    [Fact]
    public async Task Mgscan_LiveView_UpdatesWhileTheStreamRuns_ThenReportsAtItsEnd()
    {
        await using var t = await LiveTerminal.StartAsync("--passwd", "passwd");
        string first = await t.WaitForScreenAsync(s => s.Contains("VERDICT so far: Direct-to-MX spam from uid 33 (ev\\x1b[2Jil[red]x[/])", StringComparison.Ordinal));
        Assert.Equal("1", t.Format("#{alternate_on}")); // the live view is in the alternate screen
        Assert.Matches(@"^ mgscan live: standard input, \d+:\d\d +Ctrl\+C: stop and print the report", first);
        Assert.Matches(@"\n  uid 33 \(ev\\x1b\[2Jil\[red\]x\[/\]\) +[\d,]+ +\d+% ", first);
        Assert.Contains("Attempts per minute", first, StringComparison.Ordinal);
        Assert.Contains("top destinations", first, StringComparison.Ordinal);
        long linesBefore = LinesRead(first);

        // Updating: the count of lines read grows on screen while the test writes.
        string later = await t.WaitForScreenAsync(s => s.Contains(" lines ", StringComparison.Ordinal) && LinesRead(s) > linesBefore);
        Assert.True(LinesRead(later) > linesBefore);
        Assert.All(later.Split('\n'), l => Assert.True(l.Length <= 120));

        await t.EndInputAsync();
        string final = await t.WaitForExitAsync();
        Assert.StartsWith("VERDICT: Direct-to-MX spam from uid 33", final.TrimStart('\n'), StringComparison.Ordinal);
        Assert.Contains("Who sends mail traffic", final, StringComparison.Ordinal);
        Assert.Contains(" in 6,356 lines (", final, StringComparison.Ordinal); // every line of the sample
        t.AssertRestored();
    }

    [Theory]
    [InlineData("SIGINT")]
    [InlineData("SIGTERM")]
    public async Task Mgscan_LiveView_OnSignal_RestoresTheTerminal_AndReports(string signal)
    {
        await using var t = await LiveTerminal.StartAsync("--passwd", "passwd");
        await t.WaitForScreenAsync(s => s.Contains("VERDICT so far: Direct-to-MX", StringComparison.Ordinal));
        if (signal == "SIGINT")
        {
            t.Tmux("send-keys", "-t", "live", "C-c"); // Ctrl+C typed in the terminal: SIGINT to its foreground process group
        }
        else
        {
            using Process kill = Process.Start("kill", ["-TERM", t.MgscanPid().ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        string final = await t.WaitForExitAsync();
        Assert.StartsWith("VERDICT: Direct-to-MX spam from uid 33", final.TrimStart('\n'), StringComparison.Ordinal);
        Assert.Contains("Who sends mail traffic", final, StringComparison.Ordinal);
        t.AssertRestored();
    }

    [Theory]
    [InlineData("--no-live")]
    [InlineData("--list")]
    [InlineData("--format", "csv")]
    public async Task Mgscan_NoLiveListOrCsv_AtATerminal_HasNoLiveView(params string[] option)
    {
        await using var t = await LiveTerminal.StartAsync(["--passwd", "passwd", .. option]);
        await Task.Delay(1500, TestContext.Current.CancellationToken);
        Assert.Equal("0", t.Format("#{alternate_on}"));
        await t.EndInputAsync();
        string final = await t.WaitForExitAsync();
        Assert.Contains(option[0] == "--no-live" ? "VERDICT: Direct-to-MX spam from uid 33" : option[0] == "--list" ? "uid=33(ev\\x1b[2Jil[red]x[/])" : "section,key,count", final, StringComparison.Ordinal);
        Assert.DoesNotContain("\e[?1049h", t.Raw(), StringComparison.Ordinal);
    }

    private static long LinesRead(string screen)
    {
        int at = screen.IndexOf(" lines ", StringComparison.Ordinal) + 7;
        int end = screen.IndexOf(' ', at);
        return at < 7 || end < 0 ? -1 : long.Parse(screen[at..end], NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
    }

    /// <summary>A tmux server of its own (its socket in a temporary folder) with one pane running mgscan on a FIFO the test writes.</summary>
    private sealed class LiveTerminal : IAsyncDisposable
    {
        private readonly TempDir _dir = new();
        private readonly CancellationTokenSource _stopFeeding = new();
        private string _socket = "";
        private readonly TaskCompletionSource _written = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Task _feeder = Task.CompletedTask;

        private string File(string name) => Path.Combine(_dir.Path, name);

        public static async Task<LiveTerminal> StartAsync(params string[] args)
        {
            if (!System.IO.File.Exists("/usr/bin/tmux"))
            {
                Assert.Skip("tmux is not installed (Debian package: tmux)");
            }

            var t = new LiveTerminal();
            t._socket = t.File("tmux.sock");
            System.IO.File.WriteAllText(t.File("passwd"), "root:x:0:0:root:/root:/bin/bash\nev\u001b[2Jil[red]x[/]:x:33:33:www-data:/var/www:/usr/sbin/nologin\npostfix:x:107:113::/var/spool/postfix:/usr/sbin/nologin\n");
            using (Process mkfifo = Process.Start("mkfifo", [t.File("fifo")]))
            {
                await mkfifo.WaitForExitAsync(TestContext.Current.CancellationToken);
            }

            // The pane: wait for the test to start recording, note the terminal's settings, run mgscan in the foreground on
            // the FIFO, note its exit code and the settings again, and stay (the test reads the screen after).
            string mgscan = "dotnet " + Quote(Path.Combine(AppContext.BaseDirectory, "mgscan.dll")) + " " + string.Join(' ', args.Select(Quote));
            string script = $"cd {Quote(t._dir.Path)}; while [ ! -e go ]; do sleep 0.05; done; stty -g > before; TZ=UTC {mgscan} < fifo; echo $? > rc; stty -g > after; exec sleep 600";
            t.Tmux("-f", "/dev/null", "new-session", "-d", "-s", "live", "-x", "120", "-y", "40", "bash", "-c", script);
            t.Tmux("set-option", "-t", "live", "history-limit", "5000");
            t.Tmux("pipe-pane", "-t", "live", "-o", "cat > " + Quote(t.File("raw")));
            await System.IO.File.WriteAllTextAsync(t.File("go"), "", TestContext.Current.CancellationToken);
            t._feeder = Task.Run(() => t.FeedAsync(t._stopFeeding.Token));
            return t;
        }

        /// <summary>Writes the sample into the FIFO, 50 lines every 50 ms (about 6 s in all), then keeps it open and silent until told to stop.</summary>
        private async Task FeedAsync(CancellationToken ct)
        {
            try
            {
                await using var fifo = new FileStream(File("fifo"), FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1); // waits for mgscan to open it
                for (int i = 0; i < IncidentLines.Length; i++)
                {
                    await fifo.WriteAsync(IncidentLines[i], ct);
                    if (i % 50 == 49)
                    {
                        await fifo.FlushAsync(ct);
                        await Task.Delay(50, ct);
                    }
                }

                await fifo.FlushAsync(ct);
                _written.SetResult();
                await Task.Delay(Timeout.Infinite, ct); // a stream that never ends
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // told to stop, or mgscan is gone (a closed pipe)
            }
        }

        /// <summary>Closes the FIFO once the whole sample is written: the end of the input.</summary>
        public async Task EndInputAsync()
        {
            await _written.Task.WaitAsync(TimeSpan.FromSeconds(45), TestContext.Current.CancellationToken);
            await _stopFeeding.CancelAsync();
            await _feeder.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }

        /// <summary>The pane's screen as it shows now.</summary>
        public string Screen() => Tmux("capture-pane", "-p", "-t", "live");

        public async Task<string> WaitForScreenAsync(Func<string, bool> shows)
        {
            string screen = "";
            for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(45); await Task.Delay(200, TestContext.Current.CancellationToken))
            {
                if (shows(screen = Screen()))
                {
                    return screen;
                }
            }

            Assert.Fail("the screen did not show what was expected within 45 s; it shows:\n" + screen);
            return screen;
        }

        /// <summary>Waits for mgscan to exit; returns all the pane shows, its history included (the final report).</summary>
        public async Task<string> WaitForExitAsync()
        {
            for (var clock = Stopwatch.StartNew(); !System.IO.File.Exists(File("after")); await Task.Delay(100, TestContext.Current.CancellationToken))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), "mgscan did not exit within 45 s; the screen:\n" + Screen());
            }

            Assert.Equal("0", System.IO.File.ReadAllText(File("rc")).Trim());
            await _stopFeeding.CancelAsync();
            return Tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "live");
        }

        /// <summary>The terminal is as mgscan found it: normal screen, cursor shown, the same stty settings, and the raw output agrees.</summary>
        public void AssertRestored()
        {
            Assert.Equal("0", Format("#{alternate_on}"));
            Assert.Equal("1", Format("#{cursor_flag}"));
            Assert.Equal(System.IO.File.ReadAllText(File("before")), System.IO.File.ReadAllText(File("after")));
            string raw = Raw();
            int entered = raw.IndexOf("\e[?1049h", StringComparison.Ordinal);
            int left = raw.LastIndexOf("\e[?1049l", StringComparison.Ordinal);
            Assert.True(entered >= 0 && left > entered, "the alternate screen was not entered and left");
            Assert.True(raw.LastIndexOf("\e[?25h", StringComparison.Ordinal) > raw.LastIndexOf("\e[?25l", StringComparison.Ordinal), "the cursor was left hidden");
        }

        /// <summary>What mgscan wrote to the terminal, as tmux received it.</summary>
        public string Raw() => System.IO.File.Exists(File("raw")) ? System.IO.File.ReadAllText(File("raw"), Encoding.UTF8) : "";

        public string Format(string format) => Tmux("display-message", "-p", "-t", "live", format).Trim();

        /// <summary>The process id of mgscan: the pane's shell's child.</summary>
        public int MgscanPid()
        {
            int shell = int.Parse(Format("#{pane_pid}"), CultureInfo.InvariantCulture);
            foreach (string dir in Directory.EnumerateDirectories("/proc"))
            {
                try
                {
                    string stat = System.IO.File.ReadAllText(Path.Combine(dir, "stat"));
                    string[] after = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    if (int.Parse(after[1], CultureInfo.InvariantCulture) == shell && stat.Contains("(dotnet)", StringComparison.Ordinal))
                    {
                        return int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture);
                    }
                }
                catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
                {
                    // not a process, or gone
                }
            }

            Assert.Fail("mgscan's process was not found");
            return 0;
        }

        public string Tmux(params string[] args)
        {
            var psi = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-S");
            psi.ArgumentList.Add(_socket);
            foreach (string a in args)
            {
                psi.ArgumentList.Add(a);
            }

            using Process p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            string error = p.StandardError.ReadToEnd();
            Assert.True(p.WaitForExit(10_000), "tmux did not answer within 10 s");
            Assert.True(p.ExitCode == 0, $"tmux {string.Join(' ', args)}: {error}");
            return output.TrimEnd('\n');
        }

        private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

        public async ValueTask DisposeAsync()
        {
            await _stopFeeding.CancelAsync();
            try
            {
                Tmux("kill-server"); // ends the pane's processes (SIGHUP)
            }
            catch (Exception e) when (e is Xunit.Sdk.XunitException or System.ComponentModel.Win32Exception)
            {
                // already gone
            }

            if (!_feeder.IsCompleted && System.IO.File.Exists(File("fifo")))
            {
                // A feeder still waiting to open the FIFO (mgscan never opened it) is let through: a reader opens it, then leaves.
                using (new FileStream(File("fifo"), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1))
                {
                }
            }

            await _feeder.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
            _stopFeeding.Dispose();
            _dir.Dispose();
        }
    }
}
