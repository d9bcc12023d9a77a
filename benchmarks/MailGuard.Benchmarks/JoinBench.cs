using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using MailGuard.Parsing;

namespace MailGuard.Benchmarks;

/// <summary>
/// The cost of the join with an application log (issue 15): the generated kernel log of <see cref="ScanBench"/> (loggen,
/// traditional format, 30 % entries, seed 1) scanned alone, and with a Postfix mail.log written to match it
/// (benchmarks/compare/applog.py: a pickup, a delivery to the attempt's destination and port, and a removal per
/// new attempt, in the attempt's second). The difference over the attempts is the join's cost per attempt.
/// Size: <c>MAILGUARD_BENCH_MIB</c> (default 1024 MiB).
/// </summary>
[MemoryDiagnoser]
public class JoinBench
{
    private string _dir = "";
    private string _kern = "";
    private string _mail = "";
    private long _expectedEntries;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "mailguard-join-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(_dir);
        _kern = Path.Combine(_dir, "kern.log");
        _mail = Path.Combine(_dir, "mail.log");
        string loggen = Path.Combine(Repo.Root, "benchmarks", "MailGuard.LogGen", "bin", "Release", "net10.0", "loggen.dll");
        Tool.Run(Cleanup, "dotnet", loggen, "--out", _kern, "--size", ScanBench.SizeMiB.ToString(CultureInfo.InvariantCulture) + "MiB", "--entries", "30", "--seed", "1");
        Tool.Run(Cleanup, "python3", Path.Combine(Repo.Root, "benchmarks", "compare", "applog.py"), _kern, _mail);
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllBytes(_kern + ".expected.json"));
        _expectedEntries = expected.RootElement.GetProperty("totals").GetProperty("entries").GetInt64();
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    private static readonly MailScanOptions Options = new() { ReferenceTime = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), TimeZone = TimeZoneInfo.Utc };

    [Benchmark(Baseline = true, Description = "kern.log alone (MailScan.FilesAsync)")]
    public async Task<long> KernelOnly()
    {
        MailScanReport report = await MailScan.FilesAsync([_kern], Options).ConfigureAwait(false);
        return report.Totals.Entries == _expectedEntries ? report.All.Attempts : throw new InvalidOperationException("entries differ");
    }

    [Benchmark(Description = "kern.log + matching mail.log (the join)")]
    public async Task<long> WithMailLog()
    {
        MailScanReport report = await MailScan.FilesAsync([_kern, _mail], Options).ConfigureAwait(false);
        Attribution join = report.Attribution ?? throw new InvalidOperationException("mail.log was not recognised");
        return report.Totals.Entries == _expectedEntries && join.Attempts == report.All.Attempts ? join.Explained : throw new InvalidOperationException("entries differ");
    }
}
