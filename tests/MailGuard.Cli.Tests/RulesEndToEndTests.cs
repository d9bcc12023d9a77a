using System.Diagnostics;
using System.Text.Json;

namespace MailGuard.Cli.Tests;

/// <summary>
/// <c>mgscan rules</c> end to end, as root (EndToEnd/rules-e2e.sh does the system part): the printed rules loaded into
/// network namespaces made for the test, real connections of uid 1001 logged by the kernel, collected by a private
/// systemd-journald, read by the real mgscan; and <c>mgscan rules --check</c> on the live namespaces. Skipped, saying
/// why, without root or a tool; every namespace, cgroup, daemon and sysctl is undone on every path (the script's trap,
/// and <see cref="Cleanup"/> if the script is killed). Budget: frontends about 25 s (firewalld and ufw start slowly),
/// services about 6 s.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class RulesEndToEndTests(ITestOutputHelper output)
{
    private static readonly string Script = Path.Combine(MgscanTests.Root, "tests", "MailGuard.Cli.Tests", "EndToEnd", "rules-e2e.sh");

    /// <summary>Tools the script needs, with the Debian package that has each.</summary>
    private static readonly (string Tool, string Package)[] Needed =
    [
        ("ip", "iproute2"), ("iptables", "iptables"), ("ip6tables", "iptables"), ("iptables-restore", "iptables"), ("nft", "nftables"),
        ("setpriv", "util-linux"), ("unshare", "util-linux"), ("journalctl", "systemd"), ("/lib/systemd/systemd-journald", "systemd"),
        ("/usr/bin/python3", "python3"), ("sysctl", "procps"), ("timeout", "coreutils"),
    ];

    [Fact]
    public void Rules_EveryFrontEndLoadedInANamespace_LogsUid1001_AndTheCheckJudgesTheLiveRules()
    {
        using var dir = new TempDir();
        string net = Run("frontends", dir.Path);
        string[] loaded = File.ReadAllLines(Path.Combine(dir.Path, "loaded.txt"));
        output.WriteLine("front-ends loaded and tested: " + string.Join(", ", loaded));
        Assert.Contains("iptables", loaded);
        Assert.Contains("nft", loaded);
        string journal = File.ReadAllText(Path.Combine(dir.Path, "journal.json"));
        for (int i = 0; i < loaded.Length; i++)
        {
            // namespace N (1 iptables, 2 nft, 3 ufw, 4 firewalld) sent two SYNs to port 25 as uid 1001
            int n = loaded[i] switch { "iptables" => 1, "nft" => 2, "ufw" => 3, _ => 4 };
            JsonElement report = Mgscan(journal, $"{net}.{n}");
            JsonElement culprit = report.GetProperty("verdict").GetProperty("culprit");
            Assert.Equal("uid 1001", culprit.GetProperty("label").GetString());
            Assert.Equal(2, culprit.GetProperty("attempts").GetInt32());
            Assert.Equal(2, report.GetProperty("totals").GetProperty("entries").GetInt64());
        }

        Assert.Equal("0", File.ReadAllText(Path.Combine(dir.Path, "check-ipt.rc")).Trim());
        Assert.Contains("Complete: every mail port is logged with the UID", File.ReadAllText(Path.Combine(dir.Path, "check-ipt.txt")), StringComparison.Ordinal);
        Assert.Equal("0", File.ReadAllText(Path.Combine(dir.Path, "check-nft.rc")).Trim());
        Assert.Equal("1", File.ReadAllText(Path.Combine(dir.Path, "check-bad.rc")).Trim());
        string bad = File.ReadAllText(Path.Combine(dir.Path, "check-bad.txt"));
        Assert.Contains("MISSING IPv4 port 25: logged without the UID by iptables filter/OUTPUT rule 1: add --log-uid", bad, StringComparison.Ordinal);
    }

    [Fact]
    public void Rules_PerService_TwoServicesOfOneUid_ToldApartInTheReport()
    {
        using var dir = new TempDir();
        string net = Run("services", dir.Path);
        string journal = File.ReadAllText(Path.Combine(dir.Path, "journal.json"));
        foreach (int n in (int[])[6, 7]) // 6: iptables -m cgroup, 7: nft socket cgroupv2
        {
            JsonElement report = Mgscan(journal, $"{net}.{n}");
            var actors = report.GetProperty("actors").EnumerateArray()
                .ToDictionary(a => a.GetProperty("label").GetString()!, a => a.GetProperty("attempts").GetInt32());
            output.WriteLine($"{net}.{n}: " + string.Join(", ", actors.Select(a => $"{a.Key} {a.Value}")));
            Assert.Equal(new Dictionary<string, int> { ["service a (uid 1001)"] = 2, ["service b (uid 1001)"] = 3, ["uid 1001"] = 1 }, actors);
            Assert.Equal(6, report.GetProperty("totals").GetProperty("entries").GetInt64()); // each attempt logged once
        }
    }

    /// <summary>Runs the script (skipping the test when it cannot run here); returns the run's /24 prefix.</summary>
    private string Run(string mode, string work)
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            Assert.Skip("needs root on Linux: it makes network namespaces, cgroups and a private journald");
        }

        string[] missing = [.. Needed.Where(t => !OnPath(t.Tool)).Select(t => $"{t.Tool} (Debian package {t.Package})")];
        if (missing.Length > 0)
        {
            Assert.Skip("missing: " + string.Join(", ", missing));
        }

        if (!File.ReadAllText("/proc/self/mountinfo").Contains(" - cgroup2 ", StringComparison.Ordinal))
        {
            Assert.Skip("no cgroup v2 mount (the per-service rules match cgroup v2 paths)");
        }

        File.SetUnixFileMode(work, (UnixFileMode)0b111_101_101); // uid 1001 runs tx.py from here
        File.Copy(Path.Combine(MgscanTests.Root, "samples", "capture", "tx.py"), Path.Combine(work, "tx.py"));
        string net = $"10.{Random.Shared.Next(100, 250)}.{Random.Shared.Next(0, 250)}";
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string a in (string[])[Script, mode, work, Path.Combine(AppContext.BaseDirectory, "mgscan.dll"), Path.Combine(work, "tx.py"), net])
        {
            psi.ArgumentList.Add(a);
        }

        var clock = Stopwatch.StartNew();
        using Process p = Process.Start(psi)!;
        p.StandardInput.Close();
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        bool done = p.WaitForExit(240_000); // firewalld alone may take 45 s to start on a loaded machine
        if (!done)
        {
            p.Kill(entireProcessTree: true); // SIGKILL: no trap runs
            Cleanup(p.Id);
        }

        output.WriteLine($"rules-e2e.sh {mode}: {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine(stderr.Result);
        Assert.True(done, "rules-e2e.sh did not finish within 120 s");
        Assert.True(p.ExitCode == 0, $"rules-e2e.sh {mode} failed (exit {p.ExitCode}): {stderr.Result} {stdout.Result}");
        return net;
    }

    /// <summary>What the script's trap undoes, for a script that was killed: its namespaces (named after its PID), the sysctl.</summary>
    private static void Cleanup(int pid)
    {
        foreach (string ns in (string[])["ipt", "nft", "ufw", "fwd", "bad", "si", "sn"])
        {
            using Process? del = Process.Start("ip", ["netns", "del", $"mge-{ns}-{pid}"]);
            del?.WaitForExit(5_000);
        }

        File.WriteAllText("/proc/sys/net/netfilter/nf_log_all_netns", "0");
        string? cgroup2 = File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')).FirstOrDefault(f => f.Length > 8 && Array.IndexOf(f, "-") is int d and > 0 && f[d + 1] == "cgroup2")?[4];
        foreach (string unit in (string[])["a.service", "b.service"])
        {
            try
            {
                Directory.Delete(Path.Combine(cgroup2 ?? "/sys/fs/cgroup", "system.slice", unit)); // only when empty, as rmdir
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>mgscan's JSON report on the journal records from one namespace's address.</summary>
    private static JsonElement Mgscan(string journal, string src)
    {
        string lines = string.Join("\n", journal.Split('\n').Where(l => l.Contains($"SRC={src} ", StringComparison.Ordinal))) + "\n";
        (int code, string stdout, string stderr) = MgscanTests.Run(lines, "--format", "json");
        Assert.True(code == 0, $"mgscan exit {code}: {stderr}");
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    private static bool OnPath(string tool) =>
        tool.StartsWith('/') ? File.Exists(tool)
        : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin"]).Any(d => File.Exists(Path.Combine(d, tool)));
}
