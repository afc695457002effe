using BatchCohort.Host;
using BatchCohort.Runtime.Measurement;
using BatchCohort.Runtime.Scheduling;

namespace BatchCohort.Cli.Commands;

/// <summary>
/// The one place schedules meet the run engine: a scheduled run is an ordinary embedded run
/// (<see cref="CohortRunner"/>), behind <see cref="IRunLauncher"/>. Switching engines changes this class only.
/// </summary>
public static class Engine
{
    public static EmbeddedRunLauncher Launcher(Func<ISubjectMeasurer>? measurer = null) => new(async (request, ct) =>
    {
        var m = (measurer ?? MeasurerFactory.Create)();
        var outcome = await new CohortRunner(m).RunAsync(request.Cohort, new CohortRunOptions { Jobs = request.Jobs }, ct);
        return new LaunchedRun(outcome.State, outcome.Interrupted, outcome.OutputDirectory);
    });
}
