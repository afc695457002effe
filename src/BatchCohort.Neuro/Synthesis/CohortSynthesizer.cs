using BatchCohort.Imaging.Processing;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Imaging.Formats;
using BatchCohort.Imaging.Processing.Geometry;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Exposure;

namespace BatchCohort.Neuro.Synthesis;

/// <summary>One synthesised subject: the image on the OASIS grid and its truth.</summary>
public sealed record SyntheticSubject(
    SubjectPlan Plan,
    Volume Image,
    Affine AtlasToSubject,
    TissueVolumes Truth,
    double Asf,
    int RemovedVoxels,
    byte[]? TruthClasses);

/// <summary>A subject written by <see cref="CohortSynthesizer.Run"/>: its plan, truth and where its image is.</summary>
public sealed record WrittenSubject(SubjectPlan Plan, Affine AtlasToSubject, Affine GridAffine, TissueVolumes Truth, double Asf, string ImagePath);

/// <summary>
/// Synthetic cohorts with known truth (<c>batchcohort synth</c>). Each subject is the atlas with:
/// <list type="bullet">
/// <item>atrophy: brain tissue eroded from its surfaces to a target volume (<see cref="AtrophyModel"/>), the lost
/// voxels relabelled CSF and given the atlas's mean CSF intensity;</item>
/// <item>a pose and size: atlas world → subject world by <see cref="SubjectPlan.AtlasToSubject"/> (isotropic scale,
/// rotations up to ±15° about each axis, translation up to ±15 mm), resampled (trilinear) onto the OASIS grid;</item>
/// <item>a smooth multiplicative bias field (exp of a random quadratic polynomial of position) and Rician noise.</item>
/// </list>
/// Truth volumes are the atrophied atlas label counts × voxel volume × det(affine): exact for the imaged anatomy.
/// Everything is a function of the seed: the same seed gives the same bytes.
/// </summary>
public static class CohortSynthesizer
{
    /// <summary>Draws the cohort's plans (no voxels): demographics balanced by group and sex, then per-subject draws.</summary>
    public static IReadOnlyList<SubjectPlan> Plan(Atlas atlas, SynthOptions o)
    {
        ArgumentNullException.ThrowIfNull(atlas);
        ArgumentNullException.ThrowIfNull(o);
        o.Validate();
        int n = o.Subjects;
        // Balanced groups, and sexes balanced within each group, in a seeded random order.
        var cohortRng = DeterministicRandom.ForStream(o.Seed, ulong.MaxValue);
        var slots = new List<(string Group, string Sex)>();
        for (int i = 0; i < n; i++)
        {
            string g = i % 2 == 0 ? "control" : "patient";
            string s = (i / 2) % 2 == 0 ? "F" : "M";
            slots.Add((g, s));
        }
        cohortRng.Shuffle(slots);

        double refScale = Math.Cbrt(o.ReferenceIcvMl / atlas.IcvMl);
        var centre = atlas.IcvCentroidWorld;
        var icvPoints = IcvSamplePoints(atlas);
        var plans = new List<SubjectPlan>(n);
        for (int i = 0; i < n; i++)
        {
            var rng = DeterministicRandom.ForStream(o.Seed, (ulong)i);
            var (group, sex) = slots[i];
            double age = Math.Round(rng.Uniform(o.AgeMin, o.AgeMax), 1);
            double size = rng.TruncatedNormal(sex == "M" ? o.SizeMeanMale : o.SizeMeanFemale, o.SizeSd, o.SizeMin, o.SizeMax);
            double individual = 1 + rng.TruncatedNormal(0, o.IndividualSd, -2.5 * o.IndividualSd, 2.5 * o.IndividualSd);
            double fraction = (1 - o.AtrophyPerYear * Math.Max(0, age - o.ReferenceAge)) * (group == "patient" ? 1 - o.PatientEffect : 1) * individual;
            fraction = Math.Clamp(fraction, 0.3, 1.0);
            var bias = new double[9];
            for (int k = 0; k < bias.Length; k++) bias[k] = o.BiasCoefficientSd * rng.NextNormal();
            ulong noiseKey = CounterHash.Mix(o.Seed, (ulong)i, 0xB1A5);
            double scale = size * refScale;
            // Pose: redraw (deterministically) until the intracranial space fits the 160 mm slab and the 256 mm plane.
            // A head too large for the field of view at every pose tried (a large male head from an atlas whose
            // intracranial space is tall, such as Colin27's 157 mm) gets its size redrawn: the size distribution is
            // truncated where real scans would cut the head, and the other subjects' draws are unchanged.
            (double, double, double) rot = default, trans = default;
            int draws = 0, sizeDraws = 1;
            while (true)
            {
                draws++;
                rot = (rng.Uniform(-o.MaxRotationDeg, o.MaxRotationDeg), rng.Uniform(-o.MaxRotationDeg, o.MaxRotationDeg), rng.Uniform(-o.MaxRotationDeg, o.MaxRotationDeg));
                trans = (rng.Uniform(-o.MaxTranslationMm, o.MaxTranslationMm), rng.Uniform(-o.MaxTranslationMm, o.MaxTranslationMm), rng.Uniform(-o.MaxTranslationMm, o.MaxTranslationMm));
                var a = SubjectPlan.PoseAffine(centre, scale, rot, trans);
                if (FitsGrid(a, icvPoints, o.Layout, out _)) break;
                if (draws % 200 != 0) continue;
                if (sizeDraws >= 20)
                    throw new ArgumentException(FormattableString.Invariant(
                        $"subject {i + 1}: no pose within ±{o.MaxRotationDeg}° and no head size tried keeps the head inside the OASIS field of view (last scale {scale:0.###})"));
                sizeDraws++;
                size = rng.TruncatedNormal(sex == "M" ? o.SizeMeanMale : o.SizeMeanFemale, o.SizeSd, o.SizeMin, o.SizeMax);
                scale = size * refScale;
            }
            plans.Add(new SubjectPlan
            {
                Id = FormattableString.Invariant($"sub-{i + 1:D4}"),
                Index = i,
                Age = age,
                Sex = sex,
                Group = group,
                SizeFactor = size,
                Scale = scale,
                RotationDeg = rot,
                TranslationMm = trans,
                BrainFraction = fraction,
                BiasCoefficients = bias,
                NoiseKey = noiseKey,
                PoseDraws = draws,
                SizeDraws = sizeDraws,
            });
        }
        return plans;
    }

