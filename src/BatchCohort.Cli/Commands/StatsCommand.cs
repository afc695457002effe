using System.CommandLine;
using BatchCohort.Analysis.Reports;
using BatchCohort.Analysis.Statistics;
using BatchCohort.Analysis.Tables;

namespace BatchCohort.Cli.Commands;

/// <summary>
/// <c>batchcohort stats TABLE --group COL --measure M [--measure M2] [--covariate age] [--level control --level patient]
/// [--correlate age] [--normalise brain_ml:icv_ml:ratio] [--out DIR]</c>: the group stage on any CSV/TSV/Parquet table,
/// so analysts re-run statistics without re-measuring. Writes stats.parquet, stats.csv, stats.json, descriptives.csv
/// and report.html into DIR (default: the table's folder) and prints the group table.
/// </summary>
public sealed class StatsCommand : ICliCommand
{
    public Command Build()
    {
        var table = new Argument<string>("table") { Description = "A table (.csv, .tsv or .parquet): measures joined with demographics, one row per subject." };
        var group = new Option<string>("--group") { Description = "Column defining the groups (e.g. group, or a CDR-derived column).", Required = true };
        var measure = new Option<string[]>("--measure") { Description = "Numeric column to test (repeat for several).", Required = true, AllowMultipleArgumentsPerToken = false };
        var covariate = new Option<string[]>("--covariate") { Description = "Covariate for the adjusted model measure ~ group + covariates (repeatable; text columns are dummy coded)." };
        var level = new Option<string[]>("--level") { Description = "Group level to compare, reference first (repeatable; default: all levels, alphabetical)." };
        var correlate = new Option<string[]>("--correlate") { Description = "Numeric column to correlate each measure with (repeatable). Default: age, when the table has it." };
        var normalise = new Option<string[]>("--normalise") { Description = "Derived measure MEASURE:ICV:ratio|residual (e.g. brain_ml:eTIV:ratio), tested as well (repeatable)." };
        var subject = new Option<string?>("--subject") { Description = "Subject id column (for the report)." };
        var outDir = new Option<string?>("--out") { Description = "Output folder (default: the table's folder)." };
        var noReport = new Option<bool>("--no-report") { Description = "Do not write report.html." };
        var cmd = new Command("stats", "Run the group statistics on an existing table (CSV/TSV/Parquet): descriptives, Student/Welch t-tests, Cohen's d/Hedges' g, OLS with covariates, correlations, BH-FDR; writes stats.parquet/csv/json and report.html.");
        cmd.Arguments.Add(table);
        foreach (var o in new Option[] { group, measure, covariate, level, correlate, normalise, subject, outDir, noReport }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var path = parse.GetValue(table)!;
                var t = TableFile.Read(path);
                var measures = parse.GetValue(measure) ?? Array.Empty<string>();
                var corr = parse.GetValue(correlate);
                if (corr is null || corr.Length == 0)
                    corr = t.Columns.Where(c => c.IsNumeric && c.Name.Equals("age", StringComparison.OrdinalIgnoreCase) && !measures.Contains(c.Name)).Select(c => c.Name).Take(1).ToArray();
                var spec = new GroupStatisticsSpec
                {
                    GroupColumn = parse.GetValue(group)!,
                    Levels = parse.GetValue(level) is { Length: > 0 } lv ? lv : null,
                    Measures = measures,
                    Covariates = parse.GetValue(covariate) ?? Array.Empty<string>(),
                    CorrelateWith = corr,
                    Normalise = (parse.GetValue(normalise) ?? Array.Empty<string>()).Select(ParseNormalise).ToArray(),
                    SubjectColumn = parse.GetValue(subject),
                };
                var result = GroupStatistics.Run(t, spec);
                var dir = parse.GetValue(outDir) ?? Path.GetDirectoryName(Path.GetFullPath(path))!;
                result.Write(dir);
                if (!parse.GetValue(noReport))
                    HtmlReport.Write(new ReportInput
                    {
                        Stats = result,
                        Title = $"Group statistics: {Path.GetFileName(path)}",
                        RunInfo = new[] { KeyValuePair.Create("table", Path.GetFileName(path)), KeyValuePair.Create("rows", t.RowCount.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
                    }, Path.Combine(dir, "report.html"));
                output.Write(result.ToText());
                output.WriteLine($"wrote {Path.Combine(dir, "stats.parquet")}, stats.csv, stats.json, descriptives.csv{(parse.GetValue(noReport) ? "" : ", report.html")}");
                foreach (var w in result.Warnings) error.WriteLine($"batchcohort: warning: {w}");
                return ExitCodes.Ok;
            }
            catch (Exception e)
            {
                return CliApp.Report(e, error);
            }
        });
        return cmd;
    }

    private static NormaliseSpec ParseNormalise(string s)
    {
        var p = s.Split(':');
        if (p.Length is < 2 or > 4)
            throw new ArgumentException($"--normalise '{s}': expected MEASURE:ICV[:ratio|residual[:NAME]]");
        var method = p.Length >= 3 ? p[2].ToLowerInvariant() switch
        {
            "ratio" => NormalisationMethod.Ratio,
            "residual" or "resid" or "adjusted" => NormalisationMethod.Residual,
            _ => throw new ArgumentException($"--normalise '{s}': method must be ratio or residual"),
        } : NormalisationMethod.Ratio;
        return new NormaliseSpec(p[0], p[1], method, p.Length == 4 ? p[3] : null);
    }
}
