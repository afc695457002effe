using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Exposure;

namespace BatchCohort.Neuro.Synthesis;

/// <summary>Structures of the procedural head phantom (its label map's values).</summary>
public enum PhantomLabel : byte
{
    Air = 0,
    /// <summary>Extra-cerebral and sulcal cerebrospinal fluid.</summary>
    Csf = 1,
    CorticalGrey = 2,
    WhiteMatter = 3,
    /// <summary>Lateral, third and fourth ventricles (CSF).</summary>
    Ventricle = 4,
    /// <summary>Caudate, putamen, pallidum, thalamus, hippocampus (grey matter).</summary>
    DeepGrey = 5,
    CerebellarGrey = 6,
    CerebellarWhite = 7,
    /// <summary>Brainstem (counted as white matter).</summary>
    Brainstem = 8,
    /// <summary>Skull: inner and outer tables and the diploë between them.</summary>
    Skull = 9,
    /// <summary>Everything else in the head: scalp, subcutaneous fat, neck, and the face (eyes, orbital fat, facial
    /// bones, muscles, the air of the nasal cavity and sinuses, which a filled head mask counts as head).</summary>
    SoftTissue = 10,
}

/// <summary>Settings of the head phantom. The defaults give a 1 mm head on the Colin27/MNI grid (181×217×181).</summary>
public sealed record PhantomOptions
{
    /// <summary>Isotropic voxel size in mm. The field of view is fixed (MNI-like: x −90…90, y −126…90, z −72…108 mm).</summary>
    public double VoxelSize { get; init; } = 1.0;
    /// <summary>Fixes the gyral pattern. Different seeds give different (equally plausible) foldings.</summary>
    public ulong FoldingSeed { get; init; } = 27;
    /// <summary>Cortical grey-matter thickness in mm.</summary>
    public double CorticalThickness { get; init; } = 2.8;
    /// <summary>Typical sulcal depth in mm (varies ±35% over the cortex).</summary>
    public double SulcalDepth { get; init; } = 14.0;
    /// <summary>Supersample boundary voxels (2×2×2) so the T1 image has partial-volume edges; the label map is unaffected.</summary>
    public bool PartialVolume { get; init; } = true;
    /// <summary>When false the cortex is not folded (a smooth ribbon): useful for analytic checks.</summary>
    public bool Folding { get; init; } = true;
    /// <summary>
    /// A face (eyes in fat-filled orbits, nose, nasal cavity and sinuses, facial bones, masseters, tongue) in front of
    /// and below the braincase, outside the skull: the intracranial labels and the skull are the same either way. On by
    /// default since pipeline 0.5.0: without it the phantom is almost front–back symmetric and, as an atlas, registers
    /// real heads facing backwards or 1.2× too large (docs/pipeline.md, the OASIS-layout cross-atlas section).
    /// </summary>
    public bool Face { get; init; } = true;

    internal void Validate()
    {
        if (!(VoxelSize >= 0.5 && VoxelSize <= 4)) throw new ArgumentException($"phantom voxel size must be within 0.5–4 mm, got {VoxelSize}", nameof(VoxelSize));
        if (!(CorticalThickness >= 1 && CorticalThickness <= 6)) throw new ArgumentException($"cortical thickness must be within 1–6 mm, got {CorticalThickness}", nameof(CorticalThickness));
        if (!(SulcalDepth >= 0 && SulcalDepth <= 25)) throw new ArgumentException($"sulcal depth must be within 0–25 mm, got {SulcalDepth}", nameof(SulcalDepth));
    }
}

/// <summary>
/// A procedural T1-weighted head generated in memory: scalp and neck, optionally a face (<see cref="PhantomOptions.Face"/>), skull (tables and diploë), extra-cerebral CSF,
/// a cerebrum whose grey-matter ribbon is folded into gyri and sulci, an interhemispheric fissure, white matter,
/// lateral/third/fourth ventricles, deep grey nuclei, a foliated cerebellum and a brainstem, in MNI-like world
/// coordinates (RAS mm, origin near the anterior commissure). The label map is the truth: every volume the phantom
/// reports is a count of its labels, so a measurement can be checked against it exactly.
/// </summary>
/// <remarks>
/// Geometry: each brain compartment is an implicit surface — a star-shaped deformed ellipsoid for the cerebrum, an
/// ellipsoid for the cerebellum, a tapered capsule for the brainstem — and the intracranial surface is a smooth union
/// of them grown by 3 mm, so that skull (6.5 mm) and scalp (6 mm) follow it. The face (when asked for) lies anterior-inferior to the
/// braincase (eyes centred at x ±34, y 62, z −38 as in Colin27) and is only drawn outside the skull, so the
/// intracranial labels and the braincase do not depend on it; without it the head is nearly front–back symmetric and
/// an affine registration by mutual information to a real head can land it facing backwards. The cortex is a layer of
/// <see cref="PhantomOptions.CorticalThickness"/> below the brain surface; sulci are slots of CSF lined with grey
/// matter that run along the zero lines of a random spherical field (<see cref="SphericalField"/>) to a depth of
/// about <see cref="PhantomOptions.SulcalDepth"/>. Intensities are on Colin27's scale (CSF ≈ 28, GM ≈ 80, WM ≈ 112, fat ≈ 150, air and cortical bone dark).
/// </remarks>
public sealed class HeadPhantom
{
    /// <summary>World extent (mm) of the phantom grid, the same as Colin27's (ch2.nii.gz).</summary>
    public const double XMin = -90, YMin = -126, ZMin = -72, Extent = 180, ExtentY = 216;

