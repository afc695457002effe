using System.CommandLine;
using BatchCohort.Host;

namespace BatchCohort.Cli;

/// <summary>The options every cluster verb shares.</summary>
internal static class ClusterOptions
{
    /// <summary>Where the connection is read from when it must not be on the command line (an Azure account key, a Redis
    /// password: argv is visible to every user of the machine in <c>ps</c>). Never printed.</summary>
    public const string EnvironmentVariable = "BATCHCOHORT_CLUSTER";

    public static Option<string?> Connection(string description) =>
        new("--cluster") { Description = description + $" `--cluster env` reads it from ${EnvironmentVariable}." };

    public static Option<string?> RequiredConnection() =>
        new("--cluster") { Description = $"The cluster: redis://host:port or an Azure Storage connection string (UseDevelopmentStorage=true for Azurite); `env` or absent: ${EnvironmentVariable}." };

    /// <summary>
    /// The cluster connection: <c>--cluster VALUE</c>; <c>--cluster env</c>, or no <c>--cluster</c> on a command that needs a
    /// cluster (<paramref name="required"/>: silo, status, cancel), reads <see cref="EnvironmentVariable"/>. Null when the
    /// option is absent and not required (run, schedule: embedded — an exported variable does not turn every run into a
    /// cluster run). Errors name the variable, never its value.
    /// </summary>
    public static ClusterConnection? Resolve(string? value, bool required)
    {
        bool fromEnvironment = value is null ? required : value.Trim().Equals("env", StringComparison.OrdinalIgnoreCase);
        if (!fromEnvironment) return value is null ? null : ClusterConnection.Parse(value);
        var text = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(text))
            throw new ArgumentException(value is null
                ? $"--cluster is required (redis://host:port or an Azure Storage connection string), or set {EnvironmentVariable}"
                : $"--cluster env: {EnvironmentVariable} is not set");
        try { return ClusterConnection.Parse(text); }
        catch (ArgumentException e) when (e.Message.StartsWith("--cluster", StringComparison.Ordinal))
        {
            throw new ArgumentException(EnvironmentVariable + e.Message["--cluster".Length..]);
        }
    }

    public static Option<string?> ClusterId() => new("--cluster-id") { Description = "The cluster's id (default: batchcohort); silos and clients of one cluster use the same." };

    public static ClusterNames Names(string? id) => string.IsNullOrWhiteSpace(id) ? new ClusterNames() : new ClusterNames(id, id);
}