    /// <summary>The voxels atrophy removes (flat atlas indices) and the subject's true volumes, without synthesising an image.</summary>
    public static (int[] Removed, TissueVolumes Truth) Atrophy(Atlas atlas, SubjectPlan plan, SynthOptions o)
    {
        ArgumentNullException.ThrowIfNull(atlas);
        ArgumentNullException.ThrowIfNull(plan);
        var removed = AtrophyModel.For(atlas).Select(plan.BrainFraction, plan.NoiseKey, o.AtrophyJitterMm);
        var classes = atlas.TissueClasses;
        long lostGrey = 0, lostWhite = 0;
        foreach (int v in removed)
        {
            if (classes[v] == (byte)TissueClass.GreyMatter) lostGrey++; else lostWhite++;
        }
        double voxMl = atlas.Head.VoxelVolumeMm3 / 1000.0;
        var atlasVol = atlas.Volumes;
        var atrophied = new TissueVolumes(atlasVol.CsfMl + removed.Length * voxMl, atlasVol.GreyMl - lostGrey * voxMl, atlasVol.WhiteMl - lostWhite * voxMl);
        return (removed, atrophied.Scaled(plan.AtlasToSubject(atlas.IcvCentroidWorld).Determinant3));
    }

    /// <summary>The subject's grid: the OASIS grid with its slab centred (to a whole slice) on the posed intracranial space.</summary>
    public static Affine GridFor(Atlas atlas, SubjectPlan plan, SynthLayout layout = SynthLayout.Las)
    {
        var a = plan.AtlasToSubject(atlas.IcvCentroidWorld);
        FitsGrid(a, IcvSamplePoints(atlas), layout, out var c);
        return layout == SynthLayout.Oasis ? OasisGrid.SagittalAffine(c.X, c.Y, c.Z) : OasisGrid.AffineWithOrigin(OasisGrid.OriginSliceFor(c.Z));
    }

