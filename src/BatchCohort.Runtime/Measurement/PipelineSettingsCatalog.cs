using System.Text.Json.Nodes;
using BatchCohort.Neuro.Pipeline;
using BatchCohort.Imaging.Registration;

namespace BatchCohort.Runtime.Measurement;

/// <summary>
/// The imaging pipeline's settings (<see cref="PipelineSettings"/>, registration included) as a manifest writes them:
/// the one definition that checks a manifest's <c>settings</c>, builds the <see cref="PipelineSettings"/> a subject is
/// measured with, and is printed as docs/settings.md's table. A test holds every default here equal to the code's
/// default and every public setting of the pipeline present here.
/// </summary>
public static class PipelineSettingsCatalog
{
    private sealed record Binding(SettingDefinition Definition, Func<PipelineSettings, object> Get, Func<PipelineSettings, object, PipelineSettings> Set);

    private static readonly PipelineSettings D = new();
    private static AffineRegistrationSettings R => D.Registration;

    private static readonly Binding[] Bindings =
    {
        Num("icvSearchMm", D.IcvSearchMm, 0, 30, "How far (mm) the subject's intracranial boundary may lie outside the atlas ICV carried to it.",
            s => s.IcvSearchMm, (s, v) => s with { IcvSearchMm = v }),
        Num("icvShellMm", D.IcvShellMm, 0, 30, "How far (mm) outside the subject's brain the dark CSF / inner-table band is searched.",
            s => s.IcvShellMm, (s, v) => s with { IcvShellMm = v }),
        Num("firstPassMarginMm", D.FirstPassMarginMm, 0, 30, "How far (mm) beyond the atlas ICV carried over the first tissue pass looks for the brain (brain found there must survive a 5 mm opening). 0: only inside it, as pipeline 0.4.0 (docs/pipeline.md, Pipeline 0.5.0).",
            s => s.FirstPassMarginMm, (s, v) => s with { FirstPassMarginMm = v }),
        Num("minIcvInView", D.MinIcvInView, 0, 1, "Fraction of the atlas intracranial space (carried over) that must lie inside the image; less fails the subject (head outside the field of view).",
            s => s.MinIcvInView, (s, v) => s with { MinIcvInView = v }),
        Num("maxIcvCutMm2", D.MaxIcvCutMm2, 0, 1e6, "Largest area (mm²) over which the measured intracranial space may touch the image edge; more fails the subject, above a tenth of it the subject is flagged (icv_at_fov_edge).",
            s => s.MaxIcvCutMm2, (s, v) => s with { MaxIcvCutMm2 = v }),
        Int("tissue.biasRounds", D.Tissue.BiasRounds, 0, 10, "Alternations of tissue classification and bias-field fitting (0: no bias correction).",
            s => s.Tissue.BiasRounds, (s, v) => s with { Tissue = s.Tissue with { BiasRounds = v } }),
        Int("tissue.biasDegree", D.Tissue.BiasDegree, 0, 6, "Degree of the polynomial (in x, y, z) modelling the log bias field.",
            s => s.Tissue.BiasDegree, (s, v) => s with { Tissue = s.Tissue with { BiasDegree = v } }),
        Int("tissue.biasFitStride", D.Tissue.BiasFitStride, 1, 16, "Voxel stride used when fitting the bias field.",
            s => s.Tissue.BiasFitStride, (s, v) => s with { Tissue = s.Tissue with { BiasFitStride = v } }),
        Num("tissue.priorWeight", D.Tissue.PriorWeight, 0, 1, "Weight w of the atlas's spatial tissue priors (its tissue classes smoothed and carried by the affine): a voxel's class prior is w·P_atlas + (1 − w)/3, times a Gaussian likelihood at the k-means centres, in the tissue pass inside the subject's own ICV (the ICV is not changed). 0: no priors (default; docs/pipeline.md, Tissue priors).",
            s => s.Tissue.PriorWeight, (s, v) => s with { Tissue = s.Tissue with { PriorWeight = v } }),
        Num("tissue.priorFwhmMm", D.Tissue.PriorFwhmMm, 0, 30, "Gaussian FWHM (mm) by which the atlas's tissue classes are smoothed into prior maps.",
            s => s.Tissue.PriorFwhmMm, (s, v) => s with { Tissue = s.Tissue with { PriorFwhmMm = v } }),
        Num("brain.openingMm", D.Brain.OpeningMm, 0, 10, "Opening radius (mm) that cuts thin bridges between brain and dura/vessels before the largest component.",
            s => s.Brain.OpeningMm, (s, v) => s with { Brain = s.Brain with { OpeningMm = v } }),
        Num("brain.envelopeClosingMm", D.Brain.EnvelopeClosingMm, 0, 20, "Closing radius (mm) turning grey + white matter into the brain envelope.",
            s => s.Brain.EnvelopeClosingMm, (s, v) => s with { Brain = s.Brain with { EnvelopeClosingMm = v } }),
        Num("brain.guideInsideFraction", D.Brain.GuideInsideFraction, 0, 1, "A piece of the opened grey + white matter besides the largest is brain when this fraction of it lies inside the atlas brain carried over (cerebellum, brainstem).",
            s => s.Brain.GuideInsideFraction, (s, v) => s with { Brain = s.Brain with { GuideInsideFraction = v } }),
        Num("brain.guideMarginMm", D.Brain.GuideMarginMm, 0, 20, "Dilation (mm) of the carried atlas brain before a piece's overlap with it is counted.",
            s => s.Brain.GuideMarginMm, (s, v) => s with { Brain = s.Brain with { GuideMarginMm = v } }),
        Num("brain.guideMinComponentMl", D.Brain.GuideMinComponentMl, 0, 1000, "Smallest piece (mL) kept besides the largest.",
            s => s.Brain.GuideMinComponentMl, (s, v) => s with { Brain = s.Brain with { GuideMinComponentMl = v } }),
        new(new SettingDefinition("registration.pyramidSpacingsMm", SettingKind.NumberList, R.PyramidSpacingsMm,
                "Registration pyramid levels, coarse to fine (isotropic grid spacing in mm).", 0.25, 64),
            s => s.Registration.PyramidSpacingsMm, (s, v) => Reg(s, r => r with { PyramidSpacingsMm = (double[])v })),
        new(new SettingDefinition("registration.metric", SettingKind.Choice, R.Metric.ToString(),
                "Registration similarity: Mattes mutual information (robust to contrast differences) or normalised cross-correlation (same contrast).",
                Choices: Enum.GetNames<RegistrationMetric>()),
            s => s.Registration.Metric.ToString(), (s, v) => Reg(s, r => r with { Metric = Enum.Parse<RegistrationMetric>((string)v) })),
        RInt("registration.histogramBins", R.HistogramBins, 8, 256, "Histogram bins of Mattes mutual information.",
            r => r.HistogramBins, (r, v) => r with { HistogramBins = v }),
        RInt("registration.maxSamplesPerLevel", R.MaxSamplesPerLevel, 1000, 10_000_000, "At most this many atlas sample points per pyramid level.",
            r => r.MaxSamplesPerLevel, (r, v) => r with { MaxSamplesPerLevel = v }),
        RInt("registration.maxIterationsPerLevel", R.MaxIterationsPerLevel, 1, 100_000, "Iteration cap per level of the regular-step gradient descent.",
            r => r.MaxIterationsPerLevel, (r, v) => r with { MaxIterationsPerLevel = v }),
        RNum("registration.initialStepFraction", R.InitialStepFraction, 0.001, 10, "Initial step at each level, as a fraction of that level's spacing.",
            r => r.InitialStepFraction, (r, v) => r with { InitialStepFraction = v }),
        RNum("registration.finalStepMm", R.FinalStepMm, 1e-5, 1, "Smallest step (mm) at the finest level: the descent stops when its step halves below this.",
            r => r.FinalStepMm, (r, v) => r with { FinalStepMm = v }),
        new(new SettingDefinition("registration.tryPrincipalAxes", SettingKind.Boolean, R.TryPrincipalAxes,
                "Try the principal-axes rotations besides the plain centre-of-mass start, keeping the best."),
            s => s.Registration.TryPrincipalAxes, (s, v) => Reg(s, r => r with { TryPrincipalAxes = (bool)v })),
        new(new SettingDefinition("registration.allowMirror", SettingKind.Boolean, R.AllowMirror,
                "Also try mirrored starts and accept a mirrored result: for files whose header does not say how the voxels are stored (Analyze, OASIS-1's raw sagittal images)."),
            s => s.Registration.AllowMirror, (s, v) => Reg(s, r => r with { AllowMirror = (bool)v })),
        RInt("registration.candidateIterations", R.CandidateIterations, 0, 10_000, "Iterations of the short descent that compares starting candidates.",
            r => r.CandidateIterations, (r, v) => r with { CandidateIterations = v }),
        RInt("registration.candidatesRefined", R.CandidatesRefined, 1, 64, "How many of the best-ranked starting candidates get the short descent.",
            r => r.CandidatesRefined, (r, v) => r with { CandidatesRefined = v }),
        RInt("registration.seed", R.Seed, 0, int.MaxValue, "Seed of the sample-point subset (results are deterministic for a given seed).",
            r => r.Seed, (r, v) => r with { Seed = v }),
        RNum("registration.minMutualInformation", R.MinMutualInformation, 0, 10, "A registration ending below this Mattes MI (nats) fails the subject.",
            r => r.MinMutualInformation, (r, v) => r with { MinMutualInformation = v }),
        RNum("registration.minCorrelation", R.MinCorrelation, -1, 1, "A registration ending below this normalised cross-correlation fails the subject.",
            r => r.MinCorrelation, (r, v) => r with { MinCorrelation = v }),
        RNum("registration.minScale", R.MinScale, 0.05, 1, "Smallest acceptable atlas→subject scale on any axis (smaller fails the subject).",
            r => r.MinScale, (r, v) => r with { MinScale = v }),
        RNum("registration.maxScale", R.MaxScale, 1, 20, "Largest acceptable atlas→subject scale on any axis.",
            r => r.MaxScale, (r, v) => r with { MaxScale = v }),
        RNum("registration.maxShear", R.MaxShear, 0, 10, "Largest acceptable shear of the affine's linear part.",
            r => r.MaxShear, (r, v) => r with { MaxShear = v }),
        RNum("registration.minOverlap", R.MinOverlap, 0, 1, "Fraction of the atlas samples that must land inside the subject's field of view.",
            r => r.MinOverlap, (r, v) => r with { MinOverlap = v }),
    };

