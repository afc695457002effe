using System.Text.Json;
using System.Text.Json.Nodes;
using BatchCohort.Imaging.Processing.Morphology;
using BatchCohort.Imaging.Volumes;
using BatchCohort.TestSupport;

namespace BatchCohort.Imaging.Tests.Processing;

/// <summary>The test classes that read the scipy morphology oracle: one collection, so its files are deleted at the end.</summary>
[CollectionDefinition(Name)]
public sealed class ScipyMorphologyCollection : ICollectionFixture<ScipyMorphologyCollection.Lifetime>
{
    public const string Name = "scipy-morphology";

    public sealed class Lifetime : IDisposable
    {
        public void Dispose() => ScipyMorphologyOracle.Release();
    }
}

/// <summary>A structuring element as both sides build it: the C# element and the JSON telling the oracle how to build its own.</summary>
public abstract record StructSpec
{
    public abstract StructuringElement ToElement();
    public abstract JsonObject ToJson();

    public sealed record Rank(int R) : StructSpec
    {
        public override StructuringElement ToElement() => StructuringElement.GenerateBinaryStructure(R);
        public override JsonObject ToJson() => new() { ["kind"] = "rank", ["rank"] = R };
    }

    /// <summary>A ball: C# builds it with StructuringElement.Ball, Python with NumPy from the same definition.</summary>
    public sealed record BallMm(double R, Spacing3 S) : StructSpec
    {
        public override StructuringElement ToElement() => StructuringElement.Ball(R, S);
        public override JsonObject ToJson() => new() { ["kind"] = "ball", ["r"] = R, ["spacing"] = new JsonArray(S.X, S.Y, S.Z) };
    }

    /// <summary>An explicit array written to a file for the oracle.</summary>
    public sealed record Explicit(string Name, Shape3 Shape, byte[] Data) : StructSpec
    {
        public override StructuringElement ToElement() => StructuringElement.FromArray(Shape, Data);
        public override JsonObject ToJson() => new() { ["kind"] = "file", ["path"] = Name + ".npy" };
    }
}

/// <summary>One computation run by both sides.</summary>
public sealed record OracleCase(string Id, string Op, string? Input = null, StructSpec? Structure = null, int Iterations = 1,
    bool BorderValue = false, string? MaskName = null, JsonObject? Extra = null)
{
    public override string ToString() => Id;
}

/// <summary>
/// Runs tests/oracles/scipy_morphology.py once for the whole test assembly: the C# side writes its synthetic inputs
/// and the case list, Python (scipy 1.10 under /usr/bin/python3) loads ch2 through nibabel, computes every case and
/// writes the results; tests then compute the same cases in C# and compare.
/// </summary>
public sealed class ScipyMorphologyOracle
{
    private static readonly Lazy<ScipyMorphologyOracle> Shared = new(() => new ScipyMorphologyOracle());

    /// <summary>Deletes the oracle's arrays (~250 MB) if they were made; called when the test collection ends.</summary>
    internal static void Release()
    {
        if (Shared.IsValueCreated) Shared.Value._dir.Dispose();
    }

    /// <summary>The oracle's results (runs Python on first use).</summary>
    public static ScipyMorphologyOracle Instance => Shared.Value;

    public const double Ch2Threshold = 80;

    private readonly TempDir _dir = new("morph-oracle");
    private readonly Dictionary<string, Mask> _masks = new();
    private readonly Dictionary<string, Volume> _volumes = new();
    private readonly Dictionary<string, LabelMap> _labelMaps = new();
    private readonly JsonObject _results;