    /// <summary>
    /// The same subject scanned again (test–retest): the same anatomy (size, atrophy pattern, brain fraction: the same
    /// truth) in a new rigid pose (rotations within ±<see cref="SynthOptions.MaxRotationDeg"/>, translation within
    /// ±<see cref="SynthOptions.MaxTranslationMm"/>, redrawn until the intracranial space fits the grid), with a new
    /// bias field and new noise. A pure function of (plan, options, <paramref name="scan"/>); scan 0 is not the
    /// original scan.
    /// </summary>
    public static SubjectPlan Rescan(Atlas atlas, SubjectPlan plan, SynthOptions o, ulong scan)
    {
        ArgumentNullException.ThrowIfNull(atlas);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(o);
        ulong key = CounterHash.Mix(plan.NoiseKey, scan, 0x5CA4);
        var rng = DeterministicRandom.ForStream(key, 1);
        var bias = new double[9];
        for (int k = 0; k < bias.Length; k++) bias[k] = o.BiasCoefficientSd * rng.NextNormal();
        var centre = atlas.IcvCentroidWorld;
        var pts = IcvSamplePoints(atlas);
        for (int draws = 1; ; draws++)
        {
            var rot = (rng.Uniform(-o.MaxRotationDeg, o.MaxRotationDeg), rng.Uniform(-o.MaxRotationDeg, o.MaxRotationDeg), rng.Uniform(-o.MaxRotationDeg, o.MaxRotationDeg));
            var trans = (rng.Uniform(-o.MaxTranslationMm, o.MaxTranslationMm), rng.Uniform(-o.MaxTranslationMm, o.MaxTranslationMm), rng.Uniform(-o.MaxTranslationMm, o.MaxTranslationMm));
            if (FitsGrid(SubjectPlan.PoseAffine(centre, plan.Scale, rot, trans), pts, o.Layout, out _))
                return plan with { RotationDeg = rot, TranslationMm = trans, BiasCoefficients = bias, ScanKey = CounterHash.Mix(key, 2, 0xB1A5), PoseDraws = draws };
            if (draws >= 200) throw new ArgumentException($"{plan.Id}: no re-scan pose keeps the head inside the field of view");
        }
    }

    /// <summary>Synthesises one subject in memory.</summary>
    public static SyntheticSubject Synthesize(Atlas atlas, SubjectPlan plan, SynthOptions o) => Synthesize(atlas, plan, o, null);

