using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Measurement;

namespace BatchCohort.Cli.Commands;

/// <summary>
/// <c>batchcohort validate COHORT</c>: every check <c>run</c> makes before the first subject (manifest schema, paths,
/// demographics and their join, groups with counts, analysis names, settings, atlas with its identity), in seconds,
/// measuring nothing and writing nothing. Exit 0 when the cohort can run (warnings printed), 2 with one line per
/// problem when it cannot.
/// </summary>
public sealed class ValidateCommand : ICliCommand
{
    public Command Build()
    {
        var cohort = new Argument<string>("COHORT") { Description = "A cohort folder holding cohort.json (e.g. cohorts/demo), or the manifest file." };
        var cmd = new Command("validate", "Check a cohort before running it: manifest, paths, demographics, groups, measure names, settings, atlas. Measures nothing.")
        {
            cohort,
        };
        cmd.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var sw = Stopwatch.StartNew();
            var v = CohortValidator.Validate(parse.GetValue(cohort)!, MeasurerFactory.Create());
            foreach (var line in v.Info) output.WriteLine(line);
            foreach (var w in v.Warnings) error.WriteLine("batchcohort: warning: " + w);
            foreach (var e in v.Errors) error.WriteLine("batchcohort: error: " + e);
            var took = sw.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
            if (!v.Ok)
            {
                error.WriteLine($"batchcohort: {v.Errors.Count} problem{(v.Errors.Count == 1 ? "" : "s")}: the cohort cannot run ({took} s)");
                return ExitCodes.BadInput;
            }
            output.WriteLine($"ok: the cohort can run ({v.Warnings.Count} warning{(v.Warnings.Count == 1 ? "" : "s")}; checked in {took} s)");
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
