using System.Diagnostics;
using System.IO.Compression;
using System.IO.Pipes;
using System.Text;
using MailGuard.Parsing.Internals;

namespace MailGuard.Parsing.Tests;

/// <summary>Compressed input through <see cref="LogScanner.OpenMaybeGzip"/>: every byte that decodes is read, damage is reported with what and where.</summary>
public class CompressedDataExceptionTests
{
    private static readonly DateTimeOffset Reference = new(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);

    /// <summary>About 2.6 MB of varied lines (entries and other kernel lines): more than the 1 MiB decoded ahead, and not trivially compressible.</summary>
    private static readonly byte[] Text = MakeText(20_000);

    private struct CountingSink : ILogSink
    {
        public long Entries;
        public long Lines;

        public void OnLine(LineKind kind, ref LogRecord record)
        {
            Lines++;
            if (kind == LineKind.Entry)
            {
                Entries += record.Copies;
            }
        }
    }

    private sealed record Outcome(long Lines, long Entries, long Bytes, Exception? Error);

    private static byte[] MakeText(int lines)
    {
        var random = new Random(11);
        var sb = new StringBuilder();
        for (int i = 0; i < lines; i++)
        {
            sb.Append(i % 3 == 0
                ? $"Nov 23 02:{i / 600 % 60:D2}:{i / 10 % 60:D2} vps kernel: [{i}.{random.Next(1_000_000):D6}] eth0: link check {random.Next()}\n"
                : $"Nov 23 02:{i / 600 % 60:D2}:{i / 10 % 60:D2} vps kernel: IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=198.51.{random.Next(256)}.{random.Next(256)} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID={random.Next(65536)} DF PROTO=TCP SPT={random.Next(1024, 65536)} DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001 \n");
        }

        return Encoding.ASCII.GetBytes(sb.ToString());
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

    /// <summary>What the reference decompressor (.NET's GZipStream, zlib: what zcat recovers) gets out of possibly damaged gzip.</summary>
    private static byte[] Recovered(byte[] gz)
    {
        using var z = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        var text = new MemoryStream();
        byte[] buffer = new byte[1]; // byte by byte: nothing lost when it throws
        try
        {
            while (z.Read(buffer) > 0)
            {
                text.WriteByte(buffer[0]);
            }
        }
        catch (InvalidDataException)
        {
        }

        return text.ToArray();
    }

    private static LogScannerOptions Options() => new() { Parser = new LogLineParserOptions { Envelope = new EnvelopeOptions { ReferenceTime = Reference } } };

    private static async Task<Outcome> Scan(Stream input)
    {
        var scanner = new LogScanner(Options());
        var inputs = new[] { new LogInput("x", input) };
        CountingSink sink = await scanner.ScanAsync(inputs, new CountingSink(), TestContext.Current.CancellationToken);
        await input.DisposeAsync();
        Assert.Equal(scanner.Totals.Lines, sink.Lines);
        return new Outcome(sink.Lines, sink.Entries, scanner.Totals.Bytes, inputs[0].Error);
    }

    private static Task<Outcome> ScanCompressed(byte[] data, bool pipe = false) =>
        Scan(LogScanner.OpenMaybeGzip(pipe ? new NonSeekableStream(data) : new MemoryStream(data)));

    private static Task<Outcome> ScanPlain(byte[] text) => Scan(new MemoryStream(text));

    private static long Lines(byte[] text) => text.Count((byte)'\n') + (text.Length > 0 && text[^1] != (byte)'\n' ? 1 : 0);

    [Fact]
    public void GzipDecoder_NativeShim_IsUsable()
    {
        // Fails loudly if .NET changed the internal ABI of libSystem.IO.Compression.Native: gzip would fall back
        // to GZipStream, which reads damaged input without a word.
        Assert.True(GzipDecoder.IsUsable);
    }

    [Theory]
    [InlineData(10, false)]
    [InlineData(25, false)]
    [InlineData(50, false)]
    [InlineData(75, false)]
    [InlineData(99, false)]
    [InlineData(10, true)]
    [InlineData(50, true)]
    [InlineData(99, true)]
    public async Task OpenMaybeGzip_GzipCutShort_ReadsAllThatDecodesEveryTimeAndSaysWhereItEnds(int percent, bool pipe)
    {
        byte[] gz = Gzip(Text);
        byte[] cut = gz[..(int)(gz.LongLength * percent / 100)];
        byte[] recovered = Recovered(cut);
        Assert.NotEmpty(recovered);
        Outcome expected = await ScanPlain(recovered);
        for (int run = 0; run < 5; run++)
        {
            Outcome got = await ScanCompressed(cut, pipe);
            Assert.Equal((expected.Lines, expected.Entries, expected.Bytes), (got.Lines, got.Entries, got.Bytes));
            CompressedDataException e = Assert.IsType<CompressedDataException>(got.Error);
            Assert.Equal((CompressionFormat.Gzip, CompressedDamage.EndsEarly, cut.LongLength, 1), (e.Format, e.Damage, e.CompressedOffset, e.Member));
            Assert.Equal((recovered.LongLength, Lines(recovered)), (e.TextBytes, e.TextLines));
            Assert.Contains($"ends early (cut at byte {cut.Length:N0}?)", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task OpenMaybeGzip_ConcatenatedMembers_ReadsThemAllWithoutError()
    {
        int half = Array.LastIndexOf(Text, (byte)'\n', Text.Length / 2) + 1;
        byte[] gz = [.. Gzip(Text[..half]), .. Gzip(Text[half..]), .. Gzip([]), .. Gzip("last line without newline"u8.ToArray())];
        byte[] text = [.. Text, .. "last line without newline"u8];
        Assert.Equal(await ScanPlain(text), await ScanCompressed(gz));
        Assert.Equal(await ScanPlain(text), await ScanCompressed(gz, pipe: true));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(200_000)] // over several reads
    public async Task OpenMaybeGzip_TrailingZeroBytes_AreAcceptedAsGzipDoes(int zeros)
    {
        byte[] gz = [.. Gzip(Text), .. new byte[zeros]];
        Assert.Equal(await ScanPlain(Text), await ScanCompressed(gz));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("\0\0\0\0x")] // zeros and then something else
    [InlineData("\u001f")] // half a magic
    public async Task OpenMaybeGzip_TrailingGarbage_ReadsTheDataAndReportsWhereTheGarbageStarts(string garbage)
    {
        byte[] good = Gzip(Text);
        Outcome got = await ScanCompressed([.. good, .. Encoding.Latin1.GetBytes(garbage)]);
        Outcome expected = await ScanPlain(Text);
        Assert.Equal((expected.Lines, expected.Entries, expected.Bytes), (got.Lines, got.Entries, got.Bytes));
        CompressedDataException e = Assert.IsType<CompressedDataException>(got.Error);
        Assert.Equal((CompressedDamage.TrailingGarbage, good.LongLength, Text.LongLength), (e.Damage, e.CompressedOffset, e.TextBytes));
    }

    [Fact]
    public async Task OpenMaybeGzip_CorruptByteInTheMiddle_ReadsUpToItTheSameEveryTimeAndSaysWhere()
    {
        byte[] gz = Gzip(Text);
        int at = gz.Length / 2;
        gz[at] ^= 0x55;
        Outcome first = await ScanCompressed(gz);
        CompressedDataException e = Assert.IsType<CompressedDataException>(first.Error);
        Assert.Contains(e.Damage, new[] { CompressedDamage.CorruptData, CompressedDamage.ChecksumMismatch });
        Assert.InRange(e.CompressedOffset, at, gz.Length); // found at or after the damaged byte
        Assert.Equal(first.Bytes, e.TextBytes);
        Assert.True(first.Bytes > Text.Length / 4, $"only {first.Bytes} bytes read");
        for (int run = 0; run < 4; run++)
        {
            Outcome again = await ScanCompressed(gz);
            Assert.Equal((first.Lines, first.Entries, first.Bytes), (again.Lines, again.Entries, again.Bytes));
        }
    }

    [Theory]
    [InlineData(8, CompressedDamage.ChecksumMismatch)] // the trailer's CRC-32
    [InlineData(4, CompressedDamage.LengthMismatch)] // the trailer's length
    public async Task OpenMaybeGzip_WrongTrailer_ReadsAllTheTextAndNamesTheMember(int fromEnd, CompressedDamage damage)
    {
        byte[] second = Gzip(Text);
        second[^fromEnd] ^= 0x01;
        byte[] first = Gzip("first member\n"u8.ToArray());
        Outcome got = await ScanCompressed([.. first, .. second]);
        CompressedDataException e = Assert.IsType<CompressedDataException>(got.Error);
        Assert.Equal((damage, 2, first.LongLength + second.Length - fromEnd + 4), (e.Damage, e.Member, e.CompressedOffset)); // where the field read ends
        Assert.Equal(13 + Text.LongLength, got.Bytes);
        Assert.Contains("(member 2)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenMaybeGzip_SecondMemberCutShort_EndsEarlyInMember2()
    {
        byte[] first = Gzip("first member\n"u8.ToArray());
        byte[] second = Gzip(Text);
        byte[] gz = [.. first, .. second[..(second.Length / 2)]];
        Outcome got = await ScanCompressed(gz);
        CompressedDataException e = Assert.IsType<CompressedDataException>(got.Error);
        Assert.Equal((CompressedDamage.EndsEarly, 2, gz.LongLength), (e.Damage, e.Member, e.CompressedOffset));
        Assert.Equal(13 + Recovered(second[..(second.Length / 2)]).LongLength, got.Bytes);
    }

    /// <summary>Compresses with a system tool (xz, zstd, bzip2); null when it is not installed.</summary>
    private static byte[]? Tool(string tool, byte[] input)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(tool, ["-c"]) { RedirectStandardInput = true, RedirectStandardOutput = true })!;
            Task<byte[]> output = Task.Run(() =>
            {
                var ms = new MemoryStream();
                p.StandardOutput.BaseStream.CopyTo(ms);
                return ms.ToArray();
            });
            p.StandardInput.BaseStream.Write(input);
            p.StandardInput.Close();
            p.WaitForExit();
            return p.ExitCode == 0 ? output.Result : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static byte[] ToolOrSkip(string tool, byte[] input)
    {
        byte[]? packed = Tool(tool, input);
        if (packed is null)
        {
            Assert.Skip($"'{tool}' is not installed (Debian package: {(tool == "xz" ? "xz-utils" : tool)})");
        }

        return packed;
    }

    [Theory]
    [InlineData("xz", CompressionFormat.Xz)]
    [InlineData("zstd", CompressionFormat.Zstd)]
    [InlineData("bzip2", CompressionFormat.Bzip2)]
    public async Task OpenMaybeGzip_OtherCompressors_AreReadWhole(string tool, CompressionFormat format)
    {
        byte[] packed = ToolOrSkip(tool, Text);
        Assert.Equal(format, LogScanner.DetectCompression(packed.AsSpan(0, 10)));
        Outcome expected = await ScanPlain(Text);
        Assert.Equal(expected, await ScanCompressed(packed));
        Assert.Equal(expected, await ScanCompressed(packed, pipe: true));

        // Concatenated (xz: with stream padding between), as `cat a.xz b.xz` makes.
        byte[] more = ToolOrSkip(tool, "one more line\n"u8.ToArray());
        byte[] both = tool == "xz" ? [.. packed, 0, 0, 0, 0, .. more] : [.. packed, .. more];
        Assert.Equal(await ScanPlain([.. Text, .. "one more line\n"u8]), await ScanCompressed(both, pipe: true));
    }

    [Theory]
    [InlineData("xz")]
    [InlineData("zstd")]
    [InlineData("bzip2")]
    public async Task OpenMaybeGzip_OtherCompressorsCutShort_ReadWhatDecodesAndEndEarly(string tool)
    {
        byte[] packed = ToolOrSkip(tool, Text);
        byte[] cut = packed[..(packed.Length / 2)];
        Outcome first = await ScanCompressed(cut, pipe: true);
        CompressedDataException e = Assert.IsType<CompressedDataException>(first.Error);
        Assert.Equal((CompressedDamage.EndsEarly, cut.LongLength, first.Bytes), (e.Damage, e.CompressedOffset, e.TextBytes));
        Assert.InRange(first.Bytes, Text.Length / 4, Text.Length * 3 / 4);
        Assert.Equal(first, await ScanCompressed(cut, pipe: true) with { Error = first.Error });
    }

    [Theory]
    [InlineData(new byte[] { 0x1F, 0x8B, 8, 0 }, CompressionFormat.Gzip)]
    [InlineData(new byte[] { 0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0, 4 }, CompressionFormat.Xz)]
    [InlineData(new byte[] { 0x28, 0xB5, 0x2F, 0xFD, 0x24 }, CompressionFormat.Zstd)]
    [InlineData(new byte[] { 0x42, 0x5A, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59 }, CompressionFormat.Bzip2)]
    [InlineData(new byte[] { 0x42, 0x5A, 0x68, 0x39, 0x17, 0x72, 0x45, 0x38, 0x50, 0x90 }, CompressionFormat.Bzip2)] // empty input
    [InlineData(new byte[] { 0x42, 0x5A, 0x68, 0x39, 0x20, 0x6C, 0x6F, 0x67, 0x0A, 0x0A }, CompressionFormat.None)] // "BZh9 log": text
    [InlineData(new byte[] { 0x1F }, CompressionFormat.None)]
    [InlineData(new byte[] { 0x4E, 0x6F, 0x76 }, CompressionFormat.None)]
    [InlineData(new byte[0], CompressionFormat.None)]
    public void DetectCompression_MagicBytes_TellTheFormat(byte[] start, CompressionFormat expected) =>
        Assert.Equal(expected, LogScanner.DetectCompression(start));

    [Fact]
    public async Task OpenMaybeGzip_SilentPipe_ReturnsAtOnceAndItsFirstReadEndsWithItsToken()
    {
        // `journalctl -k -f -n0 | mgscan` on a quiet machine: nothing arrives, and Ctrl+C must still work.
        using var server = new AnonymousPipeServerStream(PipeDirection.Out);
        using var client = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(server.ClientSafePipeHandle.DangerousGetHandle(), ownsHandle: false), FileAccess.Read, 1, isAsync: false);
        var clock = Stopwatch.StartNew();
        Stream s = LogScanner.OpenMaybeGzip(client);
        Assert.True(clock.ElapsedMilliseconds < 100, $"opening took {clock.ElapsedMilliseconds} ms");

        byte[] buffer = new byte[4096];
        using (var cancelled = new CancellationTokenSource())
        {
            await cancelled.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => _ = await s.ReadAsync(buffer, cancelled.Token));
        }

        using (var soon = new CancellationTokenSource(TimeSpan.FromMilliseconds(50)))
        {
            clock.Restart();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => _ = await s.ReadAsync(buffer, soon.Token));
            Assert.True(clock.ElapsedMilliseconds < 1000, $"the cancelled read took {clock.ElapsedMilliseconds} ms");
        }

        // A line arrives later, the pipe stays open: the next read returns it (the read left pending is taken over), without waiting for more.
        server.Write("Nov 2"u8);
        server.Flush();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int n = await s.ReadAsync(buffer, timeout.Token);
        Assert.Equal("Nov 2", Encoding.ASCII.GetString(buffer, 0, n));
    }

    [Fact]
    public async Task OpenMaybeGzip_GzipArrivingByteByByteOnAPipe_IsStillRecognised()
    {
        byte[] gz = Gzip(Text);
        Outcome got = await Scan(LogScanner.OpenMaybeGzip(new NonSeekableStream(gz, chunk: 1)));
        Assert.Equal(await ScanPlain(Text), got);
    }

    /// <summary>A pipe-like stream: not seekable, at most <c>chunk</c> bytes per read.</summary>
    private sealed class NonSeekableStream(byte[] data, int chunk = 65536) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(chunk, buffer.Length)]);

        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(chunk, count));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(chunk, count), cancellationToken);
    }
}
