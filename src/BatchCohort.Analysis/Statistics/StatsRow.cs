using BatchCohort.Analysis.Tables;

namespace BatchCohort.Analysis.Statistics;

/// <summary>
/// One row of the group stage's statistics (stats.csv / stats.parquet / stats.json): one test of one measure.
/// Numbers that a test does not produce are NaN (written as missing); counts it does not produce are null.
/// </summary>
public sealed record StatsRow
{
    /// <summary>The measure tested (a raw measure, a normalised one, or one only correlated).</summary>
    public required string Measure { get; init; }
    /// <summary>student_t, welch_t, ols, pearson or spearman.</summary>
    public required string Test { get; init; }
    /// <summary>The group column for t-tests, the model term for OLS (e.g. <c>group[T.patient]</c>), the variable for correlations.</summary>
    public string? Term { get; init; }
    /// <summary>"level - reference" for t-tests and OLS group terms.</summary>
    public string? Contrast { get; init; }
    public int? N { get; init; }
    public int? N1 { get; init; }
    public int? N2 { get; init; }
    public double Mean1 { get; init; } = double.NaN;
    public double Mean2 { get; init; } = double.NaN;
    /// <summary>Mean difference (t-tests), coefficient (OLS) or r (correlations).</summary>
    public double Estimate { get; init; } = double.NaN;
    public double Se { get; init; } = double.NaN;
    public double CiLow { get; init; } = double.NaN;
    public double CiHigh { get; init; } = double.NaN;
    public double Statistic { get; init; } = double.NaN;
    public double Df { get; init; } = double.NaN;
    public double P { get; init; } = double.NaN;
    public double Log10P { get; init; } = double.NaN;
    /// <summary>Benjamini–Hochberg q within <see cref="Family"/>; NaN for rows outside every family (OLS intercepts, covariates).</summary>
    public double Q { get; init; } = double.NaN;
    public double CohenD { get; init; } = double.NaN;
    public double CohenDCiLow { get; init; } = double.NaN;
    public double CohenDCiHigh { get; init; } = double.NaN;
    public double HedgesG { get; init; } = double.NaN;
    public double HedgesGCiLow { get; init; } = double.NaN;
    public double HedgesGCiHigh { get; init; } = double.NaN;
    /// <summary>Why the test could not be computed (or a caveat); null when it was computed cleanly.</summary>
    public string? Note { get; init; }
    /// <summary>The Benjamini–Hochberg family the row's q was computed in (see <see cref="FdrFamily"/>).</summary>
    public string? Family { get; init; }

    /// <summary>Whether the row takes part in the FDR correction (t-tests, OLS group terms, correlations).</summary>
    internal bool Corrected { get; init; }
    /// <summary>The analysis a correlation belongs to, for <see cref="FdrFamily.PerAnalysis"/>.</summary>
    internal string? Analysis { get; init; }

    /// <summary>Whether the test was computed (no note saying it could not be).</summary>
    public bool Computed => Note is null;

    /// <summary>The stats table's columns, in order, and how each is read from a row: the one place that names them.</summary>
    public static Table ToTable(IReadOnlyList<StatsRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var cols = new List<Column>
        {
            new StringColumn("measure", rows.Select(r => (string?)r.Measure).ToArray()),
            new StringColumn("test", rows.Select(r => (string?)r.Test).ToArray()),
            new StringColumn("term", rows.Select(r => r.Term).ToArray()),
            new StringColumn("contrast", rows.Select(r => r.Contrast).ToArray()),
            Int("n", rows, r => r.N), Int("n1", rows, r => r.N1), Int("n2", rows, r => r.N2),
        };
        foreach (var (name, get) in Doubles) cols.Add(GroupStatistics.Num(name, rows.Select(get)));
        cols.Add(new StringColumn("note", rows.Select(r => r.Note).ToArray()));
        cols.Add(new StringColumn("family", rows.Select(r => r.Family).ToArray()));
        return new Table(cols);
    }

    private static readonly (string Name, Func<StatsRow, double> Get)[] Doubles =
    {
        ("mean1", r => r.Mean1), ("mean2", r => r.Mean2), ("estimate", r => r.Estimate), ("se", r => r.Se),
        ("ci_low", r => r.CiLow), ("ci_high", r => r.CiHigh), ("statistic", r => r.Statistic), ("df", r => r.Df),
        ("p", r => r.P), ("log10_p", r => r.Log10P), ("q", r => r.Q),
        ("cohen_d", r => r.CohenD), ("cohen_d_ci_low", r => r.CohenDCiLow), ("cohen_d_ci_high", r => r.CohenDCiHigh),
        ("hedges_g", r => r.HedgesG), ("hedges_g_ci_low", r => r.HedgesGCiLow), ("hedges_g_ci_high", r => r.HedgesGCiHigh),
    };

    private static Int32Column Int(string name, IReadOnlyList<StatsRow> rows, Func<StatsRow, int?> get)
    {
        var c = (Int32Column)Column.CreateEmpty(name, ColumnType.Int32, rows.Count);
        for (int i = 0; i < rows.Count; i++) c.Set(i, get(rows[i]));
        return c;
    }
}
