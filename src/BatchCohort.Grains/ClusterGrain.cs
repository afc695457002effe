using BatchCohort.Contracts;
using Orleans.Runtime;

namespace BatchCohort.Grains;

public sealed class ClusterAdmissions
{
    /// <summary>Silo address → pipeline version.</summary>
    public Dictionary<string, string> Silos { get; set; } = new();
}

/// <summary>
/// Admission of silos (key 0): a silo whose pipeline version differs from the live silos' is refused (it would
/// measure differently under the same run). Dead silos are forgotten, so a cluster can be upgraded by replacing all.
/// </summary>
[GrainType("cluster")]
public sealed class ClusterGrain([PersistentState("cluster", "runs")] IPersistentState<ClusterAdmissions> state, IClusterMembershipService membership)
    : Grain, IClusterGrain
{
    public Task<string?> PipelineVersion()
    {
        Forget(null);
        return Task.FromResult(state.State.Silos.Values.FirstOrDefault());
    }

    private void Forget(string? except)
    {
        var live = membership.CurrentSnapshot.Members
            .Where(m => m.Value.Status is SiloStatus.Active or SiloStatus.Joining or SiloStatus.Created)
            .Select(m => m.Key.ToParsableString()).ToHashSet(StringComparer.Ordinal);
        var silos = state.State.Silos;
        foreach (var gone in silos.Keys.Where(k => !live.Contains(k) && k != except).ToList()) silos.Remove(gone);
    }

    public async Task<JoinAnswer> Join(string silo, string pipelineVersion)
    {
        Forget(silo);
        var silos = state.State.Silos;
        var other = silos.FirstOrDefault(kv => kv.Key != silo && kv.Value != pipelineVersion);
        if (other.Key is not null)
            return new JoinAnswer(false, other.Value,
                $"this silo runs pipeline version {pipelineVersion}, but the cluster's silos run {other.Value} (silo {other.Key}); refusing to join");
        silos[silo] = pipelineVersion;
        await state.WriteStateAsync();
        return new JoinAnswer(true, pipelineVersion, null);
    }
}
