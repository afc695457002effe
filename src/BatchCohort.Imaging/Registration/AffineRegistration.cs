using System.Diagnostics;
using BatchCohort.Imaging.Volumes;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using BatchCohort.Imaging.Processing.Exposure;

namespace BatchCohort.Imaging.Registration;

/// <summary>
/// Affine (12 degrees of freedom) registration of an atlas to a subject: a pure function of
/// (prepared atlas, subject volume, settings) → <see cref="AffineRegistrationResult"/>.
/// <list type="number">
/// <item>Subject pyramid (Gaussian smoothing then resampling onto isotropic RAS grids, e.g. 8/4/2 mm).</item>
/// <item>Start: centres of mass of the two heads; rotation from the principal axes of their second moments, trying
/// every sign choice of the axes (and no rotation) and keeping the candidate with the best metric after a short
/// descent at the coarsest level — principal axes alone cannot tell a head from its flipped self.</item>
/// <item>At each level, regular-step gradient descent on −MI (Mattes) or −NCC with analytic gradients, in scaled
/// parameters (1 unit ≈ 1 mm of displacement at the head's radius): step along the normalised gradient, halve the
/// step whenever the gradient turns by more than 90°, stop when the step falls below the level's floor.</item>
/// <item>Checks: final similarity, overlap of the atlas head with the subject's field of view, plausible scales and
/// shears; a registration outside them is returned with Success = false and the reason.</item>
/// </list>
/// </summary>
public static class AffineRegistration
{
    /// <summary>Convenience: prepares the atlas and registers one subject. Prefer <see cref="RegistrationAtlas.Prepare"/> once per cohort.</summary>
    public static AffineRegistrationResult Register(Volume atlas, Volume subject, Mask? atlasHeadMask = null, Mask? atlasIcvMask = null,
        AffineRegistrationSettings? settings = null)
        => Register(RegistrationAtlas.Prepare(atlas, atlasHeadMask, atlasIcvMask, settings), subject, settings);

    public static AffineRegistrationResult Register(RegistrationAtlas atlas, Volume subject, AffineRegistrationSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(atlas);
        ArgumentNullException.ThrowIfNull(subject);
        settings ??= AffineRegistrationSettings.Default;
        settings.Validate();
        if (settings.AtlasKey() != atlas.SettingsKey)
            throw new ArgumentException($"the atlas was prepared for different pyramid/sampling settings ({atlas.SettingsKey}, here {settings.AtlasKey()}); prepare it with these settings", nameof(settings));
        var sw = Stopwatch.StartNew();
        var c = atlas.HeadCentre;
        var identity = new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 };

        // ---- unusable input: reported, not thrown, so a cohort run can name the subject and go on ----
        string? bad = CheckSubject(subject);
        if (bad is not null) return Failed(bad, settings, atlas, sw);

        var levels = PyramidLevel.Build(subject, settings.PyramidSpacingsMm);
        int momentLevel = Math.Min(1, levels.Length - 1);
        var ml = levels[momentLevel];
        var subjMask = HeadRegion.Mask(ml.Image.Data, ml.Shape, HeadRegion.Otsu(ml.Image.Data));
        var (sc, scov, sml) = HeadRegion.Moments(subjMask, ml.Shape, ml.Image.Affine);
        if (sml < 0.1 * atlas.HeadVolumeMl)
            return Failed($"no head found in the subject image (largest bright region {sml:F0} mL, atlas head {atlas.HeadVolumeMl:F0} mL)", settings, atlas, sw);

        var pyramidTime = sw.Elapsed;
        double radius = Math.Sqrt(atlas.Covariance[0, 0] + atlas.Covariance[1, 1] + atlas.Covariance[2, 2]) * 1.25;
        var scales = new double[AffineParameters.Count];
        for (int k = 0; k < 3; k++) scales[k] = 1;
        for (int k = 3; k < AffineParameters.Count; k++) scales[k] = 1 / radius;
        var t0 = (sc[0] - c.X, sc[1] - c.Y, sc[2] - c.Z);

