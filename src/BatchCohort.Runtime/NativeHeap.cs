using System.Runtime.InteropServices;

namespace BatchCohort.Runtime;

/// <summary>
/// The C library's heap (glibc's malloc), which the runtime itself uses: the JIT compiles every method into memory
/// taken from it and gives it back when done, and so do the runtime's type loader and native libraries. glibc keeps
/// what is given back, in as many "arenas" as threads that allocated at the same time (up to eight per core): after a
/// 10,000-subject run the silo that hosted its coordinator held 20–30 MB of such free native memory
/// (docs/cluster.md "Figures"). <see cref="LimitArenas"/> at start and <see cref="Trim"/> at the end of a phase that
/// compiled and loaded much (the group stage) return it. Elsewhere (another C library, another OS) both do nothing.
/// </summary>
public static partial class NativeHeap
{
    private const int ArenaMax = -8;   // M_ARENA_MAX in glibc's malloc.h

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    /// <summary>At most <paramref name="arenas"/> malloc arenas for the threads created from now on; a MALLOC_ARENA_MAX
    /// set by the operator wins.</summary>
    public static void LimitArenas(int arenas = 2)
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null) return;
        try { MallOpt(ArenaMax, arenas); }
        catch (DllNotFoundException) { }
        catch (EntryPointNotFoundException) { }   // not glibc
    }

    /// <summary>At the end of a phase that left much garbage (the measuring phase, a step of a large group stage, a whole
    /// run in a silo that lives on): a full, compacting collection that decommits what the managed heap no longer uses,
    /// then <see cref="Trim"/>.</summary>
    public static void GiveBack()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Trim();
    }

    /// <summary>Gives the free memory of every arena back to the system (glibc's malloc_trim).</summary>
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try { MallocTrim(0); }
        catch (DllNotFoundException) { }
        catch (EntryPointNotFoundException) { }
    }
}
