using BatchCohort.Imaging.Processing;
namespace BatchCohort.Imaging.Processing.Exposure;

/// <summary>
/// Exact order statistics of float data without copying or sorting it: floats are mapped to order-preserving
/// 32-bit keys; one parallel pass counts the high 16 bits, a second counts the low 16 bits inside the few buckets
/// that hold the wanted ranks. Two reads of the data, 2×65536 counters per worker, no volume-sized memory.
/// NaN must have been rejected before (it has no rank).
/// </summary>
internal static class RadixSelect
{
    private static uint Key(float f)
    {
        uint b = BitConverter.SingleToUInt32Bits(f);
        return (b & 0x8000_0000u) != 0 ? ~b : b | 0x8000_0000u;
    }

    private static float FromKey(uint k) => BitConverter.UInt32BitsToSingle((k & 0x8000_0000u) != 0 ? k & 0x7FFF_FFFFu : ~k);

    /// <summary>The values of the given 0-based ranks in ascending order of the data (ranks need not be sorted).</summary>
    public static float[] Select(float[] data, long[] ranks)
    {
        long n = data.LongLength;
        foreach (var r in ranks) if (r < 0 || r >= n) throw new ArgumentOutOfRangeException(nameof(ranks));
        var high = Count(data, k => true, k => (int)(k >> 16));
        // bucket (high 16 bits) and rank inside the bucket for every wanted rank
        var bucketOf = new int[ranks.Length];
        var within = new long[ranks.Length];
        for (int q = 0; q < ranks.Length; q++)
        {
            long acc = 0;
            int b = 0;
            while (acc + high[b] <= ranks[q]) { acc += high[b]; b++; }
            bucketOf[q] = b;
            within[q] = ranks[q] - acc;
        }
        var distinct = bucketOf.Distinct().ToArray();
        var slotOf = new short[65536];
        Array.Fill(slotOf, (short)-1);
        for (int i = 0; i < distinct.Length; i++) slotOf[distinct[i]] = (short)i;
        var low = CountMulti(data, slotOf, distinct.Length);
        var result = new float[ranks.Length];
        for (int q = 0; q < ranks.Length; q++)
        {
            var h = low[slotOf[bucketOf[q]]];
            long acc = 0;
            int b = 0;
            while (acc + h[b] <= within[q]) { acc += h[b]; b++; }
            result[q] = FromKey(((uint)bucketOf[q] << 16) | (uint)b);
        }
        return result;
    }

    private static long[] Count(float[] data, Func<uint, bool> _, Func<uint, int> bin)
    {
        var total = new long[65536];
        int chunks = Math.Max(1, Math.Min(Parallelism.Degree * 2, data.Length / 262144));
        var sync = new object();
        Parallelism.ForPerWorker(chunks, () => new int[65536], (c, local) =>
        {
            long a = data.LongLength * c / chunks, e = data.LongLength * (c + 1) / chunks;
            Array.Clear(local);
            for (long i = a; i < e; i++) local[Key(data[i]) >> 16]++;
            lock (sync) for (int k = 0; k < 65536; k++) total[k] += local[k];
        });
        return total;
    }

    private static long[][] CountMulti(float[] data, short[] slotOf, int slots)
    {
        var total = new long[slots][];
        for (int s = 0; s < slots; s++) total[s] = new long[65536];
        int chunks = Math.Max(1, Math.Min(Parallelism.Degree * 2, data.Length / 262144));
        var sync = new object();
        Parallelism.ForPerWorker(chunks, () => new int[slots * 65536], (c, local) =>
        {
            long a = data.LongLength * c / chunks, e = data.LongLength * (c + 1) / chunks;
            Array.Clear(local);
            for (long i = a; i < e; i++)
            {
                uint k = Key(data[i]);
                int s = slotOf[k >> 16];
                if (s >= 0) local[s * 65536 + (int)(k & 0xFFFF)]++;
            }
            lock (sync)
                for (int s = 0; s < slots; s++)
                for (int k = 0; k < 65536; k++) total[s][k] += local[s * 65536 + k];
        });
        return total;
    }
}
