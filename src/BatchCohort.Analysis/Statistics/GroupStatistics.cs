using BatchCohort.Analysis.Tables;

namespace BatchCohort.Analysis.Statistics;

/// <summary>A head-size normalisation to derive a new measure column before testing.</summary>
/// <param name="Measure">The raw measure column (e.g. "brain_ml").</param>
/// <param name="IcvColumn">The intracranial volume column (e.g. "icv_ml" or "eTIV").</param>
/// <param name="Method">Ratio (measure/ICV) or Residual (Jack/Buckner covariance adjustment fitted in the reference group).</param>
/// <param name="OutputName">Name of the derived column; default "{Measure}_{IcvColumn}_ratio" or "{Measure}_adj".</param>
public sealed record NormaliseSpec(string Measure, string IcvColumn, NormalisationMethod Method, string? OutputName = null)
{
    public string Output => OutputName ?? (Method == NormalisationMethod.Ratio ? $"{Measure}_{IcvColumn}_ratio" : $"{Measure}_adj");
}

/// <summary>One correlation to compute: a measure against a numeric column; <paramref name="Analysis"/> names the
/// analysis that asked for it (its FDR family under <see cref="FdrFamily.PerAnalysis"/>).</summary>
public sealed record CorrelationPair(string Measure, string With, string? Analysis = null);

/// <summary>
/// Which tests share one Benjamini–Hochberg correction. Student t, Welch t and the OLS group term test the same
/// contrast of the same measure in three ways: putting all three in one family counts each hypothesis three times.
/// </summary>
public enum FdrFamily
{
    /// <summary>One family per test kind (student_t, welch_t, ols group terms, pearson, spearman), across all measures
    /// and correlations: each kind is a complete analysis on its own, so each is corrected for the measures it tests.
    /// The default.</summary>
    PerTest,
    /// <summary>One family per analysis of the manifest and test kind (e.g. analyses[0]'s Welch tests).</summary>
    PerAnalysis,
    /// <summary>Every test in one family (the most conservative; the behaviour before families existed).</summary>
    All,
}

/// <summary>What the group stage computes.</summary>
public sealed record GroupStatisticsSpec
{
    /// <summary>The column whose values define the groups (text, integer or boolean).</summary>
    public required string GroupColumn { get; init; }

    /// <summary>Group levels to compare, reference first (e.g. ["control", "patient"]); every other level is compared
    /// with the reference. Null: the distinct values present, in ordinal order.</summary>
    public IReadOnlyList<string>? Levels { get; init; }

    /// <summary>Numeric measure columns to test (derived normalised measures are added automatically).</summary>
    public required IReadOnlyList<string> Measures { get; init; }

    /// <summary>Covariates for the OLS model measure ~ group + covariates (numeric as-is; text/boolean dummy coded,
    /// first level in ordinal order as reference).</summary>
    public IReadOnlyList<string> Covariates { get; init; } = Array.Empty<string>();

    /// <summary>Numeric columns each measure is correlated with (Pearson and Spearman), e.g. ["age"]; ignored when
    /// <see cref="Correlations"/> is given.</summary>
    public IReadOnlyList<string> CorrelateWith { get; init; } = Array.Empty<string>();

    /// <summary>The exact correlations to compute (measure, column); a measure named only here is correlated, not
    /// compared between groups. Null: every measure × every <see cref="CorrelateWith"/> column.</summary>
    public IReadOnlyList<CorrelationPair>? Correlations { get; init; }

    /// <summary>Which tests share a Benjamini–Hochberg correction (the stats table's "family" column names it).</summary>
    public FdrFamily Fdr { get; init; } = FdrFamily.PerTest;

    /// <summary>For <see cref="FdrFamily.PerAnalysis"/>: the analysis each compared (or derived) measure belongs to.
    /// A measure not named here belongs to the analysis "stats".</summary>
    public IReadOnlyDictionary<string, string>? AnalysisOf { get; init; }

