using System.Globalization;
using System.Text.Json.Nodes;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Runtime.Storage;
using BatchCohort.Imaging.Formats;

namespace BatchCohort.Runtime.Cohorts;

/// <summary>
/// The atlas a cohort uses is fixed by its manifest or by its first run, never by what happens to be installed.
/// <c>"atlas": "default"</c> resolves once — Colin27 when Debian's mricron-data (or <c>BATCHCOHORT_COLIN27_DIR</c>) has
/// it, the built-in phantom otherwise — and the first run records the choice in <c>&lt;output&gt;/runs/atlas.json</c>;
/// every later run uses the recorded atlas. Installing mricron-data later changes nothing; removing it stops the run
/// with a message naming how to install it (or how to switch deliberately). A named atlas ("colin27", "phantom", a
/// path, files) is used as named; a missing one is an error.
/// </summary>
public static class AtlasPin
{
    public const string FileName = "atlas.json";

    public static string RecordPath(CohortManifest m) => Path.Combine(m.OutputDirectory, "runs", FileName);

    public sealed record Resolution(AtlasSpec Atlas, string Identity, string Description, bool IsNew, string? Note);

    private static string InstallHint =>
        $"install Debian's mricron-data (apt-get install mricron-data), or set {AtlasLibrary.Colin27DirVariable} to a folder holding ch2.nii.gz and ch2bet.nii.gz";

    public static Resolution Resolve(CohortManifest m)
    {
        var record = Read(m);
        var spec = m.Atlas;
        if (spec.Kind == "default")
        {
            if (record is not null)
            {
                var pinned = record.Value.Spec;
                string since = $"fixed by the cohort's first run{(record.Value.At is { } at ? " on " + at : "")} ({RecordPath(m)})";
                if (pinned.Kind == "colin27" && !AtlasIdentity.Colin27Installed)
                    throw new CohortManifestException(m.ManifestPath, "atlas",
                        $"this cohort was measured with Colin27 ({since}), which is not installed now (no {AtlasIdentity.Colin27Head}): {InstallHint}; " +
                        "or set \"atlas\": \"phantom\" to measure every subject again with the phantom");
                var identity = AtlasIdentity.Of(pinned);
                if (identity != record.Value.Identity)
                    throw new CohortManifestException(m.ManifestPath, "atlas",
                        $"the {pinned.Kind} atlas files differ from those this cohort was measured with ({since}: identity {record.Value.Identity}, now {identity}); " +
                        $"restore them, or name the atlas in the manifest (\"atlas\": \"{pinned.Kind}\") and delete {RecordPath(m)} to measure every subject again");
                return new Resolution(pinned, identity, $"{Describe(pinned)} [default, {since}; identity {identity}]", false, null);
            }
            var chosen = AtlasIdentity.Colin27Installed ? new AtlasSpec("colin27") : new AtlasSpec("phantom");
            var id = AtlasIdentity.Of(chosen);
            string? note = chosen.Kind == "phantom"
                ? $"atlas \"default\" is the built-in phantom because Colin27 is not installed (no {AtlasIdentity.Colin27Head}); the first run fixes it for this cohort (to use Colin27: {InstallHint}, and set \"atlas\": \"colin27\")"
                : null;
            return new Resolution(chosen, id, $"{Describe(chosen)} [default; fixed for this cohort by its first run; identity {id}]", true, note);
        }
        if (spec.Kind == "colin27" && !AtlasIdentity.Colin27Installed)
            throw new CohortManifestException(m.ManifestPath, "atlas", $"Colin27 is not installed (no {AtlasIdentity.Colin27Head}): {InstallHint}");
        var ident = AtlasIdentity.Of(spec);
        string? changed = record is { } r && r.Identity != ident
            ? $"the atlas changed since this cohort's first run ({r.Identity} → {ident}): every subject is measured again"
            : null;
        return new Resolution(spec, ident, $"{Describe(spec)} [identity {ident}]", record is null || changed is not null, changed);
    }

    private static string Describe(AtlasSpec a) => a.Kind switch
    {
        "colin27" => $"colin27 (Colin27 ch2 + ch2bet, {AtlasIdentity.Colin27Dir})",
        "phantom" => "phantom (the built-in procedural head phantom)",
        "path" => $"{a.Path}",
        "files" => $"files (head {a.Head}, brain {a.Brain}{(a.Icv is null ? "" : ", icv " + a.Icv)}{(a.Tissues is null ? "" : ", tissues " + a.Tissues)})",
        _ => a.Kind,
    };

    private static (AtlasSpec Spec, string Identity, string? At)? Read(CohortManifest m)
    {
        var path = RecordPath(m);
        if (!File.Exists(path))
        {
            // a cohort measured before atlas records existed: its last run's settings document names the atlas
            var state = Coordination.RunState.TryLoad(Coordination.RunState.StatePath(m.OutputDirectory));
            if (state is null || state.SettingsHash.Length < 16) return null;
            var settingsPath = Path.Combine(m.OutputDirectory, "runs", $"settings-{state.SettingsHash[..16]}.json");
            if (!File.Exists(settingsPath)) return null;
            path = settingsPath;
            try
            {
                var a = (JsonNode.Parse(File.ReadAllText(path)) as JsonObject)?["atlas"] as JsonObject ?? throw new InvalidDataException("no atlas");
                var spec0 = new AtlasSpec((string?)a["kind"] ?? throw new InvalidDataException("no kind"), (string?)a["path"], (string?)a["head"], (string?)a["brain"], (string?)a["icv"], (string?)a["tissues"]);
                return (spec0, (string?)a["identity"] ?? throw new InvalidDataException("no identity"), state.StartedAt.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException or InvalidOperationException or FormatException)
            {
                return null;
            }
        }
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException("not a JSON object");
            var spec = new AtlasSpec((string?)o["kind"] ?? throw new InvalidDataException("no kind"), (string?)o["path"], (string?)o["head"], (string?)o["brain"], (string?)o["icv"], (string?)o["tissues"]);
            return (spec, (string?)o["identity"] ?? throw new InvalidDataException("no identity"), (string?)o["fixedAt"]);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: the cohort's atlas record is unreadable ({e.Message}); delete it to fix the atlas again");
        }
    }

    /// <summary>Records the atlas a run uses (the first run of a cohort, or a run after the manifest named another atlas).</summary>
    public static void Write(CohortManifest m, AtlasSpec atlas, string identity)
    {
        var o = new JsonObject
        {
            ["kind"] = atlas.Kind,
            ["path"] = atlas.Path,
            ["head"] = atlas.Head,
            ["brain"] = atlas.Brain,
            ["icv"] = atlas.Icv,
            ["tissues"] = atlas.Tissues,
            ["identity"] = identity,
            ["manifest"] = m.Atlas.Kind,
            ["fixedAt"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(RecordPath(m))!);
        AtomicFile.WriteAllText(RecordPath(m), o.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
