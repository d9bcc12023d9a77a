using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using MailGuard.Testing;

namespace MailGuard.Cli.Tests;

/// <summary>
/// The real mgscan on mutated logs (text, journal JSON, gzip), fixed seed: it never crashes, exits 0, 1, 2 or 3, and
/// whatever it prints with <c>--format json</c> is one valid report. <c>MAILGUARD_FUZZ_RUNS</c> and
/// <c>MAILGUARD_FUZZ_SEED</c> make a longer run (docs/fuzzing.md).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class FuzzJsonTests
{
    private static readonly int s_runs = Setting("MAILGUARD_FUZZ_RUNS", 16);
    private static readonly int s_seed = Setting("MAILGUARD_FUZZ_SEED", 20261207);

    private static int Setting(string name, int value) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out int set) && set > 0 ? set : value;

    private static readonly string[] s_seeds = ["kern.log", "journal.json", "journal-forged.json", "incident-proxy.log", "syslog-rfc5424.log", "kmsg.txt"];

    [Fact]
    public void Mgscan_MutatedLogs_AlwaysGiveOneValidJsonReport()
    {
        var mutator = new Mutator(s_seed);
        using var dir = new TempDir();
        for (int run = 0; run < s_runs; run++)
        {
            byte[] sample = File.ReadAllBytes(Path.Combine(MgscanTests.Root, "samples/logs", s_seeds[run % s_seeds.Length]));
            bool gzip = run % 4 == 3;
            byte[] log = gzip ? mutator.Mutate(Compress(sample), maxSteps: 3) : mutator.Mutate(sample, maxSteps: 12);
            string file = Path.Combine(dir.Path, string.Create(CultureInfo.InvariantCulture, $"run{run}{(gzip ? ".gz" : ".log")}"));
            File.WriteAllBytes(file, log);

            (int code, string stdout, string stderr) = MgscanTests.Run(null, "--format", "json", "--all", file);
            string what = string.Create(CultureInfo.InvariantCulture, $"seed {s_seed}, run {run} ({s_seeds[run % s_seeds.Length]}{(gzip ? ", gzip" : "")}): exit {code}, stderr: {stderr}");
            Assert.True(code is 0 or 1 or 2 or 3, what);
            Assert.DoesNotContain("Unhandled", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
            Assert.True(code == 2 || stdout.Length > 0, what);
            if (stdout.Length > 0)
            {
                using var doc = JsonDocument.Parse(stdout); // throws on anything but one JSON document
                Assert.Equal("mailguard.report/1", doc.RootElement.GetProperty("schema").GetString());
            }
        }
    }

    private static byte[] Compress(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var z = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            z.Write(data);
        }

        return buffer.ToArray();
    }
}