    /// <summary>Normalised measures to derive (and test) before the tests.</summary>
    public IReadOnlyList<NormaliseSpec> Normalise { get; init; } = Array.Empty<NormaliseSpec>();

    /// <summary>The subject identifier column (used by the report), if any.</summary>
    public string? SubjectColumn { get; init; }
}

/// <summary>Everything the group stage produced. <see cref="Write"/> saves stats.parquet, stats.csv, stats.json (and descriptives.csv).</summary>
public sealed class GroupStatisticsResult
{
    internal GroupStatisticsResult(GroupStatisticsSpec spec, IReadOnlyList<string> levels, IReadOnlyList<string> measures, Table data,
        IReadOnlyList<StatsRow> rows, Table descriptives, IReadOnlyList<string> warnings, IReadOnlyDictionary<string, ResidualAdjustment> adjustments,
        IReadOnlyList<string>? compared = null, IReadOnlyList<CorrelationPair>? correlations = null)
    {
        ComparedMeasures = compared ?? measures;
        Correlations = correlations ?? Array.Empty<CorrelationPair>();
        Spec = spec; Levels = levels; Measures = measures; Data = data; Rows = rows; Stats = StatsRow.ToTable(rows); Descriptives = descriptives;
        Warnings = warnings; Adjustments = adjustments;
    }

    public GroupStatisticsSpec Spec { get; }

    /// <summary>The levels compared, reference first.</summary>
    public IReadOnlyList<string> Levels { get; }

    /// <summary>Measures tested (raw, then derived, then those only correlated).</summary>
    public IReadOnlyList<string> Measures { get; }

    /// <summary>Measures compared between the groups (descriptives, t-tests, OLS).</summary>
    public IReadOnlyList<string> ComparedMeasures { get; }

    /// <summary>The correlations computed (measure, column).</summary>
    public IReadOnlyList<CorrelationPair> Correlations { get; }

    /// <summary>The input table restricted to rows in <see cref="Levels"/>, with derived (normalised) columns added.</summary>
    public Table Data { get; }

    /// <summary>
    /// One row per test: measure, test (student_t, welch_t, ols, pearson, spearman), term, contrast, n, n1, n2, mean1,
    /// mean2, estimate, se, ci_low, ci_high, statistic, df, p, log10_p, q (Benjamini–Hochberg across the run's tests),
    /// cohen_d (+ CI), hedges_g (+ CI), note (why a test could not be computed), family (the Benjamini–Hochberg
    /// family the row's q was computed in; see <see cref="FdrFamily"/>).
    /// </summary>
    public Table Stats { get; }

    /// <summary>The same rows as <see cref="Stats"/>, typed: what the report and the methods text read.</summary>
    public IReadOnlyList<StatsRow> Rows { get; }

    /// <summary>The row of <paramref name="test"/> on <paramref name="measure"/> (and the term/contrast when given), or null.</summary>
    public StatsRow? Find(string measure, string test, string? term = null, string? contrast = null) =>
        Rows.FirstOrDefault(r => r.Measure == measure && r.Test == test && (term is null || r.Term == term) && (contrast is null || r.Contrast == contrast));

    /// <summary>One row per measure × group: n, missing, mean, sd, sem, min, q1, median, q3, max.</summary>
    public Table Descriptives { get; }

    /// <summary>Tests that could not be computed, one line each (also in the stats table's note column).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Residual ICV adjustments fitted, by output column.</summary>
    public IReadOnlyDictionary<string, ResidualAdjustment> Adjustments { get; }

    /// <summary>Writes stats.parquet, stats.csv, stats.json and descriptives.csv into <paramref name="dir"/>.</summary>
    public void Write(string dir)
    {
        Directory.CreateDirectory(dir);
        TableFile.Write(Stats, Path.Combine(dir, "stats.parquet"));
        CsvTable.Write(Stats, Path.Combine(dir, "stats.csv"));
        CsvTable.Write(Descriptives, Path.Combine(dir, "descriptives.csv"));
        GroupStatisticsJson.Write(this, Path.Combine(dir, "stats.json"));
    }

