using System.Text.Json;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Neuro.Pipeline;
using BatchCohort.Neuro.Segmentation;
using BatchCohort.Neuro.Tests.Pipeline;
using BatchCohort.TestSupport;
using Xunit.Abstractions;

namespace BatchCohort.Neuro.Tests.Segmentation;

/// <summary>The tissue classifier's spatial-prior (MAP) step: against a numpy computation of the same posterior, and on a
/// synthetic volume whose true labels are known and where intensity alone cannot decide.</summary>
public class TissuePriorsTests
{
    private readonly ITestOutputHelper _out;
    public TissuePriorsTests(ITestOutputHelper output) => _out = output;

    private static double Gauss(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    private static Volume Vol(Shape3 s, float[] d) => new(s, d, Affine.Identity, Spacing3.Isotropic(1));

    private static Mask All(Shape3 s, Func<int, bool>? inside = null)
    {
        var d = new byte[s.Count];
        for (int i = 0; i < d.Length; i++) d[i] = (byte)(inside is null || inside(i) ? 1 : 0);
        return new Mask(s, d, Affine.Identity, Spacing3.Isotropic(1));
    }

    /// <summary>Overlapping classes (centres 1, 2, 3, noise σ 0.45) and random priors: our labels equal numpy's argmax of
    /// (w·P + (1 − w)/3) × N(y; centre, pooled σ²) wherever numpy's top two differ by more than 1e-9 in log posterior.</summary>
    [RequiresFact(Requirements.Scipy)]
    public void Prior_step_matches_a_numpy_posterior()
    {
        var s = new Shape3(14, 13, 12);
        var rng = new Random(7);
        var img = new float[s.Count];
        var pc = new float[s.Count]; var pg = new float[s.Count]; var pw = new float[s.Count];
        for (int i = 0; i < s.Count; i++)
        {
            int c = rng.Next(3);
            img[i] = (float)(1 + c + 0.45 * Gauss(rng));
            double a = rng.NextDouble(), b = rng.NextDouble(), e = rng.NextDouble();
            pc[i] = (float)a; pg[i] = (float)b; pw[i] = (float)e;   // normalised by TissuePriors
        }
        var mask = All(s, i => i % 17 != 0);
        var priors = new TissuePriors(s, pc, pg, pw);
        const double w = 0.6;
        var settings = new TissueClassifierSettings { BiasRounds = 0, PriorWeight = w };
        var with = TissueClassifier.Classify(Vol(s, img), mask, settings, priors);
        var without = TissueClassifier.Classify(Vol(s, img), mask, settings with { PriorWeight = 0 }, priors);
        var none = TissueClassifier.Classify(Vol(s, img), mask, settings with { PriorWeight = 0 });
        Assert.Equal(none.Labels, without.Labels);   // weight 0: the nearest-centre labels

        var inside = Enumerable.Range(0, (int)s.Count).Where(i => mask.Data[i] != 0).ToArray();
        var dir = Directory.CreateTempSubdirectory("bc-priors-");
        try
        {
            var req = Path.Combine(dir.FullName, "req.json");
            var res = Path.Combine(dir.FullName, "res.json");
            File.WriteAllText(req, JsonSerializer.Serialize(new
            {
                y = inside.Select(i => Math.Max(img[i], 1e-3f)).ToArray(),
                csf = inside.Select(i => priors.Csf[i]).ToArray(),
                gm = inside.Select(i => priors.Gm[i]).ToArray(),
                wm = inside.Select(i => priors.Wm[i]).ToArray(),
                w,
                centres = with.Centres,
            }));
            ExternalTool.Python("tissue_posterior.py", req, res);
            using var doc = JsonDocument.Parse(File.ReadAllText(res));
            var labels = doc.RootElement.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var margin = doc.RootElement.GetProperty("margin").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            int compared = 0, changed = 0;
            for (int k = 0; k < inside.Length; k++)
            {
                int ours = with.Labels[inside[k]] - 1;
                if (ours != none.Labels[inside[k]] - 1) changed++;
                if (margin[k] <= 1e-9) continue;
                compared++;
                Assert.True(labels[k] == ours, $"voxel {inside[k]}: ours {ours}, numpy {labels[k]} (margin {margin[k]:G3}, y {img[inside[k]]})");
            }
            _out.WriteLine($"{compared} of {inside.Length} voxels compared, all equal; the priors changed {changed} labels; numpy σ² {doc.RootElement.GetProperty("sigma2").GetDouble():F4}");
            Assert.True(compared >= inside.Length - 2);
            Assert.True(changed > 50, $"the priors changed only {changed} labels: the test would not see a wrong prior step");
        }
        finally { dir.Delete(true); }
    }

    /// <summary>A 30³ volume: CSF (1.0), grey (2.0), white (3.0) slabs along x, noise σ 0.15, and a 12×10×10 block at 2.5 ±
    /// 0.01 (intensity cannot tell grey from white) whose true labels are grey for x &lt; 18 and white beyond; a 4³ block of
    /// clear CSF intensity where the prior says white. Priors: the true labels (sharp), weight 0.7. With priors the
    /// ambiguous block follows them (≥ 99 % right); without, it is split by intensity alone (≤ 75 % right); the CSF block
    /// stays CSF (the uniform floor lets a clear intensity overrule the prior).</summary>
    [Fact]
    public void Ambiguous_intensities_follow_the_prior_and_clear_ones_the_image()
    {
        var s = new Shape3(30, 30, 30);
        var rng = new Random(3);
        var img = new float[s.Count];
        var truth = new byte[s.Count];
        var pc = new float[s.Count]; var pg = new float[s.Count]; var pw = new float[s.Count];
        bool Amb(int x, int y, int z) => x >= 12 && x < 24 && y >= 10 && y < 20 && z >= 10 && z < 20;
        bool Csf(int x, int y, int z) => x >= 22 && x < 26 && y >= 22 && y < 26 && z >= 22 && z < 26;
        for (int z = 0; z < s.Z; z++)
            for (int y = 0; y < s.Y; y++)
                for (int x = 0; x < s.X; x++)
                {
                    int i = s.Index(x, y, z);
                    int c = x < 6 ? 0 : x < 18 ? 1 : 2;
                    truth[i] = (byte)c;
                    (c == 0 ? pc : c == 1 ? pg : pw)[i] = 1f;
                    img[i] = Amb(x, y, z) ? (float)(2.5 + 0.01 * Gauss(rng)) : Csf(x, y, z) ? (float)(1.0 + 0.15 * Gauss(rng)) : (float)(1 + c + 0.15 * Gauss(rng));
                }
        var priors = new TissuePriors(s, pc, pg, pw);
        var settings = new TissueClassifierSettings { BiasRounds = 0, PriorWeight = 0.7 };
        var with = TissueClassifier.Classify(Vol(s, img), All(s), settings, priors);
        var without = TissueClassifier.Classify(Vol(s, img), All(s), settings with { PriorWeight = 0 });
        double Right(TissueClassification t, Func<int, int, int, bool> where, Func<int, int> expected)
        {
            long n = 0, ok = 0;
            for (int z = 0; z < s.Z; z++)
                for (int y = 0; y < s.Y; y++)
                    for (int x = 0; x < s.X; x++)
                    {
                        if (!where(x, y, z)) continue;
                        int i = s.Index(x, y, z);
                        n++;
                        if (t.Labels[i] - 1 == expected(i)) ok++;
                    }
            return (double)ok / n;
        }
        double ambWith = Right(with, Amb, i => truth[i]), ambWithout = Right(without, Amb, i => truth[i]);
        double csfWith = Right(with, Csf, _ => 0);
        double restWith = Right(with, (x, y, z) => !Amb(x, y, z) && !Csf(x, y, z), i => truth[i]);
        _out.WriteLine($"ambiguous block right: with priors {ambWith:P2}, without {ambWithout:P2}; CSF block under a white-matter prior: {csfWith:P2} CSF; elsewhere {restWith:P2}; centres {string.Join(", ", with.Centres.Select(c => c.ToString("F3")))}");
        Assert.True(ambWith >= 0.99, $"with priors {ambWith:P2}");
        Assert.True(ambWithout <= 0.75, $"without priors {ambWithout:P2}: intensity alone should not decide this block");
        Assert.Equal(1.0, csfWith);
        Assert.True(restWith >= 0.999, $"elsewhere {restWith:P2}");
    }

    /// <summary>Through the pipeline (phantom-derived subject @ 2 mm, phantom atlas): tissue.priorWeight changes the tissue
    /// labels of pass 2 only, so the ICV is the same to the voxel, the brain moves a little and stays near the truth, the
    /// settings hash (cache key) differs; the atlas's priors carried over are probabilities (sum 1).</summary>
    [Fact]
    public void Priors_in_the_pipeline_change_tissue_not_the_icv()
    {
        var (img, truth) = AtlasIndependenceTests.SmallSubject();
        var atlas = AtlasLibrary.Phantom();
        var off = new PipelineSettings { Tissue = new TissueClassifierSettings { PriorWeight = 0 } };
        var on = new PipelineSettings { Tissue = new TissueClassifierSettings { PriorWeight = 0.5 } };
        var a = SubjectPipeline.Run("off", img, atlas, off);
        var b = SubjectPipeline.Run("on", img, atlas, on);
        Assert.True(a.Success && b.Success, a.FailureReason ?? b.FailureReason);
        _out.WriteLine($"priors off: ICV {a.Measures!.IcvMl:F1} brain {a.Measures.BrainMl:F1} GM {a.Measures.GmMl:F1} WM {a.Measures.WmMl:F1}; " +
                       $"on (0.5): ICV {b.Measures!.IcvMl:F1} brain {b.Measures.BrainMl:F1} GM {b.Measures.GmMl:F1} WM {b.Measures.WmMl:F1}; truth brain {truth.BrainMl:F1}");
        Assert.Equal(a.Measures.IcvMl, b.Measures.IcvMl);
        Assert.NotEqual(a.Measures.GmMl, b.Measures.GmMl);
        Assert.InRange(b.Measures.BrainMl / truth.BrainMl, 0.97, 1.03);
        Assert.NotEqual(off.Hash(), on.Hash());

        var priors = TissuePriors.FromAtlas(atlas, a.Subject!, a.AtlasToSubject!, 8);
        for (int i = 0; i < priors.Csf.Length; i += 97)
            Assert.InRange(priors.Csf[i] + priors.Gm[i] + priors.Wm[i], 0.999f, 1.001f);
    }
}