    /// <summary>Synthetic inputs: odd sizes, anisotropic spacing, shapes that exercise borders, holes and diagonal contacts.</summary>
    internal static Dictionary<string, Mask> SyntheticInputs()
    {
        var d = new Dictionary<string, Mask>
        {
            ["blobs"] = Blobs(new Shape3(31, 27, 19), new Spacing3(0.9, 1.3, 2.1), seed: 1, count: 9, noise: 0.03),
            ["sparse"] = Random(new Shape3(17, 23, 11), new Spacing3(1, 1, 1), seed: 2, p: 0.3),
            ["dense"] = Random(new Shape3(21, 15, 13), new Spacing3(1.2, 0.8, 2.5), seed: 3, p: 0.8),
            ["shells"] = Shells(new Shape3(33, 29, 25), new Spacing3(1, 1, 1)),
            ["thin"] = Random(new Shape3(1, 9, 7), new Spacing3(1, 1, 1), seed: 4, p: 0.5),
            ["line"] = Random(new Shape3(40, 1, 1), new Spacing3(1, 1, 1), seed: 5, p: 0.6),
            ["bigblobs"] = Blobs(new Shape3(63, 57, 45), new Spacing3(1.2, 0.8, 2.5), seed: 6, count: 14, noise: 0.01),
            ["empty"] = Mask.Zeros(new Shape3(9, 7, 5), new Spacing3(1, 1, 1)),
        };
        var full = Mask.Zeros(new Shape3(9, 7, 5), new Spacing3(1, 1, 1));
        Array.Fill(full.Data, (byte)1);
        d["full"] = full;
        d["gate"] = Random(new Shape3(31, 27, 19), new Spacing3(0.9, 1.3, 2.1), seed: 7, p: 0.85);
        return d;
    }

    /// <summary>An asymmetric explicit structure: catches an erosion/dilation that reflects the wrong way.</summary>
    internal static StructSpec.Explicit Asymmetric()
    {
        var s = new Shape3(3, 5, 3);
        var d = new byte[s.Count];
        d[s.Index(1, 2, 1)] = 1; // centre
        d[s.Index(2, 2, 1)] = 1; // +x
        d[s.Index(1, 4, 1)] = 1; // +2y
        d[s.Index(0, 1, 2)] = 1; // -x -y +z
        d[s.Index(1, 0, 0)] = 1; // -2y -z
        return new StructSpec.Explicit("asym", s, d);
    }

    /// <summary>Every case both sides compute.</summary>
    public static IReadOnlyList<OracleCase> Cases { get; } = BuildCases();

