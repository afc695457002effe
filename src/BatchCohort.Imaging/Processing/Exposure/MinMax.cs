using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using BatchCohort.Imaging.Processing;

namespace BatchCohort.Imaging.Processing.Exposure;

internal static class MinMax
{
    public static (float Min, float Max) Of(ReadOnlySpan<float> data) => (TensorPrimitives.Min(data), TensorPrimitives.Max(data));

    /// <summary>
    /// Min and max in one parallel vectorised pass that also detects NaN/±Inf (then the slow scan names the voxel):
    /// replaces the separate NaN check and two reductions of histogram-based operations.
    /// </summary>
    public static (float Min, float Max) OfFinite(float[] data, string name)
    {
        if (data.Length == 0) throw new ArgumentException("data is empty", name);
        int chunks = Math.Max(1, Math.Min(Parallelism.Degree * 2, data.Length / 262144));
        var mins = new float[chunks];
        var maxs = new float[chunks];
        var bad = new bool[chunks];
        Parallelism.ForPerWorker(chunks, () => 0, (c, _) =>
        {
            int a = (int)((long)data.Length * c / chunks), e = (int)((long)data.Length * (c + 1) / chunks);
            var span = data.AsSpan(a, e - a);
            float mn = float.PositiveInfinity, mx = float.NegativeInfinity;
            bool nan = false;
            int i = 0;
            if (Vector.IsHardwareAccelerated && span.Length >= Vector<float>.Count)
            {
                var vs = MemoryMarshal.Cast<float, Vector<float>>(span);
                var vmin = new Vector<float>(float.PositiveInfinity);
                var vmax = new Vector<float>(float.NegativeInfinity);
                var vbad = Vector<int>.Zero;
                foreach (var v in vs)
                {
                    vmin = Vector.MinNative(vmin, v);
                    vmax = Vector.MaxNative(vmax, v);
                    vbad |= ~Vector.Equals(v, v);
                }
                nan = !Vector.EqualsAll(vbad, Vector<int>.Zero);
                for (int k = 0; k < Vector<float>.Count; k++) { mn = Math.Min(mn, vmin[k]); mx = Math.Max(mx, vmax[k]); }
                i = vs.Length * Vector<float>.Count;
            }
            for (; i < span.Length; i++)
            {
                float v = span[i];
                if (float.IsNaN(v)) nan = true;
                if (v < mn) mn = v;
                if (v > mx) mx = v;
            }
            mins[c] = mn; maxs[c] = mx; bad[c] = nan;
        });
        float lo = mins.Min(), hi = maxs.Max();
        if (bad.Any(b => b) || !float.IsFinite(lo) || !float.IsFinite(hi)) Checks.Finite(data, name); // throws, naming the index
        return (lo, hi);
    }
}