    /// <summary>A console summary: descriptives and the main tests (Welch t, OLS group terms, correlations).</summary>
    public string ToText()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"groups ({Spec.GroupColumn}): {string.Join(" vs ", Levels)} (reference: {Levels[0]})");
        sb.Append(Descriptives.Select("measure", "group", "n", "mean", "sd", "median").ToText(200));
        var main = StatsRow.ToTable(Rows.Where(r => r.Test is "welch_t" or "pearson"
            || (r.Test == "ols" && r.Term is { } t && t.StartsWith(Spec.GroupColumn + "[", StringComparison.Ordinal))).ToList());
        sb.AppendLine();
        sb.Append(main.Select("measure", "test", "term", "estimate", "statistic", "df", "p", "q", "hedges_g", "hedges_g_ci_low", "hedges_g_ci_high").ToText(200));
        foreach (var w in Warnings) sb.AppendLine("warning: " + w);
        return sb.ToString();
    }
}

/// <summary>
/// The cohort's group statistics: per measure, descriptives by group; Student and Welch t-tests with Cohen's d and
/// Hedges' g of each level against the reference; OLS measure ~ group + covariates; Pearson and Spearman correlation
/// with each requested variable; Benjamini–Hochberg q-values across the run's tests (t-tests, OLS group terms and
/// correlations — not the OLS intercept or covariate terms).
/// </summary>
public static class GroupStatistics
{
    public static GroupStatisticsResult Run(Table table, GroupStatisticsSpec spec)
    {
        ArgumentNullException.ThrowIfNull(table);
        var groupCol = table[spec.GroupColumn];
        if (spec.Measures.Count == 0 && spec.Normalise.Count == 0 && (spec.Correlations?.Count ?? 0) == 0) throw new ArgumentException("no measures to test (give at least one measure)");
        foreach (var m in spec.Measures) RequireNumeric(table, m, "measure");
        foreach (var c in spec.CorrelateWith) RequireNumeric(table, c, "correlation variable");
        foreach (var pair in spec.Correlations ?? Array.Empty<CorrelationPair>()) RequireNumeric(table, pair.With, "correlation variable");
        foreach (var ns in spec.Normalise)
            if (table.HasColumn(ns.Output) || spec.Normalise.Count(o => o.Output == ns.Output) > 1)
                throw new ArgumentException($"the derived measure '{ns.Output}' would overwrite {(table.HasColumn(ns.Output) ? "the existing column" : "another derived measure named")} '{ns.Output}': give it another name");
        foreach (var c in spec.Covariates) _ = table[c];
        foreach (var ns in spec.Normalise) { RequireNumeric(table, ns.Measure, "measure"); RequireNumeric(table, ns.IcvColumn, "ICV column"); }

        // rows in the compared levels
        var labels = table.GetStrings(spec.GroupColumn);
        List<string> levels;
        if (spec.Levels is { Count: > 0 } given)
        {
            levels = given.ToList();
            var present = new HashSet<string>(labels.Where(l => l is not null)!, StringComparer.Ordinal);
            var absent = levels.Where(l => !present.Contains(l)).ToList();
            if (absent.Count > 0)
                throw new ArgumentException($"group column '{spec.GroupColumn}' has no rows with level(s) {string.Join(", ", absent.Select(a => "'" + a + "'"))} (present: {string.Join(", ", present.OrderBy(x => x, StringComparer.Ordinal))})");
        }
        else levels = labels.Where(l => l is not null).Distinct().OrderBy(l => l, StringComparer.Ordinal).ToList()!;
        if (levels.Count < 2)
            throw new ArgumentException($"group column '{spec.GroupColumn}' needs at least 2 levels to compare (found: {string.Join(", ", levels)})");
        var levelSet = new HashSet<string>(levels, StringComparer.Ordinal);
        var rows = new List<int>();
        for (int i = 0; i < labels.Length; i++) if (labels[i] is { } l && levelSet.Contains(l)) rows.Add(i);
        var data = rows.Count == table.RowCount ? table : table.Take(rows.ToArray());
        var lab = data.GetStrings(spec.GroupColumn);
        var levelIndex = new int[lab.Length];
        for (int i = 0; i < lab.Length; i++) levelIndex[i] = levels.IndexOf(lab[i]!);

        // derived measures
        var measures = spec.Measures.ToList();
        var derivedFailed = new List<(string Output, string Note)>();
        var adjustments = new Dictionary<string, ResidualAdjustment>(StringComparer.Ordinal);
        var warnings = new List<string>();
        foreach (var ns in spec.Normalise)
        {
            var m = data.GetDoubles(ns.Measure);
            var icv = data.GetDoubles(ns.IcvColumn);
            double[] derived;
            if (ns.Method == NormalisationMethod.Ratio) derived = Normalisation.Ratio(m, icv);
            else
            {
                var fitRows = new bool[m.Length];
                for (int i = 0; i < m.Length; i++) fitRows[i] = levelIndex[i] == 0;
                try
                {
                    derived = Normalisation.Residual(m, icv, fitRows, out var fit, ns.Output);
                    adjustments[ns.Output] = fit;
                }
                catch (StatisticsException e)
                {
                    // an adjustment that cannot be fitted becomes a row with a note, not a stopped group stage
                    warnings.Add(e.Message);
                    derivedFailed.Add((ns.Output, e.Message));
                    if (!measures.Contains(ns.Output)) measures.Add(ns.Output);
                    continue;
                }
            }
            data = data.With(new DoubleColumn(ns.Output, derived));
            if (!measures.Contains(ns.Output)) measures.Add(ns.Output);
        }

        // covariate design columns (shared by every measure)
        var covTerms = new List<(string Name, double[] Values)>();
        string? olsNote = null;
        foreach (var c in spec.Covariates)
        {
            try { covTerms.AddRange(DesignColumns(data, c)); }
            catch (StatisticsException e)
            {
                // e.g. a covariate with a single level among the compared subjects: the model is fitted without it, and says so
                var note = e.Message + "; the OLS models are fitted without it";
                warnings.Add(note);
                olsNote = olsNote is null ? note : olsNote + "; " + note;
            }
        }
        var groupTerms = new List<(string Name, double[] Values)>();
        for (int k = 1; k < levels.Count; k++)
        {
            var v = new double[lab.Length];
            for (int i = 0; i < v.Length; i++) v[i] = levelIndex[i] == k ? 1 : 0;
            groupTerms.Add(($"{spec.GroupColumn}[T.{levels[k]}]", v));
        }

        // each measure is independent: analyse them in parallel, then assemble in the requested order
        var pairs = spec.Correlations?.ToList() ?? measures.SelectMany(m => spec.CorrelateWith.Select(v => new CorrelationPair(m, v))).ToList();
        var compared = new HashSet<string>(measures, StringComparer.Ordinal);
        pairs.RemoveAll(p => derivedFailed.Any(f => f.Output == p.Measure));
        foreach (var pair in pairs)
        {
            if (!data.HasColumn(pair.Measure)) throw new ArgumentException($"correlation measure '{pair.Measure}' is not in the table");
            RequireNumeric(data, pair.Measure, "measure");
            if (!measures.Contains(pair.Measure)) measures.Add(pair.Measure);
        }
        var corrCache = pairs.Select(p => p.With).Distinct().ToDictionary(v => v, v => { var x = data.GetDoubles(v); return (x, HasNaN(x) ? null : Correlation.Ranks(x)); });
        var parts = new (StatsBuilder Stats, DescBuilder Desc, List<string> Warnings)[measures.Count];
        Parallel.For(0, measures.Count, mi =>
        {
            var measure = measures[mi];
            var stats0 = new StatsBuilder();
            var warnings0 = new List<string>();
            var failedDerived = derivedFailed.FirstOrDefault(f => f.Output == measure);
            if (failedDerived.Output is not null)
            {
                stats0.AddFailed(measure, "normalise", null, null, failedDerived.Note);
                parts[mi] = (stats0, new DescBuilder(), warnings0);
                return;
            }
            if (!compared.Contains(measure))
            {
                // named only by a correlation: correlated, not compared between the groups
                CorrelateMeasure(measure, data.GetDoubles(measure), stats0, warnings0);
                parts[mi] = (stats0, new DescBuilder(), warnings0);
                return;
            }
            var stats = new StatsBuilder();
            var desc = new DescBuilder();
            var warnings = new List<string>();
            parts[mi] = (stats, desc, warnings);
            var y = data.GetDoubles(measure);
            var byLevel = new List<double>[levels.Count];
            for (int k = 0; k < levels.Count; k++) byLevel[k] = new List<double>();
            for (int i = 0; i < y.Length; i++) byLevel[levelIndex[i]].Add(y[i]);
            for (int k = 0; k < levels.Count; k++) desc.Add(measure, levels[k], Statistics.Descriptives.Of(byLevel[k].ToArray()));

            var refVals = byLevel[0].ToArray();
            for (int k = 1; k < levels.Count; k++)
            {
                var cmp = byLevel[k].ToArray();
                string contrast = $"{levels[k]} - {levels[0]}";
                string what = $"{measure} ({contrast})";
                EffectSizeResult? d = null, g = null;
                string? effNote = null;
                try { d = EffectSize.CohenD(cmp, refVals, what); g = EffectSize.HedgesG(cmp, refVals, what); }
                catch (StatisticsException e) { effNote = e.Message; }
                foreach (var method in new[] { "student_t", "welch_t" })
                {
                    try
                    {
                        var t = method == "student_t" ? TTest.Student(cmp, refVals, what) : TTest.Welch(cmp, refVals, what);
                        stats.AddT(measure, method, spec.GroupColumn, contrast, t, d, g, effNote);
                    }
                    catch (StatisticsException e)
                    {
                        stats.AddFailed(measure, method, spec.GroupColumn, contrast, e.Message);
                        warnings.Add(e.Message);
                    }
                }
            }
            try
            {
                var preds = groupTerms.Concat(covTerms).ToList();
                var fit = Ols.Fit(measure, y, preds);
                foreach (var term in fit.Terms)
                {
                    bool isGroup = term.Name.StartsWith(spec.GroupColumn + "[T.", StringComparison.Ordinal);
                    string? contrast = isGroup ? $"{term.Name[(spec.GroupColumn.Length + 3)..^1]} - {levels[0]}" : null;
                    stats.AddOls(measure, term, fit, contrast, isGroup, olsNote);
                }
            }
            catch (StatisticsException e)
            {
                stats.AddFailed(measure, "ols", spec.GroupColumn, null, e.Message);
                warnings.Add(e.Message);
            }
            CorrelateMeasure(measure, y, stats, warnings);
        });

        void CorrelateMeasure(string measure, double[] y, StatsBuilder stats, List<string> warnings)
        {
            var yRanks = HasNaN(y) ? null : Correlation.Ranks(y);
            foreach (var pair in pairs.Where(p => p.Measure == measure))
            {
                var v = pair.With;
                var (x, xRanks) = corrCache[v];
                foreach (var method in new[] { "pearson", "spearman" })
                {
                    string what = $"{measure} ~ {v}";
                    try
                    {
                        var r = method == "pearson" ? Correlation.Pearson(y, x, what)
                            : yRanks is not null && xRanks is not null ? Correlation.SpearmanFromRanks(yRanks, xRanks, what)
                            : Correlation.Spearman(y, x, what);
                        stats.AddCorrelation(measure, v, r, pair.Analysis);
                    }
                    catch (StatisticsException e)
                    {
                        stats.AddFailed(measure, method, v, null, e.Message);
                        warnings.Add(e.Message);
                    }
                }
            }
        }
        var stats = new StatsBuilder();
        var desc = new DescBuilder();
        foreach (var part in parts) { stats.Append(part.Stats); desc.Append(part.Desc); warnings.AddRange(part.Warnings); }
        var statsRows = stats.Build(spec.Fdr, spec.AnalysisOf);
        return new GroupStatisticsResult(spec, levels, measures, data, statsRows, desc.Build(), warnings, adjustments,
            measures.Where(m => compared.Contains(m) && !derivedFailed.Any(f => f.Output == m)).ToList(), pairs);
    }