    /// <summary>
    /// Synthesises one subject in memory on the OASIS grid, or (<paramref name="voxelMm"/> set) on a coarser grid
    /// covering the same box with voxels of about that size along each axis (for small, fast test subjects; the noise
    /// is then drawn per coarse voxel).
    /// </summary>
    public static SyntheticSubject Synthesize(Atlas atlas, SubjectPlan plan, SynthOptions o, double? voxelMm)
    {
        ArgumentNullException.ThrowIfNull(atlas);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(o);
        var head = atlas.Head;
        var a = plan.AtlasToSubject(atlas.IcvCentroidWorld);
        var grid = GridFor(atlas, plan, o.Layout);
        var shape = OasisGrid.Shape;
        if (voxelMm is double mm)
        {
            if (!(mm >= 1 && mm <= 8)) throw new ArgumentOutOfRangeException(nameof(voxelMm), "voxel size must be within 1–8 mm");
            // same box: n·s = n'·s' along each axis; voxel 0's centre moves by (f − 1)/2 old voxels
            int[] n = { shape.X, shape.Y, shape.Z };
            double[] sp = { OasisGrid.Spacing.X, OasisGrid.Spacing.Y, OasisGrid.Spacing.Z };
            var f = new double[3];
            var nn = new int[3];
            for (int k = 0; k < 3; k++) { nn[k] = Math.Max(1, (int)Math.Round(n[k] * sp[k] / mm)); f[k] = (double)n[k] / nn[k]; }
            var m = new double[16];
            for (int r = 0; r < 3; r++)
            {
                double origin = grid[r, 3];
                for (int k = 0; k < 3; k++) { m[r * 4 + k] = grid[r, k] * f[k]; origin += grid[r, k] * (f[k] - 1) / 2; }
                m[r * 4 + 3] = origin;
            }
            m[15] = 1;
            grid = new Affine(m);
            shape = new Shape3(nn[0], nn[1], nn[2]);
        }

        // 1. Atrophy on the atlas grid.
        var (removed, truth) = Atrophy(atlas, plan, o);
        var t1 = (float[])head.Data.Clone();
        var classes = atlas.TissueClasses;
        float csf = (float)atlas.MeanIntensity(TissueClass.Csf);
        foreach (int v in removed) t1[v] = csf;
        double det = a.Determinant3;

        // 2. Pose and size: resample onto the subject's grid (trilinear).
        var moved = Resample.ToGrid(head.WithData(t1), shape, grid, a, order: 1);
        byte[]? truthClasses = null;
        if (o.WriteTruthLabels)
        {
            var c = new float[classes.Length];
            for (int i = 0; i < c.Length; i++) c[i] = classes[i];
            foreach (int v in removed) c[v] = (float)TissueClass.Csf;
            var lab = Resample.ToGrid(head.WithData(c), shape, grid, a, order: 0);
            truthClasses = new byte[lab.Data.Length];
            for (int i = 0; i < truthClasses.Length; i++) truthClasses[i] = (byte)lab.Data[i];
        }

        // 3. Intensity scale, bias field and Rician noise; rounded to int16 values.
        double gain = o.WhiteMatterIntensity / atlas.MeanIntensity(TissueClass.WhiteMatter);
        double sigma = o.NoiseFraction * o.WhiteMatterIntensity;
        var img = moved.Data;
        var c9 = plan.BiasCoefficients;
        ulong key = plan.ScanKey ?? plan.NoiseKey;
        // Bias field exp(P(u, v, w)) with P quadratic; along a row (fixed v, w) P = A + B·u + C·u², so
        // exp(P) = exp(A) · exp(B·u) · exp(C·u²): a table for exp(C·u²) and a table-free product for exp(B·u).
        int nx = shape.X;
        var expCu2 = new double[nx];
        var uOf = new double[nx];
        for (int x = 0; x < nx; x++)
        {
            uOf[x] = 2.0 * x / (nx - 1) - 1;
            expCu2[x] = Math.Exp(c9[3] * uOf[x] * uOf[x]);
        }
        Parallelism.For(0, shape.Z, z =>
        {
            double w = 2.0 * z / (shape.Z - 1) - 1;
            for (int y = 0; y < shape.Y; y++)
            {
                double v = 2.0 * y / (shape.Y - 1) - 1;
                double A = c9[1] * v + c9[2] * w + c9[4] * v * v + c9[5] * w * w + c9[8] * v * w;
                double B = c9[0] + c9[6] * v + c9[7] * w;
                double rowGain = gain * Math.Exp(A);
                int i = shape.Index(0, y, z);
                for (int x = 0; x < nx; x++, i++)
                {
                    double s = img[i] * rowGain * Math.Exp(B * uOf[x]) * expCu2[x];
                    double val = s;
                    if (sigma > 0)
                    {
                        var (n1, n2) = CounterHash.NormalPair(key, (ulong)i);
                        double re = s + sigma * n1, im = sigma * n2;
                        val = Math.Sqrt(re * re + im * im);
                    }
                    img[i] = (float)Math.Min(32767, Math.Round(val));
                }
            }
        });
        return new SyntheticSubject(plan, moved, a, truth, 1.0 / det, removed.Length, truthClasses);
    }