    private static List<OracleCase> BuildCases()
    {
        var c = new List<OracleCase>();
        var iso = new Spacing3(1, 1, 1);
        var blobsSp = new Spacing3(0.9, 1.3, 2.1);
        var denseSp = new Spacing3(1.2, 0.8, 2.5);
        // morphology: every op × structure on the synthetic inputs
        foreach (var input in new[] { "blobs", "sparse", "dense", "thin", "line", "empty", "full" })
        foreach (var op in new[] { "erosion", "dilation", "opening", "closing" })
        foreach (var r in new[] { 1, 2, 3 })
            c.Add(new OracleCase($"{op}-{input}-n{r}", op, input, new StructSpec.Rank(r)));
        foreach (var op in new[] { "erosion", "dilation" })
        {
            foreach (var input in new[] { "blobs", "sparse", "dense", "thin", "empty", "full" })
            {
                c.Add(new OracleCase($"{op}-{input}-n1-bv1", op, input, new StructSpec.Rank(1), BorderValue: true));
                c.Add(new OracleCase($"{op}-{input}-n3-it3", op, input, new StructSpec.Rank(3), Iterations: 3));
                c.Add(new OracleCase($"{op}-{input}-asym", op, input, Asymmetric()));
            }
            c.Add(new OracleCase($"{op}-blobs-n2-it2-masked", op, "blobs", new StructSpec.Rank(2), Iterations: 2, MaskName: "gate"));
            c.Add(new OracleCase($"{op}-blobs-ball3.3-aniso", op, "blobs", new StructSpec.BallMm(3.3, blobsSp)));
            c.Add(new OracleCase($"{op}-dense-ball4-aniso", op, "dense", new StructSpec.BallMm(4, denseSp)));
            c.Add(new OracleCase($"{op}-dense-ball4-aniso-bv1", op, "dense", new StructSpec.BallMm(4, denseSp), BorderValue: true));
            c.Add(new OracleCase($"{op}-bigblobs-ball5-aniso", op, "bigblobs", new StructSpec.BallMm(5, new Spacing3(1.2, 0.8, 2.5))));
            c.Add(new OracleCase($"{op}-shells-ball3-iso", op, "shells", new StructSpec.BallMm(3, iso)));
            c.Add(new OracleCase($"{op}-sparse-ball2-it2", op, "sparse", new StructSpec.BallMm(2, iso), Iterations: 2));
        }
        c.Add(new OracleCase("closing-bigblobs-ball3-aniso", "closing", "bigblobs", new StructSpec.BallMm(3, new Spacing3(1.2, 0.8, 2.5))));
        c.Add(new OracleCase("opening-bigblobs-ball3-aniso", "opening", "bigblobs", new StructSpec.BallMm(3, new Spacing3(1.2, 0.8, 2.5))));
        c.Add(new OracleCase("closing-shells-ball2-bv1", "closing", "shells", new StructSpec.BallMm(2, iso), BorderValue: true));
        c.Add(new OracleCase("propagation-blobs-in-gate-n1", "propagation", "blobs", new StructSpec.Rank(1), MaskName: "gate"));
        // the flood fill (small elements, no border value) and the iterated path (border value set) against scipy
        c.Add(new OracleCase("propagation-blobs-in-gate-n3", "propagation", "blobs", new StructSpec.Rank(3), MaskName: "gate"));
        c.Add(new OracleCase("propagation-sparse-n2", "propagation", "sparse", new StructSpec.Rank(2)));
        c.Add(new OracleCase("propagation-blobs-in-gate-asym", "propagation", "blobs", Asymmetric(), MaskName: "gate"));
        c.Add(new OracleCase("propagation-thin-n1", "propagation", "thin", new StructSpec.Rank(1)));
        c.Add(new OracleCase("propagation-blobs-in-gate-n1-bv1", "propagation", "blobs", new StructSpec.Rank(1), MaskName: "gate", BorderValue: true));
        // the ball itself for radii with exact ties (r² = 9 = 2²+2²+1²) and anisotropic spacing
        foreach (var (r, s, name) in new[] { (0.0, iso, "r0"), (1.0, iso, "r1"), (3.0, iso, "r3"), (3.3, blobsSp, "r3.3-aniso"), (4.0, denseSp, "r4-aniso"), (7.5, new Spacing3(0.7, 1.1, 1.9), "r7.5-aniso") })
            c.Add(new OracleCase($"structure-ball-{name}", "structure", Structure: new StructSpec.BallMm(r, s)));
        // labels
        foreach (var input in new[] { "blobs", "sparse", "dense", "thin", "line", "empty", "full", "bigblobs", "shells" })
        foreach (var r in new[] { 1, 2, 3 })
        {
            c.Add(new OracleCase($"label-{input}-n{r}", "label", input, new StructSpec.Rank(r)));
            if (input is not ("empty")) c.Add(new OracleCase($"largest-{input}-n{r}", "largest", input, new StructSpec.Rank(r)));
        }
        // distance transform with sampling (mm)
        foreach (var (input, sp) in new[] { ("blobs", blobsSp), ("sparse", iso), ("dense", denseSp), ("bigblobs", denseSp), ("thin", new Spacing3(1, 0.7, 1.6)),
                     ("line", new Spacing3(0.5, 1, 1)), ("shells", iso), ("empty", iso), ("gate", new Spacing3(2.5, 0.6, 1.0)) })
            c.Add(new OracleCase($"edt-{input}", "edt", input, Extra: new JsonObject { ["sampling"] = new JsonArray(sp.X, sp.Y, sp.Z) }));
        c.Add(new OracleCase("edt-ch2", "edt", "ch2_mask", Extra: new JsonObject { ["sampling"] = new JsonArray(1.0, 1.0, 1.0) }));
        // fill holes, 3-D and slice by slice
        foreach (var input in new[] { "blobs", "sparse", "dense", "shells", "bigblobs", "thin", "empty", "full" })
        {
            foreach (var r in new[] { 1, 2, 3 })
                c.Add(new OracleCase($"fill_holes-{input}-n{r}", "fill_holes", input, new StructSpec.Rank(r)));
            foreach (var axis in new[] { 0, 1, 2 })
            foreach (var r2 in new[] { 1, 2 })
                c.Add(new OracleCase($"fill_holes_slices-{input}-axis{axis}-c{(r2 == 1 ? 4 : 8)}", "fill_holes_slices", input,
                    Extra: new JsonObject { ["axis"] = axis, ["rank2"] = r2 }));
        }
        c.Add(new OracleCase("fill_holes-ch2-n1", "fill_holes", "ch2_mask", new StructSpec.Rank(1)));
        c.Add(new OracleCase("fill_holes_slices-ch2-axis2-c4", "fill_holes_slices", "ch2_mask", Extra: new JsonObject { ["axis"] = 2, ["rank2"] = 1 }));
        // measurements and find_objects on scipy's own labelling of the same mask, or on an explicit atlas
        JsonObject M(string values, int[]? index, string? labelsFile = null)
        {
            var o = new JsonObject { ["values"] = values };
            if (index is not null) o["index"] = new JsonArray(index.Select(i => (JsonNode)i).ToArray());
            if (labelsFile is not null) o["labels_file"] = labelsFile;
            return o;
        }
        c.Add(new OracleCase("measure-blobs-n1-index", "measure", "blobs", new StructSpec.Rank(1), Extra: M("vals_blobs", [1, 2, 3, 5, 0, 99, 2])));
        c.Add(new OracleCase("measure-blobs-n3-positive", "measure", "blobs", new StructSpec.Rank(3), Extra: M("vals_blobs", null)));
        c.Add(new OracleCase("measure-blobs-whole", "measure", Extra: M("vals_blobs", null)));
        c.Add(new OracleCase("measure-atlas-index", "measure", Extra: M("vals_blobs", [-3, 0, 1, 2, 7, 1000, 5], "atlas")));
        c.Add(new OracleCase("measure-atlas-wide-index", "measure", Extra: M("vals_blobs", [1000, -3, 7, 1 << 30], "atlas")));
        // on ch2 only the bincount-based statistics: scipy's minimum/maximum/center_of_mass with labels take seconds there
        var ch2Measure = M("ch2", [1, 2, 3, 4, 10, 100]);
        ch2Measure["fns"] = new JsonArray("sum", "mean", "variance");
        c.Add(new OracleCase("measure-ch2-n1", "measure", "ch2_mask", new StructSpec.Rank(1), Extra: ch2Measure));
        c.Add(new OracleCase("find_objects-blobs-n1", "find_objects", "blobs", new StructSpec.Rank(1)));
        c.Add(new OracleCase("find_objects-bigblobs-n3", "find_objects", "bigblobs", new StructSpec.Rank(3)));
        c.Add(new OracleCase("find_objects-ch2-n1", "find_objects", "ch2_mask", new StructSpec.Rank(1)));
        c.Add(new OracleCase("find_objects-atlas", "find_objects", Extra: new JsonObject { ["labels_file"] = "atlas" }));
        c.Add(new OracleCase("find_objects-atlas-max5", "find_objects", Extra: new JsonObject { ["labels_file"] = "atlas", ["max_label"] = 5 }));
        // ch2 (real head, 181×217×181, thresholded)
        c.Add(new OracleCase("label-ch2-n1", "label", "ch2_mask", new StructSpec.Rank(1)));
        c.Add(new OracleCase("label-ch2-n3", "label", "ch2_mask", new StructSpec.Rank(3)));
        c.Add(new OracleCase("largest-ch2-n1", "largest", "ch2_mask", new StructSpec.Rank(1)));
        c.Add(new OracleCase("dilation-ch2-n3", "dilation", "ch2_mask", new StructSpec.Rank(3)));
        c.Add(new OracleCase("erosion-ch2-n1", "erosion", "ch2_mask", new StructSpec.Rank(1)));
        c.Add(new OracleCase("closing-ch2-ball3", "closing", "ch2_mask", new StructSpec.BallMm(3, iso)));
        return c;
    }

