using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// Issue 11: text from a log (interface names) or a passwd file (user names) is never executed. Every advice
/// command of verdicts of every class and actor kind, built with hostile names, runs in bash whose PATH holds
/// only stubs of the commands the advice uses (each records its arguments); no other command may run, no file
/// may appear, and a command naming the hostile text must hand it to a stub as (part of) one argument, exactly.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class AdviceShellTests
{
    private static readonly DateTime Start = new(2026, 11, 23, 2, 0, 0);

    /// <summary>Shell syntax, quotes, expansions, globs, options, line breaks and terminal escapes.</summary>
    private static readonly string[] Hostile =
    [
        "x;id>/tmp/PWNED;#", "x;touch P;#", "$(touch P)", "`touch P`", "x|touch P", "x&touch P&", "x&&id>P", "x'y;id>P;'", "x\"y$(id>P)\"",
        "x\\y;id>P", "a\nid>P", "\u001b]0;title\u0007", "\u001b[2J\u001b[H", "wg0\u202egp.exe", "-x", "--help", "*", "P*", "~root", "$IFS", "${PATH}",
        "!!", "x y", "=id", "{a,b}", "x>P", "wg0;id>P", "%1", "<(id>P)", "x\ty",
    ];

    /// <summary>The commands of the advice; each stub records its name and arguments.</summary>
    private static readonly string[] Stubs =
    [
        "iptables", "ip6tables", "nft", "ss", "ps", "ls", "ip", "wg", "conntrack", "crontab", "systemctl", "grep", "find", "head", "tail", "sort",
        "uniq", "mailq", "postcat", "postqueue", "exim", "apt", "dnf", "service", "netfilter-persistent", "firewall-cmd", "journalctl", "getent", "cut", "mgscan", "cat", "sysctl",
    ];

    [Fact]
    public void Advice_EveryCommandWithHostileNames_RunsOnlyTheStubsAndPassesTheNameAsOneArgument()
    {
        var commands = new Dictionary<string, string>(); // command -> the hostile text it was built with ("" for none)
        int verdicts = 0;
        foreach (string name in Hostile.Append("wg0").Append("shop"))
        {
            foreach (SpamVerdict v in Verdicts(name))
            {
                verdicts++;
                foreach (string command in v.Advice.SelectMany(a => a.Commands))
                {
                    commands.TryAdd(command, name);
                }
            }
        }

        Assert.True(verdicts >= 12 * Hostile.Length, $"{verdicts} verdicts");
        bool pwnedBefore = File.Exists("/tmp/PWNED");
        using var sandbox = new Sandbox(Stubs);
        var failures = new List<string>();
        int namedArguments = 0;
        foreach ((string command, string name) in commands)
        {
            foreach (string line in Runnable(command).Where(l => Names(l, name) || !WritesAFile().IsMatch(l)))
            {
                Sandbox.Result r = sandbox.Run(line);
                if (r.NotFound.Count > 0)
                {
                    failures.Add($"ran {string.Join(", ", r.NotFound)}: {line}");
                }

                if (r.NewFiles.Count > 0)
                {
                    failures.Add($"made {string.Join(", ", r.NewFiles)}: {line}");
                }

                if (!line.StartsWith('#') && Names(line, name)) // a comment runs nothing; the command in it is checked on its own
                {
                    namedArguments++;
                    if (!r.Calls.Any(call => call.Skip(1).Any(arg => arg.Contains(name, StringComparison.Ordinal))))
                    {
                        failures.Add($"no stub received {Show(name)} as one argument: {line} (calls: {string.Join(" | ", r.Calls.Select(c => string.Join(' ', c.Select(Show))))})");
                    }
                }
            }
        }

        Assert.True(namedArguments > 3 * Hostile.Length, $"only {namedArguments} commands named a hostile text");
        Assert.False(!pwnedBefore && File.Exists("/tmp/PWNED"), "/tmp/PWNED was made");
        Assert.True(failures.Count == 0, $"{failures.Count} of {commands.Count} commands:\n" + string.Join('\n', failures.Take(40)));
    }

    [Theory]
    [InlineData("wg0", "wg0")]
    [InlineData("www-data", "www-data")]
    [InlineData("x;id>P;#", "'x;id>P;#'")]
    [InlineData("it's", @"'it'\''s'")]
    [InlineData("=id", "'=id'")]
    [InlineData("a=b", "a=b")]
    [InlineData("", "''")]
    public void ShellWord_Quote_KeepsPlainWordsAndSingleQuotesTheRest(string word, string quoted)
    {
        Assert.Equal(quoted, MailGuard.Analysis.Internals.ShellWord.Quote(word));
    }

    [Theory]
    [InlineData("eth0", true)]
    [InlineData("wg0", true)]
    [InlineData("br-1a2b3c4d5e6f", true)]
    [InlineData("enp0s31f6.100", true)]
    [InlineData("veth3f2a1c0@if5", true)]
    [InlineData("docker_gwbridge", true)]
    [InlineData("a-very-long-name0", false)] // 17 bytes
    [InlineData("x;id>P;#", false)]
    [InlineData("-x", false)]
    [InlineData("..", false)]
    [InlineData("wg0\u202e", false)]
    [InlineData("eth0 ", false)]
    [InlineData("", false)]
    public void ShellWord_IsUsualInterfaceName_IsTheShapeSystemsUse(string name, bool usual)
    {
        Assert.Equal(usual, MailGuard.Analysis.Internals.ShellWord.IsUsualInterfaceName(name));
    }

    /// <summary>Verdicts of every class and actor kind in which <paramref name="name"/> is a user's or an interface's name, for every Linux family.</summary>
    private static IEnumerable<SpamVerdict> Verdicts(string name)
    {
        var names = new Dictionary<uint, string> { [0] = "root", [33] = "www-data", [1002] = name, [1005] = name };
        var withMail = new Dictionary<uint, string>(names) { [107] = "postfix" };
        foreach (LinuxFamily family in Enum.GetValues<LinuxFamily>())
        {
            // A user named so: direct-to-MX (with and without a mail server user), relay abuse, retrying, unclear, a proxy daemon, the mail server itself.
            TrafficStats direct = Direct(uid: 1002);
            yield return SpamVerdict.Analyze(direct, new VerdictOptions { UserNames = names, Family = family });
            yield return SpamVerdict.Analyze(direct, new VerdictOptions { UserNames = withMail, Family = family });
            yield return SpamVerdict.Analyze(direct, new VerdictOptions { UserNames = names, Family = family, DirectToMxMinDestinations = 1000 }); // unclear
            yield return SpamVerdict.Analyze(direct, new VerdictOptions { UserNames = names, Family = family, WebUsers = [name] });
            yield return SpamVerdict.Analyze(direct, new VerdictOptions { UserNames = names, Family = family, MailUsers = [name] });
            yield return SpamVerdict.Analyze(direct, new VerdictOptions { UserNames = names, Family = family, ProxyUsers = [name] });
            yield return SpamVerdict.Analyze(Direct(uid: 33), new VerdictOptions { UserNames = new Dictionary<uint, string>(names) { [107] = name }, Family = family, MailUsers = [name] }); // owner rule names the mail user
            yield return SpamVerdict.Analyze(Relay(), new VerdictOptions { UserNames = names, Family = family });
            yield return SpamVerdict.Analyze(Retry(), new VerdictOptions { UserNames = names, Family = family });

            // Forwarded clients behind an interface named so: through the parser where a kernel line can carry it,
            // and through the prefix (any text) to test the advice itself.
            foreach (bool anyText in new[] { false, true })
            {
                if (anyText ? name.Contains('\n', StringComparison.Ordinal) : !ParserKeeps(name)) // a line cannot hold a line break
                {
                    continue;
                }

                yield return SpamVerdict.Analyze(Forwarded(name, clients: 12, destinations: 200, anyText), new VerdictOptions { UserNames = names, Family = family }); // proxy relay
                yield return SpamVerdict.Analyze(Forwarded(name, clients: 1, destinations: 200, anyText), new VerdictOptions { Family = family }); // direct-to-MX
                yield return SpamVerdict.Analyze(Forwarded(name, clients: 1, destinations: 2, anyText), new VerdictOptions { Family = family }); // retrying
            }

            // No UID: the source address, and the --log-uid advice.
            yield return SpamVerdict.Analyze(Direct(uid: null), new VerdictOptions { Family = family });

            // No LOG line at all: the diagnosis and its rules (no name from a log in them, but shell syntax all the same).
            yield return SpamVerdict.Analyze(new TrafficStats(), new ScanTotals(), new VerdictOptions { Family = family });

            // Forged records: a writer's command named so (journal), and a device no kernel can print named so.
            yield return SpamVerdict.Analyze(Forged(name), new VerdictOptions { UserNames = names, Family = family });
            yield return SpamVerdict.Analyze(Forged(name, beside: Direct(uid: 1002)), new VerdictOptions { UserNames = names, Family = family });
        }
    }

    /// <summary>Forged records: a journal record whose writer's command is <paramref name="name"/>, and a kernel line whose device is (when no device can be called so).</summary>
    private static TrafficStats Forged(string name, TrafficStats? beside = null)
    {
        TrafficStats stats = beside ?? new TrafficStats();
        var parser = new LogLineParser();
        const string Body = "IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.113.9 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40001 DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=107 GID=113 ";
        var lines = new List<byte[]>
        {
            Encoding.UTF8.GetBytes("{\"_TRANSPORT\":\"syslog\",\"_UID\":\"1005\",\"_COMM\":" + System.Text.Json.JsonSerializer.Serialize(name, Json.Default.String) + ",\"SYSLOG_IDENTIFIER\":\"kernel\",\"MESSAGE\":\"" + Body + "\"}"),
        };
        if (!ParserKeeps(name) && name.IndexOfAny([' ', '\n', '\r']) < 0)
        {
            lines.Add(Encoding.UTF8.GetBytes("Nov 23 02:14:07 vps kernel: " + Body.Replace("OUT=eth0", "OUT=" + name, StringComparison.Ordinal)));
        }

        foreach (byte[] line in lines)
        {
            Assert.Equal(LineKind.Forged, parser.Parse(line, out LogRecord r));
            stats.Forged.Add(ref r);
        }

        return stats;
    }

    [System.Text.Json.Serialization.JsonSerializable(typeof(string))]
    private sealed partial class Json : System.Text.Json.Serialization.JsonSerializerContext;

    private static bool ParserKeeps(string name) =>
        Encoding.UTF8.GetByteCount(name) <= 15 && name.IndexOfAny(['/', ':', ' ', '\t', '\n', '\r', '\v', '\f']) < 0 && name is not ("." or "..") && !name.Contains("IN=", StringComparison.Ordinal);

    private static TrafficStats Direct(uint? uid)
    {
        var log = new SpamVerdictTests.Log();
        for (int i = 0; i < 120; i++)
        {
            log.Attempt(Start.AddSeconds(i * 5), uid, "192.0.2.10", Dst(i), 25, retransmissions: 1);
        }

        return log.Stats();
    }

    private static TrafficStats Relay()
    {
        var log = new SpamVerdictTests.Log();
        for (int i = 0; i < 220; i++)
        {
            log.Attempt(Start.AddSeconds(i * 2), 1002, "192.0.2.10", i % 2 == 0 ? "203.0.113.25" : "203.0.113.26", 587);
        }

        return log.Stats();
    }

    private static TrafficStats Retry()
    {
        var log = new SpamVerdictTests.Log();
        for (int i = 0; i < 60; i++)
        {
            log.Attempt(Start.AddMinutes(i), 1005, "192.0.2.10", "198.51.100.99", 25, retransmissions: 2);
        }

        return log.Stats();
    }

    private static TrafficStats Forwarded(string name, int clients, int destinations, bool anyText)
    {
        var log = new SpamVerdictTests.Log();
        for (int i = 0; i < 120; i++)
        {
            string src = string.Create(CultureInfo.InvariantCulture, $"10.8.0.{2 + (i % clients)}");
            if (anyText)
            {
                log.Attempt(Start.AddSeconds(i * 5), null, src, Dst(i % destinations), 25, inIf: "wg9", prefix: name);
            }
            else
            {
                log.Attempt(Start.AddSeconds(i * 5), null, src, Dst(i % destinations), 25, inIf: name);
            }
        }

        return log.Stats(interfaceFromPrefix: anyText);
    }

    private static string Dst(int i) => string.Create(CultureInfo.InvariantCulture, $"198.51.{100 + (i / 256)}.{i % 256}");

    /// <summary>The command itself, and for a comment "# label: command" of a stubbed command, the command in it (what a reader would paste).</summary>
    private static IEnumerable<string> Runnable(string command)
    {
        yield return command;
        if (CommentedCommand().Match(command) is { Success: true } m && Stubs.Contains(m.Groups[2].Value))
        {
            yield return m.Groups[1].Value;
        }
    }

    [GeneratedRegex(@"^#[^:]*:\s+(([\w-]+).*)$", RegexOptions.Singleline)]
    private static partial Regex CommentedCommand();

    /// <summary>A redirection to a file outside the sandbox (nft list ruleset > /etc/nftables.conf): our own text, not run (the tests may run as root).</summary>
    [GeneratedRegex(@">\s*/(?!dev/null)")]
    private static partial Regex WritesAFile();

    /// <summary>True when the command line names <paramref name="name"/> (as it is, or inside single quotes).</summary>
    private static bool Names(string line, string name) =>
        !Hostile.Contains(name) ? false : line.Contains(name.Replace("'", @"'\''", StringComparison.Ordinal), StringComparison.Ordinal);

    private static string Show(string s) => Regex.Replace(s, @"[\x00-\x1f\x7f\u202e]", m => $"\\x{(int)m.Value[0]:x2}");

    /// <summary>A temporary directory with stub commands, a place to record their calls, and an empty working directory; removed on dispose.</summary>
    private sealed class Sandbox : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), "mailguard-advice-" + Guid.NewGuid().ToString("N"));
        private readonly string _bin;
        private readonly string _calls;
        private readonly string _work;
        private readonly string _notFound;
        private readonly string _env;

        public Sandbox(IEnumerable<string> stubs)
        {
            _bin = Directory.CreateDirectory(Path.Combine(_root, "bin")).FullName;
            _calls = Directory.CreateDirectory(Path.Combine(_root, "calls")).FullName;
            _work = Directory.CreateDirectory(Path.Combine(_root, "work")).FullName;
            _notFound = Path.Combine(_root, "not-found");
            _env = Path.Combine(_root, "env.sh");
            try
            {
                foreach (string stub in stubs)
                {
                    string path = Path.Combine(_bin, stub);
                    File.WriteAllText(path, "#!/bin/bash\nprintf '%s\\0' \"${0##*/}\" \"$@\" > \"$STUB_CALLS/$BASHPID.$RANDOM$RANDOM\"\n");
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserExecute);
                }

                // Any command that is not a stub (id, touch, a file name…) is recorded instead of run.
                File.WriteAllText(_env, "command_not_found_handle() { printf '%s\\n' \"$1\" >> \"$STUB_NOT_FOUND\"; return 127; }\n");
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public sealed record Result(List<string> NotFound, List<string> NewFiles, List<string[]> Calls);

        public Result Run(string line)
        {
            var psi = new ProcessStartInfo("/bin/bash") { WorkingDirectory = _work, RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(line);
            psi.Environment.Clear();
            psi.Environment["PATH"] = _bin;
            psi.Environment["HOME"] = _work;
            psi.Environment["BASH_ENV"] = _env;
            psi.Environment["STUB_CALLS"] = _calls;
            psi.Environment["STUB_NOT_FOUND"] = _notFound;
            using (Process p = Process.Start(psi)!)
            {
                p.StandardOutput.ReadToEnd();
                p.StandardError.ReadToEnd();
                Assert.True(p.WaitForExit(10_000), "bash did not finish: " + line);
            }

            var calls = Directory.EnumerateFiles(_calls).Select(f => File.ReadAllText(f).TrimEnd('\0').Split('\0')).ToList();
            var notFound = File.Exists(_notFound) ? File.ReadAllLines(_notFound).ToList() : [];
            var made = Directory.EnumerateFileSystemEntries(_work).Select(Path.GetFileName).ToList();
            foreach (string f in Directory.EnumerateFiles(_calls).Append(_notFound))
            {
                File.Delete(f);
            }

            foreach (string f in Directory.EnumerateFileSystemEntries(_work))
            {
                if (Directory.Exists(f))
                {
                    Directory.Delete(f, recursive: true);
                }
                else
                {
                    File.Delete(f);
                }
            }

            return new Result(notFound, made!, calls);
        }

        public void Dispose() => Directory.Delete(_root, recursive: true);
    }
}
