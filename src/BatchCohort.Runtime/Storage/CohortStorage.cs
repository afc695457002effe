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
/// A cohort run's storage, for the client that plans a run and for the coordinator's group stage: remote
/// demographics and atlas files streamed into scratch (the manifest gets local copies; the atlas keeps its content
/// identity, so the cache keys do not change), the output location (a folder, or a blob prefix with a local staging
/// folder), the output's run state and atlas record pulled into staging (the output's copies are the truth: a run
/// killed on one machine is resumed from another), and the upload of what was written in staging. For a local
/// output every output step is a no-op: the folder is the output.
/// </summary>
public sealed class CohortStorage : IAsyncDisposable
{
    public const string StateName = "runs/state.json";

    /// <summary>Small files under runs/ kept in staging and in the output alike.</summary>
    private static readonly string[] PulledFiles = { StateName, "runs/" + Cohorts.AtlasPin.FileName };

    private readonly List<ScratchFolder> _scratch = new();

    private CohortStorage(CohortManifest manifest, IStorageLocation output)
    {
        Manifest = manifest;
        Output = output;
    }

    /// <summary>The manifest with local copies of remote demographics and atlas.</summary>
    public CohortManifest Manifest { get; private set; }
    public IStorageLocation Output { get; }
    public bool RemoteOutput => Output.LocalPath is null;

    /// <summary>The ETag of the output's runs/state.json when it was pulled (null: none there, or a local output).</summary>
    public string? StateETag { get; private set; }

    /// <summary>
    /// Opens a run's storage. Remote demographics and atlas files are fetched into scratch (<paramref name="fetchAtlas"/>:
    /// the group stage needs no atlas); with <paramref name="pullState"/>, a blob output's run state and atlas record
    /// replace those in staging (which proves the output reachable and the credentials good before anything is measured).
    /// A missing or unreadable location throws a <see cref="CohortManifestException"/> naming the manifest, the field
    /// and the location (never a key or a SAS).
    /// </summary>
    public static async Task<CohortStorage> OpenAsync(CohortManifest m, CancellationToken ct, bool pullState = true, bool fetchAtlas = true)
    {
        IStorageLocation output;
        try { output = StorageLocation.Open(m.OutputLocation); }
        catch (StorageException e) { throw new CohortManifestException(m.ManifestPath, "output", e.Message); }
        var s = new CohortStorage(m, output);
        try
        {
            var demo = new List<DemographicsSpec>();
            for (int i = 0; i < m.DemographicTables.Count; i++)
            {
                var d = m.DemographicTables[i];
                var field = m.DemographicTables.Count == 1 ? "demographics" : $"demographics[{i}]";
                demo.Add(StorageLocation.IsRemote(d.Path) ? d with { Path = await s.FetchFileAsync(d.Path, "demographics", m, field, ct) } : d);
            }
            var a = m.Atlas;
            AtlasSpec atlas = a;
            if (fetchAtlas && a.Kind == "path" && StorageLocation.IsRemote(a.Path)) atlas = a with { Path = await s.FetchFolderAsync(a.Path!, m, ct) };
            else if (fetchAtlas && a.Kind == "files")
            {
                async Task<string?> F(string? p, string field) => StorageLocation.IsRemote(p) ? await s.FetchFileAsync(p!, "atlas", m, field, ct) : p;
                atlas = a with { Head = await F(a.Head, "atlas.head"), Brain = await F(a.Brain, "atlas.brain"), Icv = await F(a.Icv, "atlas.icv"), Tissues = await F(a.Tissues, "atlas.tissues") };
            }
            s.Manifest = m.With(demographics: demo, atlas: atlas);
            if (s.RemoteOutput && pullState)
            {
                try
                {
                    foreach (var rel in PulledFiles)
                    {
                        var local = Path.Combine(m.OutputDirectory, rel.Replace('/', Path.DirectorySeparatorChar));
                        Directory.CreateDirectory(Path.GetDirectoryName(local)!);
                        var remote = await output.ReadAsync(rel, 256L << 20, ct);
                        if (remote is null) { if (File.Exists(local)) File.Delete(local); }
                        else AtomicFile.WriteAllBytes(local, remote.Content);
                        if (rel == StateName) s.StateETag = remote?.ETag;
                    }
                }
                catch (StorageException e) { throw new CohortManifestException(m.ManifestPath, "output", e.Message); }
            }
        }
        catch
        {
            await s.DisposeAsync();
            throw;
        }
        return s;
    }