    private HeadPhantom(Volume t1, byte[] labels, PhantomOptions options)
    {
        T1 = t1;
        Labels = labels;
        Options = options;
    }

    public PhantomOptions Options { get; }

    /// <summary>The T1-weighted image (float, Colin27-like intensity scale, noise-free).</summary>
    public Volume T1 { get; }

    /// <summary>One <see cref="PhantomLabel"/> per voxel, on the grid of <see cref="T1"/>.</summary>
    public byte[] Labels { get; }

    public Shape3 Shape => T1.Shape;
    public Affine Affine => T1.Affine;
    public double VoxelVolumeMl => T1.VoxelVolumeMm3 / 1000.0;

    /// <summary>True for labels inside the skull (CSF, grey, white, ventricles, deep grey, cerebellum, brainstem).</summary>
    public static bool IsIntracranial(PhantomLabel l) => l is >= PhantomLabel.Csf and <= PhantomLabel.Brainstem;

    /// <summary>True for brain parenchyma: grey and white matter of cerebrum, cerebellum and brainstem.</summary>
    public static bool IsBrain(PhantomLabel l) => l is PhantomLabel.CorticalGrey or PhantomLabel.WhiteMatter or PhantomLabel.DeepGrey
        or PhantomLabel.CerebellarGrey or PhantomLabel.CerebellarWhite or PhantomLabel.Brainstem;

    public static bool IsGrey(PhantomLabel l) => l is PhantomLabel.CorticalGrey or PhantomLabel.DeepGrey or PhantomLabel.CerebellarGrey;
    public static bool IsWhite(PhantomLabel l) => l is PhantomLabel.WhiteMatter or PhantomLabel.CerebellarWhite or PhantomLabel.Brainstem;
    public static bool IsCsf(PhantomLabel l) => l is PhantomLabel.Csf or PhantomLabel.Ventricle;

    /// <summary>Mask of the voxels whose label satisfies <paramref name="select"/>, on the phantom's grid.</summary>
    public Mask MaskOf(Func<PhantomLabel, bool> select)
    {
        ArgumentNullException.ThrowIfNull(select);
        var lut = new byte[256];
        for (int i = 0; i < 256; i++) lut[i] = select((PhantomLabel)i) ? (byte)1 : (byte)0;
        var d = new byte[Labels.Length];
        for (int i = 0; i < d.Length; i++) d[i] = lut[Labels[i]];
        return new Mask(Shape, d, Affine, T1.Spacing);
    }

    /// <summary>Everything that is not air (scalp, skull, neck and all that they enclose).</summary>
    public Mask HeadMask() => MaskOf(l => l != PhantomLabel.Air);

    /// <summary>The intracranial space: CSF, ventricles and brain (inside the inner table of the skull).</summary>
    public Mask IcvMask() => MaskOf(IsIntracranial);

    /// <summary>Brain parenchyma: grey and white matter of cerebrum, cerebellum and brainstem.</summary>
    public Mask BrainMask() => MaskOf(IsBrain);

    /// <summary>Tissue classes per voxel (0 outside the head, 1 CSF, 2 GM, 3 WM, 4 other head tissue): see <see cref="TissueClassOf"/>.</summary>
    public byte[] TissueClasses()
    {
        var lut = new byte[256];
        for (int i = 0; i < 256; i++) lut[i] = (byte)TissueClassOf((PhantomLabel)i);
        var d = new byte[Labels.Length];
        for (int i = 0; i < d.Length; i++) d[i] = lut[Labels[i]];
        return d;
    }

