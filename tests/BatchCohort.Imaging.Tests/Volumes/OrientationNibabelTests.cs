using BatchCohort.Imaging.Tests.Formats;
using BatchCohort.Imaging.Volumes;
using BatchCohort.TestSupport;

namespace BatchCohort.Imaging.Tests.Volumes;

/// <summary>Random oblique, sheared, flipped and permuted affines, answered once by nibabel for the whole class.</summary>
public sealed class OrientationCasesFixture : IDisposable
{
    public List<double[]> Affines { get; } = new();
    public List<int[]> Shapes { get; } = new();

    public OrientationCasesFixture()
    {
        var rng = new Random(20261121);
        // every axis permutation × sign (48), axis-aligned
        int[][] perms = { new[] { 0, 1, 2 }, new[] { 0, 2, 1 }, new[] { 1, 0, 2 }, new[] { 1, 2, 0 }, new[] { 2, 0, 1 }, new[] { 2, 1, 0 } };
        foreach (var p in perms)
            for (int signs = 0; signs < 8; signs++)
            {
                var m = new double[16];
                for (int j = 0; j < 3; j++) m[p[j] * 4 + j] = ((signs >> j) & 1) == 1 ? -(1 + j * 0.5) : 1 + j * 0.5;
                m[3] = 10; m[7] = -20; m[11] = 5; m[15] = 1;
                Add(m, rng);
            }
        // random oblique, sometimes with shear and left-handed
        for (int n = 0; n < 200; n++)
        {
            var r = RandomRotation(rng, maxAngle: n < 100 ? 0.6 : Math.PI);
            var m = new double[16];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                {
                    double zoom = 0.5 + 2.5 * ((j * 7 + n) % 5) / 4.0;
                    m[i * 4 + j] = r[i, j] * zoom * (j == 2 && n % 3 == 0 ? -1 : 1) + (n % 4 == 1 ? 0.1 * (rng.NextDouble() - 0.5) : 0);
                }
            m[3] = rng.NextDouble() * 200 - 100; m[7] = rng.NextDouble() * 200 - 100; m[11] = rng.NextDouble() * 200 - 100; m[15] = 1;
            Add(m, rng);
        }
        // exact 45° ties (nibabel takes the first maximum)
        double c = Math.Cos(Math.PI / 4), s = Math.Sin(Math.PI / 4);
        Add(new double[] { c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 }, rng);
        Add(new double[] { 1, 0, 0, 0, 0, c, -s, 0, 0, s, c, 0, 0, 0, 0, 1 }, rng);
        Add(new double[] { c, 0, s, 0, 0, 1, 0, 0, -s, 0, c, 0, 0, 0, 0, 1 }, rng);
        Oracle = new NibabelOracle(affines: Affines, shapes: Shapes);
    }

    private void Add(double[] m, Random rng)
    {
        Affines.Add(m);
        Shapes.Add(new[] { rng.Next(2, 7), rng.Next(2, 7), rng.Next(2, 7) });
    }

    private static double[,] RandomRotation(Random rng, double maxAngle)
    {
        // axis-angle with a random unit axis
        double x = rng.NextDouble() * 2 - 1, y = rng.NextDouble() * 2 - 1, z = rng.NextDouble() * 2 - 1;
        double n = Math.Sqrt(x * x + y * y + z * z);
        x /= n; y /= n; z /= n;
        double a = (rng.NextDouble() * 2 - 1) * maxAngle, c = Math.Cos(a), s = Math.Sin(a), t = 1 - c;
        return new[,]
        {
            { t * x * x + c, t * x * y - s * z, t * x * z + s * y },
            { t * x * y + s * z, t * y * y + c, t * y * z - s * x },
            { t * x * z - s * y, t * y * z + s * x, t * z * z + c },
        };
    }

    public NibabelOracle Oracle { get; }
    public void Dispose() => Oracle.Dispose();
}

