using BatchCohort.Neuro.Atlases;
using BatchCohort.Runtime.Caching;

namespace BatchCohort.Runtime.Cohorts;

/// <summary>
/// What the atlas is, for the cache key: "default" resolves to Colin27 when its files are installed (Debian
/// mricron-data, or the folder named by BATCHCOHORT_COLIN27_DIR), otherwise to the built-in phantom; atlas files are
/// identified by their content, not their path. Installing mricron-data therefore re-measures a cohort that used
/// the phantom — as it should.
/// </summary>
public static class AtlasIdentity
{
    public static string Colin27Dir => AtlasLibrary.Colin27Dir;
    public static string Colin27Head => System.IO.Path.Combine(Colin27Dir, "ch2.nii.gz");
    public static string Colin27Brain => System.IO.Path.Combine(Colin27Dir, "ch2bet.nii.gz");

    public static bool Colin27Installed => AtlasLibrary.Colin27Available();

    /// <summary>The atlas actually used: default → colin27 or phantom.</summary>
    public static AtlasSpec Resolve(AtlasSpec spec) => spec.Kind switch
    {
        "default" => Colin27Installed ? new AtlasSpec("colin27") : new AtlasSpec("phantom"),
        "colin27" when !Colin27Installed => throw new FileNotFoundException(
            $"the Colin27 atlas is not installed ({Colin27Head}; Debian package mricron-data, or set {AtlasLibrary.Colin27DirVariable}): install it or use \"atlas\": \"default\"", Colin27Head),
        _ => spec,
    };

    public static string Of(AtlasSpec resolved) => resolved.Kind switch
    {
        "colin27" => $"colin27:{Short(Colin27Head)}:{Short(Colin27Brain)}",
        "phantom" => "phantom",
        "files" => "files:" + string.Join(":", new[] { resolved.Head, resolved.Brain, resolved.Icv, resolved.Tissues }.Select(p => p is null ? "-" : Short(p))),
        "path" => "path:" + FolderHash(Directory.Exists(resolved.Path) ? resolved.Path! : System.IO.Path.GetDirectoryName(resolved.Path!)!),
        _ => throw new ArgumentException($"unknown atlas kind '{resolved.Kind}'"),
    };

    private static string Short(string path) =>
        File.Exists(path) ? ContentHash.OfFile(path)[..16] : throw new FileNotFoundException($"atlas file not found: {path}", path);

    private static string FolderHash(string dir) =>
        ContentHash.OfText(string.Join("\n", Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => System.IO.Path.GetRelativePath(dir, f)).Order(StringComparer.Ordinal)
            .Select(r => r + "=" + ContentHash.OfFile(System.IO.Path.Combine(dir, r)))))[..16];
}