    /// <summary>The tissue class a phantom structure counts as.</summary>
    public static Atlases.TissueClass TissueClassOf(PhantomLabel l) =>
        IsCsf(l) ? Atlases.TissueClass.Csf
        : IsGrey(l) ? Atlases.TissueClass.GreyMatter
        : IsWhite(l) ? Atlases.TissueClass.WhiteMatter
        : l == PhantomLabel.Air ? Atlases.TissueClass.Background
        : Atlases.TissueClass.OtherHead;

    /// <summary>The true volumes (mL) of the phantom: voxel counts of its labels times the voxel volume.</summary>
    public Atlases.TissueVolumes Volumes()
    {
        var c = LabelCounts();
        double v = VoxelVolumeMl;
        long csf = 0, gm = 0, wm = 0;
        for (int i = 0; i < 256; i++)
        {
            var l = (PhantomLabel)i;
            if (IsCsf(l)) csf += c[i];
            else if (IsGrey(l)) gm += c[i];
            else if (IsWhite(l)) wm += c[i];
        }
        return new Atlases.TissueVolumes(csf * v, gm * v, wm * v);
    }

    /// <summary>Voxel count per label (index = label value).</summary>
    public long[] LabelCounts()
    {
        var counts = new long[256];
        foreach (var b in Labels) counts[b]++;
        return counts;
    }

    /// <summary>Generates the phantom. About 1–2 s at 1 mm on two cores.</summary>
    public static HeadPhantom Generate(PhantomOptions? options = null)
    {
        var o = options ?? new PhantomOptions();
        o.Validate();
        double v = o.VoxelSize;
        var shape = new Shape3((int)Math.Round(Extent / v) + 1, (int)Math.Round(ExtentY / v) + 1, (int)Math.Round(Extent / v) + 1);
        var affine = Affine.FromSpacing(v, v, v, XMin, YMin, ZMin);
        var geo = new Geometry(o);
        var labels = new byte[shape.Count];
        var t1 = new float[shape.Count];

        Parallelism.For(0, shape.Z, z =>
        {
            double wz = ZMin + z * v;
            for (int y = 0; y < shape.Y; y++)
            {
                double wy = YMin + y * v;
                int i = shape.Index(0, y, z);
                for (int x = 0; x < shape.X; x++, i++)
                {
                    var (l, val) = geo.Classify(XMin + x * v, wy, wz);
                    labels[i] = (byte)l;
                    t1[i] = val;
                }
            }
        });

        if (o.PartialVolume)
        {
            // Boundary voxels (a 6-neighbour with another label): average the intensity over 2×2×2 sub-voxel points.
            double q = v / 4;
            Parallelism.For(0, shape.Z, z =>
            {
                for (int y = 0; y < shape.Y; y++)
                {
                    for (int x = 0; x < shape.X; x++)
                    {
                        int i = shape.Index(x, y, z);
                        byte l = labels[i];
                        bool edge =
                            (x > 0 && labels[i - 1] != l) || (x < shape.X - 1 && labels[i + 1] != l) ||
                            (y > 0 && labels[i - shape.X] != l) || (y < shape.Y - 1 && labels[i + shape.X] != l) ||
                            (z > 0 && labels[i - shape.X * shape.Y] != l) || (z < shape.Z - 1 && labels[i + shape.X * shape.Y] != l);
                        if (!edge) continue;
                        double cx = XMin + x * v, cy = YMin + y * v, cz = ZMin + z * v, sum = 0;
                        for (int k = 0; k < 8; k++)
                            sum += geo.Classify(cx + ((k & 1) == 0 ? -q : q), cy + ((k & 2) == 0 ? -q : q), cz + ((k & 4) == 0 ? -q : q)).Intensity;
                        t1[i] = (float)(sum / 8);
                    }
                }
            });
        }
        return new HeadPhantom(new Volume(shape, t1, affine, Spacing3.Isotropic(v)), labels, o);
    }

    /// <summary>The implicit geometry; <see cref="Classify"/> is a pure function of the world position.</summary>
    private sealed class Geometry
    {
        private readonly PhantomOptions _o;
        private readonly SphericalField? _gyri, _gyri2, _folia, _depthVar;
        private readonly PlanarField? _medial;

        // Cerebrum: star-shaped around its centre.
        private const double Cx = 0, Cy = -18, Cz = 14, CerMaxR = 87;
        // Cerebellum ellipsoid.
        private const double Bx = 0, By = -64, Bz = -40, Ba = 50, Bb = 27, Bc = 23;
        // Brainstem capsule from P1 (midbrain) to P2 (medulla, below the grid).
        private const double P1y = -20, P1z = -6, P2y = -40, P2z = -90, BsMaxR = 14;
        private const double TentGap = 2.5, IcvGrow = 2.5, SkullT = 6.5, ScalpT = 6.0;
        // Smooth-union blend widths; the blend lowers the union by at most k/4 each.
        private const double KCb = 12, KBs = 10, FarMargin = IcvGrow + SkullT + ScalpT + (KCb + KBs) / 4 + 0.5;
        private const double FissureHalf = 0.8;

