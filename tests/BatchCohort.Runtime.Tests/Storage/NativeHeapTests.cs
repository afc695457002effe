using System.Runtime.InteropServices;

namespace BatchCohort.Runtime.Tests.Storage;

/// <summary>
/// <see cref="NativeHeap.Trim"/> gives freed C-heap memory back to the system. The oracle is the kernel's count of the
/// process's resident anonymous pages (/proc/self/status, RssAnon): 64 MB of small blocks are allocated and every
/// other one freed, leaving holes that glibc does not give back on its own. Alone,
/// after every other test: a run in another test's silo gives native memory back too (NativeHeap.GiveBack), which
/// in the same process would do this test's work for it.
/// </summary>
[Collection(NativeHeapCollection.Name)]
public sealed class NativeHeapTests
{
    private static long RssAnonKb() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("RssAnon:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>One try: RssAnon when the blocks are touched, once every other one is freed, and after
    /// <see cref="NativeHeap.Trim"/>. The blocks still in use sit between the freed ones: glibc returns memory on its own
    /// only from the top of a heap, never such holes, so whatever comes back after the free is the trim's doing.</summary>
    private static unsafe (long Touched, long Freed, long Trimmed) Once()
    {
        const int block = 16 << 10, count = 4096;   // 64 MB of 16 kB blocks: below glibc's mmap threshold, so from the heap
        var blocks = new IntPtr[count];
        for (int i = 0; i < count; i++)
        {
            blocks[i] = (IntPtr)NativeMemory.Alloc(block);
            new Span<byte>((void*)blocks[i], block).Fill(1);   // touched: resident
        }
        long touched = RssAnonKb();
        for (int i = 0; i < count; i += 2) NativeMemory.Free((void*)blocks[i]);   // 32 MB of 16 kB holes
        long freed = RssAnonKb();
        NativeHeap.Trim();
        long trimmed = RssAnonKb();
        for (int i = 1; i < count; i += 2) NativeMemory.Free((void*)blocks[i]);
        return (touched, freed, trimmed);
    }

    [Fact]
    public void Trim_returns_freed_native_memory_to_the_system()
    {
        if (!OperatingSystem.IsLinux()) return;
        // up to three tries: a trim made by another thread of this process between the free and ours (a run of
        // another test finishing) already returns the memory, and leaves ours nothing to show
        var tries = new List<(long Touched, long Freed, long Trimmed)>();
        for (int i = 0; i < 3 && !tries.Any(t => t.Freed - t.Trimmed > 16 * 1024); i++) tries.Add(Once());
        Assert.True(tries.Any(t => t.Freed - t.Trimmed > 16 * 1024),
            string.Join("; ", tries.Select(t => $"RssAnon {t.Touched} kB touched, {t.Freed} kB freed, {t.Trimmed} kB trimmed")));
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeHeapCollection
{
    public const string Name = "native heap, alone";
}