        // ---- starting candidates ----
        var candidates = new List<(string Name, double[] A0)> { settings.ForcedStart is null ? ("centre of mass", identity) : ("forced start", (double[])settings.ForcedStart.Clone()) };
        double isoScale = settings.ForcedStart is null ? Math.Clamp(Math.Pow(Det(scov) / Det(atlas.Covariance), 1.0 / 6.0), 0.85, 1.18) : 1;
        if (settings.TryPrincipalAxes && settings.ForcedStart is null)
            foreach (var (name, r) in PrincipalAxisRotations(atlas.Covariance, scov, settings.AllowMirror))
                candidates.Add((name, r));
        var movingRanges = levels.Select(Range).ToArray();
        var coarse = new MetricEvaluator(atlas.Samples[0], levels[0], settings.Metric, settings.HistogramBins, movingRanges[0], c);
        // rank every candidate (rotation × {1, moment scale}) by its starting cost; refine the best few with a short descent
        var starts = new List<(string Name, double[] A0, double Cost)>();
        foreach (var (name, a0) in candidates)
            foreach (var iso in Math.Abs(isoScale - 1) < 1e-3 ? new[] { 1.0 } : new[] { 1.0, isoScale })
            {
                var a0s = a0.Select(v => v * iso).ToArray();
                var r0 = coarse.Evaluate(a0s, t0, new double[AffineParameters.Count], gradient: false);
                starts.Add((iso == 1.0 ? name : FormattableString.Invariant($"{name}, scale {iso:F3}"), a0s, r0.InsideFraction > 0.3 ? r0.Cost : double.MaxValue));
            }
        string bestName = "";
        double[] bestA0 = identity, bestP = new double[AffineParameters.Count];
        double bestCost = double.MaxValue;
        foreach (var (name, a0s, _) in starts.OrderBy(x => x.Cost).Take(settings.CandidatesRefined))
        {
            var p = new double[AffineParameters.Count];
            double step = settings.InitialStepFraction * levels[0].SpacingMm;
            var (cost, _) = Descend(coarse, a0s, t0, p, scales, step, step / 8, settings.CandidateIterations);
            if (cost < bestCost) { bestCost = cost; bestName = name; bestA0 = a0s; bestP = p; }
        }

        var initTime = sw.Elapsed - pyramidTime;
        // ---- pyramid ----
        var reports = new List<RegistrationLevelReport>();
        var pcur = bestP;
        MetricEvaluator.Result? last = null;
        for (int l = 0; l < levels.Length; l++)
        {
            var lsw = Stopwatch.StartNew();
            var ev = l == 0 ? coarse : new MetricEvaluator(atlas.Samples[l], levels[l], settings.Metric, settings.HistogramBins, movingRanges[l], c);
            double s = levels[l].SpacingMm;
            double step = settings.InitialStepFraction * s;
            double minStep = l == levels.Length - 1 ? settings.FinalStepMm : Math.Max(settings.FinalStepMm, s / 40);
            var whiten = Whitening(ev, bestA0, t0, pcur, scales);
            var (_, iters) = Descend(ev, bestA0, t0, pcur, scales, step, minStep, settings.MaxIterationsPerLevel, whiten);
            last = ev.Evaluate(bestA0, t0, pcur, gradient: false);
            reports.Add(new RegistrationLevelReport(s, ev.SampleCount, iters, last.Similarity, last.InsideFraction, lsw.Elapsed));
        }

