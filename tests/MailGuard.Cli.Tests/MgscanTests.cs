using System.Diagnostics;

namespace MailGuard.Cli.Tests;

/// <summary>Runs the real mgscan (the built mgscan.dll) and checks stdout, stderr and the exit code.</summary>
public class MgscanTests
{
    private static readonly string Root = FindRoot();

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

    internal static (int Code, string Out, string Err) Run(string? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = Root,
        };
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
            p.StandardInput.Write(stdin);
        }

        p.StandardInput.Close();
        Assert.True(p.WaitForExit(60_000), "mgscan did not finish within 60 s");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Mgscan_SampleKernLog_ListsEveryEntryAndSummarises()
    {
        (int code, string stdout, string stderr) = Run(null, "samples/logs/kern.log");
        Assert.Equal(0, code);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(55, lines.Length);
        Assert.Equal(42, lines.Count(l => l.EndsWith("rule=25", StringComparison.Ordinal)));
        Assert.Equal(28, lines.Count(l => l.Contains("uid=1001", StringComparison.Ordinal) && l.EndsWith("rule=25", StringComparison.Ordinal)));
        Assert.Contains("73 lines, 55 entries, 8 other netfilter entries, 0 malformed", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Mgscan_StandardInput_EqualsTheFile()
    {
        string text = File.ReadAllText(Path.Combine(Root, "samples/logs/kern.log"));
        (int code, string fromStdin, _) = Run(text);
        (_, string fromFile, _) = Run(null, "samples/logs/kern.log");
        Assert.Equal(0, code);
        Assert.Equal(fromFile, fromStdin);
    }

    [Fact]
    public void Mgscan_MissingFile_NamesItAndExits2ButReadsTheOthers()
    {
        (int code, string stdout, string stderr) = Run(null, "no/such/file.log", "samples/logs/kern.log");
        Assert.Equal(2, code);
        Assert.Contains("mgscan: no/such/file.log: no such file", stderr, StringComparison.Ordinal);
        Assert.Equal(55, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Mgscan_NoEntries_Exits1()
    {
        (int code, string stdout, _) = Run("Nov 23 02:14:07 vps sshd[1]: hello\n");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void Mgscan_AllOption_SelectsEveryNetfilterEntry()
    {
        (int code, string stdout, _) = Run(null, "--all", "samples/logs/kern.log");
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
}
