using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MailGuard.Cli.Tests;

/// <summary>A folder under the temp path, removed with everything in it.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mgscan-test-" + Guid.NewGuid().ToString("N"));

    public TempDir() => Directory.CreateDirectory(Path);

    /// <summary>Writes a file (gzip-compressed when the name ends in .gz) with a fixed modification time, so year-less stamps get 2026.</summary>
    public string Write(string name, byte[] data)
    {
        string file = System.IO.Path.Combine(Path, name);
        if (name.EndsWith(".gz", StringComparison.Ordinal))
        {
            using FileStream f = File.Create(file);
            using var z = new GZipStream(f, CompressionLevel.Fastest);
            z.Write(data);
        }
        else
        {
            File.WriteAllBytes(file, data);
        }

        File.SetLastWriteTimeUtc(file, new DateTime(2026, 11, 24, 0, 0, 0, DateTimeKind.Utc));
        return file;
    }

    /// <summary>Writes bytes as they are (already compressed, or cut), with the same fixed modification time as <see cref="Write"/>.</summary>
    public string WriteRaw(string name, byte[] data)
    {
        string file = System.IO.Path.Combine(Path, name);
        File.WriteAllBytes(file, data);
        File.SetLastWriteTimeUtc(file, new DateTime(2026, 11, 24, 0, 0, 0, DateTimeKind.Utc));
        return file;
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Dispose()
    {
        // Undo chmod 000 first, or the delete could fail for a non-root user.
        foreach (string f in Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(f, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        Directory.Delete(Path, recursive: true);
    }
}

/// <summary>mgscan's inputs: several files, overlaps, rotated sets, selections, bad inputs, streams, signals, closed pipes.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class InputTests
{
    private static readonly byte[] KernLog = File.ReadAllBytes(Path.Combine(MgscanTests.Root, "samples/logs/kern.log"));

    private static JsonElement Totals(string json) => JsonDocument.Parse(json).RootElement.GetProperty("totals").Clone();

    private static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = MgscanTests.Root,
        };
        psi.Environment["TZ"] = "UTC";
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mgscan.dll"));
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return Process.Start(psi)!;
    }

    /// <summary>Entries of the sample (independent of the parser: a regular expression) stamped at or after 19:23:<paramref name="second"/>.</summary>
    private static int SampleEntriesFrom(int second) =>
        Encoding.Latin1.GetString(KernLog).Split('\n').Count(l =>
            Regex.Match(l, @"^Nov 23 19:2(\d):(\d\d) .*IPTABLES TCP-OUT \d+:IN=.* DPT=\d+ ") is { Success: true } m
            && (m.Groups[1].Value == "4" || int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) >= second));

    [Fact]
    public void Mgscan_KernLogAndMessages_WithTheSameLines_CountEachEntryOnce()
    {
        (int code, string stdout, _) = MgscanTests.Run(null, "--format", "json", "samples/logs/kern.log", "samples/logs/messages");
        Assert.Equal(0, code);
        JsonElement t = Totals(stdout);
        Assert.Equal(55, t.GetProperty("entries").GetInt64());
        Assert.Equal(63, t.GetProperty("duplicates").GetInt64()); // 55 entries and 8 other netfilter lines were in both
        (_, string table, _) = MgscanTests.Run(null, "samples/logs/kern.log", "samples/logs/messages");
        Assert.Contains("63 duplicates of lines in another input", table, StringComparison.Ordinal);
    }

    [Fact]
    public void Mgscan_RotatedSetWithGzNamedInAnyOrder_EqualsTheConcatenatedText()
    {
        using var dir = new TempDir();
        string whole = dir.Write("whole.log", KernLog);
        int third = Array.IndexOf(KernLog, (byte)'\n', KernLog.Length / 3) + 1;
        int twoThirds = Array.IndexOf(KernLog, (byte)'\n', KernLog.Length * 2 / 3) + 1;
        string oldest = dir.Write("kern.log.2.gz", KernLog[..third]);
        string older = dir.Write("kern.log.1", KernLog[third..twoThirds]);
        string current = dir.Write("kern.log", KernLog[twoThirds..]);

        (int code, string list, _) = MgscanTests.Run(null, "--list", current, oldest, older);
        (_, string expected, _) = MgscanTests.Run(null, "--list", whole);
        Assert.Equal(0, code);
        Assert.Equal(expected, list); // the same entries in the same (time) order

        (_, string json, _) = MgscanTests.Run(null, "--format", "json", older, current, oldest);
        (_, string wholeJson, _) = MgscanTests.Run(null, "--format", "json", whole);
        Assert.Equal(wholeJson, json);
    }

    [Theory]
    [InlineData("587", 9)]
    [InlineData("smtp,465", 46)]
    [InlineData("submission", 9)]
    public void Mgscan_Port_SelectsEntriesToThosePorts(string port, int entries)
    {
        (int code, string stdout, _) = MgscanTests.Run(null, "--format", "json", "--port", port, "samples/logs/kern.log");
        Assert.Equal(0, code);
        JsonElement t = Totals(stdout);
        Assert.Equal(entries, t.GetProperty("entries").GetInt64());
        Assert.Equal(55 - entries, t.GetProperty("excluded").GetInt64());
    }

    [Fact]
    public void Mgscan_SinceAndUntil_SelectByTime()
    {
        using var dir = new TempDir();
        string log = dir.Write("kern.log", KernLog);
        (int code, string stdout, _) = MgscanTests.Run(null, "--format", "json", "--since", "2026-11-23T19:23:57Z", log);
        Assert.Equal(0, code);
        Assert.Equal(SampleEntriesFrom(57), Totals(stdout).GetProperty("entries").GetInt64());

        (_, stdout, _) = MgscanTests.Run(null, "--format", "json", "--since", "2026-11-23 19:23:55", "--until", "2026-11-23 19:23:56", log);
        Assert.Equal(SampleEntriesFrom(55) - SampleEntriesFrom(57), Totals(stdout).GetProperty("entries").GetInt64());

        (code, _, _) = MgscanTests.Run(null, "--until", "2025-01-01", log);
        Assert.Equal(1, code); // nothing that early
    }

    [Theory]
    [InlineData("--port", "smtpx", "--port: 'smtpx' is not a port number")]
    [InlineData("--port", "70000", "--port: '70000' is not a port number")]
    [InlineData("--since", "soon", "--since: cannot read 'soon'")]
    [InlineData("--until", "2026-13-45", "--until: cannot read '2026-13-45'")]
    [InlineData("--top", "0", "--top: '0' is not a whole number from 1 to 2147483647")]
    public void Mgscan_BadOptionValue_SaysWhichAndExits2(string option, string value, string message)
    {
        (int code, string stdout, string stderr) = MgscanTests.Run(null, option, value, "samples/logs/kern.log");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("mgscan: " + message, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Mgscan_SinceAfterUntil_Exits2()
    {
        (int code, _, string stderr) = MgscanTests.Run(null, "--since", "2026-11-23", "--until", "2026-11-22", "samples/logs/kern.log");
        Assert.Equal(2, code);
        Assert.Contains("--since is after --until", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Mgscan_BinaryFile_IsCountedAsBinaryLinesAndDiagnosedAsNoLogLines()
    {
        using var dir = new TempDir();
        var bytes = new byte[200_000];
        new Random(7).NextBytes(bytes);
        string file = dir.Write("core.bin", bytes);
        int nulLines = Encoding.Latin1.GetString(bytes).Split('\n').Count(l => l.Contains('\0', StringComparison.Ordinal));
        (int code, string stdout, string stderr) = MgscanTests.Run(null, "--format", "json", file);
        Assert.Equal(3, code); // no LOG line at all: a diagnosis
        Assert.Equal("", stderr);
        Assert.Equal(nulLines, Totals(stdout).GetProperty("binary_lines").GetInt64());
        (_, string table, _) = MgscanTests.Run(null, file);
        Assert.Contains("binary lines (NUL bytes)", table, StringComparison.Ordinal);
    }

    [Fact]
    public void Mgscan_InvalidUtf8InAPrefix_IsCountedAndShownWithReplacementCharacters()
    {
        // kern.log holds one entry whose prefix is Latin-1 (0xE9); --all selects it.
        (int code, string stdout, _) = MgscanTests.Run(null, "--all", "--format", "json", "--top", "100", "samples/logs/kern.log");
        Assert.Equal(0, code);
        string[] prefixes = [.. JsonDocument.Parse(stdout).RootElement.GetProperty("prefixes").EnumerateArray().Select(e => e.GetProperty("key").GetString()!)];
        Assert.Contains(prefixes, p => p.Contains('\uFFFD', StringComparison.Ordinal));
    }

    [Fact]
    public void Mgscan_Directory_NamesItAndExits2()
    {
        using var dir = new TempDir();
        (int code, _, string stderr) = MgscanTests.Run(null, dir.Path, "samples/logs/kern.log");
        Assert.Equal(2, code);
        Assert.Contains($"mgscan: {dir.Path}: is a directory", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mgscan_UnreadableFile_SaysPermissionDeniedAndAdmAndGivesNoReport()
    {
        using var dir = new TempDir();
        string secret = dir.Write("kern.log", KernLog);
        File.SetUnixFileMode(secret, UnixFileMode.None);
        var psi = new ProcessStartInfo(Environment.UserName == "root" ? "setpriv" : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dir.Path,
        };
        psi.Environment["TZ"] = "UTC";
        string app = Path.Combine(AppContext.BaseDirectory, "mgscan.dll");
        if (Environment.UserName == "root")
        {
            // Root reads everything: run as nobody, from a copy of the app that nobody can read.
            string bin = Path.Combine(dir.Path, "bin");
            Directory.CreateDirectory(bin);
            foreach (string f in Directory.EnumerateFiles(AppContext.BaseDirectory).Where(f => f.EndsWith(".dll", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal)))
            {
                File.Copy(f, Path.Combine(bin, Path.GetFileName(f)));
            }

            File.SetUnixFileMode(dir.Path, (UnixFileMode)0x1ED); // 755
            File.Copy(Path.Combine(MgscanTests.Root, "samples/logs/kern.log"), Path.Combine(dir.Path, "readable.log"));
            app = Path.Combine(bin, "mgscan.dll");
            foreach (string a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "--", "dotnet" })
            {
                psi.ArgumentList.Add(a);
            }

            psi.Environment["DOTNET_CLI_HOME"] = dir.Path;
        }
        else
        {
            File.Copy(Path.Combine(MgscanTests.Root, "samples/logs/kern.log"), Path.Combine(dir.Path, "readable.log"));
        }

        foreach (string a in new[] { app, "--list", "kern.log", "readable.log" })
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        string stderr = await p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        Assert.True(p.WaitForExit(60_000));
        Assert.Equal(2, p.ExitCode);
        Assert.Contains("mgscan: kern.log: permission denied", stderr, StringComparison.Ordinal);
        Assert.Contains("'adm' group", stderr, StringComparison.Ordinal);
        Assert.Contains("mgscan: no report: an input could not be read", stderr, StringComparison.Ordinal);
        Assert.Equal("", await stdout); // an input that cannot be read never yields a verdict: it may hold the evidence
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task Mgscan_SignalOnAStreamThatNeverEnds_ReportsWhatWasReadAndExits0(string signal)
    {
        using Process p = Start("--list");
        p.StandardInput.BaseStream.Write(KernLog);
        p.StandardInput.BaseStream.Flush(); // stdin stays open: like journalctl -f
        Task<string> stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);

        // --list shows each entry while mgscan waits for more: read all 55 before signalling.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        for (int i = 0; i < 55; i++)
        {
            string? line = await p.StandardOutput.ReadLineAsync(timeout.Token); // throws if the entries do not come
            Assert.Contains(" -> ", line, StringComparison.Ordinal);
        }

        await Signal(p, signal);
        Assert.True(p.WaitForExit(30_000), "mgscan did not stop on the signal");
        Assert.Equal(0, p.ExitCode);
        // All 55 entries were read; the 3 lines after the last one may still be in the pipe when the signal comes (a CI
        // run under load counted 70 of 73): what was read is reported, whatever it is.
        System.Text.RegularExpressions.Match counts = System.Text.RegularExpressions.Regex.Match(await stderr, @"mgscan: (\d+) lines, 55 entries");
        Assert.True(counts.Success, await stderr);
        Assert.InRange(int.Parse(counts.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 70, 73);
    }

    [Fact]
    public async Task Mgscan_TableOnAStreamThatNeverEnds_PrintsTheReportOnSigterm()
    {
        using Process p = Start();
        p.StandardInput.BaseStream.Write(KernLog);
        p.StandardInput.BaseStream.Flush();
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);

        // The table comes only at the end, so nothing tells when the 16 kB were read: give it 5 s (it needs < 0.5 s).
        await Task.Delay(5000, TestContext.Current.CancellationToken);
        await Signal(p, "TERM");
        Assert.True(p.WaitForExit(30_000), "mgscan did not stop on SIGTERM");
        Assert.Equal(0, p.ExitCode);
        string report = await stdout;
        Assert.Contains("55 blocked connection entries in 73 lines", report, StringComparison.Ordinal);
        Assert.Contains("Local users (UID)", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mgscan_IntervalOnAStream_OneJsonReportPerLineWhileItRuns_TheFinalLast()
    {
        using Process p = Start("--format", "json", "--interval", "1s");
        CancellationToken ct = TestContext.Current.CancellationToken;
        int firstPart = 0; // the first 20 lines
        for (int n = 0; n < 20; n++)
        {
            firstPart += KernLog.AsSpan(firstPart).IndexOf((byte)'\n') + 1;
        }

        p.StandardInput.BaseStream.Write(KernLog.AsSpan(0, firstPart));
        p.StandardInput.BaseStream.Flush();
        var lines = new List<JsonElement>();
        async Task<JsonElement> Next()
        {
            string? line = await p.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), ct);
            Assert.NotNull(line);
            JsonElement doc = JsonDocument.Parse(line).RootElement.Clone(); // one whole document per line
            Assert.Equal("mailguard.report/1", doc.GetProperty("schema").GetString());
            lines.Add(doc);
            return doc;
        }

        // While the stream runs: a report of what was read, and again a second later although nothing came.
        long partLines = (await Next()).GetProperty("totals").GetProperty("lines").GetInt64();
        Assert.Equal(KernLog.AsSpan(0, firstPart).Count((byte)'\n'), partLines);
        Assert.Equal(partLines, (await Next()).GetProperty("totals").GetProperty("lines").GetInt64());

        p.StandardInput.BaseStream.Write(KernLog.AsSpan(firstPart));
        p.StandardInput.Close();
        string rest = await p.StandardOutput.ReadToEndAsync(ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        Assert.True(p.WaitForExit(30_000));
        Assert.Equal(0, p.ExitCode);
        JsonElement final = JsonDocument.Parse(rest.TrimEnd('\n').Split('\n')[^1]).RootElement;
        Assert.Equal(73, final.GetProperty("totals").GetProperty("lines").GetInt64());
        Assert.Equal(55, final.GetProperty("totals").GetProperty("entries").GetInt64());

        // The last line is the report a run without --interval prints (indented there).
        using Process once = Start("--format", "json");
        once.StandardInput.BaseStream.Write(KernLog);
        once.StandardInput.Close();
        string whole = await once.StandardOutput.ReadToEndAsync(ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        Assert.True(once.WaitForExit(30_000));
        Assert.Equal(JsonSerializer.Serialize(JsonDocument.Parse(whole).RootElement), JsonSerializer.Serialize(final));
    }

    [Fact]
    public async Task Mgscan_Follow_ReadsWhatIsAppended_AndReportsOnSigterm()
    {
        using var dir = new TempDir();
        string log = dir.Write("kern.log", KernLog.AsSpan(0, KernLog.AsSpan().IndexOf((byte)'\n') + 1).ToArray()); // one line, no entry yet
        using Process p = Start("--follow", log, "--format", "json", "--interval", "1s");
        CancellationToken ct = TestContext.Current.CancellationToken;
        async Task<long> NextEntries()
        {
            string? line = await p.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), ct);
            Assert.NotNull(line);
            return JsonDocument.Parse(line).RootElement.GetProperty("totals").GetProperty("entries").GetInt64();
        }

        Assert.Equal(0, await NextEntries());
        await using (var f = new FileStream(log, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
        {
            await f.WriteAsync(KernLog.AsMemory(KernLog.AsSpan().IndexOf((byte)'\n') + 1), ct); // the rest of kern.log: 55 entries
        }

        long entries = 0;
        for (int i = 0; i < 30 && entries != 55; i++)
        {
            entries = await NextEntries();
        }

        Assert.Equal(55, entries);
        await Signal(p, "TERM");
        string rest = await p.StandardOutput.ReadToEndAsync(ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        Assert.True(p.WaitForExit(30_000), "mgscan --follow did not stop on SIGTERM");
        Assert.Equal(0, p.ExitCode);
        JsonElement final = JsonDocument.Parse(rest.TrimEnd('\n').Split('\n')[^1]).RootElement;
        Assert.Equal(73, final.GetProperty("totals").GetProperty("lines").GetInt64());
        Assert.Equal(55, final.GetProperty("totals").GetProperty("entries").GetInt64());
    }

    [Fact]
    public void Mgscan_State_ReadsOnlyWhatIsNew_AcrossARenameRotation_AndSaysWhenThePlaceIsLost()
    {
        using var dir = new TempDir();
        int half = KernLog.AsSpan(0, KernLog.Length / 2).LastIndexOf((byte)'\n') + 1;
        string log = dir.Write("kern.log", KernLog[..half]);
        string state = Path.Combine(dir.Path, "state.json");
        long Entries(string json) => JsonDocument.Parse(json).RootElement.GetProperty("totals").GetProperty("entries").GetInt64();

        (int code, string first, string err) = MgscanTests.Run(null, "--state", state, "--format", "json", log);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        long before = Entries(first);

        // the rest is written, then the file is rotated as logrotate's "create" does, and more is written to the new one
        File.AppendAllBytes(log, KernLog[half..]);
        File.Move(log, log + ".1");
        File.WriteAllBytes(log, [.. KernLog[half..], .. KernLog[..half]]); // another file: it begins otherwise
        (code, string second, err) = MgscanTests.Run(null, "--state", state, "--format", "json", log);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Equal(55 - before + 55, Entries(second)); // the rest of kern.log.1, then all of the new kern.log

        (code, string third, _) = MgscanTests.Run(null, "--state", state, "--format", "json", log);
        Assert.Equal(1, code); // nothing new: none found, not the diagnosis of a log without LOG lines (3)
        Assert.Equal(0, Entries(third));
        File.AppendAllText(log, "Nov 23 03:00:00 vps kernel: [99999.000000] eth0: link up\n");
        (code, third, _) = MgscanTests.Run(null, "--state", state, log);
        Assert.Equal(1, code);
        Assert.Equal($"Nothing logged since the last run: 1 new line, no netfilter LOG line among them (state: {state}).\n", third);

        // the file the last run read is gone and nothing rotated holds its rest: read from the start, and said
        File.Delete(log + ".1");
        File.Delete(log);
        File.WriteAllBytes(log, KernLog[half..]);
        (code, string fourth, err) = MgscanTests.Run(null, "--state", state, "--format", "json", log);
        Assert.Equal(0, code);
        Assert.Equal(55 - before, Entries(fourth));
        Assert.Contains("kern.log: the place the last run stopped at is in no file here any more", err, StringComparison.Ordinal);
        Assert.Contains("lines written in between are missing from this report", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mgscan_FollowWithState_StoresThePlaceOnSigterm_AndTheNextRunReadsOnFromThere()
    {
        using var dir = new TempDir();
        string log = dir.Write("kern.log", KernLog);
        string state = Path.Combine(dir.Path, "state.json");
        using Process p = Start("--follow", "--state", state, log, "--format", "json", "--interval", "1s");
        CancellationToken ct = TestContext.Current.CancellationToken;
        long entries = 0;
        for (int i = 0; i < 30 && entries != 55; i++)
        {
            string? line = await p.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), ct);
            Assert.NotNull(line);
            entries = JsonDocument.Parse(line).RootElement.GetProperty("totals").GetProperty("entries").GetInt64();
        }

        Assert.Equal(55, entries);
        await Signal(p, "TERM");
        await p.StandardOutput.ReadToEndAsync(ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        Assert.True(p.WaitForExit(30_000), "mgscan --follow did not stop on SIGTERM");
        Assert.Equal(0, p.ExitCode);
        Assert.True(File.Exists(state));

        File.AppendAllBytes(log, KernLog); // written while nothing follows
        (int code, string next, string err) = MgscanTests.Run(null, "--state", state, "--format", "json", log);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Equal(55, JsonDocument.Parse(next).RootElement.GetProperty("totals").GetProperty("entries").GetInt64());
    }

    [Theory]
    [InlineData("-")]
    [InlineData(null)]
    public void Mgscan_State_OnAStream_IsRefused(string? file)
    {
        using var dir = new TempDir();
        string state = Path.Combine(dir.Path, "state.json");
        (int code, string stdout, string err) = file is null ? MgscanTests.Run("", "--state", state) : MgscanTests.Run("", "--state", state, file);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal("mgscan: --state: name the log files (a stream has no place to resume from; the journal keeps its own: journalctl -k --cursor-file=FILE | mgscan)\n", err);
        Assert.False(File.Exists(state));
    }

    [Fact]
    public void Mgscan_State_ADamagedOrUnwritableStateFile_IsExit2_AndMovesNothing()
    {
        using var dir = new TempDir();
        string log = dir.Write("kern.log", KernLog);
        string state = dir.Write("state.json", "{\"schema\":\"mailguard.state/1\",\"files\":[{\"path\":1}]}"u8.ToArray());
        (int code, string stdout, string err) = MgscanTests.Run(null, "--state", state, log);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith($"mgscan: --state: {state}: not a valid mgscan state file", err, StringComparison.Ordinal);
        Assert.EndsWith("(delete it to read every file from its start)\n", err, StringComparison.Ordinal);

        string nowhere = Path.Combine(dir.Path, "no-such-dir", "state.json");
        (code, stdout, err) = MgscanTests.Run(null, "--state", nowhere, "--format", "json", log);
        Assert.Equal(2, code); // the report is out, but the next run would read it again: said, and not a success
        Assert.Contains("\"entries\": 55", stdout, StringComparison.Ordinal);
        Assert.StartsWith($"mgscan: --state: {nowhere}: ", err, StringComparison.Ordinal);
        Assert.EndsWith("(the next run reads these lines again)\n", err, StringComparison.Ordinal);
    }

    private static async Task Signal(Process p, string signal)
    {
        using Process kill = Process.Start("kill", ["-" + signal, p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, kill.ExitCode);
    }

    [Fact]
    public async Task Mgscan_ClosedPipe_EndsQuietly()
    {
        using var dir = new TempDir();
        using (FileStream big = File.Create(Path.Combine(dir.Path, "big.log")))
        {
            for (int i = 0; i < 2000; i++)
            {
                big.Write(KernLog); // 110,000 entries: far more than a pipe holds
            }
        }

        using Process p = Start("--list", Path.Combine(dir.Path, "big.log"));
        Task<string> stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        Assert.NotNull(await p.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken)); // like `mgscan --list big.log | head -1`
        p.StandardOutput.Close();
        Assert.True(p.WaitForExit(60_000), "mgscan did not stop when its output was closed");
        Assert.Equal(0, p.ExitCode);
        Assert.Equal("", await stderr);
    }

    [Fact]
    public async Task Mgscan_LargeFile_ReadInParallelChunks_EqualsTheSequentialStream()
    {
        using var dir = new TempDir();
        string big = Path.Combine(dir.Path, "big.log");
        await using (FileStream f = File.Create(big))
        {
            for (int i = 0; i < 1100; i++)
            {
                f.Write(KernLog); // 18 MB: over the 16 MiB from which mgscan cuts a file into chunks
            }
        }

        File.SetLastWriteTimeUtc(big, new DateTime(2026, 11, 24, 0, 0, 0, DateTimeKind.Utc));
        (int code, string parallel, _) = MgscanTests.Run(null, "--format", "json", big);
        Assert.Equal(0, code);
        using Process p = Start("--format", "json");
        Task<string> sequential = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await p.StandardInput.BaseStream.WriteAsync(await File.ReadAllBytesAsync(big, TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        p.StandardInput.Close();
        Assert.True(p.WaitForExit(60_000));
        JsonElement a = JsonDocument.Parse(parallel).RootElement, b = JsonDocument.Parse(await sequential).RootElement;
        Assert.Equal(55 * 1100, a.GetProperty("totals").GetProperty("entries").GetInt64());
        foreach (string field in new[] { "totals", "ports", "uids", "sources", "destinations", "actors" })
        {
            Assert.Equal(b.GetProperty(field).GetRawText(), a.GetProperty(field).GetRawText());
        }
    }

    [Fact]
    public void Mgscan_Version_PrintsIt()
    {
        (int code, string stdout, _) = MgscanTests.Run(null, "--version");
        Assert.Equal(0, code);
        Assert.Matches(@"^\d+\.\d+\.\d+", stdout);
    }

    private static byte[] Gzip(byte[] data)
    {
        using var packed = new MemoryStream();
        using (var z = new GZipStream(packed, CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(data);
        }

        return packed.ToArray();
    }

    /// <summary>Runs a system tool (gzip, xz, zstd, bzip2) as a filter; skips the test when it is not installed.</summary>
    private static byte[] Tool(string tool, byte[] input, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(tool, args) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true })!;
            Task<byte[]> output = Task.Run(() =>
            {
                var ms = new MemoryStream();
                p.StandardOutput.BaseStream.CopyTo(ms);
                return ms.ToArray();
            });
            _ = p.StandardError.ReadToEndAsync();
            p.StandardInput.BaseStream.Write(input);
            p.StandardInput.Close();
            p.WaitForExit();
            return output.Result;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Skip($"'{tool}' is not installed (Debian package: {(tool == "xz" ? "xz-utils" : tool)})");
            throw;
        }
    }

    [Fact]
    public void Mgscan_TruncatedGz_CountsWhatZcatRecoversAndSaysWhereItEnds()
    {
        // Issue 11: a rotated .gz cut in half lost a varying part of what zcat recovers; cut at 10 % nothing was counted.
        using var dir = new TempDir();
        byte[] text = [.. Enumerable.Range(0, 150).SelectMany(_ => KernLog)];
        byte[] gz = Gzip(text);
        foreach (int percent in new[] { 10, 50 })
        {
            byte[] cut = gz[..(gz.Length * percent / 100)];
            string file = dir.WriteRaw($"kern.log.{percent}.gz", cut);
            byte[] recovered = Tool("gzip", cut, "-dc"); // what zcat recovers (it complains and exits 1)
            (int refCode, string reference, _) = MgscanTests.Run(null, "--format", "json", dir.WriteRaw($"recovered.{percent}.log", recovered));
            Assert.Equal(0, refCode);
            int lines = recovered.Count(b => b == (byte)'\n') + (recovered[^1] == (byte)'\n' ? 0 : 1);

            (int code, string stdout, string stderr) = MgscanTests.Run(null, "--format", "json", file);
            Assert.Equal(2, code);
            Assert.Equal(Totals(reference).GetRawText(), Totals(stdout).GetRawText());
            long entries = Totals(stdout).GetProperty("entries").GetInt64();
            Assert.Equal(
                $"mgscan: {file}: the gzip data ends early (cut at byte {cut.Length:N0}?), after {recovered.Length:N0} bytes of text ({lines:N0} lines); the {entries:N0} entries in them are counted\n",
                stderr);

            // The same through standard input, where nothing tells the length beforehand.
            (int stdinCode, string fromStdin, string stdinErr) = MgscanTests.RunBytes(cut, "--format", "json");
            Assert.Equal(2, stdinCode);
            Assert.Equal(Totals(reference).GetProperty("entries").GetInt64(), Totals(fromStdin).GetProperty("entries").GetInt64());
            Assert.Equal(Totals(reference).GetProperty("lines").GetInt64(), Totals(fromStdin).GetProperty("lines").GetInt64());
            Assert.StartsWith($"mgscan: -: the gzip data ends early (cut at byte {cut.Length:N0}?)", stdinErr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Mgscan_ConcatenatedGzMembers_AreReadWholeWithoutAWord()
    {
        // `cat a.gz b.gz`, and zero padding after the last member: valid gzip that was reported corrupt.
        using var dir = new TempDir();
        string file = dir.WriteRaw("kern.log.2.gz", [.. Gzip(KernLog), .. Gzip(KernLog), .. new byte[512]]);
        (int code, string stdout, string stderr) = MgscanTests.Run(null, "--format", "json", file);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Equal(110, Totals(stdout).GetProperty("entries").GetInt64());
    }

    [Fact]
    public void Mgscan_GzFollowedByGarbage_CountsTheDataAndSaysWhereTheGarbageStarts()
    {
        using var dir = new TempDir();
        byte[] gz = Gzip(KernLog);
        string file = dir.WriteRaw("kern.log.2.gz", [.. gz, .. "not gzip"u8]);
        (int code, string stdout, string stderr) = MgscanTests.Run(null, "--format", "json", file);
        Assert.Equal(2, code);
        Assert.Equal(55, Totals(stdout).GetProperty("entries").GetInt64());
        Assert.Contains($"the gzip data is followed by bytes that are not gzip, from byte {gz.Length:N0}", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("xz", "xz")]
    [InlineData("zstd", "zst")]
    [InlineData("bzip2", "bz2")]
    public void Mgscan_OtherCompressors_AreReadFromFilesAndStdin(string tool, string extension)
    {
        // logrotate can compress with xz, zstd or bzip2: these were read as binary ("Nothing suspicious", exit 1).
        using var dir = new TempDir();
        byte[] packed = Tool(tool, KernLog, "-c");
        string file = dir.WriteRaw("kern.log.2." + extension, packed);
        (int code, string stdout, string stderr) = MgscanTests.Run(null, "--format", "json", file);
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
        (_, string plain, _) = MgscanTests.Run(null, "--format", "json", "samples/logs/kern.log");
        Assert.Equal(Totals(plain).GetRawText(), Totals(stdout).GetRawText()); // the file's date still gives year-less stamps their year

        (int stdinCode, string fromStdin, _) = MgscanTests.RunBytes(packed, "--format", "json");
        Assert.Equal(0, stdinCode);
        Assert.Equal(55, Totals(fromStdin).GetProperty("entries").GetInt64());

        byte[] cut = packed[..(packed.Length / 2)];
        (int cutCode, _, string cutErr) = MgscanTests.Run(null, dir.WriteRaw("cut." + extension, cut));
        Assert.Equal(2, cutCode);
        Assert.Contains($"data ends early (cut at byte {cut.Length:N0}?)", cutErr, StringComparison.Ordinal);
    }
}
