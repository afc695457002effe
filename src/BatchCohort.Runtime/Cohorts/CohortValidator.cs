using BatchCohort.Analysis.Tables;
using BatchCohort.Runtime.Measurement;
using BatchCohort.Runtime.Coordination;

namespace BatchCohort.Runtime.Cohorts;

/// <summary>
/// What <see cref="CohortValidator"/> found: one line per error (each naming the manifest or file, the field and
/// the problem), warnings (printed, not fatal), and what a person should see before hours of measuring — subjects,
/// demographics coverage, groups with counts, the atlas with its identity, the settings.
/// </summary>
public sealed class CohortValidation
{
    public required string Cohort { get; init; }
    public CohortManifest? Manifest { get; internal set; }
    public IReadOnlyList<SubjectInput> Subjects { get; internal set; } = Array.Empty<SubjectInput>();
    /// <summary>The atlas the run uses (default resolved, pinned by the first run), when it could be resolved.</summary>
    public AtlasSpec? Atlas { get; internal set; }
    public string? AtlasIdentity { get; internal set; }
    /// <summary>True when the atlas was resolved now (no record yet): a run writes the record.</summary>
    public bool AtlasIsNew { get; internal set; }
    /// <summary>The inputs and demographics are made by the first run (synthesize): they were not checked yet.</summary>
    public bool DataDeferred { get; internal set; }
    public List<string> Errors { get; } = new();
    public List<string> Warnings { get; } = new();
    public List<string> Info { get; } = new();
    public bool Ok => Errors.Count == 0;

    /// <summary>Throws <see cref="CohortValidationException"/> (one line per problem) when there are errors.</summary>
    public void ThrowIfInvalid()
    {
        if (Errors.Count > 0) throw new CohortValidationException(Errors);
    }
}

/// <summary>
/// Everything about a cohort that can be checked before the first subject is measured, in seconds: the manifest's
/// schema (unknown fields named with the closest valid one), every path, the demographics (id column, join
/// coverage), the group column and its levels with counts, every measure / covariate / correlate / normalise name
/// against the measures the pipeline produces and the demographics' columns, derived names that would overwrite a
/// column, the settings (keys, types, ranges: <see cref="SettingsCatalog"/>), and the atlas (resolved and pinned:
/// <see cref="AtlasPin"/>). Used by <c>batchcohort validate</c>, at the top of <c>batchcohort run</c>, and by
/// anything else that accepts a cohort (schedules).
/// </summary>
public static class CohortValidator
{
    /// <summary>Fewer subjects than this in a group level is a warning.</summary>
    public const int SmallGroup = 3;