    /// <summary>
    /// Writes a whole cohort: sub-XXXX/anat/sub-XXXX_T1w.{hdr,img | nii.gz}, participants.tsv (+ .json),
    /// truth.tsv (+ .json), dataset_description.json. <paramref name="log"/> gets one line per subject.
    /// </summary>
    public static IReadOnlyList<WrittenSubject> Run(Atlas atlas, SynthOptions o, string outDir, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(atlas);
        ArgumentException.ThrowIfNullOrEmpty(outDir);
        var plans = Plan(atlas, o);
        Directory.CreateDirectory(outDir);
        var results = new List<WrittenSubject>();
        var part = new StringBuilder("participant_id\tage\tsex\tgroup\n");
        var truth = new StringBuilder(string.Join('\t', TruthColumns) + "\n");
        foreach (var plan in plans)
        {
            var s = Synthesize(atlas, plan, o);
            var anat = Path.Combine(outDir, plan.Id, "anat");
            Directory.CreateDirectory(anat);
            string stem = Path.Combine(anat, plan.Id + "_T1w");
            string imagePath = stem + (o.Format == SynthFormat.Analyze ? ".hdr" : ".nii.gz");
            // OASIS's raw layout as Analyze: the header holds voxel sizes only, so the file is read with the Analyze
            // convention's affine and the head's orientation is the pipeline's to find.
            bool headerless = o.Layout == SynthLayout.Oasis && o.Format == SynthFormat.Analyze;
            var onDisk = headerless ? new Volume(s.Image.Shape, s.Image.Data, OasisGrid.AnalyzeReading(s.Image.Shape, s.Image.Spacing), s.Image.Spacing) : s.Image;
            if (o.Format == SynthFormat.Analyze)
                VolumeFile.WriteAnalyze(onDisk, imagePath, VoxelType.Int16);
            else
                VolumeFile.WriteNifti(onDisk, imagePath, VoxelType.Int16);
            if (s.TruthClasses is { } tc)
            {
                var dir = Path.Combine(outDir, "derivatives", "truth", plan.Id, "anat");
                Directory.CreateDirectory(dir);
                var lab = onDisk.WithData(tc.Select(b => (float)b).ToArray());
                VolumeFile.WriteNifti(lab, Path.Combine(dir, plan.Id + "_dseg.nii.gz"), VoxelType.UInt8);
            }
            part.Append(CultureInfo.InvariantCulture, $"{plan.Id}\t{plan.Age:0.0}\t{plan.Sex}\t{plan.Group}\n");
            truth.Append(TruthRow(s, atlas)).Append('\n');
            log?.Invoke(FormattableString.Invariant(
                $"{plan.Id}  {plan.Sex} {plan.Age,4:0.0} {plan.Group,-7}  ICV {s.Truth.IntracranialMl,6:0.0} mL  brain {s.Truth.BrainMl,6:0.0} mL  scale {plan.Scale:0.000}  rot ({plan.RotationDeg.X:+0.0;-0.0},{plan.RotationDeg.Y:+0.0;-0.0},{plan.RotationDeg.Z:+0.0;-0.0})°"));
            results.Add(new WrittenSubject(plan, s.AtlasToSubject, onDisk.Affine, s.Truth, s.Asf, imagePath));
        }
        File.WriteAllText(Path.Combine(outDir, "participants.tsv"), part.ToString());
        File.WriteAllText(Path.Combine(outDir, "participants.json"), ParticipantsSidecar);
        File.WriteAllText(Path.Combine(outDir, "truth.tsv"), truth.ToString());
        File.WriteAllText(Path.Combine(outDir, "truth.json"), TruthSidecar);
        File.WriteAllText(Path.Combine(outDir, "dataset_description.json"), DatasetDescription(atlas, o));
        return results;
    }

