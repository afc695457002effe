using System.Globalization;
using System.Text;
using BatchCohort.Analysis.Statistics;
using BatchCohort.Analysis.Tables;
using static BatchCohort.Analysis.Reports.Svg;

namespace BatchCohort.Analysis.Reports;

/// <summary>A subject that could not be measured, with the reason a person can act on.</summary>
public sealed record FailedSubject(string SubjectId, string Reason);

/// <summary>A subject flagged by QC (per-subject checks or cohort outlier scores), whether it was left out of the
/// statistics, and its QC montage (path absolute or relative to the report's folder), if any.</summary>
public sealed record FlaggedSubject(string SubjectId, IReadOnlyList<string> Reasons, bool Excluded, string? QcPngPath);

/// <summary>A subject's QC montage (PNG). The path may be absolute or relative to the report's folder.</summary>
public sealed record QcThumbnail(string SubjectId, string PngPath);

/// <summary>What goes into group/report.html.</summary>
public sealed record ReportInput
{
    /// <summary>The group stage's result (its Data table feeds the plots).</summary>
    public required GroupStatisticsResult Stats { get; init; }

    public string Title { get; init; } = "BatchCohort group report";

    /// <summary>Column to plot measures against (scatter plots); default: "age" (any case) when present.</summary>
    public string? AgeColumn { get; init; }

    /// <summary>Subjects that failed, with reasons.</summary>
    public IReadOnlyList<FailedSubject> Failed { get; init; } = Array.Empty<FailedSubject>();

    /// <summary>Subjects flagged by QC: listed first in the report, with their QC montage.</summary>
    public IReadOnlyList<FlaggedSubject> Flagged { get; init; } = Array.Empty<FlaggedSubject>();

    /// <summary>QC montages to show as thumbnails linking to the full image.</summary>
    public IReadOnlyList<QcThumbnail> Thumbnails { get; init; } = Array.Empty<QcThumbnail>();

    /// <summary>Facts about the run shown in the header (cohort, run id, pipeline version, date …), in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> RunInfo { get; init; } = Array.Empty<KeyValuePair<string, string>>();

    /// <summary>Subjects in the cohort (measured + failed); default: rows of the table + failed.</summary>
    public int? TotalSubjects { get; init; }

    /// <summary>The generated methods paragraph (processing, registration, segmentation, measures; the statistics
    /// sentence is added from <see cref="Stats"/>) and the settings used; shown first in the Methods section.</summary>
    public MethodsText? Methods { get; init; }
}

/// <summary>A methods paragraph a paper can cite, as sentences grouped in paragraphs, and the settings the run used (name → value).</summary>
public sealed record MethodsText(IReadOnlyList<string> Paragraphs, IReadOnlyList<KeyValuePair<string, string>> Settings);

/// <summary>
/// Writes a self-contained HTML report (inline CSS and SVG; no scripts, fonts or images from the network; QC images
/// are local files referenced by relative paths): summary, per-group descriptives, tests with effect sizes, box/strip
/// plots, scatter plots against age, failed subjects, QC thumbnails, methods.
/// </summary>
public static class HtmlReport
{
    /// <summary>Section ids present in every report (a test checks them).</summary>
    public static readonly string[] SectionIds = { "summary", "groups", "tests", "plots", "scatter", "failed", "qc", "methods" };

