using System.IO.Compression;

namespace MailGuard.Parsing.Tests;

/// <summary>Test data in compressed form.</summary>
internal static class Compressed
{
    /// <summary><paramref name="data"/> as one gzip member (fastest level).</summary>
    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            z.Write(data);
        }

        return ms.ToArray();
    }
}