        var atlasToSubject = AffineParameters.ToAffine(bestA0, t0, c, pcur);
        double margin = OrientationMargin(coarse, bestA0, t0, pcur, scales, settings, levels[0].SpacingMm);
        return Finish(atlasToSubject, last!, settings, atlas, bestName, reports, sw) with
        {
            PyramidElapsed = pyramidTime, InitialisationElapsed = initTime, OrientationMargin = margin,
        };
    }

    /// <summary>
    /// How clearly the found orientation beats the gross alternatives: the result turned by 180° about each of the
    /// atlas's axes through the head centre (facing backwards, upside down, both), each refined by the short descent
    /// the start candidates get, against the result refined the same way, all at the coarsest level. Returns the
    /// result's similarity minus the best alternative's (MI in nats or NCC; negative: an alternative scores better).
    /// A head matched to its own anatomy wins by about 1 nat; across anatomies (phantom atlas on a real head) the
    /// metric can hardly tell front from back and the margin is near 0.
    /// </summary>
    private static double OrientationMargin(MetricEvaluator coarse, double[] a0, (double X, double Y, double Z) t0, double[] p,
        double[] scales, AffineRegistrationSettings settings, double spacing)
    {
        var lin = AffineParameters.Linear(a0, p);
        var t = (t0.X + p[0], t0.Y + p[1], t0.Z + p[2]);
        double Refined(double[] start)
        {
            var q = new double[AffineParameters.Count];
            double step = settings.InitialStepFraction * spacing;
            Descend(coarse, start, t, q, scales, step, step / 8, settings.CandidateIterations);
            return coarse.Evaluate(start, t, q, gradient: false).Similarity;
        }
        double found = Refined(lin);
        double best = double.NegativeInfinity;
        foreach (var turn in new[] { new double[] { 1, 0, 0, 0, -1, 0, 0, 0, -1 }, new double[] { -1, 0, 0, 0, 1, 0, 0, 0, -1 }, new double[] { -1, 0, 0, 0, -1, 0, 0, 0, 1 } })
            best = Math.Max(best, Refined(AffineParameters.Mul(lin, turn)));
        return found - best;
    }

    /// <summary>
    /// Whitening matrix W (12×12) for the descent at the current point: with H the Gauss–Newton matrix of the scaled
    /// parameters, W = κ·H^(−½) (eigenvalues floored at 1e-6 of the largest), κ² = mean eigenvalue, so a unit step
    /// still means about 1 mm of displacement but correlated parameters (translation ↔ rotation, scale ↔ shear) no
    /// longer slow the descent down.
    /// </summary>
    private static double[,] Whitening(MetricEvaluator ev, double[] a0, (double, double, double) t0, double[] p, double[] scales)
    {
        var z = Matrix<double>.Build.DenseOfArray(ev.GradientMoments(a0, t0, p));
        var dA = AffineParameters.LinearDerivatives(a0, p);
        var d = Matrix<double>.Build.Dense(12, 12);
        for (int k = 0; k < 3; k++) d[k, k] = 1;
        for (int k = 3; k < 12; k++) for (int e = 0; e < 9; e++) d[k, 3 + e] = dA[k][e];
        var sc = Matrix<double>.Build.DenseOfDiagonalArray(scales);
        var h = sc * d * z * d.Transpose() * sc;
        h = (h + h.Transpose()) * 0.5;
        var evd = h.Evd(Symmetricity.Symmetric);
        var lam = evd.EigenValues.Select(v => v.Real).ToArray();
        double max = lam.Max();
        if (!(max > 0)) return Identity12();
        double mean = lam.Average(v => Math.Max(v, 1e-6 * max));
        var dInv = Matrix<double>.Build.Dense(12, 12);
        for (int k = 0; k < 12; k++) dInv[k, k] = Math.Sqrt(mean / Math.Max(lam[k], 1e-6 * max));
        var w = evd.EigenVectors * dInv * evd.EigenVectors.Transpose();
        return w.ToArray();
    }

    private static double[,] Identity12()
    {
        var m = new double[12, 12];
        for (int k = 0; k < 12; k++) m[k, k] = 1;
        return m;
    }

    /// <summary>
    /// Regular-step gradient descent in whitened, scaled parameters (θ = S·W·φ): step along −∇φ/|∇φ|, halve the step
    /// when the gradient turns by more than 90°, stop below <paramref name="minStep"/>. Updates p in place and keeps the
    /// best point seen. Returns (cost, iterations).
    /// </summary>
    private static (double Cost, int Iterations) Descend(MetricEvaluator ev, double[] a0, (double, double, double) t0, double[] p,
        double[] scales, double step, double minStep, int maxIter, double[,]? whitening = null)
    {
        var w = whitening ?? Identity12();
        double[]? prev = null;
        var best = (double[])p.Clone();
        double bestCost = double.MaxValue;
        int it = 0;
        var gs = new double[12];
        var gphi = new double[12];
        for (; it < maxIter; it++)
        {
            var r = ev.Evaluate(a0, t0, p, gradient: true);
            if (r.Cost < bestCost) { bestCost = r.Cost; Array.Copy(p, best, p.Length); }
            for (int k = 0; k < 12; k++) gs[k] = r.Gradient[k] * scales[k];
            double norm = 0;
            for (int k = 0; k < 12; k++)
            {
                double v = 0;
                for (int j = 0; j < 12; j++) v += w[j, k] * gs[j];
                gphi[k] = v;
                norm += v * v;
            }
            norm = Math.Sqrt(norm);
            if (!(norm > 0) || !double.IsFinite(norm)) break;
            if (prev is not null)
            {
                double dot = 0;
                for (int k = 0; k < 12; k++) dot += gphi[k] * prev[k];
                if (dot < 0) step *= 0.5;
            }
            if (step < minStep) break;
            for (int k = 0; k < 12; k++)
            {
                double dphi = 0;
                for (int j = 0; j < 12; j++) dphi += w[k, j] * gphi[j];
                p[k] -= step * scales[k] * dphi / norm;
            }
            prev ??= new double[12];
            Array.Copy(gphi, prev, 12);
        }
        var final = ev.Evaluate(a0, t0, p, gradient: false);
        if (final.Cost > bestCost) Array.Copy(best, p, p.Length);
        return (Math.Min(final.Cost, bestCost), it);
    }

    private static AffineRegistrationResult Finish(Affine atlasToSubject, MetricEvaluator.Result last, AffineRegistrationSettings settings,
        RegistrationAtlas atlas, string start, List<RegistrationLevelReport> reports, Stopwatch sw)
    {
        var lin = Matrix<double>.Build.DenseOfArray(atlasToSubject.Linear);
        var svd = lin.Svd(true);
        var sv = svd.S.ToArray();
        // rotation (polar factor) and its angle
        var rot = svd.U * svd.VT;
        double cosAngle = Math.Clamp((rot.Trace() - 1) / 2, -1, 1);
        double angle = Math.Acos(cosAngle) * 180 / Math.PI;
        // shear from QR: A = Q·U, normalised off-diagonals of U
        var qr = lin.QR();
        var u = qr.R;
        double shear = 0;
        for (int i = 0; i < 3; i++)
            for (int j = i + 1; j < 3; j++)
                shear = Math.Max(shear, Math.Abs(u[i, j]) / Math.Sqrt(Math.Abs(u[i, i] * u[j, j])));
        double det = atlasToSubject.Determinant3;
        double asf = 1 / Math.Abs(det);
        string? reason = null;
        if (settings.Metric == RegistrationMetric.MattesMutualInformation && !(last.Similarity >= settings.MinMutualInformation))
            reason = $"final mutual information {last.Similarity:F3} is below {settings.MinMutualInformation}: the subject does not look like a head matching the atlas";
        else if (settings.Metric == RegistrationMetric.NormalizedCrossCorrelation && !(last.Similarity >= settings.MinCorrelation))
            reason = $"final correlation {last.Similarity:F3} is below {settings.MinCorrelation}: the subject does not look like a head matching the atlas";
        else if (!(last.InsideFraction >= settings.MinOverlap))
            reason = $"only {last.InsideFraction:P0} of the atlas head lies inside the subject's field of view (need {settings.MinOverlap:P0})";
        else if (sv.Max() > settings.MaxScale || sv.Min() < settings.MinScale)
            reason = $"implausible scale: atlas→subject scales {sv[0]:F3}, {sv[1]:F3}, {sv[2]:F3} outside [{settings.MinScale}, {settings.MaxScale}]";
        else if (shear > settings.MaxShear)
            reason = $"implausible shear {shear:F3} (limit {settings.MaxShear})";
        else if (det <= 0 && !settings.AllowMirror)
            reason = "the transform mirrors the image (negative determinant)";
        return new AffineRegistrationResult
        {
            Success = reason is null,
            FailureReason = reason,
            AtlasToSubject = atlasToSubject,
            SubjectToAtlas = atlasToSubject.Inverse(),
            Metric = settings.Metric,
            FinalSimilarity = last.Similarity,
            Overlap = last.InsideFraction,
            Asf = asf,
            EtivMl = atlas.IcvMl is double icv ? icv / asf : null,
            Scales = sv,
            MaxShear = shear,
            RotationDegrees = angle,
            StartCandidate = start,
            Levels = reports,
            Elapsed = sw.Elapsed,
            SettingsKey = settings.ToKey(),
        };
    }

    private static AffineRegistrationResult Failed(string reason, AffineRegistrationSettings settings, RegistrationAtlas atlas, Stopwatch sw) => new()
    {
        Success = false,
        FailureReason = reason,
        AtlasToSubject = Affine.Identity,
        SubjectToAtlas = Affine.Identity,
        Metric = settings.Metric,
        FinalSimilarity = double.NaN,
        Overlap = 0,
        Asf = double.NaN,
        EtivMl = null,
        Scales = new[] { double.NaN, double.NaN, double.NaN },
        MaxShear = double.NaN,
        RotationDegrees = double.NaN,
        StartCandidate = "",
        Levels = Array.Empty<RegistrationLevelReport>(),
        Elapsed = sw.Elapsed,
        SettingsKey = settings.ToKey(),
    };

    private static string? CheckSubject(Volume v)
    {
        var s = v.Shape;
        int thin = (s.X < 8 ? 1 : 0) + (s.Y < 8 ? 1 : 0) + (s.Z < 8 ? 1 : 0);
        if (thin > 0) return $"subject image {s} is not a 3-D head volume (an axis has fewer than 8 voxels)";
        double fovX = s.X * v.Spacing.X, fovY = s.Y * v.Spacing.Y, fovZ = s.Z * v.Spacing.Z;
        if (Math.Min(fovX, Math.Min(fovY, fovZ)) < 40) return $"subject field of view {fovX:F0}×{fovY:F0}×{fovZ:F0} mm is too small for a head";
        float lo = float.MaxValue, hi = float.MinValue;
        long nonFinite = 0;
        foreach (var x in v.Data)
        {
            if (!float.IsFinite(x)) { nonFinite++; continue; }
            if (x < lo) lo = x;
            if (x > hi) hi = x;
        }
        if (nonFinite > 0) return $"subject image holds {nonFinite} NaN/infinite voxels";
        if (!(hi > lo)) return $"subject image is blank (every voxel is {lo})";
        return null;
    }

    /// <summary>Intensity range for the moving histogram: min and the 99.9th percentile (a 4096-bin histogram estimate), so a few hot voxels do not squash the bins.</summary>
    private static (double Lo, double Hi) Range(PyramidLevel l)
    {
        var d = l.Image.Data;
        float lo = float.MaxValue, hi = float.MinValue;
        foreach (var v in d) { if (v < lo) lo = v; if (v > hi) hi = v; }
        if (!(hi > lo)) return (lo, lo + 1);
        const int B = 4096;
        var h = new long[B];
        double w = (hi - lo) / (double)B;
        foreach (var v in d) h[Math.Min(B - 1, (int)((v - lo) / w))]++;
        long target = (long)Math.Ceiling(0.999 * d.Length), cum = 0;
        for (int i = 0; i < B; i++)
        {
            cum += h[i];
            if (cum >= target) return (lo, Math.Max(lo + w, lo + (i + 1) * w));
        }
        return (lo, hi);
    }

    private static double Det(double[,] m) =>
        m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1]) - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0]) + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]);

    /// <summary>
    /// R = V_s·P·V_aᵀ for every signed permutation P (48: 6 axis orders × 8 sign choices, mirrors included;
    /// eigenvectors sorted by eigenvalue). The axis order is tried too because a head's front–back and head–foot
    /// extents are close (which one is longer depends on the neck in the field of view), and mirrors because a file
    /// whose header does not describe its storage (Analyze, OASIS's sagittal raw images) can be read mirrored.
    /// </summary>
    private static IEnumerable<(string Name, double[] R)> PrincipalAxisRotations(double[,] atlasCov, double[,] subjectCov, bool mirrors)
    {
        var va = Matrix<double>.Build.DenseOfArray(atlasCov).Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Symmetric).EigenVectors;
        var vs = Matrix<double>.Build.DenseOfArray(subjectCov).Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Symmetric).EigenVectors;
        var perms = new[] { new[] { 0, 1, 2 }, new[] { 0, 2, 1 }, new[] { 1, 0, 2 }, new[] { 1, 2, 0 }, new[] { 2, 0, 1 }, new[] { 2, 1, 0 } };
        foreach (var perm in perms)
            for (int sgn = 0; sgn < 8; sgn++)
            {
                var d = Matrix<double>.Build.Dense(3, 3);
                for (int i = 0; i < 3; i++) d[i, perm[i]] = (sgn >> i & 1) == 0 ? 1 : -1;
                var r = vs * d * va.Transpose();
                if (!mirrors && r.Determinant() < 0) continue;
                var arr = new double[9];
                for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) arr[i * 3 + j] = r[i, j];
                yield return ($"principal axes order {perm[0]}{perm[1]}{perm[2]} signs {sgn}", arr);
            }
    }
}
