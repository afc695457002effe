using System.Security.Cryptography;
using System.Text;
using BatchCohort.Runtime.Caching;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Imaging.Formats;

namespace BatchCohort.Runtime.Storage;

/// <summary>
/// The local folder that stands for a blob output while a run is open (BATCHCOHORT_STAGING, default
/// &lt;temp&gt;/batchcohort-staging/&lt;hash of the location&gt;): the run state, settings document and group outputs are
/// written there first and uploaded. For a local output it is the output folder itself.
/// </summary>
public static class StagingFolder
{
    public const string Variable = "BATCHCOHORT_STAGING";

    public static string For(string outputLocation)
    {
        if (!StorageLocation.IsRemote(outputLocation)) return outputLocation;
        var shown = StorageLocation.Redact(outputLocation).TrimEnd('/');
        var parent = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } v ? v : Path.Combine(Path.GetTempPath(), "batchcohort-staging");
        return Path.Combine(Path.GetFullPath(parent), Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(shown)))[..16]);
    }
}

/// <summary>
/// A cohort run's storage, for the runner: remote demographics and atlas files streamed into scratch (the
/// manifest gets local copies; the atlas keeps its content identity, so the cache keys do not change), the
/// output location (a folder, or a blob prefix with a local staging folder), the run state kept in step with the
/// output's runs/state.json under ETag conditions, and the upload of what the run wrote. For a local output every
/// step is a no-op: the folder is the output.
/// </summary>
public sealed class CohortStorage : IAsyncDisposable
{
    public const string StateName = "runs/state.json";

    private readonly List<ScratchFolder> _scratch = new();
    private string? _stateETag;
    private readonly SemaphoreSlim _push = new(1, 1);
    private int _dirty;
    private Task _pusher = Task.CompletedTask;

    private CohortStorage(CohortManifest manifest, IStorageLocation output)
    {
        Manifest = manifest;
        Output = output;
    }

    /// <summary>The manifest with local copies of remote demographics and atlas.</summary>
    public CohortManifest Manifest { get; private set; }
    public IStorageLocation Output { get; }
    public bool RemoteOutput => Output.LocalPath is null;

    public static async Task<CohortStorage> OpenAsync(CohortManifest m, CancellationToken ct)
    {
        var output = StorageLocation.Open(m.OutputLocation);
        var s = new CohortStorage(m, output);
        var demo = new List<DemographicsSpec>();
        foreach (var d in m.DemographicTables)
            demo.Add(StorageLocation.IsRemote(d.Path) ? d with { Path = await s.FetchFileAsync(d.Path, "demographics", ct) } : d);
        var a = m.Atlas;
        AtlasSpec atlas = a;
        if (a.Kind == "path" && StorageLocation.IsRemote(a.Path)) atlas = a with { Path = await s.FetchFolderAsync(a.Path!, ct) };
        else if (a.Kind == "files")
        {
            async Task<string?> F(string? p) => StorageLocation.IsRemote(p) ? await s.FetchFileAsync(p!, "atlas", ct) : p;
            atlas = a with { Head = await F(a.Head), Brain = await F(a.Brain), Icv = await F(a.Icv), Tissues = await F(a.Tissues) };
        }
        s.Manifest = m.With(demographics: demo, atlas: atlas);
        if (s.RemoteOutput)
        {
            // the output's run state is the truth: a staging folder left by another machine or an older run must not decide
            var local = RunState.StatePath(m.OutputDirectory);
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            var remote = await output.ReadAsync(StateName, 256L << 20, ct);
            if (remote is null) { if (File.Exists(local)) File.Delete(local); }
            else { AtomicFile.WriteAllBytes(local, remote.Content); s._stateETag = remote.ETag; }
        }
        return s;
    }

    /// <summary>The input of a subject as a command carries it: a file URI, or the blob URI as written.</summary>
    public static Uri InputUri(string input) => StorageLocation.IsRemote(input) ? new Uri(input) : FileUri.From(input);