        private static readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, Lazy<PlanarField>> MedialCache = new();

        public Geometry(PhantomOptions o)
        {
            _o = o;
            if (o.Folding)
            {
                _gyri = SphericalField.Cached(o.FoldingSeed, 40, 3.0, 3.8, 0.5);
                _gyri2 = SphericalField.Cached(o.FoldingSeed ^ 0x5EC0DUL, 32, 2.4, 3.0, 0.5);
                _folia = SphericalField.Cached(o.FoldingSeed ^ 0xCE7EBE11UL, 32, 3.4, 4.2, 0.8);
                _depthVar = SphericalField.Cached(o.FoldingSeed ^ 0xDE97UL, 12, 0.6, 1.0, 3.0);
                _medial = MedialCache.GetOrAdd(o.FoldingSeed, s => new Lazy<PlanarField>(() =>
                    new PlanarField(s ^ 0x3ED1A1UL, 24, 24, 34, YMin, YMin + ExtentY + 41, ZMin, ZMin + Extent))).Value;
            }
        }

        /// <summary>Radius of the cerebral envelope along unit direction u (a deformed ellipsoid).</summary>
        private static double CerebrumRadius(double ux, double uy, double uz)
        {
            double ax = 68 * (1 - 0.08 * uy) * (1 - 0.06 * Math.Max(0, -uz)); // narrower frontally and at the base
            const double ay = 86;
            double az = uz >= 0 ? 62 : 56 * (1 - 0.12 * Math.Max(0, uy));     // flatter base, shallow frontal base
            double s = ux * ux / (ax * ax) + uy * uy / (ay * ay) + uz * uz / (az * az);
            return 1.0 / Math.Sqrt(s);
        }

        private static double CerebellumSdf(double x, double y, double z, double dist)
        {
            // Scaled-radius approximation of the ellipsoid distance (exact on the axes), with a midline notch at the back
            // between the two hemispheres.
            double dx = (x - Bx) / Ba, dy = (y - By) / Bb, dz = (z - Bz) / Bc;
            double k = Math.Sqrt(dx * dx + dy * dy + dz * dz);
            if (k < 1e-9) return -Bc;
            double d = dist - dist / k;
            if (y < By) d += 4 / (1 + x * x / 30) * Math.Min(1, (By - y) / Bb);
            return d;
        }

        private static double BrainstemSdf(double x, double y, double z)
        {
            const double ay = P2y - P1y, az = P2z - P1z, len2 = ay * ay + az * az;
            double py = y - P1y, pz = z - P1z;
            double t = Math.Clamp((py * ay + pz * az) / len2, 0, 1);
            double qy = py - ay * t, qz = pz - az * t;
            double b = (t - 0.3) / 0.2;
            double radius = 9 + (Math.Abs(b) < 1 ? 5 * (1 - b * b) * (1 - b * b) : 0); // pons bulge
            if (t > 0.55) radius = Math.Max(7, radius - 6 * (t - 0.55));                 // medulla tapers
            return Math.Sqrt(x * x + qy * qy + qz * qz) - radius;
        }

        private static double SegmentDistance(double x, double y, double z)
        {
            const double ay = P2y - P1y, az = P2z - P1z, len2 = ay * ay + az * az;
            double py = y - P1y, pz = z - P1z;
            double t = Math.Clamp((py * ay + pz * az) / len2, 0, 1);
            double qy = py - ay * t, qz = pz - az * t;
            return Math.Sqrt(x * x + qy * qy + qz * qz);
        }

        private static double SmoothMin(double a, double b, double k)
        {
            double h = Math.Clamp(0.5 + 0.5 * (b - a) / k, 0, 1);
            return b + (a - b) * h - k * h * (1 - h);
        }

        private static bool InEllipsoid(double x, double y, double z, double cx, double cy, double cz, double a, double b, double c)
        {
            double dx = (x - cx) / a, dy = (y - cy) / b, dz = (z - cz) / c;
            return dx * dx + dy * dy + dz * dz <= 1;
        }

        /// <summary>Symmetric pair of ellipsoids at ±cx (x is taken as |x|).</summary>
        private static bool InPair(double ax, double y, double z, double cx, double cy, double cz, double a, double b, double c) =>
            InEllipsoid(ax, y, z, cx, cy, cz, a, b, c);

        /// <summary>The wavy midsagittal surface of the interhemispheric fissure.</summary>
        private static double MidlineX(double y, double z) => 2.2 + 0.8 * Math.Sin(y / 13.0 + 0.5) * Math.Cos(z / 19.0);