    public static SettingsCatalog Catalog { get; } = new(Bindings.Select(b => b.Definition));

    /// <summary>The current value of a setting in <paramref name="settings"/> (for tests and reports).</summary>
    public static object Get(PipelineSettings settings, string key) =>
        (Bindings.FirstOrDefault(b => b.Definition.Key == key) ?? throw new ArgumentException($"no setting '{key}'")).Get(settings);

    /// <summary>Problems of a manifest's settings (unknown keys, types, ranges, and the registration's own consistency checks).</summary>
    public static IReadOnlyList<SettingProblem> Validate(JsonObject settings)
    {
        var problems = Catalog.Validate(settings, out var values).ToList();
        if (problems.Count == 0)
        {
            try { Build(values).Registration.Validate(); }
            catch (ArgumentException e) { problems.Add(new SettingProblem("registration", e.Message.Split(" (Parameter")[0])); }
        }
        return problems;
    }

    /// <summary>The pipeline settings a manifest's <c>settings</c> give (defaults for keys not given). Throws
    /// <see cref="ArgumentException"/> naming every problem when the settings are invalid.</summary>
    public static PipelineSettings Parse(JsonObject? settings)
    {
        if (settings is null || settings.Count == 0) return new PipelineSettings();
        var problems = Catalog.Validate(settings, out var values);
        if (problems.Count > 0) throw new ArgumentException("settings: " + string.Join("; ", problems.Select(p => $"{p.Key}: {p.Problem}")));
        var s = Build(values);
        s.Registration.Validate();
        return s;
    }

