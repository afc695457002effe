using BatchCohort.Imaging.Processing;
namespace BatchCohort.Imaging.Processing.Exposure;

/// <summary>
/// numpy.histogram's uniform binning for float32 data, reproduced bit for bit: the edges are
/// float32(lo + i·(hi − lo)/nbins) computed in double (np.linspace(lo, hi, nbins + 1, dtype=float32)), the last edge
/// is hi itself, a value v goes to bin i with edges[i] ≤ v &lt; edges[i+1], and the last bin also holds v = hi.
/// This is what skimage.exposure.histogram (and so threshold_otsu/triangle/isodata) uses for float images.
/// </summary>
internal sealed class UniformBins
{
    public UniformBins(double lo, double hi, int nbins, bool float32Edges)
    {
        Lo = lo;
        Hi = hi;
        Count = nbins;
        Edges = new double[nbins + 1];
        double step = (hi - lo) / nbins;
        for (int i = 0; i < nbins; i++)
        {
            double e = i * step + lo;
            Edges[i] = float32Edges ? (float)e : e;
        }
        Edges[nbins] = float32Edges ? (float)hi : hi;
        Norm = nbins / (hi - lo);
    }

    public double Lo { get; }
    public double Hi { get; }
    public int Count { get; }
    public double[] Edges { get; }
    public double Norm { get; }

    /// <summary>Bin index of v, or -1 when v is outside [edges[0], edges[n]].</summary>
    public int Index(float v)
    {
        double[] e = Edges;
        int n = Count;
        if (!(v >= e[0] && v <= e[n])) return -1;
        int i = (int)((v - e[0]) * Norm);
        if ((uint)i >= (uint)n) i = i < 0 ? 0 : n - 1;
        if (v < e[i]) { do i--; while (i > 0 && v < e[i]); }
        else if (i < n - 1 && v >= e[i + 1]) { do i++; while (i < n - 1 && v >= e[i + 1]); }
        return i;
    }

    /// <summary>Bin centres as skimage computes them: (edges[i] + edges[i+1]) / 2 in float32.</summary>
    public float[] CentersF32()
    {
        var c = new float[Count];
        for (int i = 0; i < Count; i++) c[i] = ((float)Edges[i] + (float)Edges[i + 1]) / 2f;
        return c;
    }

    /// <summary>Counts of all values (parallel over chunks).</summary>
    public long[] Histogram(float[] data, int start = 0, int length = -1)
    {
        if (length < 0) length = data.Length - start;
        int nb = Count;
        var total = new long[nb];
        // chunks ≤ 2^29 voxels each, so the int counters cannot overflow
        int chunks = Math.Max(Math.Max(1, (int)(length / (1L << 29)) + 1), Math.Min(Parallelism.Degree * 4, length / 65536));
        var sync = new object();
        Parallelism.ForPerWorker(chunks, () => new int[4 * nb], (c, local) =>
        {
            // four interleaved sub-histograms: runs of equal values (background) do not serialise on one counter
            Array.Clear(local);
            long a = start + (long)length * c / chunks, b = start + (long)length * (c + 1) / chunks;
            for (long i = a; i < b; i++)
            {
                int k = Index(data[i]);
                if (k >= 0) local[(int)(i & 3) * nb + k]++;
            }
            lock (sync) for (int k = 0; k < nb; k++) total[k] += (long)local[k] + local[nb + k] + local[2 * nb + k] + local[3 * nb + k];
        });
        return total;
    }
}
