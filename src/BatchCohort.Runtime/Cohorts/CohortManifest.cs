using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BatchCohort.Analysis.Statistics;
using BatchCohort.Runtime.Measurement;

namespace BatchCohort.Runtime.Cohorts;

/// <summary>How a cohort's images are found.</summary>
public enum InputType
{
    /// <summary>NIfTI-1 (.nii, .nii.gz, .hdr/.img) or Analyze 7.5 (.hdr/.img, .img.gz) files: one per subject.</summary>
    Files,
    /// <summary>DICOM series: one folder per subject.</summary>
    Dicom,
    /// <summary>A BIDS dataset: sub-&lt;label&gt;/[ses-*/]anat/*_T1w.nii[.gz], ids from participants.tsv.</summary>
    Bids,
}

/// <summary>One subject named explicitly in the manifest.</summary>
public sealed record ExplicitSubject(string Id, string Path);

public sealed record InputSpec(
    InputType Type,
    IReadOnlyList<string> Globs,
    Regex? IdPattern,
    IReadOnlyList<ExplicitSubject> Subjects,
    string? BidsRoot);

public sealed record DemographicsSpec(
    string Path,
    string IdColumn,
    Regex? IdPattern,
    /// <summary>canonical name → column in the file (e.g. age ← Age, sex ← M/F).</summary>
    IReadOnlyDictionary<string, string> Columns,
    /// <summary>Keep only the columns named in <see cref="Columns"/> (e.g. a few columns of a wide truth table).</summary>
    bool OnlyMapped = false);

/// <summary>A level of the grouping variable and the condition on the source column that selects it.</summary>
public sealed record GroupLevel(string Name, string Condition)
{
    private static readonly Regex Cmp = new(@"^\s*(<=|>=|==|!=|<|>)\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*$", RegexOptions.CultureInvariant);

