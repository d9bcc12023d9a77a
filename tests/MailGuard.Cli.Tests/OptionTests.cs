using System.Diagnostics;

namespace MailGuard.Cli.Tests;

/// <summary>mgscan's command line: every wrong option is one line on stderr, nothing on stdout, exit 2; output and internal errors too.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class OptionTests
{
    private const string Log = "samples/logs/kern.log";

    /// <summary>A wrong command line, the option the message must name, and a word of what it accepts.</summary>
    public static TheoryData<string[], string, string> WrongCommandLines() => new()
    {
        { ["--top", "abc", Log], "--top: 'abc'", "whole number" }, // was 35 lines of help on stdout, exit 1
        { ["--top", "0", Log], "--top: '0'", "whole number" },
        { ["--top", "-3", Log], "--top: '-3'", "whole number" },
        { ["--top", "99999999999", Log], "--top: '99999999999'", "2147483647" },
        { ["--top", "1.5", Log], "--top: '1.5'", "whole number" },
        { [Log, "--top"], "--top:", "whole number" },
        { ["--format", "xml", Log], "--format: 'xml'", "table, json, csv, ndjson or prometheus" }, // was help, exit 1
        { ["--frobnicate", Log], "--frobnicate", "--help" }, // was read as a file name, and a report printed
        { ["-x", Log], "-x", "--help" },
        { ["--frob=1", Log], "--frob=1", "--help" },
        { ["--set", "min-attempts=NaN", Log], "--set: 'min-attempts=NaN'", "whole number" }, // was accepted
        { ["--set", "direct-min-port25-share=NaN", Log], "--set: 'direct-min-port25-share=NaN'", "0 to 1" },
        { ["--set", "direct-min-port25-share=Infinity", Log], "--set: 'direct-min-port25-share=Infinity'", "0 to 1" },
        { ["--set", "relay-min-submission-share=1.5", Log], "--set: 'relay-min-submission-share=1.5'", "0 to 1" },
        { ["--set", "min-attempts=-1", Log], "--set: 'min-attempts=-1'", "whole number" },
        { ["--set", "min-attempts=1.5", Log], "--set: 'min-attempts=1.5'", "whole number" },
        { ["--set", "min-attempts=3000000000", Log], "--set: 'min-attempts=3000000000'", "2147483647" },
        { ["--set", "no-such=1", Log], "--set: 'no-such=1'", "min-attempts" },
        { ["--set", "min-attempts", Log], "--set: 'min-attempts'", "NAME=VALUE" },
        { ["--mail-ports", "foo", Log], "--mail-ports: 'foo'", "port number" }, // named --port
        { ["--port", "foo", Log], "--port: 'foo'", "port number" },
        { ["--since", "soon", Log], "--since: cannot read 'soon'", "yesterday" },
        { ["--until", "0001-01-01", Log], "--until: cannot read '0001-01-01'", "yesterday" }, // before 0001-01-01 UTC in a zone east of UTC: crashed
        { ["--since", "2026-11-23", "--until", "2026-11-22", Log], "--since is after --until", "" },
        { ["--interval", "5", "--format", "json", Log], "--interval: '5'", "1s, 10s, 1m" },
        { ["--interval", "0s", "--format", "json", Log], "--interval: '0s'", "1s, 10s, 1m" },
        { ["--interval", "25h", "--format", "json", Log], "--interval: '25h'", "1s, 10s, 1m" },
        { ["--interval", "1s", Log], "--interval: works with --format json", "one report per line" },
        { ["--interval", "1s", "--format", "json", "--list", Log], "--interval: works with --format json", "not with --list" },
        { ["--follow"], "--follow: name the files to follow", "journalctl -k -f | mgscan" },
        { ["--follow", "-"], "--follow: name the files to follow", "journalctl -k -f | mgscan" },
    };

    [Theory]
    [MemberData(nameof(WrongCommandLines))]
    public void Mgscan_WrongOption_OneLineOnStderrNamingIt_NothingOnStdout_Exit2(string[] args, string names, string accepts)
    {
        (int code, string stdout, string stderr) = Run(null, "Asia/Tokyo", args);
        Assert.Equal("", stdout);
        Assert.Equal(2, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("mgscan: " + names, line, StringComparison.Ordinal);
        Assert.Contains(accepts, line, StringComparison.Ordinal);
    }

    [Fact]
    public void Mgscan_DoubleDash_MakesAnOptionLikeNameAFile()
    {
        using var dir = new TempDir();
        dir.Write("--frobnicate", File.ReadAllBytes(Path.Combine(MgscanTests.Root, Log)));
        dir.Write("-x", File.ReadAllBytes(Path.Combine(MgscanTests.Root, Log)));
        (int code, string stdout, string stderr) = Run(dir.Path, "UTC", "--format", "json", "--", "--frobnicate", "-x");
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        System.Text.Json.JsonElement totals = System.Text.Json.JsonDocument.Parse(stdout).RootElement.GetProperty("totals");
        Assert.Equal(55, totals.GetProperty("entries").GetInt64());
        Assert.Equal(2 * 73, totals.GetProperty("lines").GetInt64()); // both files were read (the same lines: counted once)
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("--version")]
    public void Mgscan_HelpAndVersion_StillWorkBesideAWrongValue(string option)
    {
        (int code, string stdout, _) = MgscanTests.Run(null, "--top", "abc", option);
        Assert.Equal(0, code);
        Assert.NotEqual("", stdout);
    }

    [Theory]
    [InlineData("2147483647")] // overflowed a heap capacity
    [InlineData("2000000000")] // ran out of memory
    public void Mgscan_TopAnyPositiveNumber_ListsEveryRow(string top)
    {
        (int code, string huge, string stderr) = MgscanTests.Run(null, "--format", "json", "--top", top, Log);
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        (_, string all, _) = MgscanTests.Run(null, "--format", "json", "--top", "100000", Log);
        Assert.Equal(all, huge);
    }

    [Fact]
    public void Mgscan_SetWholeAndShareThresholds_AreAccepted()
    {
        (int code, _, string stderr) = MgscanTests.Run(null, "--set", "min-attempts=5", "--set", "direct-min-port25-share=0.25", "--set", "relay-max-destinations=1e3", Log);
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
    }

    [Theory]
    [InlineData("--format", "table")]
    [InlineData("--format", "json")]
    [InlineData("--format", "csv")]
    [InlineData("--list", "--list")]
    public void Mgscan_FullDisk_OneLineAndExit2(string option, string value)
    {
        // Was a stack trace and exit 1. The output is larger than the writer's buffer only with --list on a big input; a small report fails at the flush.
        (int code, string stderr) = Shell($"exec dotnet {Mgscan} {option} {(option == value ? "" : value)} {Log} > /dev/full");
        Assert.Equal(2, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("mgscan: cannot write the output: No space left on device", line);
    }

    [Theory]
    [InlineData("")]
    [InlineData("--format json")]
    [InlineData("--list")]
    public void Mgscan_OutputToAFileSharedWithOtherWriters_KeepsTheirTextAndItsOwn(string options)
    {
        // { echo first; mgscan …; echo last; } > report.txt: mgscan wrote at its own offset (FileStream's positional
        // writes), so "last" overwrote the start of the report.
        using var dir = new TempDir();
        string file = Path.Combine(dir.Path, "report.txt");
        (int code, string stderr) = Shell($"{{ echo first; dotnet {Mgscan} {options} {Log}; echo last; }} > {file}");
        Assert.Equal(0, code);
        (_, string alone, _) = MgscanTests.Run(null, [.. options.Split(' ', StringSplitOptions.RemoveEmptyEntries), Log]);
        Assert.Equal("first\n" + alone + "last\n", File.ReadAllText(file));
        Assert.Equal(options == "--list" ? 1 : 0, stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Mgscan_ClosedStandardOutput_OneLineAndExit2()
    {
        (int code, string stderr) = Shell($"exec dotnet {Mgscan} {Log} >&-");
        Assert.Equal(2, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("mgscan: cannot write the output: ", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Crashed_AnyException_OneLineWithTypeAndMessage_TraceOnlyWithDebug()
    {
        var error = new InvalidOperationException("first line\nsecond \u001b[31mline");
        using var quiet = new StringWriter();
        Assert.Equal(2, Program.Crashed(error, new TerminalWriter(quiet), debug: false));
        string line = Assert.Single(quiet.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("mgscan: internal error: InvalidOperationException: first line second \\x1b[31mline (MGSCAN_DEBUG=1 shows where)", line);

        using var loud = new StringWriter();
        try
        {
            throw error;
        }
        catch (InvalidOperationException e)
        {
            Assert.Equal(2, Program.Crashed(e, new TerminalWriter(loud), debug: true));
        }

        Assert.Contains(nameof(Crashed_AnyException_OneLineWithTypeAndMessage_TraceOnlyWithDebug), loud.ToString(), StringComparison.Ordinal);
    }

    private static string Mgscan => Path.Combine(AppContext.BaseDirectory, "mgscan.dll");

    /// <summary>Runs mgscan in <paramref name="directory"/> (null: the repository) with the time zone <paramref name="tz"/>.</summary>
    internal static (int Code, string Out, string Err) Run(string? directory, string tz, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory ?? MgscanTests.Root,
        };
        psi.Environment["TZ"] = tz;
        psi.ArgumentList.Add(Mgscan);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(directory is null || !a.StartsWith("samples/", StringComparison.Ordinal) ? a : Path.Combine(MgscanTests.Root, a));
        }

        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), "mgscan did not finish within 60 s");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs a shell command line in the repository (for redirections the test host cannot make); returns the exit code and stderr.</summary>
    private static (int Code, string Err) Shell(string command)
    {
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardError = true, WorkingDirectory = MgscanTests.Root };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        psi.Environment["TZ"] = "UTC";
        using Process p = Process.Start(psi)!;
        string stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "mgscan did not finish within 60 s");
        return (p.ExitCode, stderr);
    }
}