    public static readonly string[] TruthColumns =
    {
        "participant_id", "icv_ml", "brain_ml", "gm_ml", "wm_ml", "csf_ml", "asf", "scale", "head_size_factor", "brain_fraction",
        "rot_x_deg", "rot_y_deg", "rot_z_deg", "trans_x_mm", "trans_y_mm", "trans_z_mm",
        "a11", "a12", "a13", "a14", "a21", "a22", "a23", "a24", "a31", "a32", "a33", "a34", "atlas",
    };

    private static string TruthRow(SyntheticSubject s, Atlas atlas)
    {
        var p = s.Plan;
        var a = s.AtlasToSubject;
        var f = CultureInfo.InvariantCulture;
        var cols = new List<string>
        {
            p.Id,
            s.Truth.IntracranialMl.ToString("0.000", f), s.Truth.BrainMl.ToString("0.000", f), s.Truth.GreyMl.ToString("0.000", f),
            s.Truth.WhiteMl.ToString("0.000", f), s.Truth.CsfMl.ToString("0.000", f), s.Asf.ToString("0.000000", f),
            p.Scale.ToString("0.000000", f), p.SizeFactor.ToString("0.000000", f), p.BrainFraction.ToString("0.000000", f),
            p.RotationDeg.X.ToString("0.0000", f), p.RotationDeg.Y.ToString("0.0000", f), p.RotationDeg.Z.ToString("0.0000", f),
            p.TranslationMm.X.ToString("0.0000", f), p.TranslationMm.Y.ToString("0.0000", f), p.TranslationMm.Z.ToString("0.0000", f),
        };
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++) cols.Add(a[r, c].ToString("R", f));
        cols.Add(atlas.Name);
        return string.Join('\t', cols);
    }

    private const string ParticipantsSidecar = """
        {
          "participant_id": {"Description": "Synthetic subject identifier"},
          "age": {"Description": "Age at scan", "Units": "year"},
          "sex": {"Description": "Sex", "Levels": {"F": "female", "M": "male"}},
          "group": {"Description": "Diagnostic group", "Levels": {"control": "healthy control", "patient": "patient (about 4% less brain tissue than a control of the same age)"}}
        }
        """;

    private const string TruthSidecar = """
        {
          "icv_ml": {"Description": "True intracranial volume (CSF + grey + white matter) of the synthetic subject", "Units": "mL"},
          "brain_ml": {"Description": "True brain tissue volume (grey + white matter)", "Units": "mL"},
          "gm_ml": {"Description": "True grey-matter volume", "Units": "mL"},
          "wm_ml": {"Description": "True white-matter volume", "Units": "mL"},
          "csf_ml": {"Description": "True intracranial CSF volume", "Units": "mL"},
          "asf": {"Description": "True atlas scaling factor (OASIS definition: determinant of the subject-to-atlas linear map, 1/scale^3); eTIV = atlas ICV / ASF equals icv_ml"},
          "scale": {"Description": "Isotropic scale from atlas to subject (head_size_factor x (reference ICV / atlas ICV)^(1/3))"},
          "head_size_factor": {"Description": "Head size relative to a reference adult head of 1500 mL intracranial volume (0.85-1.15)"},
          "brain_fraction": {"Description": "Brain tissue volume relative to the atlas brain (age, group and individual atrophy)"},
          "rot_x_deg": {"Description": "Rotation about the world x axis through the atlas ICV centroid, applied first", "Units": "degree"},
          "rot_y_deg": {"Description": "Rotation about the world y axis, applied second", "Units": "degree"},
          "rot_z_deg": {"Description": "Rotation about the world z axis, applied third", "Units": "degree"},
          "trans_x_mm": {"Description": "World position of the atlas ICV centroid in the subject (x)", "Units": "mm"},
          "a11": {"Description": "a11..a34: the atlas-to-subject world affine (RAS mm), rows 1-3 of the 4x4 matrix; an atlas point p appears in the subject image at A p"},
          "atlas": {"Description": "The atlas the subject was made from"}
        }
        """;

    private static string DatasetDescription(Atlas atlas, SynthOptions o)
    {
        var d = new Dictionary<string, object>
        {
            ["Name"] = "BatchCohort synthetic cohort",
            ["BIDSVersion"] = "1.8.0",
            ["DatasetType"] = "raw",
            ["GeneratedBy"] = new[] { new Dictionary<string, object> { ["Name"] = "batchcohort synth", ["Version"] = typeof(CohortSynthesizer).Assembly.GetName().Version?.ToString() ?? "?" } },
            ["Atlas"] = atlas.Source,
            ["AtlasIcvMl"] = Math.Round(atlas.IcvMl, 3),
            ["Seed"] = o.Seed,
            ["Options"] = o,
        };
        return JsonSerializer.Serialize(d, new JsonSerializerOptions { WriteIndented = true });
    }

    // ---- field-of-view checks ----

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Atlas, double[]> PointCache = new();

    /// <summary>World positions (x, y, z triples) of every second intracranial voxel along each axis: the shape to keep in view.</summary>
    private static double[] IcvSamplePoints(Atlas atlas) => PointCache.GetValue(atlas, at =>
    {
        var m = at.IcvMask;
        var s = m.Shape;
        var pts = new List<double>();
        for (int z = 0; z < s.Z; z += 2)
            for (int y = 0; y < s.Y; y += 2)
                for (int x = 0; x < s.X; x += 2)
                    if (m.Data[s.Index(x, y, z)] != 0)
                    {
                        var w = m.Affine.Apply(x, y, z);
                        pts.Add(w.X); pts.Add(w.Y); pts.Add(w.Z);
                    }
        return pts.ToArray();
    });

    /// <summary>True when the posed ICV fits the slab (160 mm, with a 2.5 mm margin) and the 256 mm plane (5 mm margin);
    /// the slab runs head–foot in the LAS layout and right–left in OASIS's sagittal one.</summary>
    private static bool FitsGrid(Affine a, double[] pts, SynthLayout layout, out (double X, double Y, double Z) centre)
    {
        double xmin = double.MaxValue, xmax = double.MinValue, ymin = double.MaxValue, ymax = double.MinValue, zmin = double.MaxValue, zmax = double.MinValue;
        double axmax = 0, aymax = 0;
        for (int i = 0; i < pts.Length; i += 3)
        {
            var p = a.Apply(pts[i], pts[i + 1], pts[i + 2]);
            zmin = Math.Min(zmin, p.Z); zmax = Math.Max(zmax, p.Z);
            xmin = Math.Min(xmin, p.X); xmax = Math.Max(xmax, p.X);
            ymin = Math.Min(ymin, p.Y); ymax = Math.Max(ymax, p.Y);
            axmax = Math.Max(axmax, Math.Abs(p.X)); aymax = Math.Max(aymax, Math.Abs(p.Y));
        }
        centre = ((xmin + xmax) / 2, (ymin + ymax) / 2, (zmin + zmax) / 2);
        double slab = OasisGrid.Shape.Z * OasisGrid.Spacing.Z;
        double slabRoom = slab - 2 * 2.5 - 2 * OasisGrid.Spacing.Z;
        if (layout == SynthLayout.Oasis)
            return xmax - xmin <= slabRoom && ymax - ymin <= 244 && zmax - zmin <= 244;
        return zmax - zmin <= slabRoom && axmax <= 122 && aymax <= 122;
    }
}
