using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using BatchCohort.Analysis.Reports;
using BatchCohort.Analysis.Statistics;
using BatchCohort.Analysis.Tables;
using BatchCohort.Runtime.Caching;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Storage;
using BatchCohort.Imaging.Formats;

namespace BatchCohort.Runtime.Coordination;

/// <summary>The group stage's outcome: what to print, what was written (relative to the output folder), and notes
/// on subjects left out of the tests and why.</summary>
public sealed record GroupSummary(string Text, IReadOnlyList<string> Outputs, IReadOnlyList<string> Notes, Table Measures, GroupStatisticsResult? Stats);

/// <summary>
/// When no subject is pending or running: every done subject's result record becomes a row of the cohort table
/// (sorted by id), keyed by its BIDS participant_id ("sub-&lt;label&gt;"), joined with the demographics (left join: a
/// subject without demographics keeps its measures; their ids may be written "0001" or "sub-0001");
/// the grouping variable is derived from the manifest's levels; the manifest's analyses run through the Analysis
/// layer's group stage (one family, so Benjamini–Hochberg spans all of the run's tests); and group/ gets
/// measures.parquet|csv, stats.parquet|csv|json, descriptives.csv and report.html (failed subjects with reasons,
/// QC thumbnails linking to each subject's montage).
/// </summary>
public static class GroupStage
{
    public const string IdColumn = "participant_id";