    private static bool HasNaN(double[] v)
    {
        foreach (var x in v) if (double.IsNaN(x)) return true;
        return false;
    }

    private static void RequireNumeric(Table t, string name, string role)
    {
        var c = t[name];
        if (!c.IsNumeric) throw new ArgumentException($"{role} column '{name}' is {c.Type}, not numeric");
    }

    /// <summary>Design columns for a covariate: numeric as-is; text/boolean as treatment dummies "name[T.level]".</summary>
    internal static IEnumerable<(string Name, double[] Values)> DesignColumns(Table data, string covariate)
    {
        var c = data[covariate];
        if (c.IsNumeric) return new[] { (covariate, data.GetDoubles(covariate)) };
        if (c.Type == ColumnType.Timestamp) throw new ArgumentException($"covariate '{covariate}' is a timestamp; give a numeric or categorical column");
        var s = data.GetStrings(covariate);
        var lv = s.Where(x => x is not null).Distinct().OrderBy(x => x, StringComparer.Ordinal).ToList();
        var list = new List<(string, double[])>();
        for (int k = 1; k < lv.Count; k++)
        {
            var v = new double[s.Length];
            for (int i = 0; i < v.Length; i++) v[i] = s[i] is null ? double.NaN : s[i] == lv[k] ? 1 : 0;
            list.Add(($"{covariate}[T.{lv[k]}]", v));
        }
        if (list.Count == 0) throw new StatisticsException($"covariate '{covariate}' has a single level ({(lv.Count > 0 ? lv[0] : "none")}): it cannot be used in the model");
        return list;
    }

