using System.CommandLine;
using BatchCohort.Contracts;
using BatchCohort.Host;

namespace BatchCohort.Cli.Commands;

/// <summary><c>batchcohort cancel RUN --cluster CONNECTION</c>: stops dispatching a run and stops its work in flight.</summary>
public sealed class CancelCommand : ICliCommand
{
    public Command Build()
    {
        var run = new Argument<string>("RUN") { Description = "The run id (see `batchcohort status`)." };
        var cluster = ClusterOptions.RequiredConnection();
        var clusterId = ClusterOptions.ClusterId();
        var cmd = new Command("cancel", "Cancel a run on a cluster (results already written are kept; submitting the cohort again resumes it).") { run, cluster, clusterId };
        cmd.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var c = ClusterOptions.Resolve(parse.GetValue(cluster), required: true)!;
            await using var client = await ClusterClient.ConnectAsync(c, ClusterOptions.Names(parse.GetValue(clusterId)), ct);
            var id = parse.GetValue(run)!;
            var view = await client.Grains.GetGrain<ICohortRunGrain>(id).Cancel() ?? throw new ArgumentException($"no run {id} in {c.Display}");
            output.WriteLine($"run {id}: {view.Status} ({view.Subjects.Count(s => s.Status == "done")} of {view.Subjects.Length} subjects done)");
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