    /// <summary>True when <paramref name="value"/> (a demographics cell, possibly empty) belongs to this level.</summary>
    public bool Matches(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return false;
        var m = Cmp.Match(Condition);
        if (!m.Success) return string.Equals(value.Trim(), Condition.Trim(), StringComparison.OrdinalIgnoreCase);
        if (!double.TryParse(value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || double.IsNaN(x)) return false;
        double t = double.Parse(m.Groups[2].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
        return m.Groups[1].Value switch
        {
            "<" => x < t, "<=" => x <= t, ">" => x > t, ">=" => x >= t, "==" => x == t, "!=" => x != t,
            _ => false,
        };
    }
}

/// <summary>The grouping variable: a column of the demographics (canonical name or file column) and its levels.</summary>
public sealed record GroupSpec(string Name, string Column, IReadOnlyList<GroupLevel> Levels, string Reference)
{
    /// <summary>The level a value belongs to, or null (missing or matching no level: excluded from group tests).</summary>
    public string? LevelOf(string? value)
    {
        foreach (var l in Levels) if (l.Matches(value)) return l.Name;
        return null;
    }
}

/// <summary>
/// The atlas: "default" (Colin27 when installed, else the built-in phantom), "colin27", "phantom", a path (an atlas
/// folder or atlas.json, Kind = "path"), or files (Kind = "files": a T1 head, its brain mask, optionally an
/// intracranial mask and a tissue map with 1 CSF, 2 GM, 3 WM).
/// </summary>
public sealed record AtlasSpec(string Kind, string? Path = null, string? Head = null, string? Brain = null, string? Icv = null, string? Tissues = null)
{
    public static readonly AtlasSpec Default = new("default");
}

public enum AnalysisType
{
    /// <summary>Each measure between the group levels: descriptives, Student and Welch t, Cohen's d / Hedges' g, and OLS measure ~ group + covariates.</summary>
    CompareGroups,
    /// <summary>Each measure against a numeric column (Pearson and Spearman).</summary>
    Correlate,
    /// <summary>Derive measure/by (ratio) or the covariance-adjusted measure (residual, fitted in the reference group) and compare it between groups.</summary>
    Normalise,
}

/// <summary>One entry of the manifest's "analyses". For Normalise: Measures = [measure], With = the head-size column, Method = ratio|residual, Name = the derived column.</summary>
public sealed record AnalysisSpec(AnalysisType Type, IReadOnlyList<string> Measures, IReadOnlyList<string> Covariates, string? With, string? Method, string? Name)
{
    /// <summary>Where it is in the manifest ("analyses[2]"): its name in FDR families and messages.</summary>
    public string Label { get; init; } = "";

    /// <summary>The derived column a normalise analysis adds.</summary>
    public string? DerivedName => Type == AnalysisType.Normalise
        ? new NormaliseSpec(Measures[0], With!, Method == "residual" ? NormalisationMethod.Residual : NormalisationMethod.Ratio, Name).Output
        : null;
}

/// <summary>A synthetic cohort made on first run (the demo): written under <see cref="OutputDirectory"/>.</summary>
public sealed record SynthesisSpec(string OutputDirectory, JsonObject Options);

/// <summary>
/// A cohort manifest (cohorts/&lt;name&gt;/cohort.json; the format is documented in cohorts/README.md).
/// Every path is resolved relative to the manifest's folder and must stay inside the dataset root unless
/// <c>allowOutsideRoot</c> is true.
/// </summary>
public sealed class CohortManifest
{
    public required string ManifestPath { get; init; }
    public required string Name { get; init; }
    public string? Description { get; init; }
    public required string DatasetRoot { get; init; }
    public required bool AllowOutsideRoot { get; init; }
    public required InputSpec Inputs { get; init; }
    /// <summary>The demographics tables, joined in order on the subject id (usually one).</summary>
    public IReadOnlyList<DemographicsSpec> DemographicTables { get; init; } = Array.Empty<DemographicsSpec>();
    /// <summary>The first demographics table, if any.</summary>
    public DemographicsSpec? Demographics => DemographicTables.Count > 0 ? DemographicTables[0] : null;
    public GroupSpec? Groups { get; init; }
    public required AtlasSpec Atlas { get; init; }
    public required JsonObject Settings { get; init; }
    /// <summary>The output folder on this machine: the output itself, or for a blob output (az://…) its local
    /// staging folder, from which the group outputs are uploaded (see <see cref="OutputLocation"/>).</summary>
    public required string OutputDirectory { get; init; }
    /// <summary>Where the outputs live, as the storage layer opens it: a full path, or az://container/prefix, or a blob URL.</summary>
    public string OutputLocation { get => _outputLocation ?? OutputDirectory; init => _outputLocation = value; }
    private string? _outputLocation;
    /// <summary>Where completed runs publish their group outputs (latest/, a dated copy, exports.json); default &lt;output&gt;/exports.</summary>
    public string? ExportLocation { get; init; }
    public required IReadOnlyList<AnalysisSpec> Analyses { get; init; }
    /// <summary>Which tests share a Benjamini–Hochberg correction ("fdr": "per-test" | "per-analysis" | "all").</summary>
    public FdrFamily Fdr { get; init; } = FdrFamily.PerTest;
    public SynthesisSpec? Synthesize { get; init; }
    /// <summary>"exclude": "flagged": subjects flagged by QC (per-subject qc_flags or a cohort robust outlier score) are
    /// left out of the group statistics; the report lists who and why. Default "none": flagged subjects stay in.</summary>
    public bool ExcludeFlagged { get; init; }
    public required PathGuard Guard { get; init; }

    public const string FileName = "cohort.json";

    /// <summary>A copy with other demographics, atlas or output (local copies of blob inputs; command-line overrides).</summary>
    /// <param name="outputDirectory">The staging folder of a blob output when it is not this process's default (the one the run was planned with).</param>
    public CohortManifest With(IReadOnlyList<DemographicsSpec>? demographics = null, AtlasSpec? atlas = null,
        string? outputLocation = null, string? exportLocation = null, string? outputDirectory = null) => new()
    {
        ManifestPath = ManifestPath, Name = Name, Description = Description, DatasetRoot = DatasetRoot,
        AllowOutsideRoot = AllowOutsideRoot, Inputs = Inputs, DemographicTables = demographics ?? DemographicTables,
        Groups = Groups, Atlas = atlas ?? Atlas, Settings = Settings,
        OutputDirectory = outputDirectory ?? (outputLocation is null ? OutputDirectory : Storage.StagingFolder.For(outputLocation)),
        OutputLocation = outputLocation ?? OutputLocation,
        ExportLocation = exportLocation ?? ExportLocation,
        Analyses = Analyses, Fdr = Fdr, Synthesize = Synthesize, ExcludeFlagged = ExcludeFlagged, Guard = Guard,
    };

    /// <summary>Finds the manifest: a .json file, or a folder holding cohort.json.</summary>
    public static string Locate(string cohort)
    {
        if (Directory.Exists(cohort))
        {
            var p = Path.Combine(cohort, FileName);
            if (!File.Exists(p)) throw new FileNotFoundException($"{cohort}: no {FileName} in this folder", p);
            return Path.GetFullPath(p);
        }
        if (File.Exists(cohort)) return Path.GetFullPath(cohort);
        throw new FileNotFoundException($"cohort not found: {cohort} (give a folder holding {FileName}, or the manifest file)", cohort);
    }

    public static CohortManifest Load(string cohort)
    {
        var path = Locate(cohort);
        string text;
        try { text = File.ReadAllText(path); }
        catch (IOException e) { throw new IOException($"{path}: cannot read: {e.Message}", e); }
        return Parse(text, path);
    }

    public static CohortManifest Parse(string json, string manifestPath)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new CohortManifestException(manifestPath, "", $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {FirstSentence(e.Message)}");
        }
        if (node is not JsonObject root) throw new CohortManifestException(manifestPath, "", "the manifest must be a JSON object");
        var reader = new Reader(manifestPath, root);
        CohortManifest? m = null;
        try { m = reader.Read(); }
        catch (CohortManifestException e)
        {
            // "grups" for "groups": the missing section's consequences ("compare-groups needs a \"groups\" section")
            // are the same problem, already named with its fix
            bool consequence = reader.Problems.Any(p => p.Problem.Contains("did you mean '", StringComparison.Ordinal) &&
                p.Problem.Split('\'')[1] is var meant && root[meant] is null && !p.Field.Contains('.') &&
                (e.Message.Contains($"\"{meant}\"", StringComparison.Ordinal) || e.Field == meant || e.Field.StartsWith(meant + ".", StringComparison.Ordinal)));
            if (!consequence) reader.Problems.Add(e);
        }
        if (reader.Problems.Count == 1) throw reader.Problems[0];
        if (reader.Problems.Count > 1) throw new CohortValidationException(reader.Problems.Select(p => p.Message).ToList());
        return m!;
    }

    private static string FirstSentence(string s)
    {
        int i = s.IndexOf(" Path:", StringComparison.Ordinal);
        return (i > 0 ? s[..i] : s).Trim();
    }

    private sealed class Reader(string manifestPath, JsonObject root)
    {
        private static readonly HashSet<string> TopLevel = new(StringComparer.Ordinal)
        {
            "$schema", "name", "description", "root", "allowOutsideRoot", "inputs", "demographics", "groups", "atlas",
            "settings", "output", "analyses", "synthesize", "fdr", "exports", "exclude",
        };

        /// <summary>Problems that do not stop the reading (unknown fields): all are reported at once.</summary>
        public List<CohortManifestException> Problems { get; } = new();

        public CohortManifest Read()
        {
            Known(root, "", TopLevel.ToArray());
            var manifestDir = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
            bool allow = Bool(root, "allowOutsideRoot") ?? false;
            var rootRel = Str(root, "root") ?? ".";
            var datasetRoot = Path.GetFullPath(Path.Combine(manifestDir, rootRel));
            var guard = new PathGuard(manifestPath, manifestDir, datasetRoot, allow);
            // The root itself may not leave the manifest's folder unless allowed: otherwise a manifest could
            // declare "/" its root and reach anything.
            new PathGuard(manifestPath, manifestDir, manifestDir, allow).Check(datasetRoot, rootRel, "root");

            var name = Str(root, "name") ?? Path.GetFileName(manifestDir);
            if (string.IsNullOrWhiteSpace(name)) throw Err("name", "the cohort needs a name");

            SynthesisSpec? synth = null;
            if (root["synthesize"] is JsonNode sn)
            {
                if (sn is not JsonObject so) throw Err("synthesize", "must be an object");
                var outRel = Str(so, "out", "synthesize") ?? "data";
                var opts = (JsonObject)so.DeepClone();
                opts.Remove("out");
                synth = new SynthesisSpec(guard.Resolve(outRel, "synthesize.out"), opts);
            }

            var inputs = ReadInputs(guard);
            var demo = ReadDemographics(guard, inputs);
            var groups = ReadGroups();
            var atlas = ReadAtlas(guard);
            JsonObject settings = root["settings"] switch
            {
                null => new JsonObject(),
                JsonObject o => (JsonObject)o.DeepClone(),
                _ => throw Err("settings", "must be an object"),
            };
            var output = Loc(guard, Str(root, "output") ?? "out", "output");
            var exports = Str(root, "exports") is string ex ? Loc(guard, ex, "exports") : null;
            var analyses = ReadAnalyses(groups);
            var exclude = Str(root, "exclude") ?? "none";
            if (exclude is not ("none" or "flagged"))
                throw Err("exclude", $"'{exclude}' is not one of none, flagged (flagged: subjects with QC flags or a cohort robust |z| above 3.5 are left out of the group statistics)");
            var fdrText = Str(root, "fdr") ?? "per-test";
            var fdr = fdrText switch
            {
                "per-test" => FdrFamily.PerTest,
                "per-analysis" => FdrFamily.PerAnalysis,
                "all" => FdrFamily.All,
                _ => throw Err("fdr", $"'{fdrText}' is not one of per-test, per-analysis, all"),
            };
            return new CohortManifest
            {
                ManifestPath = manifestPath,
                Name = name,
                Description = Str(root, "description"),
                DatasetRoot = datasetRoot,
                AllowOutsideRoot = allow,
                Inputs = inputs,
                DemographicTables = demo,
                Groups = groups,
                Atlas = atlas,
                Settings = settings,
                OutputDirectory = Storage.StagingFolder.For(output),
                OutputLocation = output,
                ExportLocation = exports,
                Analyses = analyses,
                Fdr = fdr,
                Synthesize = synth,
                ExcludeFlagged = exclude == "flagged",
                Guard = guard,
            };
        }

        private InputSpec ReadInputs(PathGuard guard)
        {
            if (root["inputs"] is not JsonObject o) throw Err("inputs", "required: an object with \"type\" (files, dicom or bids) and \"glob\", \"subjects\" or \"path\"");
            Known(o, "inputs", "type", "glob", "idPattern", "subjects", "path");
            var typeText = Str(o, "type", "inputs") ?? "files";
            var type = typeText.ToLowerInvariant() switch
            {
                "files" or "nifti" or "analyze" => InputType.Files,
                "dicom" => InputType.Dicom,
                "bids" => InputType.Bids,
                _ => throw Err("inputs.type", $"'{typeText}' is not one of files, dicom, bids"),
            };
            var globs = new List<string>();
            switch (o["glob"])
            {
                case null: break;
                case JsonValue v when v.TryGetValue<string>(out var g): globs.Add(g); break;
                case JsonArray a:
                    foreach (var item in a)
                        globs.Add(item is JsonValue iv && iv.TryGetValue<string>(out var s) ? s : throw Err("inputs.glob", "must be a string or a list of strings"));
                    break;
                default: throw Err("inputs.glob", "must be a string or a list of strings");
            }
            Regex? idPattern = ReadRegex(o, "idPattern", "inputs.idPattern");
            var subjects = new List<ExplicitSubject>();
            if (o["subjects"] is JsonNode sn)
            {
                if (sn is not JsonArray sa) throw Err("inputs.subjects", "must be a list of {\"id\": …, \"path\": …}");
                for (int i = 0; i < sa.Count; i++)
                {
                    var f = $"inputs.subjects[{i}]";
                    if (sa[i] is not JsonObject so) throw Err(f, "must be an object {\"id\": …, \"path\": …}");
                    var id = Str(so, "id", f) ?? throw Err(f + ".id", "required");
                    var p = Str(so, "path", f) ?? throw Err(f + ".path", "required");
                    if (string.IsNullOrWhiteSpace(id)) throw Err(f + ".id", "is empty");
                    subjects.Add(new ExplicitSubject(id.Trim(), Loc(guard, p, f + ".path")));
                }
            }
            string? bidsRoot = null;
            if (type == InputType.Bids && Storage.StorageLocation.IsRemote(Str(o, "path", "inputs")))
                throw Err("inputs.path", "a BIDS dataset must be a local folder (for inputs in blob storage use \"type\": \"files\" or \"dicom\" with a glob)");
            if (type == InputType.Bids) bidsRoot = guard.Resolve(Str(o, "path", "inputs") ?? ".", "inputs.path");
            else if (o["path"] is not null) throw Err("inputs.path", "only for \"type\": \"bids\" (use \"glob\" or \"subjects\")");
            if (type != InputType.Bids && globs.Count == 0 && subjects.Count == 0)
                throw Err("inputs", "give \"glob\" (a pattern or a list of patterns) or \"subjects\" (a list of {id, path})");
            foreach (var g in globs) ValidatePattern(g, guard);
            return new InputSpec(type, globs, idPattern, subjects, bidsRoot);
        }

        private void ValidatePattern(string g, PathGuard guard)
        {
            if (string.IsNullOrWhiteSpace(g)) throw Err("inputs.glob", "a pattern is empty");
            if (Storage.StorageLocation.IsRemote(g)) { CheckRemote(g, "inputs.glob"); return; }
            var segs = g.Replace('\\', '/').Split('/');
            int firstWild = Array.FindIndex(segs, Glob.HasWildcards);
            if (firstWild < 0) { guard.Resolve(g, "inputs.glob"); return; }
            var prefix = string.Join('/', segs[..firstWild]);
            if (prefix.Length > 0 || g.StartsWith('/')) guard.Resolve(prefix.Length == 0 ? "/" : prefix, "inputs.glob");
            foreach (var s in segs[firstWild..])
                if (s is ".." or ".") throw Err("inputs.glob", $"pattern '{g}': '{s}' after a wildcard is not allowed");
        }

        private List<DemographicsSpec> ReadDemographics(PathGuard guard, InputSpec inputs)
        {
            var n = root["demographics"];
            if (n is null)
            {
                if (inputs.Type == InputType.Bids && inputs.BidsRoot is not null && File.Exists(Path.Combine(inputs.BidsRoot, "participants.tsv")))
                    return new() { new DemographicsSpec(Path.Combine(inputs.BidsRoot, "participants.tsv"), "participant_id", null, new Dictionary<string, string>()) };
                return new();
            }
            if (n is JsonArray a)
            {
                if (a.Count == 0) throw Err("demographics", "the list is empty");
                return a.Select((x, i) => ReadOneDemographics(guard, x, $"demographics[{i}]")).ToList();
            }
            return new() { ReadOneDemographics(guard, n, "demographics") };
        }

        private DemographicsSpec ReadOneDemographics(PathGuard guard, JsonNode? n, string field)
        {
            if (n is JsonValue v && v.TryGetValue<string>(out var justPath))
                return new DemographicsSpec(Loc(guard, justPath, field), "participant_id", null, new Dictionary<string, string>());
            if (n is not JsonObject o) throw Err(field, "must be a path, an object {\"path\", \"id\", \"columns\"}, or a list of them");
            Known(o, field, "path", "id", "idPattern", "columns", "onlyMapped");
            var p = Str(o, "path", field) ?? throw Err(field + ".path", "required");
            var idCol = Str(o, "id", field) ?? "participant_id";
            var cols = new Dictionary<string, string>(StringComparer.Ordinal);
            if (o["columns"] is JsonNode cn)
            {
                if (cn is not JsonObject co) throw Err(field + ".columns", "must be an object {\"canonical name\": \"column in the file\"}");
                foreach (var kv in co)
                    cols[kv.Key] = kv.Value is JsonValue cv && cv.TryGetValue<string>(out var s) && s.Length > 0
                        ? s : throw Err($"{field}.columns.{kv.Key}", "must be a column name (a string)");
            }
            bool only = Bool(o, "onlyMapped", field) ?? false;
            if (only && cols.Count == 0) throw Err(field + ".onlyMapped", "needs \"columns\" (the columns to keep)");
            return new DemographicsSpec(Loc(guard, p, field + ".path"), idCol, ReadRegex(o, "idPattern", field + ".idPattern"), cols, only);
        }

        private GroupSpec? ReadGroups()
        {
            var n = root["groups"];
            if (n is null) return null;
            if (n is not JsonObject o) throw Err("groups", "must be an object {\"column\", \"levels\"}");
            Known(o, "groups", "name", "column", "levels", "reference");
            var column = Str(o, "column", "groups") ?? throw Err("groups.column", "required");
            var name = Str(o, "name", "groups") ?? "group";
            if (o["levels"] is not JsonObject lo || lo.Count < 2) throw Err("groups.levels", "required: an object with at least two levels, e.g. {\"control\": \"== 0\", \"patient\": \"> 0\"}");
            var levels = new List<GroupLevel>();
            foreach (var kv in lo)
            {
                if (kv.Value is not JsonValue lv || !lv.TryGetValue<string>(out var cond) || string.IsNullOrWhiteSpace(cond))
                    throw Err($"groups.levels.{kv.Key}", "must be a condition: a value to match (\"patient\") or a comparison (\"> 0\")");
                levels.Add(new GroupLevel(kv.Key, cond));
            }
            var reference = Str(o, "reference", "groups") ?? levels[0].Name;
            if (!levels.Any(l => l.Name == reference)) throw Err("groups.reference", $"'{reference}' is not one of the levels ({string.Join(", ", levels.Select(l => l.Name))})");
            return new GroupSpec(name, column, levels, reference);
        }

        private AtlasSpec ReadAtlas(PathGuard guard)
        {
            var n = root["atlas"];
            if (n is null) return AtlasSpec.Default;
            if (n is JsonValue v && v.TryGetValue<string>(out var text))
            {
                var kind = text.Trim().ToLowerInvariant();
                if (kind is "default" or "auto") return AtlasSpec.Default;
                if (kind is "colin27" or "phantom") return new AtlasSpec(kind);
                if (Storage.StorageLocation.IsRemote(text)) return new AtlasSpec("path", Loc(guard, text, "atlas"));
                var p = guard.Resolve(text, "atlas");
                if (!Directory.Exists(p) && !File.Exists(p))
                    throw Err("atlas", $"'{text}' is not one of default, colin27, phantom, and no atlas folder or atlas.json is at {p}");
                return new AtlasSpec("path", p);
            }
            if (n is not JsonObject o) throw Err("atlas", "must be \"default\", \"colin27\", \"phantom\", a path to an atlas folder or atlas.json, or {\"head\", \"brain\", \"icv\", \"tissues\"}");
            Known(o, "atlas", "head", "brain", "icv", "tissues");
            string? P(string k) => Str(o, k, "atlas") is string s ? Loc(guard, s, "atlas." + k) : null;
            var head = P("head") ?? throw Err("atlas.head", "required when the atlas is given by files (the T1 head image)");
            var brain = P("brain") ?? throw Err("atlas.brain", "required when the atlas is given by files (a brain mask or skull-stripped T1)");
            return new AtlasSpec("files", null, head, brain, P("icv"), P("tissues"));
        }

        private List<AnalysisSpec> ReadAnalyses(GroupSpec? groups)
        {
            var list = new List<AnalysisSpec>();
            var n = root["analyses"];
            if (n is null) return list;
            if (n is not JsonArray a) throw Err("analyses", "must be a list");
            for (int i = 0; i < a.Count; i++)
            {
                var f = $"analyses[{i}]";
                if (a[i] is not JsonObject o) throw Err(f, "must be an object");
                var typeText = Str(o, "type", f) ?? throw Err(f + ".type", "required: compare-groups, correlate or normalise");
                switch (typeText)
                {
                    case "compare-groups":
                    {
                        Known(o, f, "type", "measures", "covariates");
                        if (groups is null) throw Err(f, "compare-groups needs a \"groups\" section");
                        var measures = StrList(o, "measures", f);
                        if (measures.Count == 0) throw Err(f + ".measures", "required: a list of measure names (e.g. [\"nwbv\", \"brain_icv_ratio\"])");
                        list.Add(new AnalysisSpec(AnalysisType.CompareGroups, measures, StrList(o, "covariates", f), null, null, null) { Label = f });
                        break;
                    }
                    case "correlate":
                    {
                        Known(o, f, "type", "measures", "with");
                        var measures = StrList(o, "measures", f);
                        if (measures.Count == 0) throw Err(f + ".measures", "required: a list of measure names");
                        var with = Str(o, "with", f);
                        if (string.IsNullOrWhiteSpace(with)) throw Err(f + ".with", "required for correlate (e.g. \"age\")");
                        list.Add(new AnalysisSpec(AnalysisType.Correlate, measures, Array.Empty<string>(), with, null, null) { Label = f });
                        break;
                    }
                    case "normalise":
                    {
                        Known(o, f, "type", "measure", "by", "method", "name");
                        var measure = Str(o, "measure", f) ?? throw Err(f + ".measure", "required (e.g. \"brain_ml\")");
                        var by = Str(o, "by", f) ?? throw Err(f + ".by", "required: the head-size column (e.g. \"icv_ml\" or \"etiv_ml\")");
                        var method = Str(o, "method", f) ?? "ratio";
                        if (method is not ("ratio" or "residual")) throw Err(f + ".method", $"'{method}' is not one of ratio, residual");
                        list.Add(new AnalysisSpec(AnalysisType.Normalise, new[] { measure }, Array.Empty<string>(), by, method, Str(o, "name", f)) { Label = f });
                        break;
                    }
                    default:
                        var near = NearestName.Find(typeText, new[] { "compare-groups", "correlate", "normalise" });
                        throw Err(f + ".type", $"'{typeText}' is not one of compare-groups, correlate, normalise" + (near is null ? "" : $"; did you mean '{near}'?"));
                }
            }
            if (list.Any(x => x.Type == AnalysisType.Normalise) && groups is null)
                throw Err("analyses", "normalise needs a \"groups\" section (the group stage tests the derived measure between groups)");
            return list;
        }

        private Regex? ReadRegex(JsonObject o, string key, string field)
        {
            var s = Str(o, key, field[..field.LastIndexOf('.')]);
            if (s is null) return null;
            Regex rx;
            try { rx = new Regex(s, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
            catch (ArgumentException e) { throw Err(field, $"not a valid regular expression: {e.Message}"); }
            if (rx.GroupNumberFromName("id") < 0) throw Err(field, "the pattern needs a named group (?<id>…) that captures the subject id");
            return rx;
        }

        /// <summary>A location: a blob URI as written (az://container/prefix, an http(s) blob URL), else a path resolved and guarded.</summary>
        private string Loc(PathGuard guard, string value, string field)
        {
            if (!Storage.StorageLocation.IsRemote(value)) return guard.Resolve(value, field);
            CheckRemote(value, field);
            return value;
        }

        private void CheckRemote(string value, string field)
        {
            if (value.StartsWith("az://", StringComparison.OrdinalIgnoreCase))
            {
                var container = value[5..].Split('/')[0];
                if (container.Length is < 3 or > 63 || !container.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
                    throw Err(field, $"'{Storage.StorageLocation.Redact(value)}': '{container}' is not a valid container name (az://container/prefix; 3-63 lower-case letters, digits, hyphens)");
                return;
            }
            if (!Uri.TryCreate(value, UriKind.Absolute, out var u) || u.AbsolutePath.Trim('/').Length == 0)
                throw Err(field, $"'{Storage.StorageLocation.Redact(value)}' is not a blob URL (https://account.blob.core.windows.net/container/prefix)");
        }

        /// <summary>Unknown keys are recorded (all of them, each with the closest known name), and reading goes on.</summary>
        private void Known(JsonObject o, string field, params string[] keys)
        {
            foreach (var kv in o)
                if (Array.IndexOf(keys, kv.Key) < 0)
                {
                    var known = keys.Where(k => k != "$schema").ToList();
                    var near = NearestName.Find(kv.Key, known);
                    Problems.Add(Err(field.Length == 0 ? kv.Key : $"{field}.{kv.Key}",
                        $"unknown field{(near is null ? "" : $"; did you mean '{near}'?")} (known: {string.Join(", ", known)})"));
                }
        }

        private string? Str(JsonObject o, string key, string? parent = null)
        {
            var n = o[key];
            if (n is null) return null;
            if (n is JsonValue v && v.TryGetValue<string>(out var s)) return s;
            throw Err(parent is null ? key : $"{parent}.{key}", "must be a string");
        }

        private bool? Bool(JsonObject o, string key, string? parent = null)
        {
            var n = o[key];
            if (n is null) return null;
            if (n is JsonValue v && v.TryGetValue<bool>(out var b)) return b;
            throw Err(parent is null ? key : $"{parent}.{key}", "must be true or false");
        }

        private List<string> StrList(JsonObject o, string key, string parent)
        {
            var n = o[key];
            if (n is null) return new List<string>();
            if (n is JsonValue v && v.TryGetValue<string>(out var one)) return new List<string> { one };
            if (n is not JsonArray a) throw Err($"{parent}.{key}", "must be a list of strings");
            return a.Select(x => x is JsonValue xv && xv.TryGetValue<string>(out var s) ? s : throw Err($"{parent}.{key}", "must be a list of strings")).ToList();
        }

        private CohortManifestException Err(string field, string problem) => new(manifestPath, field, problem);
    }
}