    public static IEnumerable<object[]> CaseIds(params string[] ops) =>
        Cases.Where(k => ops.Contains(k.Op)).Select(k => new object[] { k.Id });

    private ScipyMorphologyOracle()
    {
        foreach (var (name, m) in SyntheticInputs())
        {
            _masks[name] = m;
            Npy.Write(_dir[name + ".npy"], m.Data, m.Shape.X, m.Shape.Y, m.Shape.Z);
        }
        foreach (var (name, v) in SyntheticValues())
        {
            _volumes[name] = v;
            Npy.Write(_dir[name + ".npy"], v.Data, v.Shape.X, v.Shape.Y, v.Shape.Z);
        }
        foreach (var (name, l) in SyntheticLabels())
        {
            _labelMaps[name] = l;
            Npy.Write(_dir[name + ".npy"], l.Data, l.Shape.X, l.Shape.Y, l.Shape.Z);
        }
        var asym = Asymmetric();
        Npy.Write(_dir[asym.Name + ".npy"], asym.Data, asym.Shape.X, asym.Shape.Y, asym.Shape.Z);
        var cases = new JsonArray();
        foreach (var k in Cases)
        {
            var o = new JsonObject { ["id"] = k.Id, ["op"] = k.Op, ["iterations"] = k.Iterations, ["border_value"] = k.BorderValue ? 1 : 0 };
            if (k.Input is not null) o["input"] = k.Input;
            if (k.Structure is not null) o["structure"] = k.Structure.ToJson();
            if (k.MaskName is not null) o["mask"] = k.MaskName;
            if (k.Extra is not null) foreach (var kv in k.Extra) o[kv.Key] = kv.Value?.DeepClone();
            cases.Add(o);
        }
        var spec = new JsonObject
        {
            ["prepare"] = new JsonArray(
                new JsonObject { ["kind"] = "nifti", ["name"] = "ch2", ["path"] = Requirements.Ch2Path },
                new JsonObject { ["kind"] = "threshold", ["name"] = "ch2_mask", ["source"] = "ch2", ["t"] = Ch2Threshold }),
            ["cases"] = cases,
        };
        File.WriteAllText(_dir["cases.json"], spec.ToJsonString());
        ExternalTool.Python("scipy_morphology.py", _dir.FullName);
        _results = JsonNode.Parse(File.ReadAllText(_dir["results.json"]))!.AsObject();
        // ch2 as the C# side sees it: the float32 voxels nibabel read, thresholded here
        Ch2 = ReadVolume("ch2", Spacing3.Isotropic(1));
        _masks["ch2_mask"] = Mask.GreaterThan(Ch2, Ch2Threshold);
        _volumes["ch2"] = Ch2;
    }