    private sealed class DescBuilder
    {
        private readonly List<string?> _m = new(), _g = new();
        private readonly List<Descriptives> _d = new();
        public void Add(string measure, string group, Descriptives d) { _m.Add(measure); _g.Add(group); _d.Add(d); }
        public void Append(DescBuilder o) { _m.AddRange(o._m); _g.AddRange(o._g); _d.AddRange(o._d); }
        public Table Build() => new(
            new StringColumn("measure", _m.ToArray()),
            new StringColumn("group", _g.ToArray()),
            new Int32Column("n", _d.Select(d => d.N).ToArray()),
            new Int32Column("missing", _d.Select(d => d.Missing).ToArray()),
            Num("mean", _d.Select(d => d.Mean)), Num("sd", _d.Select(d => d.Sd)), Num("sem", _d.Select(d => d.Sem)),
            Num("min", _d.Select(d => d.Min)), Num("q1", _d.Select(d => d.Q1)), Num("median", _d.Select(d => d.Median)),
            Num("q3", _d.Select(d => d.Q3)), Num("max", _d.Select(d => d.Max)));
    }

    /// <summary>A double column where NaN becomes null (missing), so CSV/Parquet/JSON show "no value".</summary>
    internal static DoubleColumn Num(string name, IEnumerable<double> values)
    {
        var v = values.ToArray();
        bool[]? mask = null;
        for (int i = 0; i < v.Length; i++)
            if (double.IsNaN(v[i])) { mask ??= Enumerable.Repeat(true, v.Length).ToArray(); mask[i] = false; v[i] = 0; }
        return new DoubleColumn(name, v, mask);
    }

