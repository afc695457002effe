using System.Text.Json;
using BatchCohort.Analysis.Tables;

namespace BatchCohort.Analysis.Statistics;

/// <summary>stats.json: the specification, levels, descriptives, tests and warnings of one group stage.</summary>
internal static class GroupStatisticsJson
{
    public static void Write(GroupStatisticsResult r, string path)
    {
        using var fs = File.Create(path);
        using var w = new Utf8JsonWriter(fs, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("generated_by", "BatchCohort " + typeof(GroupStatistics).Assembly.GetName().Version);
        w.WriteStartObject("spec");
        w.WriteString("group_column", r.Spec.GroupColumn);
        WriteList(w, "levels", r.Levels);
        w.WriteString("reference", r.Levels[0]);
        WriteList(w, "measures", r.Measures);
        WriteList(w, "covariates", r.Spec.Covariates);
        WriteList(w, "correlate_with", r.Spec.CorrelateWith);
        w.WriteStartArray("normalise");
        foreach (var n in r.Spec.Normalise)
        {
            w.WriteStartObject();
            w.WriteString("measure", n.Measure);
            w.WriteString("icv_column", n.IcvColumn);
            w.WriteString("method", n.Method.ToString().ToLowerInvariant());
            w.WriteString("output", n.Output);
            if (r.Adjustments.TryGetValue(n.Output, out var a))
            {
                w.WriteNumber("slope", a.Slope);
                w.WriteNumber("mean_icv", a.MeanIcv);
                w.WriteNumber("fit_n", a.N);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (r.Spec.Correlations is { } pairs)
        {
            w.WriteStartArray("correlations");
            foreach (var p in pairs)
            {
                w.WriteStartObject();
                w.WriteString("measure", p.Measure);
                w.WriteString("with", p.With);
                if (p.Analysis is not null) w.WriteString("analysis", p.Analysis);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteString("fdr", r.Spec.Fdr switch
        {
            FdrFamily.All => "Benjamini-Hochberg in one family: every t-test, OLS group term and correlation",
            FdrFamily.PerAnalysis => "Benjamini-Hochberg in one family per analysis and test kind (the stats table's family column)",
            _ => "Benjamini-Hochberg in one family per test kind (student_t, welch_t, ols group terms, pearson, spearman) across the measures",
        });
        w.WriteString("fdr_family", r.Spec.Fdr switch { FdrFamily.All => "all", FdrFamily.PerAnalysis => "per-analysis", _ => "per-test" });
        w.WriteString("effect_size_ci", "Hedges & Olkin normal approximation: SE(d) = sqrt((n1+n2)/(n1 n2) + d^2/(2(n1+n2))); SE(g) = J SE(d)");
        w.WriteEndObject();
        w.WritePropertyName("descriptives");
        TableJson.WriteRows(w, r.Descriptives);
        w.WritePropertyName("tests");
        TableJson.WriteRows(w, r.Stats);
        WriteList(w, "warnings", r.Warnings);
        w.WriteEndObject();
    }

    private static void WriteList(Utf8JsonWriter w, string name, IEnumerable<string> items)
    {
        w.WriteStartArray(name);
        foreach (var i in items) w.WriteStringValue(i);
        w.WriteEndArray();
    }
}