    /// <param name="loadResult">Reads a done subject's valid result (the runner reads through the storage seam; default: the local output folder).</param>
    public static GroupSummary Run(CohortManifest m, IReadOnlyList<SubjectInput> subjects, RunState state, IRunObserver observer,
        Func<SubjectState, ResultRecord?>? loadResult = null)
    {
        var notes = new List<string>();
        var outputs = new List<string>();
        var groupDir = Path.Combine(m.OutputDirectory, "group");
        Directory.CreateDirectory(groupDir);

        // 1. the measures table, one row per done subject, built as the records are read: each record is let go once its
        // values are in the table (10,000 records held together, then copied into rows, were most of a large cohort's
        // group-stage memory); what later steps need of a subject is kept in a small record
        var results = new List<MeasuredSubject>();
        var builder = new MeasuresTableBuilder();
        foreach (var s in state.Subjects.Where(s => s.Status == SubjectStatus.Done).OrderBy(s => s.Id, StringComparer.Ordinal))
        {
            var r = loadResult is not null ? loadResult(s) : ResultStore.TryLoadValid(ResultStore.ResultPath(m.OutputDirectory, s.Label), s.CacheKey);
            if (r is null) { notes.Add($"{s.Id}: its result record is missing or changed since it was measured; left out (run again to re-measure)"); continue; }
            builder.Add(r);
            results.Add(new MeasuredSubject(r.SubjectId, r.SubjectLabel, r.Files.GetValueOrDefault("qc")));
        }
        var measures = builder.Build();
        PhaseBoundary(results.Count);

        // 2. demographics and the grouping variable
        var table = measures;
        string? groupColumn = null;
        foreach (var spec in m.DemographicTables)
        {
            var taken = table.ColumnNames.ToHashSet(StringComparer.OrdinalIgnoreCase);
            var demo = ReadDemographics(m, spec, taken, notes);
            table = table.Join(demo, IdColumn, JoinKind.Left, rightSuffix: "_demographics");
            var known = new HashSet<string>(demo.GetStrings(IdColumn).OfType<string>(), StringComparer.Ordinal);
            var without = results.Where(r => !known.Contains(ParticipantId(r.SubjectLabel))).Select(r => r.SubjectId).ToList();
            if (without.Count > 0) notes.Add($"{Count(without.Count, "measured subject")} without a row in {Path.GetFileName(spec.Path)}: {List(without)}");
        }
        if (m.Groups is not null)
        {
            var g = m.Groups;
            var source = table.Find(g.Column) ?? table.Find(CanonicalOf(m, g.Column) ?? "\0");
            if (source is null)
            {
                notes.Add($"group column '{g.Column}' is not in the table (columns: {string.Join(", ", table.ColumnNames)}); no group tests");
            }
            else
            {
                var levels = new string?[table.RowCount];
                var excluded = new List<string>();
                var ids = table.GetStrings(IdColumn);
                for (int i = 0; i < table.RowCount; i++)
                {
                    levels[i] = g.LevelOf(source.IsNull(i) ? null : source.Format(i));
                    if (levels[i] is null) excluded.Add($"{ids[i]} ({g.Column} = {(source.IsNull(i) ? "missing" : source.Format(i))})");
                }
                var groupCol = new StringColumn(g.Name, levels);
                table = table.HasColumn(g.Name) ? new Table(table.Columns.Select(c => c.Name == g.Name ? groupCol : c)) : table.With(groupCol);
                groupColumn = g.Name;
                if (excluded.Count > 0)
                    notes.Add($"{Count(excluded.Count, "subject")} left out of the group tests ({g.Column} missing or matching no level of {string.Join(", ", g.Levels.Select(l => $"{l.Name}: {l.Condition}"))}): {List(excluded)}");
            }
        }
        // QC before statistics: per-subject flags (qc_flags) and cohort robust outlier scores (median/MAD z); flagged
        // subjects are listed first in the report and, with "exclude": "flagged", left out of the statistics.
        var qcRows = RobustOutliers.Score(table, IdColumn);
        var flaggedRows = qcRows.Where(q => q.Flagged).ToList();
        var qcTable = new Table(new StringColumn(IdColumn, qcRows.Select(q => (string?)q.SubjectId).ToArray()),
            new DoubleColumn("qc_robust_z", qcRows.Select(q => q.MaxAbsZ).ToArray()),
            new StringColumn("qc_reasons", qcRows.Select(q => (string?)string.Join(';', q.Reasons)).ToArray()),
            new StringColumn("qc_status", qcRows.Select(q => (string?)(q.Flagged ? (m.ExcludeFlagged ? "excluded" : "flagged") : "ok")).ToArray()));
        Write(qcTable, Path.Combine(groupDir, "qc.csv"));
        outputs.Add("group/qc.csv");
        if (flaggedRows.Count > 0)
            notes.Add($"{Count(flaggedRows.Count, "subject")} flagged by QC{(m.ExcludeFlagged ? " and excluded from the statistics (\"exclude\": \"flagged\")" : " (kept in the statistics; \"exclude\": \"flagged\" leaves them out)")}: {List(flaggedRows.Select(q => $"{q.SubjectId} ({string.Join(", ", q.Reasons)})").ToList())}");
        var analysed = table;
        if (m.ExcludeFlagged && flaggedRows.Count > 0)
        {
            var drop = flaggedRows.Select(q => q.SubjectId).ToHashSet(StringComparer.Ordinal);
            var idsAll = table.GetStrings(IdColumn);
            analysed = table.Where(i => !drop.Contains(idsAll[i] ?? ""));
        }
        Write(table, Path.Combine(groupDir, "measures.parquet"));
        Write(table, Path.Combine(groupDir, "measures.csv"));
        outputs.Add("group/measures.parquet");
        outputs.Add("group/measures.csv");

        // 3. statistics
        GroupStatisticsResult? stats = null;
        string text;
        var failed = state.Subjects.Where(s => s.Status == SubjectStatus.Failed).Select(s => new FailedSubject(s.Id, s.Reason ?? "unknown")).ToList();
        var skip = WhyNoStats(m, analysed, groupColumn);
        if (skip is null)
        {
            var spec = BuildSpec(m, analysed, groupColumn!, notes);
            if (spec.Measures.Count == 0 && spec.Normalise.Count == 0 && spec.Correlations!.Count == 0) skip = "none of the analyses' measures is in the table";
            else
            {
                stats = GroupStatistics.Run(analysed, spec);
                // written into a private folder, then each file renamed into place: no reader sees a half-written file
                var tmp = Path.Combine(groupDir, ".stats-" + Guid.NewGuid().ToString("N")[..8]);
                try
                {
                    stats.Write(tmp);
                    foreach (var f in Directory.GetFiles(tmp)) File.Move(f, Path.Combine(groupDir, Path.GetFileName(f)), overwrite: true);
                }
                finally
                {
                    if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
                }
                outputs.AddRange(new[] { "group/stats.parquet", "group/stats.csv", "group/stats.json", "group/descriptives.csv" });
                notes.AddRange(stats.Warnings.Select(w => "statistics: " + w));
            }
        }
        var reportPath = Path.Combine(groupDir, "report.html");
        PhaseBoundary(results.Count);
        var flaggedIds = flaggedRows.Select(q => q.SubjectId).ToHashSet(StringComparer.Ordinal);
        var thumbs = results.Where(r => r.QcFile is not null)
            .OrderBy(r => flaggedIds.Contains(r.SubjectId) ? 0 : 1)
            .Select(r => new QcThumbnail(r.SubjectId, Path.GetRelativePath(groupDir, Path.Combine(ResultStore.SubjectDirectory(m.OutputDirectory, r.SubjectLabel), r.QcFile!)).Replace('\\', '/')))
            .ToList();
        var thumbById = thumbs.ToDictionary(t => t.SubjectId, t => t.PngPath, StringComparer.Ordinal);
        var flagged = flaggedRows.Select(q => new FlaggedSubject(q.SubjectId, q.Reasons, m.ExcludeFlagged, thumbById.GetValueOrDefault(q.SubjectId))).ToList();
        var runInfo = new List<KeyValuePair<string, string>>
        {
            new("cohort", m.Name),
            new("run", state.RunId),
            new("pipeline", $"{state.PipelineVersion} (hash {state.PipelineHash})"),
            new("generated by", state.Generator),
            new("subjects", $"{state.Subjects.Count} ({results.Count} measured, {failed.Count} failed)"),
            new("date", DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)),
        };
        if (stats is not null)
        {
            var report = new ReportInput
            {
                Stats = stats,
                Title = $"BatchCohort: {m.Name}",
                Failed = failed,
                Flagged = flagged,
                Thumbnails = thumbs,
                RunInfo = runInfo,
                TotalSubjects = state.Subjects.Count,
                Methods = RunMethods.Build(m, state, table),
            };
            // streamed into the file (a 10,000-subject report is megabytes), which appears complete or not at all
            AtomicFile.Write(reportPath, stream =>
            {
                using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                HtmlReport.Render(report, groupDir, w);
            });
            text = stats.ToText();
        }
        else
        {
            // the previous run's statistics must not stay beside the new measures as if they were this run's
            RemoveStaleStatistics(m.OutputDirectory);
            notes.Add("no group statistics: " + skip);
            AtomicFile.WriteAllText(reportPath, FallbackReport(m, runInfo, failed, thumbs, skip!, notes));
            text = "cohort table (no group statistics: " + skip + ")\n" + measures.ToText(50);
        }
        outputs.Add("group/report.html");
        return new GroupSummary(text, outputs, notes, table, stats);
    }

    /// <summary>The statistics files of the group stage (relative to group/).</summary>
    public static readonly string[] StatisticsFiles = { "stats.parquet", "stats.csv", "stats.json", "descriptives.csv" };

    /// <summary>Deletes a previous run's statistics (a run whose group stage produced none must not leave them beside its new measures).</summary>
    public static void RemoveStaleStatistics(string outputDirectory)
    {
        foreach (var f in StatisticsFiles)
        {
            var p = Path.Combine(outputDirectory, "group", f);
            if (File.Exists(p)) File.Delete(p);
        }
    }

    /// <summary>A large cohort's group stage gives its garbage back between steps: the records read to build the
    /// measures table, then the tables and statistics written, are megabytes that the collector would otherwise keep
    /// committed while the next step allocates as much again, and the native memory the JIT used to compile the step's
    /// code stays with the C library unless trimmed (the peak of the silo that hosts a run's coordinator,
    /// docs/cluster.md "Figures"). Below <see cref="PhaseBoundarySubjects"/> subjects a collection costs more than it returns.</summary>
    private static void PhaseBoundary(int subjects)
    {
        if (subjects >= PhaseBoundarySubjects) NativeHeap.GiveBack();
    }

    private const int PhaseBoundarySubjects = 1000;

    /// <summary>What the group stage keeps of a measured subject once its values are in the measures table.</summary>
    private sealed record MeasuredSubject(string SubjectId, string SubjectLabel, string? QcFile);

    /// <summary>The per-subject measures as a table: participant_id (BIDS form, "sub-&lt;label&gt;"), then measures (first-seen order), then text labels.</summary>
    public static Table MeasuresTable(IReadOnlyList<ResultRecord> results)
    {
        var b = new MeasuresTableBuilder();
        foreach (var r in results) b.Add(r);
        return b.Build();
    }

    /// <summary>Builds <see cref="MeasuresTable"/> a record at a time, without holding the records: a column per name in
    /// the order names are first seen (participant_id, each record's measures, then its labels; a label named like a
    /// measure of the same record replaces it), missing values null; a measure that is null for every subject is still numeric.</summary>
    public sealed class MeasuresTableBuilder
    {
        private readonly List<string> _order = new();
        private readonly Dictionary<string, List<object?>> _columns = new(StringComparer.Ordinal);
        private readonly HashSet<string> _measureNames = new(StringComparer.Ordinal);
        private int _rows;

        public void Add(ResultRecord r)
        {
            Put(IdColumn, ParticipantId(r.SubjectLabel));
            foreach (var kv in r.Measures) { Put(kv.Key, kv.Value); _measureNames.Add(kv.Key); }
            foreach (var kv in r.Labels) Put(kv.Key, kv.Value);
            _rows++;
        }

        private void Put(string name, object? value)
        {
            if (!_columns.TryGetValue(name, out var values))
            {
                _columns[name] = values = new List<object?>();
                _order.Add(name);
            }
            while (values.Count < _rows) values.Add(null);
            if (values.Count == _rows) values.Add(value);
            else values[_rows] = value;
        }

        public Table Build()
        {
            if (_rows == 0) return new Table(new StringColumn(IdColumn, Array.Empty<string?>()));
            var columns = new List<Column>(_order.Count);
            foreach (var name in _order)
            {
                var values = _columns[name];
                while (values.Count < _rows) values.Add(null);
                var c = Table.ColumnFromObjects(name, values);
                columns.Add(name != IdColumn && c.Type == ColumnType.String && c.NullCount == c.Length && _measureNames.Contains(name)
                    ? Column.CreateEmpty(name, ColumnType.Double, c.Length) : c);
            }
            return new Table(columns);
        }
    }

    /// <summary>A demographics table: ids normalised like subject ids, columns renamed to their canonical names (only
    /// those when onlyMapped); a column whose name clashes with one already in the table, in any case (OASIS's nWBV
    /// against our nwbv), gets the suffix "_demographics".</summary>
    public static Table ReadDemographics(CohortManifest m, DemographicsSpec spec, ISet<string> taken, List<string> notes)
    {
        var t = TableFile.Read(spec.Path);
        if (!t.HasColumn(spec.IdColumn))
            throw new CohortManifestException(m.ManifestPath, "demographics.id", $"column '{spec.IdColumn}' is not in {spec.Path} (columns: {string.Join(", ", t.ColumnNames)})");
        foreach (var (canon, col) in spec.Columns)
            if (!t.HasColumn(col))
                throw new CohortManifestException(m.ManifestPath, $"demographics.columns.{canon}", $"column '{col}' is not in {spec.Path} (columns: {string.Join(", ", t.ColumnNames)})");
        var rename = spec.Columns.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);
        var raw = t[spec.IdColumn];
        var ids = new string?[t.RowCount];
        for (int i = 0; i < ids.Length; i++) ids[i] = raw.IsNull(i) ? null : ParticipantId(SubjectDiscovery.Label(NormaliseId(raw.Format(i), spec.IdPattern)));
        var dup = ids.Where(x => x is not null).GroupBy(x => x).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new InvalidDataException($"{spec.Path}: subject '{dup.Key}' has more than one row (column {spec.IdColumn})");
        var cols = new List<Column> { new StringColumn(IdColumn, ids) };
        foreach (var c in t.Columns)
        {
            if (c.Name == spec.IdColumn) continue;
            bool mapped = rename.TryGetValue(c.Name, out var canon);
            if (spec.OnlyMapped && !mapped) continue;
            var name = mapped ? canon! : c.Name;
            if (name == IdColumn) continue;
            if (taken.Contains(name))
            {
                notes.Add($"{Path.GetFileName(spec.Path)} column '{name}' has the name of a column already in the table: kept as '{name}_demographics'");
                name += "_demographics";
            }
            cols.Add(name == c.Name ? c : c.Rename(name));
        }
        return new Table(cols);
    }

    /// <summary>
    /// The BIDS participant_id of a subject label: "sub-" + label (BIDS participants.tsv form), the key of the cohort
    /// table. Demographics ids are brought to the same form whether they are written "0001" or "sub-0001" (or matched by
    /// the manifest's idPattern), so either kind of table joins.
    /// </summary>
    public static string ParticipantId(string label) => "sub-" + label;

    /// <summary>An id as the demographics table writes it → the subject id: the (?&lt;id&gt;…) group of idPattern, else without "sub-".</summary>
    public static string NormaliseId(string raw, Regex? pattern)
    {
        raw = raw.Trim();
        if (pattern is not null)
        {
            var mt = pattern.Match(raw);
            return mt.Success ? mt.Groups["id"].Value : raw;
        }
        return raw.StartsWith("sub-", StringComparison.Ordinal) ? raw[4..] : raw;
    }

    private static string? CanonicalOf(CohortManifest m, string column) =>
        m.DemographicTables.SelectMany(d => d.Columns).FirstOrDefault(kv => kv.Value == column).Key;

    private static string? WhyNoStats(CohortManifest m, Table table, string? groupColumn)
    {
        if (m.Analyses.Count == 0) return "the manifest names no analyses";
        if (table.RowCount == 0) return "no subject was measured";
        if (groupColumn is null) return m.Groups is null ? "the manifest has no \"groups\" section" : "the group column is missing";
        var present = table.GetStrings(groupColumn).Where(x => x is not null).Distinct().ToList();
        var levels = m.Groups!.Levels.Select(l => l.Name).ToList();
        var missing = levels.Where(l => !present.Contains(l)).ToList();
        if (missing.Count > 0) return $"no measured subject in group level(s) {string.Join(", ", missing)}";
        return null;
    }

    private static GroupStatisticsSpec BuildSpec(CohortManifest m, Table table, string groupColumn, List<string> notes)
    {
        var measures = new List<string>();
        var covariates = new List<string>();
        var pairs = new List<CorrelationPair>();
        var normalise = new List<NormaliseSpec>();
        var analysisOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var derivedNames = m.Analyses.Where(a => a.Type == AnalysisType.Normalise).Select(a => a.DerivedName!).ToHashSet(StringComparer.Ordinal);
        bool Numeric(string name, string role)
        {
            if (derivedNames.Contains(name)) return true;
            var c = table.Find(name);
            if (c is null) { notes.Add($"{role} '{name}' is not in the table; skipped"); return false; }
            if (!c.IsNumeric) { notes.Add($"{role} '{name}' is not numeric ({c.Type}); skipped"); return false; }
            return true;
        }
        foreach (var a in m.Analyses)
        {
            switch (a.Type)
            {
                case AnalysisType.CompareGroups:
                    foreach (var x in a.Measures)
                        if (!measures.Contains(x) && !derivedNames.Contains(x) && Numeric(x, "measure")) { measures.Add(x); analysisOf[x] = a.Label; }
                    foreach (var c in a.Covariates)
                    {
                        if (covariates.Contains(c)) continue;
                        if (table.Find(c) is null) { notes.Add($"covariate '{c}' is not in the table; skipped"); continue; }
                        covariates.Add(c);
                    }
                    break;
                case AnalysisType.Correlate:
                    // exactly the pairs the manifest names: each measure of this analysis with its "with" column
                    if (!Numeric(a.With!, "correlation variable")) break;
                    foreach (var x in a.Measures)
                        if (Numeric(x, "measure") && !pairs.Any(p => p.Measure == x && p.With == a.With))
                            pairs.Add(new CorrelationPair(x, a.With!, a.Label));
                    break;
                case AnalysisType.Normalise:
                    if (Numeric(a.Measures[0], "measure") && Numeric(a.With!, "head-size column"))
                    {
                        normalise.Add(new NormaliseSpec(a.Measures[0], a.With!, a.Method == "residual" ? NormalisationMethod.Residual : NormalisationMethod.Ratio, a.Name));
                        analysisOf[a.DerivedName!] = a.Label;
                    }
                    break;
            }
        }
        return new GroupStatisticsSpec
        {
            GroupColumn = groupColumn,
            Levels = new[] { m.Groups!.Reference }.Concat(m.Groups.Levels.Select(l => l.Name).Where(l => l != m.Groups.Reference)).ToList(),
            Measures = measures,
            Covariates = covariates,
            Correlations = pairs,
            Fdr = m.Fdr,
            AnalysisOf = analysisOf,
            Normalise = normalise,
            SubjectColumn = IdColumn,
        };
    }

    private static void Write(Table t, string path) => AtomicFile.WriteVia(path, tmp => TableFile.Write(t, tmp));

    private static string Count(int n, string what) => $"{n} {what}{(n == 1 ? "" : "s")}";

    private static string List(IReadOnlyList<string> items, int max = 12) =>
        string.Join(", ", items.Take(max)) + (items.Count > max ? $", … ({items.Count - max} more)" : "");

    /// <summary>A report for a run whose statistics could not be computed (e.g. every subject failed): the failures still have to be seen.</summary>
    private static string FallbackReport(CohortManifest m, IReadOnlyList<KeyValuePair<string, string>> info, IReadOnlyList<FailedSubject> failed,
        IReadOnlyList<QcThumbnail> thumbs, string why, IReadOnlyList<string> notes)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var sb = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>BatchCohort: ");
        sb.Append(E(m.Name)).Append("</title><style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}.fail{color:#c53030}</style></head><body>");
        sb.Append("<h1>BatchCohort: ").Append(E(m.Name)).Append("</h1><dl>");
        foreach (var (k, v) in info) sb.Append("<dt>").Append(E(k)).Append("</dt><dd>").Append(E(v)).Append("</dd>");
        sb.Append("</dl><section id=\"summary\"><h2>No group statistics</h2><p>").Append(E(why)).Append("</p>");
        foreach (var n in notes) sb.Append("<p>").Append(E(n)).Append("</p>");
        sb.Append("</section><section id=\"failed\"><h2>Failed subjects (").Append(failed.Count).Append(")</h2><table><tr><th>subject</th><th>reason</th></tr>");
        foreach (var f in failed) sb.Append("<tr><td>").Append(E(f.SubjectId)).Append("</td><td class=\"fail\">").Append(E(f.Reason)).Append("</td></tr>");
        sb.Append("</table></section><section id=\"qc\"><h2>QC</h2>");
        foreach (var t in thumbs) sb.Append("<a href=\"").Append(E(t.PngPath)).Append("\"><img src=\"").Append(E(t.PngPath)).Append("\" alt=\"").Append(E(t.SubjectId)).Append("\" width=\"160\"></a>");
        sb.Append("</section></body></html>\n");
        return sb.ToString();
    }
}
