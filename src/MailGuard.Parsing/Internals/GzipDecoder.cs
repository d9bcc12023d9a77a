using System.IO.Compression;
using System.Runtime.InteropServices;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// Decodes gzip (RFC 1952) member after member with zlib (<see cref="ZlibNative"/>), delivering every byte
/// that decodes and then, in place of the end, a <see cref="CompressedDataException"/> saying what is wrong
/// and where: the input ends inside a member, corrupt data, a CRC or length mismatch in a member's trailer,
/// or bytes after the last member that start no new one (trailing zero bytes are accepted, as gzip does).
/// Reads its source synchronously: it runs on the <see cref="Readahead"/> task.
/// </summary>
internal sealed unsafe class GzipDecoder : DecodingStream
{
    private const int InputSize = 64 * 1024;

    private static readonly Lazy<bool> s_usable = new(SelfTest);

    private readonly byte[] _input = new byte[InputSize];
    private ZlibNative.ZStream* _z;
    private int _inPos; // unconsumed input is _input[_inPos.._inEnd)
    private int _inEnd;
    private long _inBase; // offset in the compressed input of _input[0]
    private bool _eof;
    private bool _betweenMembers;
    private int _member = 1;

    private GzipDecoder(Stream compressed)
        : base(CompressionFormat.Gzip, compressed)
    {
        _z = (ZlibNative.ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZlibNative.ZStream));
        int rc = ZlibNative.InflateInit2(_z, ZlibNative.GzipWindowBits);
        if (rc != ZlibNative.Ok)
        {
            NativeMemory.Free(_z);
            _z = null;
            throw new InvalidOperationException($"zlib's inflateInit2 failed ({rc}).");
        }
    }

    /// <summary>True when zlib through .NET's shim answers as this code expects (checked once per process).</summary>
    public static bool IsUsable => s_usable.Value;

    /// <summary>The decoder for <paramref name="compressed"/>: this one, or GZipStream when the shim is not usable (damage then goes unreported).</summary>
    public static Stream Open(Stream compressed) =>
        IsUsable ? new GzipDecoder(compressed) : new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: false);

    protected override int Decode(Span<byte> buffer)
    {
        if (_betweenMembers)
        {
            NextMember();
            return 0;
        }

        if (_inPos == _inEnd)
        {
            Fill(1);
        }

        int produced = Inflate(buffer, out int rc, out string? message);
        switch (rc)
        {
            case ZlibNative.Ok or ZlibNative.BufError:
                if (produced == 0 && _inPos == _inEnd && _eof)
                {
                    Fail(CompressedDamage.EndsEarly, _inBase + _inEnd, null); // zlib needs more and there is no more
                }
                else if (produced == 0 && rc == ZlibNative.BufError && _inPos < _inEnd)
                {
                    Fail(CompressedDamage.CorruptData, _inBase + _inPos, message); // no progress with input and room: never expected
                }

                break;
            case ZlibNative.StreamEnd:
                _betweenMembers = true;
                break;
            default:
                Fail(message switch
                {
                    "incorrect data check" => CompressedDamage.ChecksumMismatch,
                    "incorrect length check" => CompressedDamage.LengthMismatch,
                    _ => CompressedDamage.CorruptData,
                }, _inBase + _inPos, message ?? $"zlib error {rc}");
                break;
        }

        return produced;
    }

    private int Inflate(Span<byte> buffer, out int rc, out string? message)
    {
        fixed (byte* input = _input)
        fixed (byte* output = buffer)
        {
            _z->NextIn = input + _inPos;
            _z->AvailIn = (uint)(_inEnd - _inPos);
            _z->NextOut = output;
            _z->AvailOut = (uint)buffer.Length;
            rc = ZlibNative.Inflate(_z, ZlibNative.NoFlush);
            _inPos = (int)(_z->NextIn - input);
            message = rc < 0 ? ZlibNative.Message(_z) : null;
            return buffer.Length - (int)_z->AvailOut;
        }
    }

    /// <summary>After a member: the end, trailing zero bytes (accepted), a new member, or garbage.</summary>
    private void NextMember()
    {
        _betweenMembers = false;
        long at = _inBase + _inPos;
        if (!Fill(1))
        {
            Ended();
            return;
        }

        if (_input[_inPos] == 0)
        {
            while (_input.AsSpan(_inPos, _inEnd - _inPos).IndexOfAnyExcept((byte)0) < 0)
            {
                _inPos = _inEnd;
                if (!Fill(1))
                {
                    Ended(); // zero padding to the end, as written to tape or by some tools
                    return;
                }
            }

            Fail(CompressedDamage.TrailingGarbage, at, null);
            return;
        }

        if (Fill(2) && _input[_inPos] == 0x1F && _input[_inPos + 1] == 0x8B)
        {
            _member++;
            int rc = ZlibNative.InflateReset2(_z, ZlibNative.GzipWindowBits);
            if (rc != ZlibNative.Ok)
            {
                Fail(CompressedDamage.CorruptData, at, $"zlib's inflateReset2 failed ({rc})");
            }

            return;
        }

        Fail(CompressedDamage.TrailingGarbage, at, null);
    }

    /// <summary>Reads until at least <paramref name="count"/> bytes are unconsumed or the input ends; true when they are.</summary>
    private bool Fill(int count)
    {
        while (_inEnd - _inPos < count && !_eof)
        {
            int rest = _inEnd - _inPos;
            _input.AsSpan(_inPos, rest).CopyTo(_input);
            _inBase += _inPos;
            _inPos = 0;
            _inEnd = rest;
            int n = Inner.Read(_input.AsSpan(_inEnd));
            if (n == 0)
            {
                _eof = true;
            }

            _inEnd += n;
        }

        return _inEnd - _inPos >= count;
    }

    private void Fail(CompressedDamage damage, long offset, string? detail) => Damaged(damage, offset, _member, detail);

    protected override void Dispose(bool disposing)
    {
        if (_z is not null)
        {
            _ = ZlibNative.InflateEnd(_z); // only frees zlib's state: nothing to do if it fails
            NativeMemory.Free(_z);
            _z = null;
        }

        base.Dispose(disposing);
    }

    /// <summary><c>printf 'ok\n' | gzip -n -9</c>.</summary>
    private static ReadOnlySpan<byte> OkMember => [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0xcf, 0xe6, 0x02, 0x00, 0x7d, 0x0e, 0x16, 0xda, 0x03, 0x00, 0x00, 0x00];

    /// <summary>
    /// Guards the internal ABI of <see cref="ZlibNative"/>: two members decode to their text, the same member
    /// with a wrong CRC is told as a checksum mismatch in member 1 (zlib's message read from its place in the
    /// struct), one cut short as ending early. Anything else (a missing library or export, other answers): not usable.
    /// </summary>
    private static bool SelfTest()
    {
        try
        {
            byte[] bad = [.. OkMember];
            bad[^8] ^= 0xFF;
            return Decode([.. OkMember, .. OkMember], out _) == "ok\nok\n"
                && Decode(bad, out CompressedDataException? crc) == "ok\n" && crc is { Damage: CompressedDamage.ChecksumMismatch, Member: 1, TextLines: 1 }
                && Decode(OkMember[..^3].ToArray(), out CompressedDataException? cut) == "ok\n" && cut is { Damage: CompressedDamage.EndsEarly, CompressedOffset: 20 };
        }
#pragma warning disable CA1031 // any failure (library or export missing, a marshalling error) means: do not use it
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }

        static string Decode(byte[] data, out CompressedDataException? error)
        {
            using var decoder = new GzipDecoder(new MemoryStream(data));
            var text = new MemoryStream();
            Span<byte> buffer = stackalloc byte[16];
            error = null;
            try
            {
                int n;
                while ((n = decoder.Read(buffer)) > 0)
                {
                    text.Write(buffer[..n]);
                }
            }
            catch (CompressedDataException e)
            {
                error = e;
            }

            return System.Text.Encoding.ASCII.GetString(text.ToArray());
        }
    }
}