        public (PhantomLabel Label, float Intensity) Classify(double x, double y, double z)
        {
            double dx = x - Cx, dy = y - Cy, dz = z - Cz;
            double r = Math.Sqrt(dx * dx + dy * dy + dz * dz);
            double distCb = Math.Sqrt((x - Bx) * (x - Bx) + (y - By) * (y - By) + (z - Bz) * (z - Bz));
            if (r - CerMaxR > FarMargin && distCb - Ba > FarMargin && SegmentDistance(x, y, z) - BsMaxR > FarMargin)
                return Neck(x, y, z);

            double ux, uy, uz, fCer;
            if (r < 1e-9) { ux = 0; uy = 0; uz = 1; fCer = -60; }
            else { ux = dx / r; uy = dy / r; uz = dz / r; fCer = r - CerebrumRadius(ux, uy, uz); }
            double fCb = CerebellumSdf(x, y, z, distCb);
            double fBs = BrainstemSdf(x, y, z);
            double fBrain = SmoothMin(SmoothMin(fCer, fCb, KCb), fBs, KBs);
            double fIcv = fBrain - IcvGrow;

            if (fIcv > 0)
            {
                // Outside the intracranial space: skull, scalp, neck, air.
                if (fIcv <= SkullT)
                {
                    if (fIcv < 1.6 || fIcv > SkullT - 1.4) return (PhantomLabel.Skull, 14f);
                    return (PhantomLabel.Skull, 62f); // diploë
                }
                if (fIcv <= SkullT + ScalpT)
                {
                    // The face replaces the scalp where the two overlap (both soft tissue), never the skull.
                    if (_o.Face && Face(x, y, z) is { } face) return face;
                    double s = fIcv - SkullT;
                    if (s < 1.2) return (PhantomLabel.SoftTissue, 45f);           // galea / periosteum
                    if (s < ScalpT - 1.3) return (PhantomLabel.SoftTissue, 150f); // subcutaneous fat
                    return (PhantomLabel.SoftTissue, 88f);                        // skin
                }
                return Neck(x, y, z);
            }

            // Inside the intracranial space. Ventricles win over everything, then deep grey, brainstem, cerebellum, cerebrum.
            double ax = Math.Abs(x);
            if (ax < 36 && y > -60 && y < 30 && z > -42 && z < 32)
            {
                if (InPair(ax, y, z, 9, 13, 15, 4.5, 13, 8)          // frontal horns
                    || InPair(ax, y, z, 11, -15, 19, 5.5, 23, 6)     // bodies
                    || InPair(ax, y, z, 21, -40, 10, 5.5, 11, 8)     // atria / occipital horns
                    || InPair(ax, y, z, 30, -20, -14, 2.6, 11, 2.6)  // temporal horns
                    || InEllipsoid(x, y, z, 0, -14, 2, 1.6, 12, 8.5) // third ventricle
                    || InEllipsoid(x, y, z, 0, -47, -33, 5, 3.5, 7)) // fourth ventricle
                    return (PhantomLabel.Ventricle, 26f);
                if (InPair(ax, y, z, 15, 12, 10, 4.5, 9, 8)) return (PhantomLabel.DeepGrey, 84f);     // caudate head
                if (InPair(ax, y, z, 18, -8, 19, 3.2, 13, 4)) return (PhantomLabel.DeepGrey, 84f);    // caudate body
                if (InPair(ax, y, z, 19, -2, 0, 3.2, 8, 6)) return (PhantomLabel.DeepGrey, 96f);      // pallidum
                if (InPair(ax, y, z, 25, 2, 2, 5, 14, 10)) return (PhantomLabel.DeepGrey, 86f);       // putamen
                if (InPair(ax, y, z, 10, -18, 6, 7.5, 13, 8)) return (PhantomLabel.DeepGrey, 92f);    // thalamus
                if (InPair(ax, y, z, 28, -24, -12, 5, 16, 5)) return (PhantomLabel.DeepGrey, 78f);    // hippocampus
            }

            if (fBs <= 0) return (PhantomLabel.Brainstem, 100f);
            if (fCb <= 0) return CerebellarTissue(-fCb, x, y, z, distCb);

            // Cerebrum: depth below its nearest free surface — the envelope, the tentorium above the cerebellum, the
            // cisterns around the pons, or the medial surface along the interhemispheric fissure (outside the callosal arch).
            double depth = Math.Min(-fCer, fCb - TentGap);
            if (z < -14) depth = Math.Min(depth, fBs - 1.5);
            double ay = (y + 15) / 44, az = z / 31;
            bool onMedial = false;
            if (ay * ay + az * az > 1)
            {
                double dm = Math.Abs(x - MidlineX(y, z)) - FissureHalf;
                if (dm < depth) { depth = dm; onMedial = true; }
            }
            if (depth < 0) return (PhantomLabel.Csf, 28f);
            return CorticalTissue(depth, onMedial, r, ux, uy, uz, x, y, z);
        }

