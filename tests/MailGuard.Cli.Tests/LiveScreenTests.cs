using System.Text.RegularExpressions;
using MailGuard.Parsing;
using Spectre.Console;

namespace MailGuard.Cli.Tests;

/// <summary>The live view's screen, drawn from a snapshot of the incident sample: what it shows and that it fits any terminal.</summary>
public class LiveScreenTests
{
    private static readonly string Incident = Path.Combine(MgscanTests.Root, "samples/logs/incident-webshell.log");

    private static async Task<LiveFrame> FrameAsync(IReadOnlyDictionary<uint, string> names, string? log = null)
    {
        var options = new MailScanOptions { TimeZone = TimeZoneInfo.Utc, ReferenceTime = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero) };
        MailScanReport report = await MailScan.StreamAsync(File.OpenRead(log ?? Incident), options, TestContext.Current.CancellationToken);
        SpamVerdict verdict = report.Verdict(new VerdictOptions { UserNames = names });
        return new LiveFrame(report, verdict, "standard input", TimeSpan.FromSeconds(75), new DateTimeOffset(2026, 11, 23, 3, 49, 0, TimeSpan.Zero));
    }

    private static IReadOnlyDictionary<uint, string> Names() => UserNames.Parse(File.ReadAllText(Path.Combine(MgscanTests.Root, "samples/logs/passwd")));

    [Fact]
    public async Task Text_IncidentAt120x40_ShowsEveryPart()
    {
        string screen = string.Join('\n', LiveScreen.Text(await FrameAsync(Names()), 120, 40));
        Assert.Contains("mgscan live: standard input, 1:15", screen, StringComparison.Ordinal);
        Assert.Contains("Ctrl+C: stop and print the report", screen, StringComparison.Ordinal);
        Assert.Matches(@"lines 6,356  entries \d[\d,]* +not counted \d[\d,]* +last entry 2026-11-23 \d\d:\d\d:\d\d \(\d+ s ago\)", screen);
        Assert.Contains("VERDICT so far: Direct-to-MX spam from uid 33 (www-data), high confidence", screen, StringComparison.Ordinal);
        Assert.Matches(@"Attempts per minute  last 112 min, peak 56 at \d\d:\d\d", screen);
        Assert.Matches(@"\n +56 [ ▁▂▃▄▅▆▇█]{112}\n", screen);
        Assert.Matches(@"uid 33 \(www-data\) +1,656 +97% +1,553 +1,656 +0 +0 +56\n", screen);
        Assert.Matches(@"top destinations +entries +share last", screen);
    }

    [Fact]
    public async Task Text_NothingSuspiciousSoFar_SaysHowLittleItRestsOn_NoAllClear()
    {
        LiveFrame frame = await FrameAsync(Names(), Path.Combine(MgscanTests.Root, "samples/logs/incident-clean.log"));
        Assert.Equal(VerdictClass.NothingSuspicious, frame.Verdict!.Class);
        string screen = string.Join('\n', LiveScreen.Text(frame, 120, 40));
        Assert.Matches(@"VERDICT so far: nothing suspicious yet in the \d[\d,]* entries read \(the stream goes on\)", screen);
        Assert.DoesNotContain("VERDICT so far: Nothing suspicious", screen, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(80, 24)]
    [InlineData(120, 40)]
    [InlineData(200, 60)]
    [InlineData(60, 15)]
    [InlineData(40, 10)]
    [InlineData(20, 4)]
    public async Task Text_AnySize_FitsTheTerminal(int width, int height)
    {
        IReadOnlyList<string> lines = LiveScreen.Text(await FrameAsync(Names()), width, height);
        Assert.InRange(lines.Count, 1, height);
        Assert.All(lines, l => Assert.True(l.Length <= width, $"{l.Length} > {width}: {l}"));
        if (height >= 10)
        {
            Assert.Contains(lines, l => l.StartsWith("VERDICT so far: Direct-to-MX", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.TrimStart().StartsWith("uid 33 (www-data)", StringComparison.Ordinal));
        }

        if (height >= 24)
        {
            Assert.Contains(lines, l => l.StartsWith("Attempts per minute", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains("top destinations", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Text_BeforeTheFirstSnapshot_SaysItWaits()
    {
        IReadOnlyList<string> lines = LiveScreen.Text(new LiveFrame(null, null, "kern.log (followed)", TimeSpan.Zero, DateTimeOffset.Now), 80, 24);
        Assert.StartsWith(" mgscan live: kern.log (followed), 0:00", lines[0], StringComparison.Ordinal);
        Assert.Contains("waiting for the first lines…", lines);
    }

    /// <summary>
    /// A user name with terminal escapes and Spectre markup (a passwd line is written by whoever can create users, a log
    /// by any local process): drawn through Spectre as the terminal receives it, nothing but Spectre's own colour codes
    /// reaches the terminal, and the name is shown escaped, its markup as text.
    /// </summary>
    [Fact]
    public async Task Render_HostileUserName_IsShownEscaped_NoEscapeReachesTheTerminal()
    {
        string hostile = "ev\u001b]0;pwned\u0007il\u001b[2J[red]x[/]\u202e";
        var names = new Dictionary<uint, string>(Names()) { [33] = hostile };
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.Standard,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 120;
        console.Profile.Height = 40;
        console.Write(new LiveScreen(await FrameAsync(names)));
        string drawn = output.ToString();
        string text = Regex.Replace(drawn, @"\e\[[0-9;]*m", ""); // Spectre's colours and styles
        Assert.DoesNotContain(text, c => c < ' ' && c != '\n');
        Assert.DoesNotContain('\u202e', text);
        Assert.Contains(@"uid 33 (ev\x1b]0;pwned\x07il\x1b[2J[red]x[/]\u202e)", text, StringComparison.Ordinal);
        Assert.Contains("VERDICT so far: Direct-to-MX spam from uid 33 (ev\\x1b]0;pwned\\x07il\\x1b[2J[red]x[/]\\u202e)", text, StringComparison.Ordinal);
    }
}
