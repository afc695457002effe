using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BatchCohort.Analysis.Statistics;
using BatchCohort.Analysis.Tables;
using BatchCohort.TestSupport;

namespace BatchCohort.Analysis.Tests.Statistics;

/// <summary>
/// Our statistics against scipy 1.10 / statsmodels 0.13 (tests/oracles/stats_oracle.py, one Python call for the whole
/// battery): t, df, d, g, r, OLS coefficients/SE/t to 1e-9 relative; p to 1e-6 relative down to 1e-300
/// (mpmath's incomplete beta at 60 digits as the reference where it is installed, else scipy).
/// </summary>
public class StatisticsOracleTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private double _minP = 1, _maxPErr;

    private static readonly Lazy<(Dictionary<string, JsonObject> Cases, JsonNode Results)> Battery = new(Run);

    private static double[] Normal(Random r, int n, double mean, double sd)
    {
        var v = new double[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1 - r.NextDouble(), u2 = r.NextDouble();
            v[i] = mean + sd * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        return v;
    }

    private static JsonArray Arr(IEnumerable<double> v) => new(v.Select(x => (JsonNode?)JsonValue.Create(x)).ToArray());

    internal static Dictionary<string, JsonObject> Cases()
    {
        var r = new Random(20261121);
        var c = new Dictionary<string, JsonObject>();
        void T(string name, double[] x, double[] y) => c[name] = new JsonObject { ["kind"] = "ttest", ["x"] = Arr(x), ["y"] = Arr(y) };
        void C(string name, double[] x, double[] y) => c[name] = new JsonObject { ["kind"] = "corr", ["x"] = Arr(x), ["y"] = Arr(y) };
        T("t_tiny", new[] { 1.0, 2.0 }, new[] { 3.0, 5.0 });
        T("t_tiny_vs_three", new[] { 0.71, 0.69 }, new[] { 0.75, 0.78, 0.74 });
        T("t_unbalanced", Normal(r, 3, 1.0, 0.2), Normal(r, 40, 0.7, 1.5));
        T("t_welch_unequal", Normal(r, 15, 10, 0.1), Normal(r, 60, 10.3, 4));
        T("t_tied", new double[] { 1, 1, 1, 2, 2, 2, 2, 3, 3 }, new double[] { 2, 2, 3, 3, 3, 3, 4, 4, 4, 4 });
        T("t_null_effect", Normal(r, 50, 0, 1), Normal(r, 50, 0, 1));
        T("t_large_n", Normal(r, 20000, 0.02, 1), Normal(r, 30000, 0, 1));
        T("t_brain", Normal(r, 120, 0.74, 0.035), Normal(r, 100, 0.71, 0.04));
        var noiseA = Normal(r, 100, 0, 1);
        var noiseB = Normal(r, 100, 0, 1);
        foreach (double sep in new[] { 10.0, 20, 30, 40, 60, 80, 120, 160, 200, 240, 280, 320, 400 })
            T($"t_extreme_{sep}", noiseA.Select(v => v + sep).ToArray(), noiseB);
        var small = Normal(r, 4, 0, 1);
        foreach (double sep in new[] { 1e3, 1e6, 1e9, 1e12 })
            T($"t_extreme_df6_{sep:E0}", small.Select(v => v + sep).ToArray(), Normal(r, 4, 0, 1));

        var age = Normal(r, 80, 70, 9);
        C("r_brain_age", age, age.Select(a => 0.95 - 0.003 * a).Zip(Normal(r, 80, 0, 0.02), (a, b) => a + b).ToArray());
        C("r_tiny", new[] { 1.0, 2, 3 }, new[] { 2.0, 1, 4 });
        C("r_ties", new double[] { 1, 2, 2, 3, 3, 3, 4, 5, 5, 6 }, new double[] { 2, 2, 2, 1, 4, 4, 5, 5, 7, 7 });
        C("r_negative", Normal(r, 30, 0, 1).Select((v, i) => v - 0.1 * i).ToArray(), Enumerable.Range(0, 30).Select(i => (double)i).ToArray());
        C("r_strong", Enumerable.Range(0, 200).Select(i => (double)i).ToArray(), Enumerable.Range(0, 200).Select(i => i + 10 * Math.Sin(i * 0.7)).ToArray());
        C("r_null", Normal(r, 40, 0, 1), Normal(r, 40, 0, 1));

        // OLS: measure ~ group + age + sex (patsy builds the dummies from the raw columns)
        foreach (var (name, n, levels) in new[] { ("ols_two", 60, new[] { "control", "patient" }), ("ols_three", 45, new[] { "control", "mci", "patient" }), ("ols_small", 7, new[] { "control", "patient" }) })
        {
            var grp = Enumerable.Range(0, n).Select(i => levels[i % levels.Length == 0 ? 0 : (i * 7 + i / 3) % levels.Length]).ToArray();
            var a = Normal(r, n, 72, 8);
            var sex = Enumerable.Range(0, n).Select(i => (i * 5 + 1) % 3 == 0 ? "M" : "F").ToArray();
            var y = new double[n];
            var e = Normal(r, n, 0, 0.02);
            for (int i = 0; i < n; i++) y[i] = 0.9 - 0.002 * a[i] - (grp[i] == "patient" ? 0.03 : grp[i] == "mci" ? 0.01 : 0) + (sex[i] == "M" ? 0.005 : 0) + e[i];
            c[name] = new JsonObject
            {
                ["kind"] = "ols",
                ["columns"] = new JsonObject { ["y"] = Arr(y), ["age"] = Arr(a), ["group"] = new JsonArray(grp.Select(g => (JsonNode?)g).ToArray()), ["sex"] = new JsonArray(sex.Select(g => (JsonNode?)g).ToArray()) },
                ["formula"] = "y ~ C(group, Treatment('control')) + age + sex",
                ["rename"] = new JsonObject { ["C(group, Treatment('control'))"] = "group" },
            };
        }
        var ps = Normal(r, 30, 0, 1).Select(v => Math.Min(1, Math.Abs(v) / 3)).Concat(new[] { 1e-12, 0.049, 0.049, 0.5, 1.0, 3e-300 }).ToArray();
        c["fdr_mixed"] = new JsonObject { ["kind"] = "fdr", ["p"] = Arr(ps) };
        c["describe_odd"] = new JsonObject { ["kind"] = "describe", ["x"] = Arr(new[] { 3.0, 1, 4, 1, 5, 9, 2 }) };
        c["describe_even"] = new JsonObject { ["kind"] = "describe", ["x"] = Arr(Normal(r, 100, 5, 2)) };
        var icv = Normal(r, 50, 1450, 130);
        var brain = icv.Select(v => 0.75 * v).Zip(Normal(r, 50, 0, 20), (a, b) => a + b).ToArray();
        c["resid_icv"] = new JsonObject
        {
            ["kind"] = "resid", ["y"] = Arr(brain), ["icv"] = Arr(icv),
            ["fit"] = new JsonArray(Enumerable.Range(0, 50).Select(i => (JsonNode?)(i % 2 == 0)).ToArray()),
        };
        return c;
    }

    private static (Dictionary<string, JsonObject>, JsonNode) Run()
    {
        var cases = Cases();
        using var tmp = new TempDir("stats");
        var input = new JsonObject();
        foreach (var (k, v) in cases) input[k] = v.DeepClone();
        File.WriteAllText(tmp["cases.json"], input.ToJsonString());
        var output = ExternalTool.Python("stats_oracle.py", tmp["cases.json"]);
        return (cases, JsonNode.Parse(output)!);
    }

    private static double D(JsonNode? n) => n is null ? double.NaN : n.GetValueKind() == JsonValueKind.String
        ? n.GetValue<string>() switch { "NaN" => double.NaN, "Infinity" => double.PositiveInfinity, _ => double.NegativeInfinity }
        : n.GetValue<double>();

    private static double[] Values(JsonObject c, string key) => c[key]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();

    private static void Rel(double expected, double actual, double tol, string what)
    {
        if (expected == actual) return;
        double err = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-300);
        Assert.True(err <= tol, $"{what}: expected {expected:R}, got {actual:R} (relative error {err:E2} > {tol:E0})");
    }

    /// <summary>Absolute check for values that are legitimately ~0 (e.g. a null-effect d): relative to a scale.</summary>
    private static void Close(double expected, double actual, double tol, double scale, string what)
    {
        double err = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), scale);
        Assert.True(err <= tol, $"{what}: expected {expected:R}, got {actual:R} (error {err:E2} > {tol:E0})");
    }

    /// <summary>p against the most accurate reference: mpmath (60 digits) where present, else scipy.</summary>
    private void CheckP(JsonNode res, double ours, string what)
    {
        double scipyP = D(res["p"]);
        double reference = res["p_mp"] is { } mp ? D(mp) : scipyP;
        if (reference < 1e-300)
        {
            Assert.True(ours < 1e-295, $"{what}: reference p {reference:E3} underflows; ours {ours:E3}");
            return;
        }
        Assert.True(ours > 0, $"{what}: p underflowed to 0 (reference {reference:E3})");
        Rel(reference, ours, 1e-6, what + " p");
        _minP = Math.Min(_minP, reference);
        _maxPErr = Math.Max(_maxPErr, Math.Abs(ours - reference) / reference);
        if (scipyP > 1e-290) Rel(scipyP, ours, 1e-6, what + " p vs scipy");
    }

    [RequiresFact(Requirements.Scipy, Requirements.Statsmodels)]
    public void TTestsAndEffectSizesMatchScipy()
    {
        var (cases, res) = Battery.Value;
        int extremes = 0;
        foreach (var (name, c) in cases.Where(kv => (string)kv.Value["kind"]! == "ttest"))
        {
            var x = Values(c, "x");
            var y = Values(c, "y");
            var o = res[name]!;
            Assert.Null(o["error"]);
            foreach (var (method, ours) in new[] { ("student", TTest.Student(x, y)), ("welch", TTest.Welch(x, y)) })
            {
                var e = o[method]!;
                Rel(D(e["t"]), ours.T, 1e-9, $"{name} {method} t");
                Rel(D(e["df"]), ours.Df, 1e-9, $"{name} {method} df");
                CheckP(e, ours.P, $"{name} {method}");
                double refP = e["p_mp"] is { } mp ? D(mp) : D(e["p"]);
                if (refP is > 0 and < 1e-280) extremes++;
            }
            var d = EffectSize.CohenD(x, y);
            var g = EffectSize.HedgesG(x, y);
            Close(D(o["cohen_d"]!["value"]), d.Value, 1e-9, 1e-3, $"{name} d");
            Close(D(o["cohen_d"]!["lo"]), d.CiLow, 1e-9, 1e-3, $"{name} d CI low");
            Close(D(o["cohen_d"]!["hi"]), d.CiHigh, 1e-9, 1e-3, $"{name} d CI high");
            Close(D(o["hedges_g"]!["value"]), g.Value, 1e-9, 1e-3, $"{name} g");
            Close(D(o["hedges_g"]!["lo"]), g.CiLow, 1e-9, 1e-3, $"{name} g CI low");
            Close(D(o["hedges_g"]!["hi"]), g.CiHigh, 1e-9, 1e-3, $"{name} g CI high");
        }
        Assert.True(extremes >= 2, $"the battery should reach p below 1e-280 without underflow (reached {extremes} times)");
        output.WriteLine($"t-tests: smallest reference p checked {_minP:E3}; largest relative p error {_maxPErr:E2}; cases below 1e-280: {extremes}");
    }

    [RequiresFact(Requirements.Scipy, Requirements.Statsmodels)]
    public void CorrelationsMatchScipy()
    {
        var (cases, res) = Battery.Value;
        foreach (var (name, c) in cases.Where(kv => (string)kv.Value["kind"]! == "corr"))
        {
            var x = Values(c, "x");
            var y = Values(c, "y");
            var o = res[name]!;
            Assert.Null(o["error"]);
            foreach (var (method, ours) in new[] { ("pearson", Correlation.Pearson(x, y)), ("spearman", Correlation.Spearman(x, y)) })
            {
                var e = o[method]!;
                Close(D(e["r"]), ours.R, 1e-9, 1e-6, $"{name} {method} r");
                CheckP(e, ours.P, $"{name} {method}");
            }
        }
    }

    [RequiresFact(Requirements.Scipy, Requirements.Statsmodels)]
    public void OlsMatchesStatsmodelsWithDummyCodedGroupAndSex()
    {
        var (cases, res) = Battery.Value;
        foreach (var (name, c) in cases.Where(kv => (string)kv.Value["kind"]! == "ols"))
        {
            var cols = c["columns"]!.AsObject();
            var table = new Table(
                new DoubleColumn("y", cols["y"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray()),
                new DoubleColumn("age", cols["age"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray()),
                new StringColumn("group", cols["group"]!.AsArray().Select(v => (string?)v!.GetValue<string>()).ToArray()),
                new StringColumn("sex", cols["sex"]!.AsArray().Select(v => (string?)v!.GetValue<string>()).ToArray()));
            var levels = table.GetStrings("group").Distinct().OrderBy(s => s == "control" ? "" : s, StringComparer.Ordinal).ToList();
            var result = GroupStatistics.Run(table, new GroupStatisticsSpec { GroupColumn = "group", Levels = levels!, Measures = new[] { "y" }, Covariates = new[] { "age", "sex" } });
            var o = res[name]!;
            Assert.Null(o["error"]);
            var terms = o["terms"]!.AsObject();
            var ols = result.Stats.Where(i => (string?)result.Stats["test"].GetValue(i) == "ols");
            Assert.Equal(terms.Count, ols.RowCount);
            for (int i = 0; i < ols.RowCount; i++)
            {
                var term = (string)ols["term"].GetValue(i)!;
                var e = terms[term] ?? throw new Xunit.Sdk.XunitException($"{name}: statsmodels has no term '{term}' (has {string.Join(", ", terms.Select(t => t.Key))})");
                Rel(D(e["coef"]), (double)ols["estimate"].GetValue(i)!, 1e-9, $"{name} {term} coef");
                Rel(D(e["se"]), (double)ols["se"].GetValue(i)!, 1e-9, $"{name} {term} se");
                Rel(D(e["t"]), (double)ols["statistic"].GetValue(i)!, 1e-9, $"{name} {term} t");
                Rel(D(e["p"]), (double)ols["p"].GetValue(i)!, 1e-6, $"{name} {term} p");
                Assert.Equal(D(o["df_resid"]), (double)ols["df"].GetValue(i)!);
            }
        }
    }

    [RequiresFact(Requirements.Scipy, Requirements.Statsmodels)]
    public void FdrDescriptivesAndResidualAdjustmentMatchReferences()
    {
        var (cases, res) = Battery.Value;
        var p = Values(cases["fdr_mixed"], "p");
        var q = Fdr.BenjaminiHochberg(p);
        var eq = res["fdr_mixed"]!["q"]!.AsArray().Select(D).ToArray();
        for (int i = 0; i < q.Length; i++) Rel(eq[i], q[i], 1e-12, $"q[{i}]");

        foreach (var name in new[] { "describe_odd", "describe_even" })
        {
            var d = Descriptives.Of(Values(cases[name], "x"));
            var o = res[name]!;
            Rel(D(o["mean"]), d.Mean, 1e-12, name + " mean");
            Rel(D(o["sd"]), d.Sd, 1e-12, name + " sd");
            Rel(D(o["q1"]), d.Q1, 1e-12, name + " q1");
            Rel(D(o["median"]), d.Median, 1e-12, name + " median");
            Rel(D(o["q3"]), d.Q3, 1e-12, name + " q3");
        }

        var rc = cases["resid_icv"];
        var fit = rc["fit"]!.AsArray().Select(v => v!.GetValue<bool>()).ToArray();
        var adj = Normalisation.Residual(Values(rc, "y"), Values(rc, "icv"), fit, out var f);
        Rel(D(res["resid_icv"]!["slope"]), f.Slope, 1e-9, "residual slope");
        var eadj = res["resid_icv"]!["adj"]!.AsArray().Select(D).ToArray();
        for (int i = 0; i < adj.Length; i++) Rel(eadj[i], adj[i], 1e-9, $"adjusted[{i}]");
    }

    [Fact]
    public void DegenerateInputsGiveClearErrors()
    {
        var e = Assert.Throws<StatisticsException>(() => TTest.Welch(new[] { 1.0, 1.0, 1.0 }, new[] { 2.0, 2.0 }, "nwbv"));
        Assert.Contains("nwbv", e.Message);
        Assert.Contains("zero variance", e.Message);
        Assert.Throws<StatisticsException>(() => TTest.Student(new[] { 1.0 }, new[] { 2.0, 3.0 }));
        Assert.Throws<StatisticsException>(() => EffectSize.CohenD(new[] { 5.0, 5.0 }, new[] { 5.0, 5.0 }));
        var c = Assert.Throws<StatisticsException>(() => Correlation.Pearson(new[] { 1.0, 2, 3 }, new[] { 4.0, 4, 4 }, "brain ~ age"));
        Assert.Contains("constant", c.Message);
        var x = new[] { 1.0, 2, 3, 4, 5 };
        var o = Assert.Throws<StatisticsException>(() => Ols.Fit("y", new[] { 1.0, 3, 2, 5, 4 }, new[] { ("a", x), ("b", x.Select(v => 2 * v).ToArray()) }));
        Assert.Contains("'b'", o.Message);
        Assert.Contains("collinear", o.Message);
    }

    [Fact]
    public void TailProbabilitiesDoNotUnderflowAboveTheDoubleRange()
    {
        // t = 1e4 with 80 df: p = I_x(40, 1/2) with x = 80/(80 + 1e8) ≈ 8e-7 → p ≈ 1e-241 (known closed form for the leading term)
        double p = SpecialFunctions.StudentTTwoSidedP(1e4, 80);
        Assert.InRange(p, 1e-250, 1e-230);
        Assert.Equal(1.0, SpecialFunctions.StudentTTwoSidedP(0, 5));
        // symmetric and continuous around the CF switch-over
        Assert.Equal(SpecialFunctions.StudentTTwoSidedP(-3.2, 17), SpecialFunctions.StudentTTwoSidedP(3.2, 17));
        // Cauchy (df = 1) closed form: p = 1 − 2/π·atan(|t|)
        foreach (var t in new[] { 0.1, 1.0, 7.0, 1e6 })
            Assert.Equal(1 - 2 / Math.PI * Math.Atan(t), SpecialFunctions.StudentTTwoSidedP(t, 1), 1e-12 * Math.Max(1, 1 / (1 - 2 / Math.PI * Math.Atan(t))));
    }
}
