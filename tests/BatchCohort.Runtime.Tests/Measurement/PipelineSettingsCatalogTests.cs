using System.Reflection;
using System.Text.Json.Nodes;
using BatchCohort.Neuro.Pipeline;
using BatchCohort.Imaging.Registration;
using BatchCohort.Runtime.Measurement;
using BatchCohort.TestSupport;

namespace BatchCohort.Runtime.Tests.Measurement;

/// <summary>The pipeline's settings have one definition: the code's defaults, the manifest's keys and docs/settings.md agree.</summary>
public class PipelineSettingsCatalogTests
{
    /// <summary>Properties that are not manifest settings: <see cref="AffineRegistrationSettings.ForcedStart"/> is one
    /// subject's start pose (a QC test hook), meaningless for a whole cohort, so the manifest cannot set it.</summary>
    private static readonly HashSet<string> CodeOnly = ["ForcedStart"];

    private static IEnumerable<string> SettingPaths(Type t, string prefix)
    {
        foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is not null && p.Name != "EqualityContract" && !CodeOnly.Contains(p.Name)))
        {
            var key = prefix + char.ToLowerInvariant(p.Name[0]) + p.Name[1..];
            bool section = p.PropertyType.IsClass && p.PropertyType != typeof(string) && !p.PropertyType.IsArray;
            if (section) foreach (var k in SettingPaths(p.PropertyType, key + ".")) yield return k;
            else yield return key;
        }
    }

    [Fact]
    public void Every_setting_of_the_pipeline_is_defined_once_with_the_codes_default()
    {
        var defined = PipelineSettingsCatalog.Catalog.Definitions.Select(d => d.Key).Order(StringComparer.Ordinal).ToList();
        var inCode = SettingPaths(typeof(PipelineSettings), "").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(inCode, defined);
        var defaults = new PipelineSettings();
        foreach (var d in PipelineSettingsCatalog.Catalog.Definitions)
            Assert.Equal(SettingDefinition.Format(PipelineSettingsCatalog.Get(defaults, d.Key)), d.DefaultText);
    }

    [Fact]
    public void Registration_settings_are_settable_from_the_manifest_and_change_the_settings_hash()
    {
        var json = JsonNode.Parse("""
            { "icvSearchMm": 4, "tissue": { "biasRounds": 2 },
              "registration": { "metric": "NormalizedCrossCorrelation", "pyramidSpacingsMm": [4, 2], "maxScale": 1.6 } }
            """)!.AsObject();
        Assert.Empty(PipelineSettingsCatalog.Validate(json));
        var s = PipelineSettingsCatalog.Parse(json);
        Assert.Equal(4, s.IcvSearchMm);
        Assert.Equal(2, s.Tissue.BiasRounds);
        Assert.Equal(RegistrationMetric.NormalizedCrossCorrelation, s.Registration.Metric);
        Assert.Equal(new[] { 4.0, 2.0 }, s.Registration.PyramidSpacingsMm);
        Assert.Equal(1.6, s.Registration.MaxScale);
        Assert.Equal(AffineRegistrationSettings.Default.HistogramBins, s.Registration.HistogramBins);
        Assert.NotEqual(new PipelineSettings().Hash(), s.Hash());
        Assert.Equal(new PipelineSettings().Hash(), PipelineSettingsCatalog.Parse(new JsonObject()).Hash());
    }

    [Fact]
    public void Wrong_types_ranges_and_names_are_each_one_problem_naming_the_key()
    {
        var json = JsonNode.Parse("""
            { "icvSearchMm": "6", "tissue": { "biasRounds": 2.5, "biasDgree": 3 }, "brain": 4,
              "registration": { "metric": "mattes", "minScale": 0.9, "maxScale": 1.0, "seed": -1 } }
            """)!.AsObject();
        var problems = PipelineSettingsCatalog.Validate(json).Select(p => $"{p.Key}: {p.Problem}").ToList();
        Assert.Contains("icvSearchMm: must be a number", problems);
        Assert.Contains("tissue.biasRounds: must be a whole number (got 2.5)", problems);
        Assert.Contains(problems, p => p.StartsWith("tissue.biasDgree: unknown setting; did you mean 'tissue.biasDegree'?", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("brain: must be an object", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("registration.metric: 'mattes' is not one of MattesMutualInformation, NormalizedCrossCorrelation", StringComparison.Ordinal));
        Assert.Contains("registration.seed: -1 is outside the allowed range 0 – 2147483647", problems);
        Assert.Equal(6, problems.Count);
        Assert.Throws<ArgumentException>(() => PipelineSettingsCatalog.Parse(json));
        // consistent only together: checked once each value is valid
        var cross = PipelineSettingsCatalog.Validate(JsonNode.Parse("""{ "registration": { "minScale": 1.0, "maxScale": 1.0 } }""")!.AsObject());
        Assert.Equal("registration", Assert.Single(cross).Key);
    }

    [Fact]
    public void Docs_settings_md_holds_the_table_generated_from_the_definition()
    {
        var expected = PipelineSettingsCatalog.Catalog.ToMarkdownTable();
        var docPath = Repo.Path_("docs", "settings.md");
        var doc = File.Exists(docPath) ? File.ReadAllText(docPath).ReplaceLineEndings("\n") : "";
        if (!doc.Contains(expected, StringComparison.Ordinal))
        {
            var path = Path.Combine(Path.GetTempPath(), "batchcohort-settings-table.md");
            File.WriteAllText(path, expected);
            Assert.Fail($"docs/settings.md does not hold the current settings table; the table generated from PipelineSettingsCatalog is in {path}");
        }
    }
}