    /// <summary>The subject's folder (sub-&lt;label&gt;/anat/) as a command carries it.</summary>
    public Uri SubjectOutputUri(string label)
    {
        if (!RemoteOutput) return FileUri.From(ResultStore.SubjectDirectory(Output.LocalPath!, label) + Path.DirectorySeparatorChar);
        var rel = $"sub-{label}/anat";
        var spec = Manifest.OutputLocation;
        int q = spec.IndexOf('?');
        var u = q < 0 ? spec.TrimEnd('/') + "/" + rel + "/" : spec[..q].TrimEnd('/') + "/" + rel + "/" + spec[q..];
        return new Uri(u);
    }

    public IStorageLocation SubjectFolder(string label) => Output.Child($"sub-{label}/anat");

    /// <summary>A subject's valid result (right cache key, every file there) through the seam, or null.</summary>
    public ResultRecord? LoadResult(string label, string? key) =>
        ResultStore.TryLoadValidAsync(SubjectFolder(label), label, key).GetAwaiter().GetResult();

    /// <summary>Uploads files the runner wrote in the staging folder (paths relative to the output). No-op for a local output.</summary>
    public async Task UploadAsync(IEnumerable<string> relativePaths, CancellationToken ct)
    {
        if (!RemoteOutput) return;
        foreach (var rel in relativePaths)
        {
            var local = Path.Combine(Manifest.OutputDirectory, rel.Replace('/', Path.DirectorySeparatorChar));
            if (File.Exists(local)) await Output.UploadFileAsync(rel.Replace('\\', '/'), local, ct);
        }
    }

    /// <summary>Pushes the local run state to the output's runs/state.json, on condition that it is still the one this
    /// run last read or wrote (If-Match; If-None-Match when there was none). Another coordinator writing the same
    /// output makes this fail with a <see cref="StorageConflictException"/>.</summary>
    public async Task PushStateAsync(CancellationToken ct = default)
    {
        if (!RemoteOutput) return;
        await _push.WaitAsync(ct);
        try
        {
            Interlocked.Exchange(ref _dirty, 0);
            var bytes = await File.ReadAllBytesAsync(RunState.StatePath(Manifest.OutputDirectory), ct);
            try { _stateETag = await Output.ReplaceAsync(StateName, bytes, _stateETag, ct); }
            catch (StorageConflictException e)
            {
                throw new StorageConflictException($"{Output.DisplayOf(StateName)}: another run changed this output's run state (two coordinators on one output?); stopped", e);
            }
        }
        finally { _push.Release(); }
    }

    /// <summary>Waits for pending state uploads and throws the first failure (a lost ETag race, an unreachable output).</summary>
    public async Task FlushStateAsync(CancellationToken ct = default)
    {
        Task t;
        lock (this) t = _pusher;
        await t;
        await PushStateAsync(ct);
    }

    private async Task<string> FetchFileAsync(string spec, string tag, CancellationToken ct)
    {
        var (folder, name) = StorageLocation.OpenObject(spec);
        var dir = ScratchSpace.Shared.CreateFolder(tag);
        _scratch.Add(dir);
        var local = Path.Combine(dir.Path, name);
        if (await folder.GetInfoAsync(name, ct) is null) throw new FileNotFoundException($"{StorageLocation.Redact(spec)}: not found", StorageLocation.Redact(spec));
        await folder.DownloadAsync(name, local, ScratchSpace.Shared.MaxInputBytes, ct);
        return local;
    }

    private async Task<string> FetchFolderAsync(string spec, CancellationToken ct)
    {
        var folder = StorageLocation.Open(spec);
        var items = await folder.ListAsync("", ct);
        if (items.Count == 0) throw new FileNotFoundException($"{StorageLocation.Redact(spec)}: no atlas there (the prefix holds no blob)");
        var dir = ScratchSpace.Shared.CreateFolder("atlas");
        _scratch.Add(dir);
        foreach (var it in items) await folder.DownloadAsync(it.Path, Path.Combine(dir.Path, it.Path.Replace('/', Path.DirectorySeparatorChar)), ScratchSpace.Shared.MaxInputBytes, ct);
        return dir.Path;
    }

    public ValueTask DisposeAsync()
    {
        foreach (var d in _scratch) d.Dispose();
        _scratch.Clear();
        return ValueTask.CompletedTask;
    }
}