        private (PhantomLabel, float) Neck(double x, double y, double z)
        {
            if (_o.Face && Face(x, y, z) is { } face) return face;
            // An elliptic cylinder below the skull, sloping back and down.
            if (z < -20)
            {
                double nx = x / 48, ny = (y + 28) / 52;
                double rr = nx * nx + ny * ny;
                double top = -20 - 30 * Math.Max(0, (y + 28) / 52);
                if (rr <= 1 && z < top) return (PhantomLabel.SoftTissue, rr > 0.85 ? 140f : 72f);
            }
            return (PhantomLabel.Air, 0f);
        }

        // The face: a soft-tissue mass anterior-inferior to the braincase (a superellipsoid, flat across the front and
        // rounded at the cheeks), with eyes in fat-filled orbits, a nose, a nasal cavity and sinuses (air), the facial
        // bones (dark cortex, bright marrow), masseters, a tongue below the palate, and skin over subcutaneous fat. It
        // is only consulted outside the skull (in the scalp and the air around the head), so the intracranial labels
        // and the braincase are the same with and without it. Everything here is labelled SoftTissue: the air in the
        // nasal cavity and the sinuses too, as a filled head mask (Colin27's, a subject's) counts it as head.
        // Size: the mass spans z −66 … −16 at its centre line and leaves an air gap under the forehead. Larger masses
        // (reaching the scalp, down to the grid's floor) made Colin27 register phantom-made subjects backwards
        // (docs/pipeline.md); with this one the teeth and tongue below z −67 are never reached.
        private const double FaceAx = 52, FaceYc = 28, FaceAy = 52, FaceZc = -46, FaceAzUp = 30, FaceAzDown = 20;
        private const double EyeX = 34, EyeY = 62, EyeZ = -38, EyeR = 12;

        private static (PhantomLabel, float) Soft(float v) => (PhantomLabel.SoftTissue, v);

        /// <summary>Distance from (x, y, z) to the segment a–b.</summary>
        private static double Capsule(double x, double y, double z, double ax, double ay, double az, double bx, double by, double bz)
        {
            double ux = bx - ax, uy = by - ay, uz = bz - az;
            double t = Math.Clamp(((x - ax) * ux + (y - ay) * uy + (z - az) * uz) / (ux * ux + uy * uy + uz * uz), 0, 1);
            double dx = x - ax - ux * t, dy = y - ay - uy * t, dz = z - az - uz * t;
            return Math.Sqrt(dx * dx + dy * dy + dz * dz);
        }

        /// <summary>Normalised ellipsoid radius (1 on the surface).</summary>
        private static double ERad(double x, double y, double z, double cx, double cy, double cz, double a, double b, double c)
        {
            double dx = (x - cx) / a, dy = (y - cy) / b, dz = (z - cz) / c;
            return Math.Sqrt(dx * dx + dy * dy + dz * dz);
        }

        /// <summary>Ridge line of the nose: its front (y) at height z, or NaN above and below it.</summary>
        private static double NoseFront(double z)
        {
            if (z > -20 || z < -60) return double.NaN;
            if (z >= -52) return 81 + 7 * (-20 - z) / 32;   // the bridge at y 81, the tip at y 88 (z −52)
            return 88 - 10 * (-52 - z) / 8;                  // under the tip back to the lip
        }

