using System.Runtime.InteropServices;

namespace BatchCohort.Cli;

/// <summary>
/// The C library's heap, set up before anything else runs. glibc gives threads that allocate at the same time heaps
/// ("arenas") of their own, up to eight per core, and pages freed in one arena are not reused by another: a silo's
/// thread pool, Orleans' and the Redis client's threads grow the process by megabytes that no one uses. Two arenas are
/// enough for a process whose own work is on the managed heap (measured: the coordinator silo's peak over a
/// 10,000-subject run, docs/cluster.md "Figures"). A MALLOC_ARENA_MAX set by the operator wins.
/// </summary>
internal static partial class NativeHeap
{
    private const int ArenaMax = -8;   // M_ARENA_MAX in glibc's malloc.h

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);

    public static void LimitArenas(int arenas = 2)
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null) return;
        try { MallOpt(ArenaMax, arenas); }
        catch (DllNotFoundException) { }          // not glibc (musl has mallopt, other C libraries may not)
        catch (EntryPointNotFoundException) { }
    }
}
