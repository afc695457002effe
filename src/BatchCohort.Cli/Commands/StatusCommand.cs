using System.CommandLine;
using System.Globalization;
using BatchCohort.Contracts;
using BatchCohort.Host;

namespace BatchCohort.Cli.Commands;

/// <summary><c>batchcohort status [RUN] --cluster CONNECTION</c>: the runs a cluster knows, or one run's subjects with their state and failures.</summary>
public sealed class StatusCommand : ICliCommand
{
    public Command Build()
    {
        var run = new Argument<string?>("RUN") { Description = "A run id (default: list the runs).", Arity = ArgumentArity.ZeroOrOne };
        var cluster = ClusterOptions.Connection("The cluster: redis://host:port or an Azure Storage connection string (UseDevelopmentStorage=true for Azurite).");
        var clusterId = ClusterOptions.ClusterId();
        var outputOpt = new Option<string?>("--output")
        {
            Description = "Read the runs from an output instead of a cluster: a folder, az://container/prefix or a blob URL (its runs/state.json and run records, whichever machine ran them).",
        };
        var cmd = new Command("status", "Show a cluster's or an output's runs, or one run's per-subject state and failures.") { run, cluster, clusterId, outputOpt };
        cmd.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(outputOpt) is { } location)
            {
                if (parse.GetValue(cluster) is not null) throw new ArgumentException("give --cluster or --output, not both");
                return await FromOutputAsync(location, parse.GetValue(run), output, ct);
            }
            if (parse.GetValue(cluster) is null && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(ClusterOptions.EnvironmentVariable)))
                throw new ArgumentException($"status needs --cluster CONNECTION (a cluster's runs; or {ClusterOptions.EnvironmentVariable}) or --output LOCATION (an output's runs)");
            var c = ClusterOptions.Resolve(parse.GetValue(cluster), required: true)!;
            await using var client = await ClusterClient.ConnectAsync(c, ClusterOptions.Names(parse.GetValue(clusterId)), ct);
            if (parse.GetValue(run) is not { } id)
            {
                var runs = await ClusterClient.ReadAsync(() => client.Grains.GetGrain<IRunDirectoryGrain>(0).List(), ct);
                if (runs.Length == 0) output.WriteLine($"no runs in {c.Display}");
                foreach (var r in runs.OrderBy(r => r.StartedAt))
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.RunId}  {r.Status,-11}  {r.Cohort}  {r.OutputDirectory}"));
                return ExitCodes.Ok;
            }
            var view = await ClusterClient.ReadAsync(() => client.Grains.GetGrain<ICohortRunGrain>(id).GetView(), ct)
                ?? throw new ArgumentException($"no run {id} in {c.Display}");
            Print(view, output);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>The runs of an output, read from the output itself (a blob output's state, not a staging folder).</summary>
    private static async Task<int> FromOutputAsync(string location, string? runId, TextWriter output, CancellationToken ct)
    {
        if (location.Trim().Length == 0) throw new ArgumentException("--output: empty location");
        var shown = BatchCohort.Runtime.Storage.StorageLocation.Redact(location);
        if (!BatchCohort.Runtime.Storage.StorageLocation.IsRemote(location)) location = Path.GetFullPath(location);
        var runs = await BatchCohort.Runtime.Storage.OutputRuns.ReadAsync(location, ct);
        if (runId is null)
        {
            if (runs.Count == 0) output.WriteLine($"no runs in {shown}");
            foreach (var r in runs.OrderBy(r => r.StartedAt))
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.RunId}  {r.Status,-11}  {r.Cohort}  {shown}"));
            return ExitCodes.Ok;
        }
        var state = runs.FirstOrDefault(r => r.RunId == runId) ?? throw new ArgumentException($"no run {runId} in {shown}");
        Print(BatchCohort.Runtime.Coordination.RunPlanner.View(state) with { OutputDirectory = shown }, output);
        return ExitCodes.Ok;
    }

    internal static void Print(RunView v, TextWriter output)
    {
        var by = v.Subjects.GroupBy(s => s.Status).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"run {v.RunId}: {v.Status} · cohort {v.Cohort} · {v.Subjects.Length} subjects: " +
                         string.Join(", ", new[] { "done", "running", "pending", "failed" }.Select(k => $"{by.GetValueOrDefault(k)} {k}")));
        output.WriteLine($"outputs: {v.OutputDirectory} · pipeline {v.PipelineVersion} · started {v.StartedAt:u}{(v.FinishedAt is { } f ? $" · finished {f:u}" : "")}" +
                         (v.Coordinator is { } c ? $" · coordinator on {c}" : ""));
        foreach (var s in v.Subjects)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {s.Id,-12} {s.Status,-8} attempts {s.Attempts}  {(s.Seconds is { } sec ? $"{sec,7:0.0} s" : "        ")}  {s.Silo ?? ""}{(s.Reason is { } why && s.Status == "failed" ? "  " + why : "")}"));
        foreach (var n in v.Notes) output.WriteLine("note: " + n);
    }
}
