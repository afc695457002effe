using System.Diagnostics;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Imaging.Formats;
using BatchCohort.Neuro.Measurement;
using BatchCohort.Imaging.Processing.Geometry;
using BatchCohort.Imaging.Processing.Morphology;
using BatchCohort.Imaging.Processing.Similarity;
using BatchCohort.Imaging.Qc;
using BatchCohort.Neuro.Segmentation;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Neuro.Qc;

namespace BatchCohort.Neuro.Pipeline;

/// <summary>
/// One subject, measured: a pure function of (input volume, atlas, settings) → <see cref="SubjectResult"/>.
/// Steps (each timed): load → canonical RAS → head mask → affine registration atlas→subject → atlas masks carried to the
/// subject → tissue classes in the intracranial mask (bias-corrected k-means) → brain → measures and QC.
/// </summary>
public static class SubjectPipeline
{
    /// <summary>Pipeline version: part of every cache key and of dataset_description.json. Bump when numbers change.</summary>
    public const string Version = "0.5.0";

    /// <summary>Loads NIfTI, Analyze or a DICOM file/folder and runs the pipeline. Unreadable input is a failed result.</summary>
    public static SubjectResult Run(string subjectId, string inputPath, Atlas atlas, PipelineSettings? settings = null)
    {
        var sw = Stopwatch.StartNew();
        Volume input;
        try
        {
            input = VolumeFile.ReadVolume(inputPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or InvalidDataException or NotSupportedException)
        {
            return SubjectResult.Failed(subjectId, "load", ex.Message, new StepTimings(sw.Elapsed.TotalSeconds, 0, 0, 0, 0));
        }
        return Run(subjectId, input, atlas, settings, sw.Elapsed.TotalSeconds);
    }

    public static SubjectResult Run(string subjectId, Volume input, Atlas atlas, PipelineSettings? settings = null, double loadSeconds = 0)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(atlas);
        settings ??= new PipelineSettings();
        var sw = Stopwatch.StartNew();
        double tReg = 0, tSeg = 0, tMeas = 0;
        StepTimings T() => new(loadSeconds, tReg, tSeg, tMeas, 0);

        // --- input sanity: a 3-D head with contrast ---------------------------------------------------------------
        if (input.Shape.X < 16 || input.Shape.Y < 16 || input.Shape.Z < 16)
            return SubjectResult.Failed(subjectId, "head", $"image is {input.Shape} voxels: not a 3-D head volume (at least 16 voxels along each axis are needed)", T());
        var reorient = Reorientation.Plan(input.Affine, input.Shape, "RAS");
        var subject = reorient.Apply(input);
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (var v in subject.Data)
        {
            if (!float.IsFinite(v)) return SubjectResult.Failed(subjectId, "head", "image contains NaN or infinite voxel values", T());
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        if (!(hi > lo)) return SubjectResult.Failed(subjectId, "head", $"image is blank (every voxel is {lo})", T());

        Mask head;
        try { head = HeadSegmentation.HeadMask(subject); }
        catch (ArgumentException ex) { return SubjectResult.Failed(subjectId, "head", ex.Message, T()); }
        double headMl = head.VolumeMl();
        if (headMl < 500 || headMl > 12000)
            return SubjectResult.Failed(subjectId, "head", $"head mask is {headMl:F0} mL, outside the plausible 500–12000 mL for a human head", T());

        // --- registration ------------------------------------------------------------------------------------------
        var reg = AtlasRegistration.Register(subject, atlas, settings);
        tReg = sw.Elapsed.TotalSeconds;
        if (!reg.Success) return SubjectResult.Failed(subjectId, "register", reg.FailureReason! + HeadCutHint(head), T());
        var atlasToSubject = reg.AtlasToSubject;

        // --- segmentation -------------------------------------------------------------------------------------------
        sw.Restart();
        var icvProp = CarryMask(atlas.IcvMask, subject, atlasToSubject);
        var brainProp = CarryMask(atlas.BrainMask, subject, atlasToSubject);
        if (icvProp.CountNonZero() < 1000) return SubjectResult.Failed(subjectId, "segment", "the atlas intracranial mask carried to the subject covers almost no head voxels", T());
        // Field of view: the atlas's intracranial space carried over must lie inside the image (a head cut by the
        // field of view cannot give an intracranial volume).
        double carriedInside = icvProp.VolumeMl() / (atlas.IcvMl * Math.Abs(atlasToSubject.Determinant3));
        if (carriedInside < settings.MinIcvInView)
            return SubjectResult.Failed(subjectId, "segment", FormattableString.Invariant(
                $"head partly outside the field of view: only {carriedInside:P0} of the intracranial space (atlas ICV carried over) lies inside the image (need {settings.MinIcvInView:P0})"), T());
        TissueClassification tissue;
        BrainMasks brain;
        Mask icv;
        try
        {
            // Pass 1: tissues inside the atlas ICV carried over, widened by firstPassMarginMm (pipeline 0.5.0: an affine
            // across anatomies can carry an ICV 10–20 % too small, which cut the brain it seeds) → a first brain envelope.
            // Brain beyond the carried ICV must be bulk (FirstPassOpeningMm), so the brain does not run through a thin
            // temporal bone into the scalp muscles. No spatial priors here: this envelope seeds the subject's own ICV, which
            // the image decides (with priors in this pass too, the ch2 @ 2 mm cross-atlas ICV difference grew from 3.1 to
            // 3.3 %; docs/pipeline.md, "Tissue priors").
            var searchZone = BinaryMorphology.BinaryDilation(icvProp, settings.IcvSearchMm);
            var firstRegion = (settings.FirstPassMarginMm <= 0 ? icvProp
                : settings.FirstPassMarginMm == settings.IcvSearchMm ? searchZone
                : BinaryMorphology.BinaryDilation(icvProp, settings.FirstPassMarginMm)).And(head);
            var first = TissueClassifier.Classify(subject, firstRegion, settings.Tissue);
            var firstBrain = BrainSegmentation.Segment(first, firstRegion, settings.Brain, brainProp,
                settings.FirstPassMarginMm > 0 ? icvProp : null, FirstPassOpeningMm);
            // The subject's own intracranial space, found in its image outward from its own brain (the dark CSF /
            // inner-table band up to the bright diploë or scalp). The atlas ICV carried over only bounds the search,
            // widely dilated, so an affine that cannot place a boundary across anatomies does not decide it.
            icv = IntracranialBoundary.FromImage(subject, firstBrain.Envelope, searchZone, settings.IcvShellMm, float.NaN, head);
            // Pass 2: tissues and brain inside the subject's own ICV; everything in the ICV that is not brain is CSF.
            // Spatial tissue priors (tissue.priorWeight > 0): the atlas's tissue classes, smoothed, carried by the affine.
            var priors = settings.Tissue.PriorWeight > 0
                ? TissuePriors.FromAtlas(atlas, subject, atlasToSubject, settings.Tissue.PriorFwhmMm)
                : null;
            tissue = TissueClassifier.Classify(subject, icv, settings.Tissue, priors);
            brain = BrainSegmentation.Segment(tissue, icv, settings.Brain, brainProp);
        }
        catch (ArgumentException ex) { return SubjectResult.Failed(subjectId, "segment", ex.Message, T()); }
        // The subject's own intracranial boundary must not run into the image's edge either.
        long cut = BorderVoxels(icv);
        double cutMm2 = cut * Math.Pow(subject.Spacing.VoxelVolumeMm3, 2.0 / 3.0);
        if (cutMm2 > settings.MaxIcvCutMm2)
            return SubjectResult.Failed(subjectId, "segment", FormattableString.Invariant(
                $"head partly outside the field of view: the intracranial space measured in the image touches the image's edge over {cutMm2:F0} mm² (limit {settings.MaxIcvCutMm2:F0})"), T());
        tSeg = sw.Elapsed.TotalSeconds;

        // --- measures -----------------------------------------------------------------------------------------------
        sw.Restart();
        double vox = subject.Spacing.VoxelVolumeMm3 / 1000.0;
        var labels = tissue.Labels;
        var bt = brain.Tissue.Data;
        var icvd = icv.Data;
        long gm = 0, wm = 0;
        // Output labels: grey/white where they belong to the brain, CSF everywhere else inside the ICV.
        var dseg = new byte[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            if (bt[i] != 0 && labels[i] == TissueClassification.GmLabel) { gm++; dseg[i] = TissueClassification.GmLabel; }
            else if (bt[i] != 0 && labels[i] == TissueClassification.WmLabel) { wm++; dseg[i] = TissueClassification.WmLabel; }
            else if (icvd[i] != 0) dseg[i] = TissueClassification.CsfLabel;
        }
        long csf = icv.CountNonZero() - gm - wm;
        double icvMl = icv.CountNonZero() * vox;
        double gmMl = gm * vox, wmMl = wm * vox, csfMl = csf * vox, brainMl = gmMl + wmMl;
        double asf = reg.Asf;
        double etiv = atlas.IcvMl / asf;
        double dice = Overlap.Dice(brainProp.Data, brain.Envelope.Data);
        double nwbv = brainMl / etiv;
        double gwContrast = (tissue.Centres[2] - tissue.Centres[1]) / tissue.Centres[2];
        double brainCut = QcChecks.BrainCutFraction(subject, icv, bt, (tissue.Centres[0] + tissue.Centres[1]) / 2, tissue.BiasField);
        double wmDice = WhiteMatterDice(atlas, subject, atlasToSubject, dseg);
        double wmDepth = QcChecks.WhiteMatterDepthRatio(icv, dseg, TissueClassification.GmLabel, TissueClassification.WmLabel);
        var flags = QcChecks.Flags(new QcInputs(headMl, icvMl, etiv, brainMl, dice, reg.FinalSimilarity, reg.Metric, gwContrast, brainCut, wmDice, wmDepth, reg.OrientationMargin));
        if (cutMm2 > settings.MaxIcvCutMm2 / 10) flags.Add(FormattableString.Invariant($"icv_at_fov_edge({cutMm2:F0}mm2)"));
        tMeas = sw.Elapsed.TotalSeconds;
        var measures = new SubjectMeasures
        {
            SubjectId = subjectId,
            HeadMl = headMl,
            IcvMl = icvMl,
            EtivMl = etiv,
            Asf = asf,
            BrainMl = brainMl,
            GmMl = gmMl,
            WmMl = wmMl,
            CsfMl = csfMl,
            Nwbv = nwbv,
            BrainIcvRatio = brainMl / icvMl,
            QcSimilarity = reg.FinalSimilarity,
            QcAtlasDice = dice,
            QcFlags = string.Join(';', flags),
            QcMirrored = atlasToSubject.Determinant3 < 0,
            QcBrainCut = brainCut,
            QcGreyWhiteContrast = gwContrast,
            QcWhiteMatterDice = wmDice,
            QcWhiteMatterDepthRatio = wmDepth,
            QcOrientationMargin = reg.OrientationMargin,
            TimeLoadS = loadSeconds,
            TimeRegisterS = tReg,
            TimeSegmentS = tSeg,
            TimeMeasureS = tMeas,
            TimeTotalS = loadSeconds + tReg + tSeg + tMeas,
            PipelineVersion = Version,
        };
        return SubjectResult.Succeeded(subjectId, measures, subject, reorient, head, icv, brain.Envelope, dseg, atlasToSubject, T());
    }

    /// <summary>Smallest area (mm²) of head on one image edge (the inferior edge, where the neck leaves every head image,
    /// aside) that <see cref="HeadCutHint"/> reports.</summary>
    internal const double HeadCutHintMm2 = 2000;

    /// <summary>When a registration fails on a head that the field of view cuts (half a head gives an implausible affine
    /// rather than a field-of-view failure), the reason says so: "" or "; the head is cut by the image's left edge over
    /// 9000 mm²: partly outside the field of view?". The inferior edge is not counted (necks are always cut there).</summary>
    internal static string HeadCutHint(Mask headRas)
    {
        var s = headRas.Shape;
        var sp = headRas.Spacing;
        var names = new[] { "left", "right", "posterior", "anterior", "inferior", "superior" };
        var area = new double[6];
        var d = headRas.Data;
        for (int z = 0; z < s.Z; z++)
            for (int y = 0; y < s.Y; y++)
                for (int x = 0; x < s.X; x++)
                {
                    if (d[s.Index(x, y, z)] == 0) continue;
                    if (x == 0) area[0] += sp.Y * sp.Z;
                    if (x == s.X - 1) area[1] += sp.Y * sp.Z;
                    if (y == 0) area[2] += sp.X * sp.Z;
                    if (y == s.Y - 1) area[3] += sp.X * sp.Z;
                    if (z == s.Z - 1) area[5] += sp.X * sp.Y;
                }
        int worst = 0;
        for (int k = 1; k < 6; k++) if (area[k] > area[worst]) worst = k;
        return area[worst] >= HeadCutHintMm2
            ? FormattableString.Invariant($"; the head is cut by the image's {names[worst]} edge over {area[worst]:F0} mm²: partly outside the field of view?")
            : "";
    }

    /// <summary>Brain found in the first pass beyond the atlas ICV carried over (<see cref="PipelineSettings.FirstPassMarginMm"/>)
    /// must survive an opening of this radius (mm): bulk brain that the carried ICV cut off survives it, a bridge through a
    /// thin temporal bone into the temporalis does not (a 2 mm opening left 57 mL of ch2's temporalis in the brain).</summary>
    public const double FirstPassOpeningMm = 5;

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Atlas, Mask> WhiteMatter = new();

    /// <summary>Dice of the atlas white matter carried to the subject (as <see cref="CarryMask"/>) against the white
    /// matter of the output labels.</summary>
    private static double WhiteMatterDice(Atlas atlas, Volume subject, Affine atlasToSubject, byte[] dseg)
    {
        var wm = WhiteMatter.GetValue(atlas, a =>
        {
            var d = new byte[a.TissueClasses.Length];
            for (int i = 0; i < d.Length; i++) d[i] = (byte)(a.TissueClasses[i] == (byte)TissueClass.WhiteMatter ? 1 : 0);
            return new Mask(a.BrainMask.Shape, d, a.BrainMask.Affine, a.BrainMask.Spacing);
        });
        var carried = CarryMask(wm, subject, atlasToSubject).Data;
        long both = 0, na = 0, nb = 0;
        for (int i = 0; i < dseg.Length; i++)
        {
            bool a = carried[i] != 0, b = dseg[i] == TissueClassification.WmLabel;
            if (a) na++;
            if (b) nb++;
            if (a && b) both++;
        }
        return na + nb == 0 ? 0 : 2.0 * both / (na + nb);
    }

    private static long BorderVoxels(Mask m)
    {
        var s = m.Shape;
        long n = 0;
        for (int z = 0; z < s.Z; z++)
            for (int y = 0; y < s.Y; y++)
                for (int x = 0; x < s.X; x++)
                {
                    if (x != 0 && y != 0 && z != 0 && x != s.X - 1 && y != s.Y - 1 && z != s.Z - 1) { x = s.X - 2; continue; }
                    if (m.Data[s.Index(x, y, z)] != 0) n++;
                }
        return n;
    }

    /// <summary>An atlas mask carried onto the subject grid through the atlas→subject world transform (linear
    /// interpolation of the 0/1 mask, kept where ≥ 0.5: the partial-volume midpoint).</summary>
    internal static Mask CarryMask(Mask atlasMask, Volume subject, Affine atlasToSubject)
    {
        var moved = Resample.ToGrid(atlasMask.ToVolume(), subject.Shape, subject.Affine, atlasToSubject, order: 1, fill: 0f);
        var d = new byte[moved.Data.Length];
        for (int i = 0; i < d.Length; i++) d[i] = (byte)(moved.Data[i] >= 0.5f ? 1 : 0);
        return new Mask(subject.Shape, d, subject.Affine, subject.Spacing);
    }
}
