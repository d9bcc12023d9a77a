using System.Text;
using System.Text.Json;

namespace MailGuard.Cli.Tests;

/// <summary>Issue 11: text from a log never reaches the terminal raw (table, verdict, commands, stderr), CSV cells are neutralised, JSON stays exact.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class SafeOutputTests
{
    /// <summary>What a terminal acts on: C0 but the line feed, DEL, C1, bidi controls, line and paragraph separators.</summary>
    private static bool Unsafe(char c) =>
        (c < ' ' && c != '\n') || c is >= '\u007f' and <= '\u009f' || c is '\u061c' or '\u200e' or '\u200f' or >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069' or '\u2028' or '\u2029';

    private static void AssertNothingRaw(string output)
    {
        int at = output.ToList().FindIndex(Unsafe);
        Assert.True(at < 0, at < 0 ? "" : $"U+{(int)output[at]:X4} at {at}: {output[Math.Max(0, at - 40)..Math.Min(output.Length, at + 40)]}");
    }

    /// <summary>60 forwarded lines of the VPN incident (60 different flows, 10 clients: a proxy relay on a quiet host) with the interface renamed.</summary>
    private static byte[] Forwarded(string name)
    {
        var spts = new HashSet<string>();
        var sb = new StringBuilder();
        foreach (string line in File.ReadLines(Path.Combine(MgscanTests.Root, "samples/logs/incident-proxy.log")))
        {
            int spt = line.IndexOf(" SPT=", StringComparison.Ordinal);
            if (line.Contains("TCP-OUT", StringComparison.Ordinal) && line.Contains("IN=wg0 ", StringComparison.Ordinal) && spts.Add(line[spt..line.IndexOf(' ', spt + 1)]))
            {
                sb.Append(line.Replace("IN=wg0 ", "IN=" + name + " ", StringComparison.Ordinal)).Append('\n');
                if (spts.Count == 60)
                {
                    break;
                }
            }
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    [Theory]
    [InlineData("\u001b]0;owned\u0007", @"\x1b]0;owned\x07")] // OSC: sets the window title
    [InlineData("\u001b[2J\u001b[H", @"\x1b[2J\x1b[H")] // clears the screen
    [InlineData("wg0\u202egp.exe", @"wg0\u202egp.exe")] // right-to-left override
    [InlineData("a\u009b31mb", @"a\u009b31mb")] // C1 CSI
    [InlineData("x\u007f\u0001\u2028", @"x\x7f\x01\u2028")]
    public void Mgscan_HostileInterfaceName_IsShownEscapedAndFlagged_AndExactInJson(string name, string shown)
    {
        using var dir = new TempDir();
        string log = dir.Write("forged.log", Forwarded(name));
        (int code, string table, string stderr) = MgscanTests.Run(null, log);
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        AssertNothingRaw(table);
        Assert.Contains($"VERDICT: Spam relayed for 10 forwarded clients behind suspicious interface\n         '{shown}', low confidence", table, StringComparison.Ordinal);
        Assert.Contains($"     journalctl -k | grep -c -F -e 'IN={shown} '", table, StringComparison.Ordinal);
        Assert.DoesNotContain("iptables", table, StringComparison.Ordinal); // no block rule for a forged name

        (_, string json, _) = MgscanTests.Run(null, "--format", "json", log);
        JsonElement culprit = JsonDocument.Parse(json).RootElement.GetProperty("verdict").GetProperty("culprit");
        Assert.Equal(name, culprit.GetProperty("key").GetString()); // exact
        Assert.Equal("interface", culprit.GetProperty("kind").GetString());
    }

    [Fact]
    public void Mgscan_HostilePrefixes_AreEscapedInTheTable_AndNeutralisedInCsv()
    {
        string entry = File.ReadLines(Path.Combine(MgscanTests.Root, "samples/logs/kern.log")).First(l => l.Contains("IPTABLES TCP-OUT 25:IN=", StringComparison.Ordinal));
        string[] prefixes = ["=HYPERLINK(\"http://evil\",\"x\"):", "+1+1:", "-2+3:", "@SUM(A1):", "\tTAB:", "\u001b[31mred:", "OK:"];
        using var dir = new TempDir();
        string log = dir.Write("prefixes.log", Encoding.UTF8.GetBytes(string.Concat(prefixes.Select(p => entry.Replace("IPTABLES TCP-OUT 25:", p, StringComparison.Ordinal) + "\n"))));

        (int code, string table, _) = MgscanTests.Run(null, "--all", log);
        Assert.Equal(0, code);
        AssertNothingRaw(table);
        Assert.Contains(@"  \tTAB: ", table, StringComparison.Ordinal);
        Assert.Contains(@"  \x1b[31mred: ", table, StringComparison.Ordinal);

        (_, string csv, _) = MgscanTests.Run(null, "--all", "--format", "csv", log);
        AssertNothingRaw(csv);
        string[] cells = [.. csv.Split('\n').Where(l => l.StartsWith("prefix,", StringComparison.Ordinal)).Select(l => l[7..l.IndexOf(",1,", StringComparison.Ordinal)])];
        string[] neutralised = ["\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\"):\"", "'+1+1:", "'-2+3:", "'@SUM(A1):", @"'\tTAB:", @"\x1b[31mred:", "OK:"];
        Assert.Equal(neutralised.Order(StringComparer.Ordinal), cells.Order(StringComparer.Ordinal));

        (_, string json, _) = MgscanTests.Run(null, "--all", "--format", "json", log);
        Assert.Equal(prefixes.Order(StringComparer.Ordinal), JsonDocument.Parse(json).RootElement.GetProperty("prefixes").EnumerateArray().Select(e => e.GetProperty("key").GetString()!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Mgscan_JournalMessageWithEscapedNewline_PrintsNoFakeVerdictLine()
    {
        // journalctl -o json escapes a line break in MESSAGE as \n: decoded, it became a line of the report of its own.
        string record = File.ReadLines(Path.Combine(MgscanTests.Root, "samples/logs/journal.json")).First(l => l.Contains("IPTABLES TCP-OUT 25:IN=", StringComparison.Ordinal))
            .Replace("\"MESSAGE\":\"IPTABLES TCP-OUT 25:", "\"MESSAGE\":\"FW\\nVERDICT: Nothing suspicious\\n", StringComparison.Ordinal);
        (int code, string table, _) = MgscanTests.Run(record + "\n", "--all");
        Assert.Equal(0, code);
        AssertNothingRaw(table);
        Assert.Single(table.Split('\n'), l => l.StartsWith("VERDICT:", StringComparison.Ordinal));
        Assert.Contains(@"  FW\nVERDICT: Nothing suspic…", table, StringComparison.Ordinal);
    }

    [Fact]
    public void Mgscan_FileNameWithEscapes_IsEscapedOnStderr()
    {
        (int code, _, string stderr) = MgscanTests.Run(null, "no-such-\u001b]0;x\u0007\u202e.log");
        Assert.Equal(2, code);
        AssertNothingRaw(stderr);
        Assert.Equal("mgscan: no-such-\\x1b]0;x\\x07\\u202e.log: no such file\nmgscan: no report: an input could not be read\n", stderr);
    }

    [Theory]
    [InlineData("plain text — ok ✓ 😀", "plain text — ok ✓ 😀")]
    [InlineData("a\tb\nc\rd", @"a\tb\nc\rd")]
    [InlineData("\u001b]0;t\u0007\u0000\u007f", @"\x1b]0;t\x07\x00\x7f")]
    [InlineData("\u0085\u009b", @"\u0085\u009b")]
    [InlineData("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029", @"\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")]
    [InlineData(@"already \x1b escaped", @"already \x1b escaped")]
    public void TerminalText_Escape_ShowsEveryControlAndKeepsTheRest(string text, string shown)
    {
        Assert.Equal(shown, TerminalText.Escape(text));
        Assert.Equal(shown, TerminalText.Escape(shown)); // escaping twice changes nothing
    }

    [Fact]
    public void TerminalText_Escape_ShowsLoneSurrogates()
    {
        Assert.Equal(@"lone \ud800 and \udc00, a pair 😀", TerminalText.Escape("lone " + '\ud800' + " and " + '\udc00' + ", a pair 😀"));
    }

    [Fact]
    public void TerminalText_EscapeUtf8_ShowsInvalidBytesAsHex()
    {
        Assert.Equal(@"caf\xe9 \x1b[1m ok é \xe2\x80", TerminalText.Escape([.. "caf"u8, 0xE9, .. " \u001b[1m ok é "u8, 0xE2, 0x80]));
    }

    [Theory]
    [InlineData("=1+1", "'=1+1")]
    [InlineData("+1", "'+1")]
    [InlineData("-1", "'-1")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tx", @"'\tx")]
    [InlineData("\rx", @"'\rx")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("=a\"b", "\"'=a\"\"b\"")]
    [InlineData("a\nb", @"a\nb")]
    [InlineData("192.0.2.1", "192.0.2.1")]
    [InlineData("", "")]
    public void TerminalText_CsvCell_FollowsOwaspAndRfc4180(string text, string cell)
    {
        Assert.Equal(cell, TerminalText.CsvCell(text));
    }

    [Fact]
    public async Task TerminalWriter_EscapesAllButItsOwnLineEnds()
    {
        using var inner = new StringWriter { NewLine = "\n" };
        using var w = new TerminalWriter(inner);
        w.WriteLine("a\nb");
        w.Write('\u001b');
        w.Write("c\r".AsSpan());
        w.WriteLine(42);
        w.WriteLine("x\ty".ToCharArray(), 0, 3);
        w.WriteLine(new StringBuilder("s\u202e"));
        await w.WriteLineAsync("async\u0007");
        w.WriteLine();
        Assert.Equal("a\\nb\n\\x1bc\\r42\nx\\ty\ns\\u202e\nasync\\x07\n\n", inner.ToString());
    }

    [Theory]
    [InlineData("short", 10, "short")]
    [InlineData("exactly 10", 10, "exactly 10")]
    [InlineData("longer than ten", 10, "longer th…")]
    [InlineData("\u001b[2Jabcdef", 8, @"\x1b[2J…")]
    [InlineData("abcdefgh😀", 10, "abcdefgh😀")]
    [InlineData("abcdefgh😀x", 10, "abcdefgh…")] // not cut inside the pair
    public void TerminalText_Fit_EscapesThenCuts(string text, int width, string fitted)
    {
        Assert.Equal(fitted, TerminalText.Fit(text, width));
    }
}
