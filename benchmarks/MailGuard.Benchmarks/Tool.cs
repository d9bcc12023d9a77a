using System.Diagnostics;

namespace MailGuard.Benchmarks;

/// <summary>Runs a tool the benchmarks need to make their input (loggen, applog.py).</summary>
internal static class Tool
{
    /// <summary>Runs <paramref name="program"/> to its end; on failure calls <paramref name="cleanup"/> and throws with its standard error.</summary>
    public static void Run(Action cleanup, string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardError = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            cleanup();
            throw new InvalidOperationException($"{program} {args[0]} failed ({p.ExitCode}): {err}");
        }
    }
}