    /// <summary>Checks a cohort without writing anything (the atlas record is read, not written). Demographics and
    /// atlas files in blob storage are fetched into scratch for the check and deleted after it.</summary>
    public static CohortValidation Validate(string cohort, ISubjectMeasurer? measurer = null)
    {
        var v = new CohortValidation { Cohort = cohort };
        CohortManifest m;
        try { m = CohortManifest.Load(cohort); }
        catch (CohortValidationException e) { v.Errors.AddRange(e.Problems); return v; }
        catch (CohortManifestException e) { v.Errors.Add(e.Message); return v; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { v.Errors.Add(e.Message); return v; }
        Storage.CohortStorage? remote = null;
        try
        {
            if (HasRemoteFiles(m))
            {
                try { remote = Storage.CohortStorage.OpenAsync(m, CancellationToken.None, pullState: false).GetAwaiter().GetResult(); }
                catch (CohortManifestException e) { v.Manifest = m; v.Errors.Add(e.Message); return v; }
                m = remote.Manifest;
            }
            return Validate(m, measurer);
        }
        finally { remote?.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }

    /// <summary>Checks a manifest already loaded (its blob demographics and atlas fetched into local files by the caller).</summary>
    public static CohortValidation Validate(CohortManifest m, ISubjectMeasurer? measurer = null)
    {
        var v = new CohortValidation { Cohort = m.ManifestPath, Manifest = m };
        Check(v, m, measurer);
        return v;
    }

    /// <summary>True when the manifest names demographics or atlas files in blob storage.</summary>
    public static bool HasRemoteFiles(CohortManifest m) =>
        m.DemographicTables.Any(d => Storage.StorageLocation.IsRemote(d.Path))
        || new[] { m.Atlas.Path, m.Atlas.Head, m.Atlas.Brain, m.Atlas.Icv, m.Atlas.Tissues }.Any(Storage.StorageLocation.IsRemote);

    /// <summary>
    /// The start of a run: validates (throwing <see cref="CohortValidationException"/> before anything is made or
    /// measured), writes the synthetic cohort when the manifest asks for one, validates the data it made, prints the
    /// warnings, and pins the atlas for the cohort's later runs. The manifest is the run's (command-line locations
    /// applied; blob demographics and atlas fetched into local files: <see cref="Storage.CohortStorage"/>).
    /// </summary>
    public static async Task<CohortValidation> PrepareRunAsync(CohortManifest m, ISubjectMeasurer measurer, IRunObserver observer, CancellationToken ct)
    {
        var v = Validate(m, measurer);
        v.ThrowIfInvalid();
        if (v.DataDeferred)
        {
            await SyntheticCohort.EnsureAsync(v.Manifest!, observer, ct);
            v = Validate(m, measurer);
            v.ThrowIfInvalid();
        }
        foreach (var w in v.Warnings) observer.Note(w);
        if (v.AtlasIsNew && v.Atlas is not null) AtlasPin.Write(v.Manifest!, v.Atlas, v.AtlasIdentity!);
        return v;
    }

    private static void Check(CohortValidation v, CohortManifest m, ISubjectMeasurer? measurer)
    {
        string E(string field, string problem) => $"{m.ManifestPath}: {(field.Length == 0 ? "" : field + ": ")}{problem}";
        v.Info.Add($"cohort {m.Name} ({m.ManifestPath})");

        // synthetic cohort options
        if (m.Synthesize is not null)
        {
            try { SyntheticCohort.ReadOptions(m); }
            catch (CohortManifestException e) { v.Errors.Add(e.Message); }
            v.DataDeferred = !SyntheticCohort.IsComplete(m.Synthesize);
            if (v.DataDeferred)
                v.Info.Add($"data: the synthetic cohort is written by the first run to {m.Synthesize.OutputDirectory}; its inputs and demographics are checked then, before anything is measured");
        }

        // settings
        if (measurer?.Settings is { } catalog)
        {
            var problems = catalog.Validate(m.Settings, out var given);
            foreach (var p in problems) v.Errors.Add(E("settings." + p.Key, p.Problem));
            v.Info.Add(given.Count == 0
                ? "settings: all defaults (every setting: docs/settings.md)"
                : $"settings: {string.Join(", ", given.Select(kv => kv.Key + " = " + SettingDefinition.Format(kv.Value)))}; the others default (docs/settings.md)");
        }
        else if (m.Settings.Count > 0) v.Warnings.Add($"settings: this measurer declares no settings: {string.Join(", ", m.Settings.Select(kv => kv.Key))} passed on unchecked");

        // atlas
        CheckAtlas(v, m);

        // inputs
        IReadOnlyList<SubjectInput> subjects = Array.Empty<SubjectInput>();
        if (!v.DataDeferred)
        {
            try
            {
                subjects = SubjectDiscovery.Discover(m);
                if (subjects.Count == 0) v.Errors.Add(E("inputs", NoSubjectsProblem(m)));
            }
            catch (CohortManifestException e) { v.Errors.Add(e.Message); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException) { v.Errors.Add(E("inputs", e.Message)); }
            v.Subjects = subjects;
            var missing = subjects.Where(s => s.Problem is not null).ToList();
            if (subjects.Count > 0)
                v.Info.Add($"subjects: {subjects.Count} ({m.Inputs.Type.ToString().ToLowerInvariant()}{(missing.Count > 0 ? $"; {missing.Count} with a problem already known" : "")})");
            foreach (var s in missing.Take(10)) v.Warnings.Add($"subject {s.Id}: {s.Problem} (reported as failed)");
            if (missing.Count > 10) v.Warnings.Add($"… and {missing.Count - 10} more subjects with a missing input");
        }

        // the columns the cohort table will have
        var measureNames = measurer?.MeasureNames;
        var labelNames = measurer?.LabelNames ?? Array.Empty<string>();
        var columns = new Dictionary<string, ColumnInfo>(StringComparer.Ordinal);
        if (measureNames is not null)
        {
            foreach (var n in measureNames) columns[n] = new ColumnInfo(n, true, "a measure of the pipeline", null);
            foreach (var n in labelNames) columns[n] = new ColumnInfo(n, false, "a text column of the pipeline", null);
        }
        var demoTables = new List<(DemographicsSpec Spec, Table Table)>();
        if (!v.DataDeferred)
        {
            for (int i = 0; i < m.DemographicTables.Count; i++)
            {
                var spec = m.DemographicTables[i];
                var field = m.DemographicTables.Count == 1 ? "demographics" : $"demographics[{i}]";
                if (!File.Exists(spec.Path)) { v.Errors.Add(E(field + ".path", $"file not found: {spec.Path}")); continue; }
                Table t;
                try
                {
                    var taken = columns.Keys.ToHashSet(StringComparer.OrdinalIgnoreCase);
                    var notes = new List<string>();
                    t = GroupStage.ReadDemographics(m, spec, taken, notes);
                    foreach (var n in notes) v.Info.Add("demographics: " + n);
                }
                catch (CohortManifestException e)
                {
                    v.Errors.Add(e.Field.StartsWith("demographics", StringComparison.Ordinal) && field != "demographics"
                        ? E(field + e.Field["demographics".Length..], e.Problem) : e.Message);
                    continue;
                }
                catch (Exception e) when (e is IOException or InvalidDataException or FormatException or UnauthorizedAccessException)
                {
                    v.Errors.Add(E(field, e.Message));
                    continue;
                }
                demoTables.Add((spec, t));
                foreach (var c in t.Columns)
                    if (c.Name != GroupStage.IdColumn)
                        columns[c.Name] = new ColumnInfo(c.Name, c.IsNumeric, $"a column of {Path.GetFileName(spec.Path)}", t);
                if (subjects.Count > 0)
                {
                    var ids = new HashSet<string>(t.GetStrings(GroupStage.IdColumn).OfType<string>(), StringComparer.Ordinal);
                    var without = subjects.Where(s => !ids.Contains(Pid(s))).Select(s => s.Id).ToList();
                    var name = Path.GetFileName(spec.Path);
                    v.Info.Add($"demographics: {name} (id column {spec.IdColumn}): {subjects.Count - without.Count} of {subjects.Count} subjects have a row; columns: {string.Join(", ", t.ColumnNames.Where(c => c != GroupStage.IdColumn))}");
                    if (without.Count == subjects.Count)
                        v.Errors.Add(E(field + ".id", $"no subject has a row in {name} (subjects are {Pid(subjects[0])}…, the table's {spec.IdColumn} gives {ids.FirstOrDefault() ?? "(empty)"}…; ids are compared as BIDS participant_id, \"0001\" and \"sub-0001\" alike; give \"idPattern\" with (?<id>…) to match them)"));
                    else if (without.Count > 0)
                        v.Warnings.Add($"{without.Count} of {subjects.Count} subjects have no row in {name} (their demographics are missing; they are left out of group tests): {Short(without)}");
                }
            }
        }
        // a demographics table that could not be read: its columns are unknown, so names are not checked against them
        bool dataKnown = !v.DataDeferred && demoTables.Count == m.DemographicTables.Count;
        bool measuresKnown = measureNames is not null;

        // groups
        string? groupName = null;
        if (m.Groups is { } g)
        {
            groupName = g.Name;
            if (dataKnown)
            {
                var source = columns.GetValueOrDefault(g.Column) ?? (CanonicalOf(m, g.Column) is { } canon ? columns.GetValueOrDefault(canon) : null);
                if (source is null)
                {
                    if (measuresKnown || demoTables.Count > 0)
                        v.Errors.Add(E("groups.column", $"'{g.Column}' is not a column of the demographics or a measure{Suggest(g.Column, columns.Keys)} (columns: {string.Join(", ", columns.Keys)})"));
                }
                else if (source.Table is { } table && subjects.Count > 0)
                {
                    var col = table[source.Name];
                    var ids = table.GetStrings(GroupStage.IdColumn);
                    var byId = new Dictionary<string, int>(StringComparer.Ordinal);
                    for (int i = 0; i < ids.Length; i++) if (ids[i] is { } id) byId[id] = i;
                    var counts = g.Levels.ToDictionary(l => l.Name, _ => 0);
                    int none = 0;
                    var seen = new SortedSet<string>(StringComparer.Ordinal);
                    foreach (var s in subjects)
                    {
                        string? value = byId.TryGetValue(Pid(s), out var r) && !col.IsNull(r) ? col.Format(r) : null;
                        if (value is not null) seen.Add(value);
                        var level = g.LevelOf(value);
                        if (level is null) none++; else counts[level]++;
                    }
                    v.Info.Add($"groups: {g.Name} from column {g.Column}: {string.Join(", ", counts.Select(kv => $"{kv.Key} {kv.Value}"))}{(none > 0 ? $", in no level {none} (left out of group tests)" : "")}");
                    foreach (var l in g.Levels)
                    {
                        if (counts[l.Name] == 0)
                            v.Errors.Add(E($"groups.levels.{l.Name}", $"no subject matches '{l.Condition}' in column {g.Column} (values seen: {Short(seen.ToList())})"));
                        else if (counts[l.Name] < SmallGroup)
                            v.Warnings.Add($"group level {l.Name} has only {counts[l.Name]} subject{(counts[l.Name] == 1 ? "" : "s")} (fewer than {SmallGroup}): its tests will be weak or not computable");
                    }
                }
            }
        }

        // analyses: every name against the table's columns
        var derived = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var a in m.Analyses.Where(a => a.Type == AnalysisType.Normalise))
        {
            var name = a.DerivedName!;
            string field = a.Name is null ? a.Label : a.Label + ".name";
            if (columns.TryGetValue(name, out var clash))
                v.Errors.Add(E(field, $"the derived measure '{name}' would overwrite '{name}' ({clash.What}): give it another \"name\""));
            else if (groupName == name)
                v.Errors.Add(E(field, $"the derived measure '{name}' would overwrite the group column '{name}': give it another \"name\""));
            else if (derived.TryGetValue(name, out var other))
                v.Errors.Add(E(field, $"the derived measure '{name}' is also made by {other}: give it another \"name\""));
            else derived[name] = a.Label;
        }
        bool canCheck = dataKnown && measuresKnown;
        void Need(string field, string name, bool numeric, string role)
        {
            if (derived.ContainsKey(name)) return;
            if (columns.TryGetValue(name, out var c))
            {
                if (numeric && !c.Numeric) v.Errors.Add(E(field, $"{role} '{name}' is not numeric ({c.What})"));
                return;
            }
            if (name == groupName && !numeric) return;
            if (!canCheck)
            {
                if (dataKnown && !measuresKnown) v.Warnings.Add($"{field}: '{name}' is not a demographics column; not checked against the measures (the measurer declares none)");
                return;
            }
            v.Errors.Add(E(field, $"{role} '{name}' is not a measure of the pipeline or a column of the demographics{Suggest(name, columns.Keys.Concat(derived.Keys))}"));
        }
        foreach (var a in m.Analyses)
        {
            switch (a.Type)
            {
                case AnalysisType.CompareGroups:
                    for (int i = 0; i < a.Measures.Count; i++) Need($"{a.Label}.measures[{i}]", a.Measures[i], true, "measure");
                    for (int i = 0; i < a.Covariates.Count; i++)
                    {
                        Need($"{a.Label}.covariates[{i}]", a.Covariates[i], false, "covariate");
                        if (columns.TryGetValue(a.Covariates[i], out var cov) && cov.Table is { } ct && subjects.Count > 0)
                        {
                            var inCohort = new HashSet<string>(subjects.Select(Pid), StringComparer.Ordinal);
                            var ids = ct.GetStrings(GroupStage.IdColumn);
                            var col = ct[cov.Name];
                            var values = Enumerable.Range(0, ct.RowCount).Where(r => ids[r] is { } id && inCohort.Contains(id) && !col.IsNull(r)).Select(r => col.Format(r)).Distinct().ToList();
                            if (values.Count == 1)
                                v.Warnings.Add($"{a.Label}.covariates[{i}]: '{cov.Name}' has a single value ({values[0]}) among the subjects: the adjusted models are fitted without it (a note in the stats)");
                        }
                    }
                    break;
                case AnalysisType.Correlate:
                    for (int i = 0; i < a.Measures.Count; i++) Need($"{a.Label}.measures[{i}]", a.Measures[i], true, "measure");
                    Need($"{a.Label}.with", a.With!, true, "correlation variable");
                    break;
                case AnalysisType.Normalise:
                    Need($"{a.Label}.measure", a.Measures[0], true, "measure");
                    Need($"{a.Label}.by", a.With!, true, "head-size column");
                    break;
            }
        }
        if (m.Analyses.Count > 0)
            v.Info.Add($"analyses: {string.Join("; ", m.Analyses.Select(Describe))}; FDR families: {FdrText(m)}");
        v.Info.Add(Storage.StorageLocation.IsRemote(m.OutputLocation)
            ? $"output: {Storage.StorageLocation.Redact(m.OutputLocation)} (staged in {m.OutputDirectory})"
            : $"output: {m.OutputDirectory}");
    }

    private static string Describe(AnalysisSpec a) => a.Type switch
    {
        AnalysisType.CompareGroups => $"compare-groups {string.Join(", ", a.Measures)}{(a.Covariates.Count > 0 ? " ~ " + string.Join(" + ", a.Covariates) : "")}",
        AnalysisType.Correlate => $"correlate {string.Join(", ", a.Measures)} with {a.With}",
        _ => $"normalise {a.Measures[0]} by {a.With} ({a.Method}) → {a.DerivedName}",
    };

    private static string FdrText(CohortManifest m) => m.Fdr switch
    {
        Analysis.Statistics.FdrFamily.All => "all (one family)",
        Analysis.Statistics.FdrFamily.PerAnalysis => "per-analysis (one per analysis and test kind)",
        _ => "per-test (one per test kind)",
    };

    private sealed record ColumnInfo(string Name, bool Numeric, string What, Table? Table);

    private static void CheckAtlas(CohortValidation v, CohortManifest m)
    {
        try
        {
            var r = AtlasPin.Resolve(m);
            v.Atlas = r.Atlas;
            v.AtlasIdentity = r.Identity;
            v.AtlasIsNew = r.IsNew;
            v.Info.Add("atlas: " + r.Description);
            if (r.Note is not null) v.Warnings.Add(r.Note);
        }
        catch (CohortManifestException e) { v.Errors.Add(e.Message); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException)
        {
            v.Errors.Add($"{m.ManifestPath}: atlas: {e.Message}");
        }
    }

    private static string NoSubjectsProblem(CohortManifest m)
    {
        if (m.Inputs.Type == InputType.Bids) return $"no subjects found in the BIDS dataset {m.Inputs.BidsRoot}";
        // where did the patterns look? name the folders and what was there
        var folders = m.Inputs.Globs.Select(g => Glob.FixedPrefix(g, m.Guard)).Where(Directory.Exists).Distinct().ToList();
        var looked = m.Inputs.Type == InputType.Dicom ? "DICOM series folders" : ".nii, .nii.gz, .hdr/.img, DICOM";
        if (folders.Count > 0)
            return $"no image files found in {string.Join(", ", folders)} (looked for {looked}; patterns: {string.Join(", ", m.Inputs.Globs)})";
        var absent = m.Inputs.Globs.Select(g => Glob.FixedPrefix(g, m.Guard)).Distinct().ToList();
        return $"no subjects found: the patterns matched nothing ({string.Join(", ", m.Inputs.Globs)}; folder{(absent.Count == 1 ? "" : "s")} {string.Join(", ", absent)} not found)";
    }

    /// <summary>The key of the cohort table (and of the demographics as read for it): the BIDS participant_id.</summary>
    private static string Pid(SubjectInput s) => GroupStage.ParticipantId(s.Label);

    private static string? CanonicalOf(CohortManifest m, string column) =>
        m.DemographicTables.SelectMany(d => d.Columns).FirstOrDefault(kv => kv.Value == column).Key;

    private static string Suggest(string name, IEnumerable<string> candidates) =>
        NearestName.Find(name, candidates) is { } near ? $"; did you mean '{near}'?" : "";

    private static string Short(IReadOnlyList<string> items, int max = 10) =>
        string.Join(", ", items.Take(max)) + (items.Count > max ? $", … ({items.Count - max} more)" : "");

    /// <summary>The report as lines: info, then "warning: …", then "error: …" (the CLI prints errors on stderr).</summary>
    public static IEnumerable<string> Lines(CohortValidation v) =>
        v.Info.Concat(v.Warnings.Select(w => "warning: " + w));
}