        private static (PhantomLabel, float)? Face(double x, double y, double z)
        {
            double ax = Math.Abs(x);
            if (ax > FaceAx + 0.5 || y < FaceYc - FaceAy - 0.5 || z > FaceZc + FaceAzUp + 0.5 || y > 90) return null;
            double az = z >= FaceZc ? FaceAzUp : FaceAzDown;
            double gx = ax / FaceAx, gy = (y - FaceYc) / FaceAy, gz = (z - FaceZc) / az;
            double g = gx * gx * gx * gx + gy * gy + gz * gz * gz * gz;

            // The nose: a wedge on the midline in front of the face mass, its half-width 0.55 × its depth.
            double nf = NoseFront(z);
            bool inNose = !double.IsNaN(nf) && y <= nf && y > 60 && ax <= 0.55 * (nf - y) + 1.5;
            if (g > 1 && !inNose) return null;
            if (inNose && g > 1)
            {
                double skin = Math.Min(nf - y, 0.55 * (nf - y) + 1.5 - ax);
                if (skin < 1.8) return Soft(88f);
                if (z < -50 && ax > 2.5 && ax < 8 && y < nf - 3) return Soft(6f);   // nostrils
                return ax < 1.2 ? Soft(50f) : Soft(66f);                           // septum, nasal cartilage and fat
            }

            // Depth below the face mass's surface (first-order distance) and whether it faces forwards or sideways.
            double dgx = 4 * gx * gx * gx / FaceAx, dgy = 2 * gy / FaceAy, dgz = 4 * gz * gz * gz / az;
            double grad = Math.Sqrt(dgx * dgx + dgy * dgy + dgz * dgz);
            double depth = (1 - g) / Math.Max(grad, 1e-6);
            bool outer = dgy > -0.3 * grad; // not the back of the mass, which lies inside the neck and under the skull base

            // Eyes: vitreous (dark like CSF), a lens, the sclera; the lids in front of them.
            double ex = ax - EyeX, ey = y - EyeY, ez = z - EyeZ;
            double er = Math.Sqrt(ex * ex + ey * ey + ez * ez);
            if (er <= EyeR)
            {
                if (ERad(ax, y, z, EyeX, EyeY + 10, EyeZ, 4.5, 2.2, 4.5) <= 1) return Soft(100f);
                return er > EyeR - 1 ? Soft(52f) : Soft(34f);
            }
            if (outer && depth < 1.8) return Soft(88f);                                     // skin
            if (y > EyeY && ex * ex + ez * ez < 13 * 13) return Soft(76f);                // eyelids

            // Orbits: fat around the eye, the optic nerve and the recti, inside a thin bony wall open at the front.
            // (a cone from the apex at y 18 widening to 14 mm half-width at y 52, then straight to the rim)
            double ot = Math.Clamp((y - 18) / 34, 0, 1), ow = 3.5 + 10.5 * ot;
            double orb = y < 16 || y > 74 ? 9 : Math.Sqrt((ax - 18 - 14 * ot) * (ax - 18 - 14 * ot) + (z + 33 + 5 * ot) * (z + 33 + 5 * ot)) / ow;
            if (orb <= 1 && y >= 18)
            {
                if (Capsule(ax, y, z, EyeX, EyeY - EyeR + 0.5, EyeZ, 17, 24, -31) < 2.2) return Soft(104f); // optic nerve
                if (ERad(ax, y, z, 43, 44, -37, 2.5, 15, 4) <= 1 || ERad(ax, y, z, 19, 44, -37, 2.5, 15, 4) <= 1
                    || ERad(ax, y, z, 31, 44, -48, 5, 15, 2.5) <= 1 || ERad(ax, y, z, 31, 44, -26, 5, 15, 2.5) <= 1)
                    return Soft(72f);                                                              // recti
                return Soft(160f);                                                                 // orbital fat
            }
            if (orb <= 1 + 2.0 / ow && y < 66) return Soft(20f);                                  // orbital wall

            // Cheekbone and zygomatic arch, mandibular rami: cortical bone (dark) around marrow (bright).
            double zy = Capsule(ax, y, z, 44, 50, -47, 57, 0, -36);
            if (zy < 4) return zy < 2 ? Soft(108f) : Soft(18f);
            double ra = ERad(ax, y, z, 47, 2, -58, 4.5, 11, 18);
            if (ra <= 1) return ra < 0.55 ? Soft(112f) : Soft(18f);

            // Nasal cavity (air) each side of the septum, with two turbinates on its lateral wall; the ethmoid cells
            // between the orbits; the maxillary and sphenoid sinuses with thin bony walls.
            double nasal = ((y - 42) / 40) * ((y - 42) / 40) + ((z + 42) / 22) * ((z + 42) / 22);
            double nasalHalf = 5 + 7 * Math.Clamp((-26 - z) / 20, 0, 1);
            if (nasal <= 1 && ax <= nasalHalf)
            {
                if (ax < 1.2) return Soft(48f);                                                  // septum
                if (ERad(ax, y, z, nasalHalf, 45, -52, 4.5, 25, 3.5) <= 1 || ERad(ax, y, z, nasalHalf, 47, -41, 3.5, 20, 3) <= 1)
                    return Soft(70f);                                                              // turbinates
                return Soft(8f);
            }
            if (ax < 13 && y > 36 && y < 70 && z > -34 && z < -16) return Soft(14f);            // ethmoid cells
            double mx = ERad(ax, y, z, 27, 40, -55, 13, 18, 13);
            if (mx <= 1) return Soft(8f);
            if (mx <= 1 + 1.5 / 13) return Soft(20f);
            double sp = ERad(ax, y, z, 0, 16, -44, 13, 10, 8);
            if (sp <= 1) return Soft(8f);
            if (sp <= 1 + 1.5 / 8) return Soft(20f);

            // Hard palate (bone: cortex around marrow), the upper teeth's arch below it, the tongue inside the arch.
            if (ax < 24 && y > 14 && y < 74 && z > -67 && z < -62) return z > -65.8 && z < -63.2 ? Soft(106f) : Soft(20f);
            if (z <= -67)
            {
                double arch = (x / 30) * (x / 30) + ((y - 30) / 42) * ((y - 30) / 42);
                if (y > 28 && arch <= 1 && arch >= 0.72) return Soft(16f);                        // teeth
                if (arch < 0.72 && y > 0) return Soft(80f);                                       // tongue
            }

            // Masseters; the buccal fat pads; subcutaneous fat (thicker in the cheeks); the rest is muscle and fascia.
            if (ERad(ax, y, z, 51, 12, -57, 6, 14, 15) <= 1) return Soft(74f);
            if (ERad(ax, y, z, 38, 32, -60, 7, 11, 8) <= 1) return Soft(155f);
            if (outer && depth < (z < -44 && y > 10 ? 9 : 5.5)) return Soft(150f);
            return Soft(70f);
        }