    private static PipelineSettings Build(Dictionary<string, object> values)
    {
        var s = new PipelineSettings();
        foreach (var b in Bindings)
            if (values.TryGetValue(b.Definition.Key, out var v)) s = b.Set(s, v);
        return s;
    }

    private static PipelineSettings Reg(PipelineSettings s, Func<AffineRegistrationSettings, AffineRegistrationSettings> f) => s with { Registration = f(s.Registration) };

    private static Binding Num(string key, double def, double min, double max, string what, Func<PipelineSettings, double> get, Func<PipelineSettings, double, PipelineSettings> set) =>
        new(new SettingDefinition(key, SettingKind.Number, def, what, min, max), s => get(s), (s, v) => set(s, (double)v));

    private static Binding Int(string key, int def, int min, int max, string what, Func<PipelineSettings, int> get, Func<PipelineSettings, int, PipelineSettings> set) =>
        new(new SettingDefinition(key, SettingKind.Integer, def, what, min, max), s => get(s), (s, v) => set(s, checked((int)(long)v)));

    private static Binding RNum(string key, double def, double min, double max, string what, Func<AffineRegistrationSettings, double> get,
        Func<AffineRegistrationSettings, double, AffineRegistrationSettings> set) =>
        Num(key, def, min, max, what, s => get(s.Registration), (s, v) => Reg(s, r => set(r, v)));

    private static Binding RInt(string key, int def, int min, int max, string what, Func<AffineRegistrationSettings, int> get,
        Func<AffineRegistrationSettings, int, AffineRegistrationSettings> set) =>
        Int(key, def, min, max, what, s => get(s.Registration), (s, v) => Reg(s, r => set(r, v)));
}
