using System.CommandLine;
using BatchCohort.Host;

namespace BatchCohort.Cli;

/// <summary>The options every cluster verb shares.</summary>
internal static class ClusterOptions
{
    public static Option<string?> Connection(string description) => new("--cluster") { Description = description };

    public static Option<string?> RequiredConnection() =>
        new("--cluster") { Description = "The cluster: redis://host:port or an Azure Storage connection string (UseDevelopmentStorage=true for Azurite).", Required = true };

    public static Option<string?> ClusterId() => new("--cluster-id") { Description = "The cluster's id (default: batchcohort); silos and clients of one cluster use the same." };

    public static ClusterNames Names(string? id) => string.IsNullOrWhiteSpace(id) ? new ClusterNames() : new ClusterNames(id, id);
}
