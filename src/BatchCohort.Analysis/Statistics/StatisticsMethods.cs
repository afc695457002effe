using System.Globalization;

namespace BatchCohort.Analysis.Statistics;

/// <summary>
/// The statistics sentence of a methods paragraph, read from what the group stage actually ran (its spec and its stats
/// table: which tests exist, which carry a q value, how many), so it states the real FDR family.
/// </summary>
public static class StatisticsMethods
{
    private static readonly Dictionary<string, string> TestNames = new(StringComparer.Ordinal)
    {
        ["student_t"] = "Student's t-tests", ["welch_t"] = "Welch's t-tests", ["ols"] = "OLS group terms",
        ["pearson"] = "Pearson correlations", ["spearman"] = "Spearman correlations",
    };

    public static string Describe(GroupStatisticsResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var spec = r.Spec;
        var present = r.Rows.Select(x => x.Test).Distinct().ToList();
        var family = r.Rows.Where(x => !double.IsNaN(x.Q)).ToList();
        var familyKinds = family.Select(x => x.Test).Distinct().Select(k => TestNames.GetValueOrDefault(k, k)).ToList();
        string levels = string.Join(" vs ", r.Levels.Skip(1).Select(l => $"{l}")) + $" against {r.Levels[0]}";
        var s = new List<string>
        {
            $"Group differences ({spec.GroupColumn}: {levels}) in {string.Join(", ", r.ComparedMeasures)} were tested with two-sided " +
            $"{(present.Contains("student_t") && present.Contains("welch_t") ? "Student's (pooled variance) and Welch's (unequal variances) t-tests" : present.Contains("welch_t") ? "Welch's t-tests" : "t-tests")}; " +
            "effect sizes are Cohen's d (pooled SD) and Hedges' g with 95 % confidence intervals from the Hedges & Olkin normal approximation.",
        };
        if (present.Contains("ols"))
            s.Add($"Each measure was also modelled by ordinary least squares on {spec.GroupColumn}{(spec.Covariates.Count > 0 ? " + " + string.Join(" + ", spec.Covariates) : "")} (treatment coding, reference {r.Levels[0]}).");
        if (present.Contains("pearson") || present.Contains("spearman"))
            s.Add($"Correlations were computed for {string.Join(", ", r.Correlations.Select(c => $"{c.Measure} with {c.With}"))} (Pearson r and Spearman ρ, p from the t distribution with n − 2 df).");
        foreach (var n in spec.Normalise)
            s.Add(n.Method == NormalisationMethod.Ratio
                ? $"{n.Output} = {n.Measure} / {n.IcvColumn}."
                : $"{n.Output} is {n.Measure} adjusted for {n.IcvColumn} by the residual (covariance) method fitted in the reference group.");
        var families = family.GroupBy(x => x.Family ?? "").ToList();
        string how = spec.Fdr switch
        {
            FdrFamily.All => $"over one family of {family.Count} tests ({string.Join(", ", familyKinds)})",
            FdrFamily.PerAnalysis => $"within each analysis and kind of test ({families.Count} families: {string.Join(", ", families.Select(g => $"{g.Key} ({g.Count()})"))})",
            _ => $"within each kind of test, across the measures ({string.Join(", ", families.Select(g => $"{TestNames.GetValueOrDefault(g.Key, g.Key)}: {g.Count()}"))})",
        };
        s.Add(family.Count > 0
            ? string.Create(CultureInfo.InvariantCulture, $"p values were corrected with the Benjamini–Hochberg false discovery rate {how}; q < 0.05 is called significant.")
            : "No test produced a p value, so no false discovery rate correction was applied.");
        return string.Join(" ", s);
    }
}
