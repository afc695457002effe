using System.Collections.Concurrent;
using BatchCohort.Runtime.Cohorts;

namespace BatchCohort.Runtime.Storage;

/// <summary>
/// A blob atlas on this machine: the run's settings document names the atlas by its blob locations (never a local copy
/// of another process), and every process that measures — the embedded silo, each silo of a cluster — fetches it once
/// into its own scratch (BATCHCOHORT_SCRATCH), through its own credentials (AZURE_STORAGE_CONNECTION_STRING, or a SAS
/// this process remembered from the manifest). The copy is checked against the identity the run was planned with (its
/// files' content hashes, part of every cache key): an atlas changed in storage since then fails the subject instead of
/// measuring it with other files than its cache key says. Kept for the life of the process, one copy per identity.
/// </summary>
public static class AtlasCache
{
    private static readonly ConcurrentDictionary<string, AtlasSpec> Local = new(StringComparer.Ordinal);
    private static readonly SemaphoreSlim Fetching = new(1, 1);

    /// <summary>True when any file of the atlas is a blob location.</summary>
    public static bool IsRemote(AtlasSpec a) => new[] { a.Path, a.Head, a.Brain, a.Icv, a.Tissues }.Any(StorageLocation.IsRemote);

    /// <summary>The atlas with each blob location's SAS kept in this process only (<see cref="StorageLocation.Remember"/>): what a settings document may carry.</summary>
    public static AtlasSpec WithoutSecrets(AtlasSpec a)
    {
        static string? R(string? p) => p is not null && StorageLocation.IsRemote(p) ? StorageLocation.Remember(p) : p;
        return a with { Path = R(a.Path), Head = R(a.Head), Brain = R(a.Brain), Icv = R(a.Icv), Tissues = R(a.Tissues) };
    }

    /// <summary>A local copy this process already has (the client fetched it to plan the run): used instead of fetching again while its files exist.</summary>
    public static void Seed(string identity, AtlasSpec local)
    {
        if (!IsRemote(local)) Local[identity] = local;
    }

    /// <summary>The atlas as local files: <paramref name="atlas"/> itself when no part of it is remote, else this process's
    /// copy (fetched now the first time). A <see cref="StorageException"/> (one line naming the blob) when it cannot be
    /// read or its content is not <paramref name="identity"/>.</summary>
    public static async Task<AtlasSpec> LocalAsync(AtlasSpec atlas, string identity, ScratchSpace? scratch = null, CancellationToken ct = default)
    {
        if (!IsRemote(atlas)) return atlas;
        if (Local.TryGetValue(identity, out var known) && Exists(known)) return known;
        await Fetching.WaitAsync(ct);
        try
        {
            if (Local.TryGetValue(identity, out known) && Exists(known)) return known;
            scratch ??= ScratchSpace.Shared;
            var dir = scratch.CreateFolder("atlas");   // kept for the process's life (removed with its scratch)
            try
            {
                AtlasSpec local;
                if (atlas.Kind == "path")
                {
                    var folder = StorageLocation.Open(atlas.Path!);
                    var items = await folder.ListAsync("", ct);
                    if (items.Count == 0) throw new StorageException($"{StorageLocation.Redact(atlas.Path!)}: no atlas there (the prefix holds no blob)");
                    foreach (var it in items)
                        await folder.DownloadAsync(it.Path, System.IO.Path.Combine(dir.Path, it.Path.Replace('/', System.IO.Path.DirectorySeparatorChar)), scratch.MaxInputBytes, ct);
                    local = atlas with { Path = dir.Path };
                }
                else
                {
                    int n = 0;
                    async Task<string?> F(string? p)
                    {
                        if (p is null || !StorageLocation.IsRemote(p)) return p;
                        var (folder, name) = StorageLocation.OpenObject(p);
                        if (await folder.GetInfoAsync(name, ct) is null) throw new StorageException($"{StorageLocation.Redact(p)}: not found");
                        var target = System.IO.Path.Combine(dir.Path, (n++).ToString(System.Globalization.CultureInfo.InvariantCulture), name);
                        await folder.DownloadAsync(name, target, scratch.MaxInputBytes, ct);
                        return target;
                    }
                    local = atlas with { Head = await F(atlas.Head), Brain = await F(atlas.Brain), Icv = await F(atlas.Icv), Tissues = await F(atlas.Tissues) };
                }
                var got = AtlasIdentity.Of(local);
                if (got != identity)
                    throw new StorageException($"atlas {Describe(atlas)}: its content changed since the run was planned (identity {identity}, now {got}); run the cohort again to measure with the new atlas");
                Local[identity] = local;
                return local;
            }
            catch
            {
                dir.Dispose();
                throw;
            }
        }
        finally { Fetching.Release(); }
    }

    private static string Describe(AtlasSpec a) =>
        string.Join(", ", new[] { a.Path, a.Head, a.Brain, a.Icv, a.Tissues }.Where(p => p is not null).Select(p => StorageLocation.Redact(p!)));

    private static bool Exists(AtlasSpec a) =>
        new[] { a.Head, a.Brain, a.Icv, a.Tissues }.All(p => p is null || File.Exists(p)) && (a.Path is null || Directory.Exists(a.Path) || File.Exists(a.Path));
}
