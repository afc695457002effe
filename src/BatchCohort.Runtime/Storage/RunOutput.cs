using System.Text.Json;
using BatchCohort.Runtime.Caching;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Imaging.Formats;

namespace BatchCohort.Runtime.Storage;

/// <summary>
/// The coordinator's side of a run's output when it is a blob prefix (<see cref="RunState.OutputLocation"/>): the run
/// state is written in the local staging folder (<see cref="RunState.OutputDirectory"/>) by the grain storage and
/// pushed to the output's runs/state.json after every persisted change, each push If-Match the ETag of the previous
/// one (If-None-Match when there was none; the first condition is the ETag the client read when it planned the run),
/// so a second coordinator on the same output loses the race and stops. Files the coordinator writes in staging
/// (group outputs, run records) are uploaded. For a local output every step is a no-op.
/// </summary>
public sealed class RunOutput
{
    private readonly SemaphoreSlim _push = new(1, 1);
    private string? _stateETag;
    private bool _etagKnown;

    public RunOutput(RunState s)
    {
        Output = StorageLocation.IsRemote(s.OutputLocation) ? StorageLocation.Open(s.OutputLocation!) : null;
        // a blob output: this process's own staging folder (BATCHCOHORT_STAGING), not the client's (another machine's)
        Staging = Output is null ? s.OutputDirectory : StagingFolder.For(s.OutputLocation!);
    }

    /// <summary>The blob output, or null for a local output.</summary>
    public IStorageLocation? Output { get; }
    /// <summary>The folder on this machine where the coordinator writes what it then uploads: the output itself when it
    /// is local; for a blob output this process's staging folder for it.</summary>
    public string Staging { get; }

    /// <summary>Copies small objects of a blob output (the settings document) into staging; a missing one is skipped.</summary>
    public async Task PullAsync(IEnumerable<string> relativePaths, CancellationToken ct = default)
    {
        if (Output is null) return;
        foreach (var rel in relativePaths)
        {
            if (await Output.ReadAsync(rel, 16L << 20, ct) is not { } got) continue;
            var local = Path.Combine(Staging, rel.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            AtomicFile.WriteAllBytes(local, got.Content);
        }
    }

    /// <summary>The text of the manifest copy the client put in the blob output (<see cref="RunState.ManifestCopy"/>).</summary>
    public static async Task<string> ReadManifestCopyAsync(string location, CancellationToken ct = default)
    {
        var (folder, name) = StorageLocation.OpenObject(location);
        var got = await folder.ReadAsync(name, 16L << 20, ct) ?? throw new StorageException($"{StorageLocation.Redact(location)}: not found (the run's copy of its manifest)");
        return System.Text.Encoding.UTF8.GetString(got.Content);
    }
    public bool Remote => Output is not null;

    /// <summary>True once a push lost the ETag race: another coordinator writes this output.</summary>
    public bool Lost { get; private set; }

    /// <summary>The ETag of runs/state.json as the client read it when it planned the run (kept if one is known already).</summary>
    public void Seed(string? etag)
    {
        if (_etagKnown) return;
        _stateETag = etag;
        _etagKnown = true;
    }

    /// <summary>Pushes the run state to the output under the ETag condition. A <see cref="StorageConflictException"/>
    /// (one line) when another coordinator changed it; other <see cref="StorageException"/>s are for the caller to retry.</summary>
    public async Task PushStateAsync(RunState state, CancellationToken ct = default)
    {
        if (Output is null || Lost) return;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(state, Json.Options);
        await _push.WaitAsync(ct);
        try
        {
            if (!_etagKnown)
            {
                // reactivated without the client's ETag (another silo took the run over): the output's current state is the base
                var info = await Output.GetInfoAsync(CohortStorage.StateName, ct);
                _stateETag = info?.ETag;
                _etagKnown = true;
            }
            try { _stateETag = await Output.ReplaceAsync(CohortStorage.StateName, bytes, _stateETag, ct); }
            catch (StorageConflictException e)
            {
                Lost = true;
                throw new StorageConflictException($"{Output.DisplayOf(CohortStorage.StateName)}: another run changed this output's run state (two coordinators on one output?); stopped", e);
            }
        }
        finally { _push.Release(); }
    }

    /// <summary>Uploads files the coordinator wrote in staging (paths relative to the output).</summary>
    public Task UploadAsync(IEnumerable<string> relativePaths, CancellationToken ct = default) =>
        Output is null ? Task.CompletedTask : CohortStorage.UploadAsync(Output, Staging, relativePaths, ct);

    /// <summary>Deletes objects of the output (a previous run's statistics that this run did not replace).</summary>
    public async Task DeleteAsync(IEnumerable<string> relativePaths, CancellationToken ct = default)
    {
        if (Output is null) return;
        foreach (var rel in relativePaths) await Output.DeleteAsync(rel, ct);
    }

    /// <summary>For each subject (label, cache key), whether its valid result is in the output (record with that key, every file there).</summary>
    public async Task<Dictionary<string, bool>> ValidResultsAsync(IEnumerable<(string Label, string? Key)> subjects, CancellationToken ct = default)
    {
        var found = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var (label, key) in subjects)
            found[label] = Output is null
                ? ResultStore.TryLoadValid(ResultStore.ResultPath(Staging, label), key) is not null
                : await ResultStore.TryLoadValidAsync(Output.Child($"sub-{label}/anat"), label, key, ct) is not null;
        return found;
    }
}
