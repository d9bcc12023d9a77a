using System.Globalization;
using System.Text;
using MailGuard.Testing;

namespace MailGuard.Parsing.Tests;

/// <summary>
/// Mutation fuzzing with fixed seeds, bounded for CI: every sample and reference line, mutated, through the line
/// parser in every mode and through the scanner's two paths (a span and a stream), which must agree. A longer run
/// for a release: <c>MAILGUARD_FUZZ_ITERATIONS=2000000 MAILGUARD_FUZZ_SEED=7 dotnet test --project tests/MailGuard.Parsing.Tests
/// -- --filter-class MailGuard.Parsing.Tests.FuzzTests</c> (docs/fuzzing.md).
/// </summary>
public class FuzzTests
{
    private static readonly int s_iterations = Setting("MAILGUARD_FUZZ_ITERATIONS", 150_000);
    private static readonly int s_seed = Setting("MAILGUARD_FUZZ_SEED", 20261207);

    private static int Setting(string name, int value) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out int set) && set > 0 ? set : value;

    /// <summary>Every line of every sample log (the application logs of samples/logs/apps too), the reference LOG bodies in three wrappers, and journal JSON records.</summary>
    internal static List<byte[]> Corpus { get; } = BuildCorpus();

    private static List<byte[]> BuildCorpus()
    {
        var corpus = new List<byte[]>();
        foreach (string file in Directory.EnumerateFiles(Repo.Samples, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(file);
            if (name is "README.md" or "expected.json" or "incidents.json" or "truth.json" or "passwd" or ".gitattributes" or "capture-info.txt")
            {
                continue;
            }

            List<byte[]> lines = Repo.Lines(file);
            int step = Math.Max(1, lines.Count / 200); // the incident logs are long and alike
            for (int i = 0; i < lines.Count; i += step)
            {
                corpus.Add(lines[i]);
            }
        }

        foreach (TheoryDataRow<string, string, NetfilterParseStatus, string> row in ReferenceLines.Bodies)
        {
            string body = row.Data.Item2;
            corpus.Add(Encoding.UTF8.GetBytes("Nov 23 02:14:07 vps kernel: " + body));
            corpus.Add(Encoding.UTF8.GetBytes("<4>1 2026-11-23T02:14:07+00:00 vps kernel - - - " + body));
            corpus.Add(Encoding.UTF8.GetBytes("{\"_TRANSPORT\":\"kernel\",\"__REALTIME_TIMESTAMP\":\"1796610002355492\",\"MESSAGE\":\"" + body.Replace("\\", "\\\\", StringComparison.Ordinal) + "\"}"));
        }

        return corpus;
    }

    [Fact]
    public void Parse_MutatedLines_NeverThrowsAndKeepsItsInvariants()
    {
        var lean = new LogLineParser(new LogLineParserOptions { LeanEntries = true, SkipOtherLines = true });
        var full = new LogLineParser(new LogLineParserOptions { Filter = PrefixFilter.All });
        var bounded = new LogLineParser(new LogLineParserOptions { Ports = [25], Since = DateTimeOffset.UnixEpoch });
        var mutator = new Mutator(s_seed);
        byte[] input = [];
        try
        {
            for (int i = 0; i < s_iterations; i++)
            {
                input = mutator.Mutate(Corpus[mutator.Next(Corpus.Count)]);
                LineKind l = lean.Parse(input, out LogRecord r);
                Check(l, ref r);
                LineKind f = full.Parse(input, out r);
                Check(f, ref r);
                Check(bounded.Parse(input, out r), ref r);
            }
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            Assert.Fail($"seed {s_seed}: {e.GetType().Name} on {Escaped(input)}: {e}");
        }

        void Check(LineKind kind, ref LogRecord r)
        {
            Assert.True(Enum.IsDefined(kind), $"seed {s_seed}: kind {kind} for {Escaped(input)}");
            if (kind == LineKind.Entry)
            {
                Assert.True(r.Status == NetfilterParseStatus.Entry && r.Copies >= 1, $"seed {s_seed}: an entry without its fields for {Escaped(input)}");
            }

            if (kind == LineKind.Forged)
            {
                Assert.True(r.Envelope.Origin == LineOrigin.Process || r.Entry.Error == NetfilterError.InvalidInterface, $"seed {s_seed}: forged without evidence: {Escaped(input)}");
            }
        }
    }

    [Fact]
    public async Task Scan_MutatedLogs_StreamAndSpanAgreeAndNeverThrow()
    {
        var mutator = new Mutator(s_seed + 1);
        int logs = Math.Max(200, s_iterations / 300);
        for (int n = 0; n < logs; n++)
        {
            // A log of 1-40 lines from the corpus, mutated as a whole (lines joined, split, cut).
            var text = new List<byte>();
            int count = 1 + mutator.Next(40);
            for (int k = 0; k < count; k++)
            {
                text.AddRange(Corpus[mutator.Next(Corpus.Count)]);
                text.Add((byte)'\n');
            }

            byte[] log = mutator.Mutate([.. text], maxSteps: 8);
            try
            {
                var spanScanner = new LogScanner(Options());
                var spanSink = new TrafficStatsSink(new TrafficStats());
                spanScanner.Scan(log, ref spanSink);

                var streamScanner = new LogScanner(Options());
                TrafficStatsSink streamSink = await streamScanner.ScanAsync(new MemoryStream(log), new TrafficStatsSink(new TrafficStats()), TestContext.Current.CancellationToken);

                Assert.Equal(Describe(spanScanner.Totals, spanSink.Stats), Describe(streamScanner.Totals, streamSink.Stats));
                Assert.Equal(spanScanner.Totals.Entries, spanSink.Stats.All.Count);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"seed {s_seed + 1}, log {n}: {e.GetType().Name} on {Escaped(log)}: {e}");
            }
        }

        static LogScannerOptions Options() => new()
        {
            MaxLineLength = 512, // over-long lines come up too
            Parser = new LogLineParserOptions { LeanEntries = true, SkipOtherLines = true, Envelope = new EnvelopeOptions { ReferenceTime = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero) } },
        };
    }

    private static string Describe(ScanTotals t, TrafficStats s) => string.Create(CultureInfo.InvariantCulture,
        $"bytes={t.Bytes} lines={t.Lines} entries={t.Entries} malformed={t.Malformed} other={t.OtherPrefix} look={t.LookAlike} blobs={t.Blobs} long={t.OverlongLines} nul={t.BinaryLines} forged={t.Forged} capped={t.CappedRepeatNotices}/{t.CappedRepeatCopies} dsts={s.All.DistinctDestinations} forgedStats={s.Forged.Count}");

    internal static string Escaped(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder();
        foreach (byte b in bytes)
        {
            sb.Append(b is >= 0x20 and < 0x7F and not (byte)'\\' ? ((char)b).ToString() : string.Create(CultureInfo.InvariantCulture, $"\\x{b:x2}"));
        }

        return sb.ToString();
    }
}
