using System.Text.Json;
using System.Text.Json.Serialization;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Neuro.Synthesis;

namespace BatchCohort.Runtime.Cohorts;

/// <summary>
/// A manifest's <c>synthesize</c> section (the demo cohort): on first run, the synthetic cohort is written by the
/// Imaging synthesis library (<see cref="CohortSynthesizer"/>: Colin27 when installed, else the built-in phantom)
/// into a temporary folder, which is renamed into place when complete — an interrupted synthesis leaves nothing
/// half-made behind, and later runs find the cohort and skip this step.
/// </summary>
public static class SyntheticCohort
{
    public const string CompleteMarker = ".batchcohort-synth-complete";

    public static bool IsComplete(SynthesisSpec spec) => File.Exists(Path.Combine(spec.OutputDirectory, CompleteMarker));

    private static readonly JsonSerializerOptions OptionsJson = new()
    {
        PropertyNameCaseInsensitive = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The generator's options from the manifest (keys as SynthOptions' properties in camelCase: subjects,
    /// seed, format, ageMin, ageMax, patientEffect, …) plus "atlas" (auto, colin27, phantom).</summary>
    public static (SynthOptions Options, string Atlas) ReadOptions(CohortManifest m)
    {
        var o = (System.Text.Json.Nodes.JsonObject)m.Synthesize!.Options.DeepClone();
        string atlas = "auto";
        if (o["atlas"] is { } a)
        {
            atlas = (string?)a ?? "auto";
            o.Remove("atlas");
            if (atlas is not ("auto" or "colin27" or "phantom"))
                throw new CohortManifestException(m.ManifestPath, "synthesize.atlas", $"'{atlas}' is not one of auto, colin27, phantom");
        }
        SynthOptions opts;
        try { opts = o.Deserialize<SynthOptions>(OptionsJson) ?? new SynthOptions(); }
        catch (JsonException e) { throw new CohortManifestException(m.ManifestPath, "synthesize", e.Message.Split(" Path:")[0]); }
        try { opts.Validate(); }
        catch (ArgumentException e) { throw new CohortManifestException(m.ManifestPath, "synthesize", e.Message); }
        return (opts, atlas);
    }

    public static async Task EnsureAsync(CohortManifest m, IRunObserver observer, CancellationToken ct)
    {
        var spec = m.Synthesize!;
        if (IsComplete(spec)) return;
        var dir = spec.OutputDirectory;
        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
            throw new IOException($"{dir} exists but is not a complete synthetic cohort (no {CompleteMarker}); delete it to have it made again");
        var (options, atlasSpec) = ReadOptions(m);
        var parent = Path.GetDirectoryName(dir)!;
        Directory.CreateDirectory(parent);
        foreach (var stale in Directory.EnumerateDirectories(parent, Path.GetFileName(dir) + ".tmp-*"))
            try { Directory.Delete(stale, true); } catch (IOException) { }
        var atlas = AtlasLibrary.Resolve(atlasSpec, out bool fellBack);
        observer.Phase($"first run: writing the synthetic cohort ({options.Subjects} subjects, seed {options.Seed}, from {atlas.Name}) to {dir}");
        // say where the disk space goes: the demo's data and outputs live beside its manifest (about 385 MB for 24 subjects)
        observer.Note($"the synthetic cohort and its outputs take about {options.Subjects * 16} MB under {Path.GetDirectoryName(m.ManifestPath)} ({dir} and {m.OutputDirectory}; delete both to reclaim the space)");
        if (fellBack)
            observer.Note($"Colin27 is not installed ({Path.Combine(AtlasLibrary.Colin27Dir, "ch2.nii.gz")}; Debian package mricron-data): the synthetic cohort is made from the built-in head phantom");
        var tmp = dir + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        await Task.Run(() => CohortSynthesizer.Run(atlas, options, tmp), ct);
        ct.ThrowIfCancellationRequested();
        File.WriteAllText(Path.Combine(tmp, CompleteMarker), $"made by batchcohort run from {m.ManifestPath}\n");
        if (Directory.Exists(dir)) Directory.Delete(dir);   // empty (checked above)
        Directory.Move(tmp, dir);
    }
}
