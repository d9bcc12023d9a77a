using System.Runtime.InteropServices;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// zlib's streaming inflate through .NET's own native shim (<c>libSystem.IO.Compression.Native</c>, zlib-ng:
/// the code GZipStream runs; linked statically into a Native AOT binary). GZipStream hides what is needed to
/// report damage exactly — where a gzip member ends (the input zlib left unconsumed), a truncated member
/// (GZipStream ends quietly), zlib's message — so the shim is called directly.
/// </summary>
/// <remarks>
/// The shim is an internal ABI of .NET (<c>PAL_ZStream</c> and the <c>CompressionNative_*</c> exports,
/// unchanged since .NET Core 1.0; <c>InflateReset2_</c> since .NET 9). It is guarded by
/// <see cref="GzipDecoder.IsUsable"/>, which decodes known good and damaged input once per process and
/// falls back to GZipStream when the answers are wrong.
/// </remarks>
internal static unsafe partial class ZlibNative
{
    private const string Library = "libSystem.IO.Compression.Native";

    public const int NoFlush = 0;
    public const int Ok = 0;
    public const int StreamEnd = 1;
    public const int NeedDict = 2;
    public const int DataError = -3;
    public const int BufError = -5;

    /// <summary>zlib's window bits for a gzip header and trailer around a 32 KiB window.</summary>
    public const int GzipWindowBits = 16 + 15;

    /// <summary><c>PAL_ZStream</c> of <c>pal_zlib.h</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ZStream
    {
        public byte* NextIn;
        public byte* NextOut;
        public sbyte* Msg;
        public void* InternalState;
        public uint AvailIn;
        public uint AvailOut;
    }

    [LibraryImport(Library, EntryPoint = "CompressionNative_InflateInit2_")]
    public static partial int InflateInit2(ZStream* stream, int windowBits);

    [LibraryImport(Library, EntryPoint = "CompressionNative_Inflate")]
    public static partial int Inflate(ZStream* stream, int flush);

    [LibraryImport(Library, EntryPoint = "CompressionNative_InflateReset2_")]
    public static partial int InflateReset2(ZStream* stream, int windowBits);

    [LibraryImport(Library, EntryPoint = "CompressionNative_InflateEnd")]
    public static partial int InflateEnd(ZStream* stream);

    /// <summary>zlib's message after an error, or null.</summary>
    public static string? Message(ZStream* stream) => stream->Msg is null ? null : Marshal.PtrToStringUTF8((nint)stream->Msg);
}
