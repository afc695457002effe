using System.Runtime.InteropServices;

namespace BatchCohort.Runtime.Tests.Storage;

/// <summary>
/// <see cref="NativeHeap.Trim"/> gives freed C-heap memory back to the system. The oracle is the kernel's count of the
/// process's resident anonymous pages (/proc/self/status, RssAnon): 64 MB of small blocks are allocated and freed
/// while one block allocated after them stays alive, so glibc cannot shrink its heap from the top on its own.
/// </summary>
public sealed class NativeHeapTests
{
    private static long RssAnonKb() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("RssAnon:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public unsafe void Trim_returns_freed_native_memory_to_the_system()
    {
        if (!OperatingSystem.IsLinux()) return;
        const int block = 16 << 10, count = 4096;   // 64 MB of 16 kB blocks: below glibc's mmap threshold, so from the heap
        var blocks = new IntPtr[count];
        for (int i = 0; i < count; i++)
        {
            blocks[i] = (IntPtr)NativeMemory.Alloc(block);
            new Span<byte>((void*)blocks[i], block).Fill(1);   // touched: resident
        }
        var pin = NativeMemory.Alloc(64);                        // above them: the heap's top cannot shrink
        long touched = RssAnonKb();
        foreach (var b in blocks) NativeMemory.Free((void*)b);
        long freed = RssAnonKb();
        NativeHeap.Trim();
        long trimmed = RssAnonKb();
        NativeMemory.Free(pin);
        Assert.True(freed - trimmed > 32 * 1024, $"RssAnon {touched} kB touched, {freed} kB freed, {trimmed} kB trimmed");
    }
}