    /// <summary>Float values on the grid of "blobs" (negative ones included).</summary>
    internal static Dictionary<string, Volume> SyntheticValues()
    {
        var rng = new Random(11);
        var v = Volume.Zeros(new Shape3(31, 27, 19), new Spacing3(0.9, 1.3, 2.1));
        for (int i = 0; i < v.Data.Length; i++) v.Data[i] = (float)(rng.NextDouble() * 250 - 50);
        return new() { ["vals_blobs"] = v };
    }

    /// <summary>An atlas-like label map on the grid of "blobs": negative, zero, sparse and large labels.</summary>
    internal static Dictionary<string, LabelMap> SyntheticLabels()
    {
        var rng = new Random(12);
        var s = new Shape3(31, 27, 19);
        int[] values = [-3, 0, 0, 1, 2, 2, 7, 1000];
        var d = new int[s.Count];
        for (int i = 0; i < d.Length; i++) d[i] = values[rng.Next(values.Length)];
        return new() { ["atlas"] = new LabelMap(s, d, Affine.FromSpacing(0.9, 1.3, 2.1)) };
    }

    public Volume Values(string name) => _volumes[name];

    public LabelMap Labels(string name) => _labelMaps[name];

    /// <summary>ch2 as float32 voxels (read by nibabel, passed through .npy), 1 mm grid.</summary>
    public Volume Ch2 { get; }

    public Mask Input(string name) => _masks[name];

