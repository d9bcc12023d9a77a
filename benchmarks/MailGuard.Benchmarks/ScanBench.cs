using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using MailGuard.Parsing;

namespace MailGuard.Benchmarks;

/// <summary>
/// The whole library path over a generated log on disk: file read, line split, envelope, entry, filter,
/// every histogram (<see cref="TrafficStats"/>). The log comes from loggen (traditional rsyslog format,
/// 100,000 Zipf destinations, seed 1) and every run is checked against loggen's expected entry count.
/// Size: <c>MAILGUARD_BENCH_MIB</c> (default 1024 MiB; CI's smoke run uses a small one).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class ScanBench
{
    private string _file = "";
    private long _expectedEntries;

    /// <summary>Share of lines that are <c>IPTABLES TCP-OUT</c> entries.</summary>
    [Params(30, 100)]
    public int EntriesPercent { get; set; }

    /// <summary>The size of the generated log in MiB.</summary>
    public static int SizeMiB => int.TryParse(Environment.GetEnvironmentVariable("MAILGUARD_BENCH_MIB"), NumberStyles.None, CultureInfo.InvariantCulture, out int mib) && mib > 0 ? mib : 1024;

    [GlobalSetup]
    public void Setup()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mailguard-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        _file = Path.Combine(dir, $"traditional-{EntriesPercent}.log");
        string loggen = Path.Combine(Repo.Root, "benchmarks", "MailGuard.LogGen", "bin", "Release", "net10.0", "loggen.dll");
        string otherPrefix = EntriesPercent >= 97 ? "0" : "3"; // every line an entry leaves no room for other prefixes
        Tool.Run(Cleanup, "dotnet", loggen, "--out", _file, "--size", SizeMiB.ToString(CultureInfo.InvariantCulture) + "MiB", "--entries", EntriesPercent.ToString(CultureInfo.InvariantCulture), "--other-prefix", otherPrefix, "--seed", "1");

        using JsonDocument expected = JsonDocument.Parse(File.ReadAllBytes(_file + ".expected.json"));
        _expectedEntries = expected.RootElement.GetProperty("totals").GetProperty("entries").GetInt64();
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(Path.GetDirectoryName(_file)!, recursive: true);

    [Benchmark(Description = "LogScanner + TrafficStats over the file")]
    public async Task<long> ScanFile()
    {
        var stats = new TrafficStats();
        var scanner = new LogScanner(new LogScannerOptions { Parser = new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero) } } });
        await using var file = new FileStream(_file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        await scanner.ScanAsync(file, new TrafficStatsSink(stats)).ConfigureAwait(false);
        if (scanner.Totals.Entries != _expectedEntries || stats.All.Count != _expectedEntries)
        {
            throw new InvalidOperationException($"{scanner.Totals.Entries} entries, loggen wrote {_expectedEntries}");
        }

        return stats.All.Count;
    }

    [Benchmark(Description = "MailScan.FilesAsync (mgscan's path: all cores)")]
    public async Task<long> MailScanFile()
    {
        MailScanReport report = await MailScan.FilesAsync([_file], Options).ConfigureAwait(false);
        return Check(report.Totals.Entries);
    }

    [Benchmark(Description = "MailScan.FilesAsync + OnEntry (a MailEntry per entry)")]
    public async Task<long> MailScanEntries()
    {
        long n = 0;
        MailScanReport report = await MailScan.FilesAsync([_file], Options with { OnEntry = e => n += e.Copies }).ConfigureAwait(false);
        return Check(n == report.Totals.Entries ? n : -1);
    }

    private static readonly MailScanOptions Options = new() { ReferenceTime = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), TimeZone = TimeZoneInfo.Utc };

    private long Check(long entries) => entries == _expectedEntries ? entries : throw new InvalidOperationException($"{entries} entries, loggen wrote {_expectedEntries}");

    [Benchmark(Description = "LogScanner only (entries counted)")]
    public async Task<long> ScanOnly()
    {
        var scanner = new LogScanner(new LogScannerOptions { Parser = new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero) } } });
        await using var file = new FileStream(_file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        CountSink sink = await scanner.ScanAsync(file, default(CountSink)).ConfigureAwait(false);
        if (sink.Entries != _expectedEntries)
        {
            throw new InvalidOperationException($"{sink.Entries} entries, loggen wrote {_expectedEntries}");
        }

        return sink.Entries;
    }

    private struct CountSink : ILogSink
    {
        public long Entries;

        public void OnLine(LineKind kind, ref LogRecord record)
        {
            if (kind == LineKind.Entry)
            {
                Entries += record.Copies;
            }
        }
    }

    /// <summary>Adds a MB/s column: the file size over the mean time.</summary>
    private sealed class ThroughputConfig : ManualConfig
    {
        public ThroughputConfig() => AddColumn(new ThroughputColumn());
    }

    private sealed class ThroughputColumn : IColumn
    {
        public string Id => nameof(ThroughputColumn);

        public string ColumnName => "MB/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Decimal megabytes of log per second (file size / mean)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
            return meanNs is > 0 ? (SizeMiB * 1048576.0 / 1e6 / (meanNs.Value / 1e9)).ToString("N0", CultureInfo.InvariantCulture) : "-";
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}

internal static class Repo
{
    /// <summary>The checkout's root (the folder holding MailGuard.sln), found upwards from the running benchmark.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MailGuard.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("MailGuard.sln not found above " + AppContext.BaseDirectory);
    }
}