    /// <summary>The input of a subject as a command carries it: a file URI, or the blob URI as written.</summary>
    public static Uri InputUri(string input) => StorageLocation.IsRemote(input) ? new Uri(input) : FileUri.From(input);

    /// <summary>A subject's folder (sub-&lt;label&gt;/anat/) as a job carries it: a file URI, or the blob location (without any SAS).</summary>
    public static string SubjectOutput(string outputDirectory, string? outputLocation, string label)
    {
        if (!StorageLocation.IsRemote(outputLocation))
            return FileUri.From(ResultStore.SubjectDirectory(outputDirectory, label) + Path.DirectorySeparatorChar).AbsoluteUri;
        return StorageLocation.Redact(outputLocation!).TrimEnd('/') + $"/sub-{label}/anat/";
    }

    public IStorageLocation SubjectFolder(string label) => Output.Child($"sub-{label}/anat");

    /// <summary>A subject's valid result (right cache key, every file there) through the seam, or null.</summary>
    public ResultRecord? LoadResult(string label, string? key) =>
        ResultStore.TryLoadValidAsync(SubjectFolder(label), label, key).GetAwaiter().GetResult();

    /// <summary>Uploads files written in the staging folder (paths relative to the output). No-op for a local output.</summary>
    public Task UploadAsync(IEnumerable<string> relativePaths, CancellationToken ct) => UploadAsync(Output, Manifest.OutputDirectory, relativePaths, ct);

    /// <summary>Uploads files of <paramref name="staging"/> to <paramref name="output"/> (paths relative to both); no-op for a local output.</summary>
    public static async Task UploadAsync(IStorageLocation output, string staging, IEnumerable<string> relativePaths, CancellationToken ct)
    {
        if (output.LocalPath is not null) return;
        foreach (var rel in relativePaths)
        {
            var local = Path.Combine(staging, rel.Replace('/', Path.DirectorySeparatorChar));
            if (File.Exists(local)) await output.UploadFileAsync(rel.Replace('\\', '/'), local, ct);
        }
    }

    private async Task<string> FetchFileAsync(string spec, string tag, CohortManifest m, string field, CancellationToken ct)
    {
        var shown = StorageLocation.Redact(spec);
        try
        {
            var (folder, name) = StorageLocation.OpenObject(spec);
            var dir = ScratchSpace.Shared.CreateFolder(tag);
            _scratch.Add(dir);
            var local = Path.Combine(dir.Path, name);
            if (await folder.GetInfoAsync(name, ct) is null) throw new StorageException($"{shown}: not found");
            await folder.DownloadAsync(name, local, ScratchSpace.Shared.MaxInputBytes, ct);
            return local;
        }
        catch (StorageException e) { throw new CohortManifestException(m.ManifestPath, field, e.Message); }
    }

    private async Task<string> FetchFolderAsync(string spec, CohortManifest m, CancellationToken ct)
    {
        try
        {
            var folder = StorageLocation.Open(spec);
            var items = await folder.ListAsync("", ct);
            if (items.Count == 0) throw new StorageException($"{StorageLocation.Redact(spec)}: no atlas there (the prefix holds no blob)");
            var dir = ScratchSpace.Shared.CreateFolder("atlas");
            _scratch.Add(dir);
            foreach (var it in items) await folder.DownloadAsync(it.Path, Path.Combine(dir.Path, it.Path.Replace('/', Path.DirectorySeparatorChar)), ScratchSpace.Shared.MaxInputBytes, ct);
            return dir.Path;
        }
        catch (StorageException e) { throw new CohortManifestException(m.ManifestPath, "atlas", e.Message); }
    }

    public ValueTask DisposeAsync()
    {
        foreach (var d in _scratch) d.Dispose();
        _scratch.Clear();
        return ValueTask.CompletedTask;
    }
}