    public static OracleCase Case(string id) => Cases.First(k => k.Id == id);

    /// <summary>Numbers the oracle reported for a case (count, boxes, measurements, seconds).</summary>
    public JsonObject Result(string id) => _results[id]!.AsObject();

    /// <summary>An output array of the oracle, values in x-fastest order, with its shape.</summary>
    public (double[] Values, int[] Shape) Output(string id)
    {
        var a = Npy.Read(_dir["out_" + id + ".npy"]);
        return (a.ToDoubleFortran(), a.Shape);
    }

    private Volume ReadVolume(string name, Spacing3 spacing)
    {
        var a = Npy.Read(_dir[name + ".npy"]);
        var v = a.ToDoubleFortran();
        var f = new float[v.Length];
        for (int i = 0; i < f.Length; i++) f[i] = (float)v[i];
        var shape = new Shape3(a.Shape[0], a.Shape[1], a.Shape[2]);
        return new Volume(shape, f, Affine.FromSpacing(spacing.X, spacing.Y, spacing.Z), spacing);
    }

    // ---------------------------------------------------------------- synthetic inputs

    private static Mask Random(Shape3 shape, Spacing3 sp, int seed, double p)
    {
        var rng = new Random(seed);
        var m = Mask.Zeros(shape, sp);
        for (int i = 0; i < m.Data.Length; i++) m.Data[i] = rng.NextDouble() < p ? (byte)1 : (byte)0;
        return m;
    }

    /// <summary>Random ellipsoids (some cut by the border, some with cavities) plus salt noise.</summary>
    private static Mask Blobs(Shape3 shape, Spacing3 sp, int seed, int count, double noise)
    {
        var rng = new Random(seed);
        var m = Mask.Zeros(shape, sp);
        for (int b = 0; b < count; b++)
        {
            double cx = rng.NextDouble() * shape.X, cy = rng.NextDouble() * shape.Y, cz = rng.NextDouble() * shape.Z;
            double rx = 1.5 + rng.NextDouble() * shape.X / 5, ry = 1.5 + rng.NextDouble() * shape.Y / 5, rz = 1 + rng.NextDouble() * shape.Z / 5;
            bool hollow = rng.NextDouble() < 0.4;
            for (int z = 0; z < shape.Z; z++)
            for (int y = 0; y < shape.Y; y++)
            for (int x = 0; x < shape.X; x++)
            {
                double q = Sq((x - cx) / rx) + Sq((y - cy) / ry) + Sq((z - cz) / rz);
                if (q <= 1 && !(hollow && q < 0.3)) m.Data[shape.Index(x, y, z)] = 1;
            }
        }
        for (int i = 0; i < m.Data.Length; i++) if (rng.NextDouble() < noise) m.Data[i] ^= 1;
        return m;
    }

    /// <summary>Nested spherical shells with closed cavities, a shell open to the border, and a tunnel: fill-holes material.</summary>
    private static Mask Shells(Shape3 shape, Spacing3 sp)
    {
        var m = Mask.Zeros(shape, sp);
        double cx = shape.X / 2.0 - 3, cy = shape.Y / 2.0, cz = shape.Z / 2.0;
        for (int z = 0; z < shape.Z; z++)
        for (int y = 0; y < shape.Y; y++)
        for (int x = 0; x < shape.X; x++)
        {
            double r = Math.Sqrt(Sq(x - cx) + Sq(y - cy) + Sq(z - cz));
            bool on = (r >= 9 && r < 11) || (r >= 4 && r < 5.5);
            double r2 = Math.Sqrt(Sq(x - (shape.X - 2)) + Sq(y - 4) + Sq(z - 4)); // cut by the border: not a hole in 3-D
            on |= r2 >= 3 && r2 < 4.5;
            if (z == (int)cz && y == (int)cy && x > cx + 8 && x < cx + 12) on = false; // a one-voxel tunnel through the outer shell
            if (on) m.Data[shape.Index(x, y, z)] = 1;
        }
        return m;
    }

    private static double Sq(double v) => v * v;

    internal static JsonSerializerOptions Json { get; } = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
}
