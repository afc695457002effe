using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using BatchCohort.Analysis.Reports;
using BatchCohort.Analysis.Tables;
using BatchCohort.Neuro.Pipeline;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Runtime.Distribution;

namespace BatchCohort.Runtime;

/// <summary>
/// The report's generated methods paragraph for one run, from the run's own record: pipeline version and hashes,
/// the atlas by name and by the SHA-256 of its files (the identity that is part of every cache key), registration,
/// segmentation and measures from the pipeline settings actually used (<see cref="PipelineMethods"/>), software
/// versions; the statistics sentence is added by the report from what the group stage ran. Plus the settings table.
/// </summary>
public static class RunMethods
{
    private static readonly JsonSerializerOptions Lenient = new() { PropertyNameCaseInsensitive = true };

    public static MethodsText Build(CohortManifest m, RunState state, Table measures)
    {
        ArgumentNullException.ThrowIfNull(m);
        ArgumentNullException.ThrowIfNull(state);
        RunSettings? rs = null;
        var settingsPath = Path.Combine(m.OutputDirectory, "runs", $"settings-{state.SettingsHash[..Math.Min(16, state.SettingsHash.Length)]}.json");
        try { if (File.Exists(settingsPath)) rs = RunSettings.Load(settingsPath); }
        catch (Exception e) when (e is IOException or Measurement.SubjectMeasurementException) { rs = null; }

        var json = rs?.PipelineSettings ?? new JsonObject();
        PipelineSettings ps;
        string settingsNote = "";
        try { ps = json.Count == 0 ? new PipelineSettings() : json.Deserialize<PipelineSettings>(Lenient) ?? new PipelineSettings(); }
        catch (JsonException) { ps = new PipelineSettings(); settingsNote = " (the manifest's settings could not be read as pipeline settings; defaults are described)"; }

        string atlasName = rs?.Atlas.Kind switch
        {
            "colin27" => "Colin27 (ch2: ch2.nii.gz head and ch2bet.nii.gz brain, Debian mricron-data)",
            "phantom" => "BatchCohort's built-in synthetic head phantom",
            "files" => $"user-supplied ({Path.GetFileName(rs.Atlas.Head)})",
            "path" => $"user-supplied (folder {rs.Atlas.Path})",
            null => "(unknown: the run's settings record is missing)",
            var k => k,
        };
        string identity = rs?.AtlasIdentity ?? "unknown";
        double? atlasIcv = AtlasIcvFromMeasures(measures);

        var processing =
            $"Images were processed with {state.Generator} (pipeline version {state.PipelineVersion}, pipeline hash {state.PipelineHash}, " +
            $"settings hash {Short(state.SettingsHash)}) on {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.OSDescription.Trim()}, {RuntimeInformation.ProcessArchitecture})" +
            $"{Libraries()}. The atlas was {atlasName}; its identity, the SHA-256 of its files' contents as recorded in every result's cache key, is {identity}{settingsNote}.";
        var paragraphs = new List<string> { processing };
        paragraphs.AddRange(PipelineMethods.Describe(ps, atlasName, atlasIcv));

        var settings = new List<KeyValuePair<string, string>>
        {
            new("atlas", rs?.Atlas.Kind ?? "unknown"),
            new("atlas.identity", identity),
            new("pipeline.version", state.PipelineVersion),
            new("pipeline.hash", state.PipelineHash),
            new("settings.hash", state.SettingsHash),
        };
        Flatten("settings", json, settings);
        var r = ps.Registration;
        settings.Add(new("registration.metric", r.Metric.ToString()));
        settings.Add(new("registration.pyramidSpacingsMm", string.Join(", ", r.PyramidSpacingsMm.Select(F))));
        settings.Add(new("registration.histogramBins", F(r.HistogramBins)));
        settings.Add(new("registration.maxSamplesPerLevel", F(r.MaxSamplesPerLevel)));
        settings.Add(new("registration.maxIterationsPerLevel", F(r.MaxIterationsPerLevel)));
        settings.Add(new("registration.seed", F(r.Seed)));
        settings.Add(new("tissue.biasRounds", F(ps.Tissue.BiasRounds)));
        settings.Add(new("tissue.biasDegree", F(ps.Tissue.BiasDegree)));
        settings.Add(new("brain.openingMm", F(ps.Brain.OpeningMm)));
        settings.Add(new("brain.envelopeClosingMm", F(ps.Brain.EnvelopeClosingMm)));
        settings.Add(new("icvSearchMm", F(ps.IcvSearchMm)));
        settings.Add(new("icvShellMm", F(ps.IcvShellMm)));
        if (m.Groups is not null)
            settings.Add(new("groups", $"{m.Groups.Column}: " + string.Join(", ", m.Groups.Levels.Select(l => $"{l.Name} = {l.Condition}")) + $" (reference {m.Groups.Reference})"));
        return new MethodsText(paragraphs, settings);
    }

    /// <summary>eTIV × ASF is the atlas ICV, the same for every subject (OASIS): read it from the run's own numbers.</summary>
    private static double? AtlasIcvFromMeasures(Table t)
    {
        if (t.Find("etiv_ml") is not { IsNumeric: true } || t.Find("asf") is not { IsNumeric: true }) return null;
        var e = t.GetDoubles("etiv_ml");
        var a = t.GetDoubles("asf");
        for (int i = 0; i < t.RowCount; i++)
            if (double.IsFinite(e[i]) && double.IsFinite(a[i]) && a[i] > 0) return e[i] * a[i];
        return null;
    }

    private static void Flatten(string prefix, JsonNode? node, List<KeyValuePair<string, string>> into)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o.OrderBy(kv => kv.Key, StringComparer.Ordinal)) Flatten($"{prefix}.{k}", v, into);
                break;
            case null:
                break;
            default:
                into.Add(new(prefix, node.ToJsonString()));
                break;
        }
    }

    /// <summary>Versions of the libraries that shape results or outputs, when loaded in this process.</summary>
    private static string Libraries()
    {
        var wanted = new (string Assembly, string Name)[]
        {
            ("Orleans.Core", "Microsoft Orleans"), ("Orleans.Runtime", "Microsoft Orleans runtime"),
            ("Parquet", "Parquet.Net"), ("MathNet.Numerics", "Math.NET Numerics"),
        };
        var loaded = AppDomain.CurrentDomain.GetAssemblies();
        var found = new List<string>();
        foreach (var (asm, name) in wanted)
        {
            var a = loaded.FirstOrDefault(x => x.GetName().Name == asm);
            if (a is null) continue;
            var v = a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? a.GetName().Version?.ToString() ?? "?";
            int plus = v.IndexOf('+', StringComparison.Ordinal);
            found.Add($"{name} {(plus > 0 ? v[..plus] : v)}");
        }
        return found.Count == 0 ? "" : "; libraries: " + string.Join(", ", found);
    }

    private static string Short(string h) => h.Length > 16 ? h[..16] : h;
    private static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