        private (PhantomLabel, float) CorticalTissue(double depth, bool onMedial, double r, double ux, double uy, double uz, double x, double y, double z)
        {
            double T = _o.CorticalThickness;
            if (_gyri is null || _gyri2 is null || _depthVar is null || _medial is null || depth >= _o.SulcalDepth * 1.4 + T)
                return depth < T ? (PhantomLabel.CorticalGrey, 80f) : (PhantomLabel.WhiteMatter, 112f);
            double dmax = _o.SulcalDepth * (1 + 0.35 * Math.Tanh(_depthVar.SignedDistance(ux, uy, uz) * 3));
            int cls;
            if (onMedial)
            {
                double l = Math.Abs(_medial.SignedDistance(x < MidlineX(y, z) ? y : y + 41, z));
                cls = Slot(depth, l, 0.7 * dmax, T);
            }
            else
            {
                // primary sulci, and shallower secondary ones that branch off them
                cls = Slot(depth, Math.Abs(_gyri.SignedDistance(ux, uy, uz)) * r, dmax, T);
                if (cls != 0) cls = Math.Min(cls, Slot(depth, Math.Abs(_gyri2.SignedDistance(ux, uy, uz)) * r, 0.55 * dmax, T));
            }
            return cls switch
            {
                0 => (PhantomLabel.Csf, 30f),
                1 => (PhantomLabel.CorticalGrey, 80f),
                _ => (PhantomLabel.WhiteMatter, 112f),
            };
        }

        /// <summary>
        /// A sulcus in cross-section at lateral distance <paramref name="l"/> (mm) from its fundus line and
        /// <paramref name="depth"/> below the surface: 0 = CSF in the slot, 1 = grey matter (the surface layer, the
        /// slot's lining, its rounded fundus), 2 = white matter.
        /// </summary>
        private static int Slot(double depth, double l, double dmax, double T)
        {
            double w = 0.5 + 1.0 * Math.Max(0, 1 - depth / 4); // slot half-width, opening at the surface
            if (depth < dmax && l < w) return 0;
            if (depth < T) return 1;
            double below = depth - dmax, side = l - w;
            if (side < T && (below <= 0 || below * below + Math.Max(0, side) * Math.Max(0, side) < T * T)) return 1;
            return 2;
        }

        private (PhantomLabel, float) CerebellarTissue(double depth, double x, double y, double z, double rr)
        {
            const double T = 1.8, Dmax = 9.0;
            if (_folia is not null && depth < Dmax + T + 1.5)
            {
                if (rr < 1e-9) return (PhantomLabel.CerebellarWhite, 106f);
                double l = Math.Abs(_folia.SignedDistance((x - Bx) / rr, (y - By) / rr, (z - Bz) / rr)) * rr;
                double w = 0.5 + 0.8 * Math.Max(0, 1 - depth / 3);
                if (depth < Dmax && l < w) return (PhantomLabel.Csf, 30f);
                if (depth < T || (depth < Dmax + T && l < w + T + 0.6)) return (PhantomLabel.CerebellarGrey, 78f);
                return depth < Dmax * 0.6 ? (PhantomLabel.CerebellarGrey, 78f) : (PhantomLabel.CerebellarWhite, 106f);
            }
            if (_folia is null) return depth < T + 3 ? (PhantomLabel.CerebellarGrey, 78f) : (PhantomLabel.CerebellarWhite, 106f);
            return (PhantomLabel.CerebellarWhite, 106f);
        }
    }
}