    private sealed class StatsBuilder
    {
        private readonly List<StatsRow> _rows = new();

        public void Append(StatsBuilder o) => _rows.AddRange(o._rows);

        public void AddT(string measure, string method, string groupColumn, string contrast, TTestResult t, EffectSizeResult? d, EffectSizeResult? g, string? note)
        {
            var r = new StatsRow
            {
                Measure = measure, Test = method, Term = groupColumn, Contrast = contrast, Corrected = true,
                N = t.N1 + t.N2, N1 = t.N1, N2 = t.N2, Mean1 = t.Mean1, Mean2 = t.Mean2,
                Estimate = t.MeanDifference, Se = t.StandardError, CiLow = t.CiLow, CiHigh = t.CiHigh,
                Statistic = t.T, Df = t.Df, P = t.P, Log10P = t.LogP / Math.Log(10), Note = note,
            };
            if (d is not null && g is not null)
                r = r with
                {
                    CohenD = d.Value, CohenDCiLow = d.CiLow, CohenDCiHigh = d.CiHigh,
                    HedgesG = g.Value, HedgesGCiLow = g.CiLow, HedgesGCiHigh = g.CiHigh,
                };
            _rows.Add(r);
        }

        public void AddOls(string measure, OlsTerm term, OlsResult fit, string? contrast, bool isGroup, string? note) => _rows.Add(new StatsRow
        {
            Measure = measure, Test = "ols", Term = term.Name, Contrast = contrast, Corrected = isGroup, Note = note,
            N = fit.N, Estimate = term.Coefficient, Se = term.Se, CiLow = term.CiLow, CiHigh = term.CiHigh,
            Statistic = term.T, Df = fit.DfResidual, P = term.P, Log10P = term.LogP / Math.Log(10),
        });

