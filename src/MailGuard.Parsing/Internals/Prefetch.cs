using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace MailGuard.Parsing.Internals;

/// <summary>
/// A hint to the CPU to start loading a cache line that will be needed soon (x86 <c>PREFETCHT0</c>; nothing
/// elsewhere). Used by <see cref="TrafficStats"/> to fetch an entry's flow and destination slots while
/// the next line is parsed: those tables are megabytes large and each entry touches them at random.
/// </summary>
internal static class Prefetch
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Line<T>(ref T location)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref location));
        }
    }
}
