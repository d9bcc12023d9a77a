namespace MailGuard.Cli.Tests;

/// <summary>mgscan rules as a command: what it prints, its exit codes, and one line on stderr with exit 2 for every wrong option.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class RulesCommandTests
{
    private static string Ruleset(string name) => Path.Combine("samples", "rulesets", name);

    [Fact]
    public void Rules_NoOption_EveryFrontEnd_Exit0()
    {
        (int code, string stdout, string stderr) = MgscanTests.Run(null, "rules");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        foreach (string fe in (string[])["iptables", "iptables-restore", "nft", "firewalld", "ufw"])
        {
            Assert.Contains($"# ===== {fe} (mgscan rules --front-end {fe}) =====\n", stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Rules_FrontEndNft_TheGoldenFileOfItsOptions()
    {
        (int code, string stdout, _) = MgscanTests.Run(null, "rules", "--front-end", "nft", "--allow-user", "postfix", "--per-service", "v2ray.service", "shadowsocks-libev");
        Assert.Equal(0, code);
        Assert.Equal(File.ReadAllText(Path.Combine(MgscanTests.Root, "samples", "rulesets", "golden", "mailguard.nft")), stdout);
    }

    [Fact]
    public void Rules_PerServiceWithBackslash_FirewalldSectionSaysWhyNot()
    {
        (int code, string stdout, _) = MgscanTests.Run(null, "rules", "--per-service", "vpn@my\\x2dnet");
        Assert.Equal(0, code);
        Assert.Contains("# not possible: 'vpn@my\\x2dnet.service': firewalld hands direct rules to iptables-restore", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "Complete: every mail port", "complete.v4", "complete.v6")]
    [InlineData(0, "Complete: every mail port", "complete.nft.json")]
    [InlineData(1, "MISSING IPv4 port 25: logged without the UID", "no-uid.v4")]
    [InlineData(1, "MISSING IPv6: no IPv6 ruleset was read", "complete.v4")]
    [InlineData(1, "MISSING IPv4 port 25: not logged: dropped by iptables filter/OUTPUT rule 1", "log-after-drop.v4")]
    public void RulesCheck_Files_ExitSaysComplete(int exit, string says, params string[] files)
    {
        (int code, string stdout, string stderr) = MgscanTests.Run(null, ["rules", "--check", .. files.Select(Ruleset)]);
        Assert.Equal("", stderr);
        Assert.Equal(exit, code);
        Assert.Contains(says, stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void RulesCheck_StandardInput_ReadLikeAFile()
    {
        (int code, string stdout, _) = MgscanTests.RunBytes(File.ReadAllBytes(Path.Combine(MgscanTests.Root, Ruleset("complete.nft.json"))), "rules", "--check", "-");
        Assert.Equal(0, code);
        Assert.StartsWith("mgscan rules --check: - (nft: IPv4 and IPv6)", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void RulesCheck_RuleTextWithControlCharacters_Escaped()
    {
        using var dir = new TempDir();
        dir.Write("evil.v4", System.Text.Encoding.UTF8.GetBytes("*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp --dport 25 -j LOG --log-prefix \"\u001b]0;x\u0007 25:\" --log-uid\nCOMMIT\n"));
        (int code, string stdout, _) = OptionTests.Run(dir.Path, "UTC", "rules", "--check", "evil.v4");
        Assert.Equal(1, code);
        Assert.DoesNotContain('\u001b', stdout);
        Assert.Contains("\\x1b]0;x\\x07 25:", stdout, StringComparison.Ordinal);
    }

    public static TheoryData<string[], string, string> WrongCommandLines() => new()
    {
        { ["rules", "--front-end", "pf"], "--front-end: 'pf'", "nft" },
        { ["rules", "--action", "tarpit"], "--action: 'tarpit'", "log-only" },
        { ["rules", "--allow-user", "root;id"], "--allow-user: 'root;id'", "user names" },
        { ["rules", "--per-service", "a;b"], "--per-service: 'a;b'", "systemd service" },
        { ["rules", "--per-service", "ssh.socket"], "--per-service: 'ssh.socket'", "systemd service" },
        { ["rules", "--per-service", "shadowsocks-libev-a", "shadowsocks-libev-b"], "'shadowsocks-libev-a.service' and 'shadowsocks-libev-b.service' give the same log prefix", "29 characters" },
        { ["rules", "--log-limit", "0/second"], "--log-limit: '0/second'", "10/second" },
        { ["rules", "--log-burst", "0"], "--log-burst: '0'", "10000" },
        { ["rules", "--mail-ports", "foo"], "--mail-ports: 'foo'", "port number" },
        { ["rules", "--frobnicate"], "--frobnicate: no such option", "mgscan rules --help" },
        { ["rules", "rules.v4"], "rules: 'rules.v4': a ruleset is read only with --check", "" },
        { ["rules", "--check", "samples/rulesets/nope.v4"], "samples/rulesets/nope.v4: no such file", "" },
        { ["rules", "--check", "samples/logs/kern.log"], "samples/logs/kern.log: not a ruleset mgscan reads", "before any table" },
        { ["rules", "--check", "samples/rulesets/golden/mailguard.nft"], "samples/rulesets/golden/mailguard.nft: not a ruleset mgscan reads", "nft -j list ruleset" },
    };

    [Theory]
    [MemberData(nameof(WrongCommandLines))]
    public void Rules_WrongCommandLine_OneLineOnStderr_NothingOnStdout_Exit2(string[] args, string names, string says)
    {
        (int code, string stdout, string stderr) = MgscanTests.Run(null, args);
        Assert.Equal("", stdout);
        Assert.Equal(2, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("mgscan: " + names, line, StringComparison.Ordinal);
        Assert.Contains(says, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RulesCheck_LiveWithoutRoot_SaysHow_Exit2()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            (int code, string o, string e) = MgscanTests.Run(null, "rules", "--check");
            Assert.Equal(2, code);
            Assert.Equal("", o);
            Assert.Contains("needs root: sudo mgscan rules --check", e, StringComparison.Ordinal);
            return;
        }

        // as root: mgscan as nobody, from a copy of the app nobody can read (as InputTests does)
        using var dir = new TempDir();
        string bin = Path.Combine(dir.Path, "bin");
        Directory.CreateDirectory(bin);
        foreach (string f in Directory.EnumerateFiles(AppContext.BaseDirectory).Where(f => f.EndsWith(".dll", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal)))
        {
            File.Copy(f, Path.Combine(bin, Path.GetFileName(f)));
        }

        File.SetUnixFileMode(dir.Path, (UnixFileMode)0x1ED); // 755
        var psi = new System.Diagnostics.ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir.Path };
        psi.Environment["DOTNET_CLI_HOME"] = dir.Path;
        foreach (string a in (string[])["--reuid=65534", "--regid=65534", "--clear-groups", "--", "dotnet", Path.Combine(bin, "mgscan.dll"), "rules", "--check"])
        {
            psi.ArgumentList.Add(a);
        }

        using System.Diagnostics.Process p = System.Diagnostics.Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        string stderr = await p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        Assert.True(p.WaitForExit(60_000));
        Assert.Equal(2, p.ExitCode);
        Assert.Equal("", await stdout);
        Assert.Contains("needs root: sudo mgscan rules --check", stderr, StringComparison.Ordinal);
    }
}
