using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Processing.Filtering;

public static partial class Filters
{
    /// <summary>Checks shared by every filter, after its own parameter checks: returns the volume to write into.</summary>
    private static Volume Begin(Volume input, Volume? output, BoundaryMode mode, double cval)
    {
        Checks.Volume(input, nameof(input));
        Boundary.Validate(mode, nameof(mode));
        Checks.FiniteScalar(cval, nameof(cval));
        var o = Checks.Output(input, output, nameof(output));
        Checks.Finite(input, nameof(input));
        return o;
    }

    private static void Size(Size3 size, string name)
    {
        for (int a = 0; a < 3; a++)
            if (size[a] < 1) throw new ArgumentException($"size must be ≥ 1 along every axis, got {size[a]} along axis {a}", name);
    }

    private static void Axis(int axis, string name)
    {
        if (axis is < 0 or > 2) throw new ArgumentException($"axis must be 0 (x), 1 (y) or 2 (z), got {axis}", name);
    }

    private static float[] Fill(int n, float v)
    {
        var a = new float[n];
        Array.Fill(a, v);
        return a;
    }
}