    /// <summary>Writes the report to <paramref name="path"/>, streamed: a 10,000-subject report is megabytes of HTML that
    /// is never held in memory whole.</summary>
    public static void Write(ReportInput input, string path)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        using var w = new StreamWriter(full, false, new UTF8Encoding(false), 1 << 16);
        Render(input, dir, w);
    }

    /// <summary>The report as one string (tests, small cohorts); <see cref="Write"/> streams it to a file.</summary>
    public static string Render(ReportInput input, string reportDirectory)
    {
        using var w = new StringWriter(CultureInfo.InvariantCulture);
        Render(input, reportDirectory, w);
        return w.ToString();
    }

    /// <summary>Writes the report's HTML to <paramref name="sb"/>.</summary>
    public static void Render(ReportInput input, string reportDirectory, TextWriter sb)
    {
        ArgumentNullException.ThrowIfNull(sb);
        var r = input.Stats;
        var data = r.Data;
        var spec = r.Spec;
        var ageCol = input.AgeColumn ?? data.Columns.FirstOrDefault(c => c.IsNumeric && c.Name.Equals("age", StringComparison.OrdinalIgnoreCase))?.Name;
        var labels = data.GetStrings(spec.GroupColumn);
        sb.Write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        sb.Write("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        sb.Write($"<title>{Esc(input.Title)}</title><style>{Css}</style></head><body>");
        sb.Write($"<header><h1>{Esc(input.Title)}</h1>");
        if (input.RunInfo.Count > 0)
        {
            sb.Write("<dl class=\"runinfo\">");
            foreach (var (k, v) in input.RunInfo) sb.Write($"<dt>{Esc(k)}</dt><dd>{Esc(v)}</dd>");
            sb.Write("</dl>");
        }
        sb.Write("<nav>");
        foreach (var (id, name) in new[] { ("summary", "Summary"), ("groups", "Groups"), ("tests", "Tests"), ("plots", "Box plots"), ("scatter", "Against age"), ("failed", "Failed"), ("qc", "QC"), ("methods", "Methods") })
            sb.Write($"<a href=\"#{id}\">{name}</a>");
        sb.Write("</nav></header><main>");

        // ---- flagged subjects first: a gross failure must be seen before any statistic is read
        if (input.Flagged.Count > 0)
        {
            int nEx = input.Flagged.Count(f => f.Excluded);
            sb.Write("<section id=\"flagged\"><h2>Flagged by QC</h2>");
            sb.Write($"<p>{input.Flagged.Count} subject(s) flagged by quality control; {(nEx > 0 ? $"{nEx} excluded from the statistics (manifest <code>\"exclude\": \"flagged\"</code>)" : "kept in the statistics (set <code>\"exclude\": \"flagged\"</code> in the manifest to leave them out)")}. Check each picture.</p>");
            sb.Write("<table class=\"failed\"><thead><tr><th>subject</th><th>why</th><th>statistics</th><th>QC picture</th></tr></thead><tbody>");
            foreach (var f in input.Flagged)
            {
                string pic = "";
                if (f.QcPngPath is { } png)
                {
                    var href = RelativeUrl(reportDirectory, png);
                    pic = $"<a class=\"thumb\" href=\"{Esc(href)}\"><img src=\"{Esc(href)}\" alt=\"QC montage of {Esc(f.SubjectId)}\" loading=\"lazy\"></a>";
                }
                sb.Write($"<tr><td><code>{Esc(f.SubjectId)}</code></td><td>{Esc(string.Join("; ", f.Reasons))}</td><td>{(f.Excluded ? "excluded" : "included")}</td><td>{pic}</td></tr>");
            }
            sb.Write("</tbody></table></section>");
        }

        // ---- summary
        int total = input.TotalSubjects ?? data.RowCount + input.Failed.Count;
        var counts = r.Levels.Select(l => labels.Count(x => x == l)).ToArray();
        var family = SignificantFindings(r);
        sb.Write("<section id=\"summary\"><h2>Cohort summary</h2><div class=\"cards\">");
        Card(sb, total.ToString(CultureInfo.InvariantCulture), "subjects in the cohort");
        Card(sb, data.RowCount.ToString(CultureInfo.InvariantCulture), $"analysed ({spec.GroupColumn} in {string.Join(", ", r.Levels)})");
        for (int g = 0; g < r.Levels.Count; g++) Card(sb, counts[g].ToString(CultureInfo.InvariantCulture), r.Levels[g] + (g == 0 ? " (reference)" : ""), Palette[g % Palette.Length]);
        Card(sb, input.Failed.Count.ToString(CultureInfo.InvariantCulture), "failed", input.Failed.Count > 0 ? "#c53030" : null);
        Card(sb, $"{family.sig} / {family.total}", "tests with q &lt; 0.05 (BH-FDR)", null, raw: true);
        sb.Write("</div>");
        sb.Write($"<p class=\"lead\">Groups compared: <b>{string.Join("</b> vs <b>", r.Levels.Select(Esc))}</b> (column <code>{Esc(spec.GroupColumn)}</code>; reference <b>{Esc(r.Levels[0])}</b>). ");
        sb.Write($"Measures: {string.Join(", ", r.Measures.Select(m => $"<code>{Esc(m)}</code>"))}. ");
        if (spec.Covariates.Count > 0) sb.Write($"Adjusted models include {string.Join(", ", spec.Covariates.Select(c => $"<code>{Esc(c)}</code>"))}. ");
        sb.Write("</p>");
        foreach (var line in KeyFindings(r)) sb.Write($"<p class=\"finding\">{line}</p>");
        sb.Write("</section>");

        // ---- groups
        sb.Write("<section id=\"groups\"><h2>Per-group description</h2>");
        var demo = new List<string>();
        if (ageCol is not null && !r.Measures.Contains(ageCol)) demo.Add(ageCol);
        foreach (var c in spec.Covariates) if (!demo.Contains(c) && !r.Measures.Contains(c)) demo.Add(c);
        if (demo.Count > 0)
        {
            sb.Write("<h3>Demographics</h3><table><thead><tr><th>variable</th>");
            for (int g = 0; g < r.Levels.Count; g++) sb.Write($"<th>{Esc(r.Levels[g])} (n={counts[g]})</th>");
            sb.Write("</tr></thead><tbody>");
            foreach (var v in demo)
            {
                var col = data[v];
                if (col.IsNumeric)
                {
                    sb.Write($"<tr><td>{Esc(v)}, mean ± SD [range]</td>");
                    for (int g = 0; g < r.Levels.Count; g++)
                    {
                        var vals = Enumerable.Range(0, data.RowCount).Where(i => labels[i] == r.Levels[g]).Select(i => col.GetDouble(i)).ToArray();
                        var d = Descriptives.Of(vals);
                        sb.Write($"<td class=\"num\">{Fmt(d.Mean)} ± {Fmt(d.Sd)} [{Fmt(d.Min)}–{Fmt(d.Max)}]{(d.Missing > 0 ? $" <span class=\"muted\">({d.Missing} missing)</span>" : "")}</td>");
                    }
                    sb.Write("</tr>");
                }
                else
                {
                    var s = data.GetStrings(v);
                    var lv = s.Where(x => x is not null).Distinct().OrderBy(x => x, StringComparer.Ordinal).ToList();
                    sb.Write($"<tr><td>{Esc(v)}, n ({string.Join(" / ", lv.Select(x => Esc(x!)))})</td>");
                    for (int g = 0; g < r.Levels.Count; g++)
                    {
                        var parts = lv.Select(l => Enumerable.Range(0, data.RowCount).Count(i => labels[i] == r.Levels[g] && s[i] == l));
                        sb.Write($"<td class=\"num\">{string.Join(" / ", parts)}</td>");
                    }
                    sb.Write("</tr>");
                }
            }
            sb.Write("</tbody></table>");
        }
        sb.Write("<h3>Measures</h3><table><thead><tr><th>measure</th><th>group</th><th>n</th><th>mean</th><th>SD</th><th>median [Q1, Q3]</th><th>min – max</th></tr></thead><tbody>");
        var dt = r.Descriptives;
        for (int i = 0; i < dt.RowCount; i++)
        {
            string m = (string)dt["measure"].GetValue(i)!, g = (string)dt["group"].GetValue(i)!;
            int gi = r.Levels.ToList().IndexOf(g);
            sb.Write($"<tr{(gi == 0 ? " class=\"first\"" : "")}><td>{(gi == 0 ? $"<b>{Esc(m)}</b>" : "")}</td><td><span class=\"dot\" style=\"background:{Palette[gi % Palette.Length]}\"></span>{Esc(g)}</td>");
            sb.Write($"<td class=\"num\">{dt["n"].GetValue(i)}</td><td class=\"num\">{Fmt(D(dt, "mean", i))}</td><td class=\"num\">{Fmt(D(dt, "sd", i))}</td>");
            sb.Write($"<td class=\"num\">{Fmt(D(dt, "median", i))} [{Fmt(D(dt, "q1", i))}, {Fmt(D(dt, "q3", i))}]</td><td class=\"num\">{Fmt(D(dt, "min", i))} – {Fmt(D(dt, "max", i))}</td></tr>");
        }
        sb.Write("</tbody></table></section>");

        // ---- tests
        sb.Write("<section id=\"tests\"><h2>Group differences and effect sizes</h2>");
        string fdrFamily = spec.Fdr switch { FdrFamily.All => "one family of all the run's tests", FdrFamily.PerAnalysis => "each analysis's tests of one kind", _ => "each kind of test (Welch, Student, adjusted model, Pearson, Spearman) across the measures" };
        sb.Write("<p class=\"muted\">Difference = group − reference. Welch's t does not assume equal variances; the adjusted model is OLS with the listed covariates. q: Benjamini–Hochberg FDR within " + fdrFamily + ". Rows with q &lt; 0.05 are highlighted.</p>");
        sb.Write("<div class=\"scroll\"><table class=\"tests\"><thead><tr><th>measure (contrast)</th><th>difference [95% CI]</th><th>Welch t (df)</th><th>p</th><th>q</th><th>Hedges' g [95% CI]</th><th>Student p</th><th>adj. β ± SE</th><th>adj. p</th><th>adj. q</th></tr></thead><tbody>");
        var forest = new List<(string, double, double, double)>();
        foreach (var m in r.ComparedMeasures)
        {
            for (int k = 1; k < r.Levels.Count; k++)
            {
                string contrast = $"{r.Levels[k]} - {r.Levels[0]}";
                var w = r.Find(m, "welch_t", contrast: contrast);
                var s = r.Find(m, "student_t", contrast: contrast);
                var o = r.Find(m, "ols", term: $"{spec.GroupColumn}[T.{r.Levels[k]}]");
                bool sig = w?.Q < 0.05 || o?.Q < 0.05;
                sb.Write($"<tr{(sig ? " class=\"sig\"" : "")}><td><b>{Esc(m)}</b><br><span class=\"muted small\">{Esc(r.Levels[k])} − {Esc(r.Levels[0])}</span></td>");
                if (w is { Computed: true })
                {
                    sb.Write($"<td class=\"num\">{Fmt(w.Estimate)} [{Fmt(w.CiLow)}, {Fmt(w.CiHigh)}]</td>");
                    sb.Write($"<td class=\"num\">{w.Statistic.ToString("0.00", CultureInfo.InvariantCulture).Replace("-", "−")} ({w.Df.ToString("0.0", CultureInfo.InvariantCulture)})</td>");
                    sb.Write($"<td class=\"num\">{P(w.P)}</td><td class=\"num\">{P(w.Q)}</td>");
                    sb.Write($"<td class=\"num\">{Fmt(w.HedgesG)} [{Fmt(w.HedgesGCiLow)}, {Fmt(w.HedgesGCiHigh)}]</td>");
                    forest.Add(($"{m}: {r.Levels[k]} − {r.Levels[0]}", w.HedgesG, w.HedgesGCiLow, w.HedgesGCiHigh));
                }
                else sb.Write($"<td colspan=\"5\" class=\"muted\">{Esc(w is not null ? w.Note ?? "" : "not computed")}</td>");
                sb.Write($"<td class=\"num\">{(s is { Computed: true } ? P(s.P) : "–")}</td>");
                if (o is not null)
                    sb.Write($"<td class=\"num\">{Fmt(o.Estimate)} ± {Fmt(o.Se)}</td><td class=\"num\">{P(o.P)}</td><td class=\"num\">{P(o.Q)}</td>");
                else sb.Write("<td colspan=\"3\" class=\"muted\">model not fitted</td>");
                sb.Write("</tr>");
            }
        }
        sb.Write("</tbody></table></div>");
        if (r.Correlations.Count > 0)
        {
            sb.Write("<h3>Correlations</h3><table><thead><tr><th>measure</th><th>with</th><th>n</th><th>Pearson r</th><th>p</th><th>q</th><th>Spearman ρ</th><th>p</th><th>q</th></tr></thead><tbody>");
            foreach (var (m, v, _) in r.Correlations)
                {
                    var pr = r.Find(m, "pearson", term: v);
                    var sr = r.Find(m, "spearman", term: v);
                    bool sig = pr?.Q < 0.05 || sr?.Q < 0.05;
                    sb.Write($"<tr{(sig ? " class=\"sig\"" : "")}><td><b>{Esc(m)}</b></td><td>{Esc(v)}</td><td class=\"num\">{pr?.N}</td>");
                    foreach (var row in new[] { pr, sr })
                    {
                        if (row is { Computed: true }) sb.Write($"<td class=\"num\">{row.Estimate.ToString("0.000", CultureInfo.InvariantCulture).Replace("-", "−")}</td><td class=\"num\">{P(row.P)}</td><td class=\"num\">{P(row.Q)}</td>");
                        else sb.Write($"<td colspan=\"3\" class=\"muted\">{Esc(row?.Note ?? "")}</td>");
                    }
                    sb.Write("</tr>");
                }
            sb.Write("</tbody></table>");
        }
        if (forest.Count > 0) { sb.Write("<figure>"); sb.Write(Forest("Hedges' g with 95% CI (group − reference)", "Hedges' g", forest)); sb.Write("</figure>"); }
        sb.Write("</section>");

        // ---- box/strip plots
        sb.Write("<section id=\"plots\"><h2>Measures by group</h2><div class=\"grid\">");
        foreach (var m in r.ComparedMeasures)
        {
            var y = data.GetDoubles(m);
            var groups = r.Levels.Select(l => Enumerable.Range(0, y.Length).Where(i => labels[i] == l).Select(i => y[i]).ToArray()).ToList();
            var w = r.Levels.Count > 1 ? r.Find(m, "welch_t", contrast: $"{r.Levels[1]} - {r.Levels[0]}") : null;
            string? sub = w is { Computed: true } ? $"Welch p = {PText(w.P)}, g = {Fmt(w.HedgesG)}" : null;
            sb.Write("<figure>"); sb.Write(BoxStrip(m, m, r.Levels, groups, sub)); sb.Write("</figure>");
        }
        sb.Write("</div></section>");

        // ---- scatter against age
        sb.Write("<section id=\"scatter\"><h2>Measures against age</h2>");
        if (ageCol is null) sb.Write("<p class=\"muted\">No age column in the table.</p>");
        else
        {
            sb.Write("<div class=\"grid\">");
            var age = data.GetDoubles(ageCol);
            foreach (var m in r.Measures.Where(m => m != ageCol))
            {
                var y = data.GetDoubles(m);
                var series = r.Levels.Select(l =>
                {
                    var idx = Enumerable.Range(0, y.Length).Where(i => labels[i] == l).ToArray();
                    return (idx.Select(i => age[i]).ToArray(), idx.Select(i => y[i]).ToArray());
                }).ToList();
                var pr = r.Find(m, "pearson", term: ageCol);
                string? sub = pr is { Computed: true } ? $"r = {pr.Estimate.ToString("0.00", CultureInfo.InvariantCulture)}, p = {PText(pr.P)}" : null;
                sb.Write("<figure>"); sb.Write(Scatter($"{m} vs {ageCol}", ageCol, m, r.Levels, series, sub)); sb.Write("</figure>");
            }
            sb.Write("</div>");
        }
        sb.Write("</section>");

        // ---- failed
        sb.Write("<section id=\"failed\"><h2>Failed subjects</h2>");
        if (input.Failed.Count == 0) sb.Write("<p class=\"ok\">Every subject was measured.</p>");
        else
        {
            sb.Write($"<p>{input.Failed.Count} subject(s) could not be measured and are not in the statistics:</p>");
            sb.Write("<table class=\"failed\"><thead><tr><th>subject</th><th>reason</th></tr></thead><tbody>");
            foreach (var f in input.Failed) sb.Write($"<tr><td><code>{Esc(f.SubjectId)}</code></td><td>{Esc(f.Reason)}</td></tr>");
            sb.Write("</tbody></table>");
        }
        sb.Write("</section>");

        // ---- QC
        sb.Write("<section id=\"qc\"><h2>Quality control</h2>");
        if (input.Thumbnails.Count == 0) sb.Write("<p class=\"muted\">No QC montages were given.</p>");
        else
        {
            sb.Write("<p class=\"muted\">Each thumbnail links to the subject's full montage (brain and intracranial masks over the T1).</p><div class=\"thumbs\">");
            foreach (var t in input.Thumbnails)
            {
                var href = RelativeUrl(reportDirectory, t.PngPath);
                sb.Write($"<a class=\"thumb\" href=\"{Esc(href)}\"><img src=\"{Esc(href)}\" alt=\"QC montage of {Esc(t.SubjectId)}\" loading=\"lazy\"><span>{Esc(t.SubjectId)}</span></a>");
            }
            sb.Write("</div>");
        }
        sb.Write("</section>");

        // ---- methods
        sb.Write("<section id=\"methods\"><h2>Methods</h2>");
        sb.Write("<div id=\"methods-text\">");
        foreach (var para in input.Methods?.Paragraphs ?? Array.Empty<string>()) sb.Write($"<p>{Esc(para)}</p>");
        sb.Write($"<p>{Esc(StatisticsMethods.Describe(r))}</p></div>");
        if (input.Methods is { Settings.Count: > 0 } mt)
        {
            sb.Write("<h3>Settings used</h3><table id=\"settings\"><tr><th>setting</th><th>value</th></tr>");
            foreach (var (k, v) in mt.Settings) sb.Write($"<tr><td><code>{Esc(k)}</code></td><td><code>{Esc(v)}</code></td></tr>");
            sb.Write("</table>");
        }
        sb.Write("<h3>Formulas</h3><ul>");
        sb.Write("<li><b>t-tests</b>: Student (pooled variance, df = n₁ + n₂ − 2) and Welch (Welch–Satterthwaite df); two-sided p = I<sub>df/(df+t²)</sub>(df/2, ½), evaluated in log space so p stays exact down to 10⁻³⁰⁰.</li>");
        sb.Write("<li><b>Effect sizes</b>: Cohen's d with pooled SD; Hedges' g = J·d with J = Γ(ν/2)/(√(ν/2)·Γ((ν−1)/2)); 95% CI from the Hedges &amp; Olkin normal approximation SE(d) = √((n₁+n₂)/(n₁n₂) + d²/(2(n₁+n₂))), SE(g) = J·SE(d).</li>");
        sb.Write($"<li><b>Adjusted model</b>: ordinary least squares (QR decomposition) of each measure on {Esc(spec.GroupColumn)} (treatment coding, reference {Esc(r.Levels[0])}){(spec.Covariates.Count > 0 ? " + " + string.Join(" + ", spec.Covariates.Select(Esc)) : "")}; categorical covariates dummy coded with the first level (alphabetical) as reference.</li>");
        sb.Write("<li><b>Correlations</b>: Pearson r and Spearman ρ (average ranks for ties), p from the t distribution with n − 2 df.</li>");
        sb.Write("<li><b>Multiple comparisons</b>: Benjamini–Hochberg FDR across the run's tests (t-tests, adjusted group terms, correlations).</li>");
        foreach (var ns in spec.Normalise)
        {
            if (ns.Method == NormalisationMethod.Ratio) sb.Write($"<li><b>{Esc(ns.Output)}</b> = {Esc(ns.Measure)} / {Esc(ns.IcvColumn)} (proportion of intracranial volume, as OASIS nWBV).</li>");
            else
            {
                var a = r.Adjustments.GetValueOrDefault(ns.Output);
                sb.Write($"<li><b>{Esc(ns.Output)}</b> = {Esc(ns.Measure)} − b·({Esc(ns.IcvColumn)} − mean {Esc(ns.IcvColumn)}), the residual (covariance) method of Jack et al. 1989 / Buckner et al. 2004, b fitted in the reference group{(a is null ? "" : $" (b = {Fmt(a.Slope)}, mean = {Fmt(a.MeanIcv)}, n = {a.N})")}.</li>");
            }
        }
        sb.Write("</ul>");
        if (r.Warnings.Count > 0)
        {
            sb.Write("<h3>Tests that could not be computed</h3><ul class=\"warn\">");
            foreach (var w in r.Warnings) sb.Write($"<li>{Esc(w)}</li>");
            sb.Write("</ul>");
        }
        sb.Write("</section></main><footer>Made by BatchCohort. Statistics are also in stats.csv, stats.json and stats.parquet beside this file.</footer></body></html>\n");
    }

    private static (int sig, int total) SignificantFindings(GroupStatisticsResult r)
    {
        var inFamily = r.Rows.Where(x => !double.IsNaN(x.Q)).ToList();
        return (inFamily.Count(x => x.Q < 0.05), inFamily.Count);
    }

    private static IEnumerable<string> KeyFindings(GroupStatisticsResult r)
    {
        foreach (var m in r.Measures)
            for (int k = 1; k < r.Levels.Count; k++)
            {
                var w = r.Find(m, "welch_t", contrast: $"{r.Levels[k]} - {r.Levels[0]}");
                if (w is not { Computed: true }) continue;
                string dir = w.Estimate < 0 ? "lower" : "higher";
                string verdict = w.Q < 0.05 ? "<span class=\"badge sig\">significant</span>" : "<span class=\"badge\">not significant</span>";
                yield return $"{verdict} <b>{Esc(m)}</b> is {dir} in <b>{Esc(r.Levels[k])}</b> than <b>{Esc(r.Levels[0])}</b> by {Fmt(Math.Abs(w.Estimate))} (Hedges' g = {Fmt(w.HedgesG)} [{Fmt(w.HedgesGCiLow)}, {Fmt(w.HedgesGCiHigh)}], Welch p = {PText(w.P)}, q = {PText(w.Q)}).";
            }
    }

    private static double D(Table t, string col, int row) => t[col].IsNull(row) ? double.NaN : t[col].GetDouble(row);

    private static void Card(TextWriter sb, string value, string label, string? color = null, bool raw = false)
    {
        sb.Write($"<div class=\"card\"{(color is null ? "" : $" style=\"border-top-color:{color}\"")}><div class=\"v\">{(raw ? value : Esc(value))}</div><div class=\"l\">{(raw ? label : Esc(label))}</div></div>");
    }

    /// <summary>4 significant digits, no exponent for ordinary magnitudes.</summary>
    internal static string Fmt(double v)
    {
        if (double.IsNaN(v)) return "–";
        if (double.IsInfinity(v)) return v > 0 ? "∞" : "−∞";
        double a = Math.Abs(v);
        if (a != 0 && (a < 1e-3 || a >= 1e6)) return v.ToString("0.###e+0", CultureInfo.InvariantCulture).Replace("-", "−");
        int dec = a == 0 ? 0 : Math.Clamp(3 - (int)Math.Floor(Math.Log10(a)), 0, 6);
        return v.ToString("F" + dec, CultureInfo.InvariantCulture).Replace("-", "−");
    }

    /// <summary>p for HTML: 3 significant digits, or m×10<sup>e</sup> below 0.001.</summary>
    internal static string P(double p)
    {
        if (double.IsNaN(p)) return "–";
        if (p == 0) return "&lt; 10<sup>−307</sup>";
        if (p >= 0.001) return p.ToString(p >= 0.01 ? "0.000" : "0.0000", CultureInfo.InvariantCulture);
        int e = (int)Math.Floor(Math.Log10(p));
        double m = p / Math.Pow(10, e);
        if (m >= 9.95) { m /= 10; e++; }
        return $"{m.ToString("0.0", CultureInfo.InvariantCulture)}×10<sup>−{-e}</sup>";
    }

    /// <summary>p as plain text (SVG).</summary>
    internal static string PText(double p)
    {
        if (double.IsNaN(p)) return "–";
        if (p == 0) return "< 1e-307";
        return p >= 0.001 ? p.ToString("0.000", CultureInfo.InvariantCulture) : p.ToString("0.0e+0", CultureInfo.InvariantCulture);
    }

    /// <summary>A relative URL from the report's folder to a file (forward slashes, each segment escaped).</summary>
    internal static string RelativeUrl(string reportDirectory, string path)
    {
        var full = Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(reportDirectory, path));
        var rel = Path.GetRelativePath(reportDirectory, full).Replace('\\', '/');
        return string.Join('/', rel.Split('/').Select(s => s == ".." || s == "." ? s : Uri.EscapeDataString(s)));
    }

    private const string Css = """
:root{--ink:#1a202c;--muted:#718096;--line:#e2e8f0;--bg:#f7fafc;--accent:#2b6cb0}
*{box-sizing:border-box}body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
header{background:#1a365d;color:#fff;padding:20px 32px 0}header h1{margin:0 0 8px;font-size:24px;font-weight:600}
.runinfo{display:flex;flex-wrap:wrap;gap:4px 20px;margin:0 0 12px;font-size:13px;opacity:.9}.runinfo dt{font-weight:600}.runinfo dt::after{content:":"}.runinfo dd{margin:0 8px 0 -16px}
nav{display:flex;gap:4px;flex-wrap:wrap}nav a{color:#cbd5e0;text-decoration:none;padding:8px 12px;border-radius:6px 6px 0 0;font-size:13px}nav a:hover{background:#2c5282;color:#fff}
main{max-width:1200px;margin:0 auto;padding:8px 24px 32px}section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:16px 24px;margin:20px 0;box-shadow:0 1px 2px rgba(0,0,0,.04)}
h2{font-size:19px;margin:4px 0 12px;color:#1a365d}h3{font-size:15px;margin:18px 0 8px;color:#2d3748}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:12px}.card{flex:1 1 130px;border:1px solid var(--line);border-top:4px solid var(--accent);border-radius:8px;padding:10px 14px;background:#fbfdff}
.card .v{font-size:24px;font-weight:650}.card .l{color:var(--muted);font-size:12px}
.lead{margin:6px 0}.finding{margin:6px 0;padding:6px 10px;background:#f0f5fb;border-left:3px solid var(--accent);border-radius:4px}
.badge{display:inline-block;font-size:11px;font-weight:600;padding:1px 7px;border-radius:9px;background:#e2e8f0;color:#4a5568;margin-right:6px}.badge.sig{background:#c6f6d5;color:#22543d}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#edf2f7;font-weight:600;color:#2d3748;white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.first td{border-top:2px solid #cbd5e0}tr.sig td{background:#f0fff4}table.tests td:first-child{white-space:nowrap}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px}
.muted{color:var(--muted)}.small{font-size:11.5px}.scroll{overflow-x:auto}table.tests{font-size:12.5px}.ok{color:#276749;font-weight:600}code{font-size:12px;background:#edf2f7;padding:1px 4px;border-radius:4px}
.grid{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;padding:8px;border:1px solid var(--line);border-radius:8px;background:#fff}
svg.plot{display:block;font-family:inherit}svg .grid{stroke:#edf2f7}svg .axis{stroke:#4a5568;stroke-width:1}svg .tick{font-size:11px;fill:#4a5568}
svg .alabel{font-size:12px;fill:#2d3748;font-weight:600}svg .ptitle{font-size:13px;font-weight:650;fill:#1a365d}svg .psub{font-size:11px;fill:#718096}
svg .box{stroke-width:1.5}svg .median{stroke-width:2.5}svg .whisker{stroke-width:1.3}svg .fit{stroke-width:2}svg .zero{stroke:#a0aec0;stroke-dasharray:4 3}
svg .ci{stroke:#2d3748;stroke-width:2}svg .est{fill:#2b6cb0}
.failed td:last-child{color:#9b2c2c}.thumbs{display:flex;flex-wrap:wrap;gap:10px}.thumb{display:flex;flex-direction:column;align-items:center;text-decoration:none;color:var(--ink);font-size:12px;border:1px solid var(--line);border-radius:6px;padding:6px;background:#fff}
.thumb img{width:160px;height:auto;min-height:60px;background:#000;border-radius:4px}.thumb:hover{border-color:var(--accent)}
.warn li{color:#9c4221}footer{text-align:center;color:var(--muted);font-size:12px;padding:0 0 24px}
""";
}