public sealed class OrientationNibabelTests : IClassFixture<OrientationCasesFixture>
{
    private readonly OrientationCasesFixture _fx;
    public OrientationNibabelTests(OrientationCasesFixture fx) => _fx = fx;

    [RequiresFact(Requirements.Nibabel)]
    public void AxisCodes_AgreeWithNibabelAff2axcodes()
    {
        Assert.True(_fx.Affines.Count > 250);
        for (int i = 0; i < _fx.Affines.Count; i++)
        {
            var a = new Affine(_fx.Affines[i]);
            Assert.True(_fx.Oracle.AffineInfos[i].Axcodes == Orientation.AxisCodes(a),
                $"case {i}: ours {Orientation.AxisCodes(a)} vs nibabel {_fx.Oracle.AffineInfos[i].Axcodes} for\n{a}");
        }
    }

    [RequiresFact(Requirements.Nibabel)]
    public void Reorient_AgreesWithNibabelAsClosestCanonical_AndInvertsExactly()
    {
        for (int i = 0; i < _fx.Affines.Count; i++)
        {
            var info = _fx.Oracle.AffineInfos[i];
            var shape = new Shape3(_fx.Shapes[i][0], _fx.Shapes[i][1], _fx.Shapes[i][2]);
            var data = new float[shape.Count];
            for (int k = 0; k < data.Length; k++) data[k] = k;
            var vol = new Volume(shape, data, new Affine(_fx.Affines[i]));
            var plan = Reorientation.Plan(vol.Affine, shape, "RAS");
            var canon = plan.Apply(vol);

            Assert.Equal(new Shape3(info.Canon_Shape![0], info.Canon_Shape[1], info.Canon_Shape[2]), canon.Shape);
            Assert.True(canon.Affine.MaxAbsDifference(new Affine(info.Canon_Affine!)) < 1e-9, $"case {i}: canonical affine\n{canon.Affine}\nvs nibabel\n{new Affine(info.Canon_Affine!)}");
            for (int k = 0; k < canon.Data.Length; k++)
                Assert.True(canon.Data[k] == info.Canon_Index![k], $"case {i}: canonical voxel {k} comes from {canon.Data[k]}, nibabel says {info.Canon_Index[k]}");

            var back = plan.Invert(canon);
            Assert.Equal(shape, back.Shape);
            Assert.True(back.Affine.MaxAbsDifference(vol.Affine) < 1e-9);
            Assert.True(back.Data.AsSpan().SequenceEqual(vol.Data));
        }
    }

    [Fact]
    public void Reorient_ToEveryTargetAndBack_IsIdentity()
    {
        var shape = new Shape3(3, 4, 5);
        var data = new float[shape.Count];
        for (int k = 0; k < data.Length; k++) data[k] = k * 0.5f;
        var vol = new Volume(shape, data, Affine.FromSpacing(-1, 2, 3, 10, 20, 30));
        foreach (var target in new[] { "RAS", "LPS", "LSA", "PIR", "ASL", "IRP" })
        {
            var plan = Reorientation.Plan(vol.Affine, shape, target);
            var r = plan.Apply(vol);
            Assert.Equal(target, r.OrientationCode);
            // same world position for the same voxel value
            int probe = shape.Index(1, 2, 3);
            var wSrc = vol.VoxelToWorld(1, 2, 3);
            int idx = Array.IndexOf(r.Data, data[probe]);
            int x = idx % r.Shape.X, y = idx / r.Shape.X % r.Shape.Y, z = idx / (r.Shape.X * r.Shape.Y);
            var wDst = r.VoxelToWorld(x, y, z);
            Assert.Equal(wSrc.X, wDst.X, 9); Assert.Equal(wSrc.Y, wDst.Y, 9); Assert.Equal(wSrc.Z, wDst.Z, 9);
            var back = plan.Invert(r);
            Assert.True(back.Data.AsSpan().SequenceEqual(vol.Data));
            Assert.True(back.Affine.MaxAbsDifference(vol.Affine) < 1e-12);
        }
    }
}