        public void AddCorrelation(string measure, string variable, CorrelationResult c, string? analysis) => _rows.Add(new StatsRow
        {
            Measure = measure, Test = c.Method, Term = variable, Corrected = true, Analysis = analysis,
            N = c.N, Estimate = c.R, Statistic = c.T, Df = c.Df, P = c.P, Log10P = c.LogP / Math.Log(10),
        });

        public void AddFailed(string measure, string test, string? term, string? contrast, string note) =>
            _rows.Add(new StatsRow { Measure = measure, Test = test, Term = term, Contrast = contrast, Note = note });

        /// <summary>The rows with Benjamini–Hochberg q within each family, over the rows that have a p (not OLS
        /// intercepts or covariate terms).</summary>
        public List<StatsRow> Build(FdrFamily fdr, IReadOnlyDictionary<string, string>? analysisOf)
        {
            var rows = _rows.ToList();
            var families = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            for (int i = 0; i < rows.Count; i++)
            {
                if (!rows[i].Corrected || double.IsNaN(rows[i].P)) continue;
                var analysis = rows[i].Analysis ?? analysisOf?.GetValueOrDefault(rows[i].Measure) ?? "stats";
                var key = fdr switch
                {
                    FdrFamily.All => "all",
                    FdrFamily.PerTest => rows[i].Test,
                    _ => analysis + ":" + rows[i].Test,
                };
                rows[i] = rows[i] with { Family = key };
                if (!families.TryGetValue(key, out var list)) families[key] = list = new List<int>();
                list.Add(i);
            }
            foreach (var members in families.Values)
            {
                var q = Fdr.BenjaminiHochberg(members.Select(i => rows[i].P).ToArray());
                for (int k = 0; k < members.Count; k++) rows[members[k]] = rows[members[k]] with { Q = q[k] };
            }
            return rows;
        }
    }
}
