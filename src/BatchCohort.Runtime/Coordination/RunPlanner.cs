using System.Reflection;
using System.Text.Json.Nodes;
using BatchCohort.Contracts;
using BatchCohort.Runtime.Caching;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Distribution;
using BatchCohort.Runtime.Measurement;
using BatchCohort.Runtime.Storage;
using BatchCohort.Imaging.Formats;

namespace BatchCohort.Runtime.Coordination;

/// <summary>A run as the client prepared it: the manifest, its subjects and the request sent to the coordinator.</summary>
public sealed record RunPlan(CohortManifest Manifest, IReadOnlyList<SubjectInput> Subjects, RunRequest Request);

/// <summary>
/// The client's part of a run and the coordinator's bookkeeping, free of Orleans: reads the manifest (making the
/// synthetic cohort on first use), finds the subjects, writes the content-addressed settings document, and builds the
/// <see cref="RunRequest"/>; opens and resumes a <see cref="RunState"/> from it; converts states to views.
/// </summary>
public static class RunPlanner
{
    public static string Generator => "BatchCohort";
    public static string Version => typeof(RunPlanner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
        ?? typeof(RunPlanner).Assembly.GetName().Version?.ToString() ?? "0";

    /// <param name="measurer">Declares the measures and settings the manifest is checked against (default: the
    /// product's measurer, <see cref="MeasurerFactory.Create"/>).</param>
    public static async Task<RunPlan> PlanAsync(string cohort, string pipelineVersion, bool newRun, int? jobs, IRunObserver observer, CancellationToken ct,
        ISubjectMeasurer? measurer = null)
    {
        // Blob inputs are read by the subject workers through the storage seam; a blob output, demographics or atlas
        // needs the coordinator grain to read and write through it too, which it does not do yet: say so, never write elsewhere.
        CohortManifest? pre = null;
        try { pre = CohortManifest.Load(cohort); }
        catch (Exception e) when (e is CohortManifestException or IOException) { /* the validator reports it with the rest */ }
        if (pre is not null)
            foreach (var (field, loc) in new (string, string?)[] { ("output", pre.OutputLocation) }
                         .Concat(pre.DemographicTables.Select(d => ("demographics", (string?)d.Path)))
                         .Concat(new (string, string?)[] { ("atlas", pre.Atlas.Path), ("atlas.head", pre.Atlas.Head), ("atlas.brain", pre.Atlas.Brain), ("atlas.icv", pre.Atlas.Icv), ("atlas.tissues", pre.Atlas.Tissues) }))
                if (StorageLocation.IsRemote(loc))
                    throw new CohortManifestException(pre.ManifestPath, field,
                        $"'{StorageLocation.Redact(loc!)}': the Orleans engine reads inputs from blob storage but not yet the {field}; use a local path (see docs/storage.md)");
        // Everything that can be checked is checked before anything is made or measured: manifest, paths,
        // demographics, groups, names, settings, atlas (CohortValidationException: one line per problem).
        var cohortCheck = await CohortValidator.PrepareRunAsync(cohort, measurer ?? MeasurerFactory.Create(), observer, ct);
        var manifest = cohortCheck.Manifest!;
        var subjects = cohortCheck.Subjects;

        // The settings every silo needs, content-addressed under runs/.
        var atlas = cohortCheck.Atlas!;
        var settings = new RunSettings(manifest.Inputs.Type, atlas, cohortCheck.AtlasIdentity!, manifest.Settings);
        var settingsHash = settings.Hash;
        var outDir = manifest.OutputDirectory;
        Directory.CreateDirectory(Path.Combine(outDir, "runs"));
        var settingsPath = Path.Combine(outDir, "runs", $"settings-{settingsHash[..16]}.json");
        if (!File.Exists(settingsPath)) AtomicFile.WriteAllText(settingsPath, settings.ToJson().ToJsonString(Json.Options));
        var pipelineHash = ContentHash.OfText($"{pipelineVersion}\n{settingsHash}")[..16];
        WriteDatasetDescription(manifest, pipelineVersion, pipelineHash);

        var request = new RunRequest(
            manifest.Name, manifest.ManifestPath, Path.GetFullPath(outDir), FileUri.From(settingsPath).AbsoluteUri, settingsHash,
            pipelineVersion, pipelineHash, $"{Generator} {Version}", newRun, jobs,
            subjects.Select(s => new SubjectEntry(s.Id, s.Label, CohortStorage.InputUri(s.InputPath).AbsoluteUri, s.Problem)).ToArray());
        return new RunPlan(manifest, subjects, request);
    }

    /// <summary>True when an open run did the same work (same pipeline and settings) and may be resumed.</summary>
    public static bool SameWork(RunState s, RunRequest r) => s.PipelineVersion == r.PipelineVersion && s.SettingsHash == r.SettingsHash;

    public static RunState NewState(RunRequest r, string runId, DateTimeOffset now)
    {
        var state = new RunState
        {
            RunId = runId,
            Cohort = r.Cohort,
            Manifest = r.Manifest,
            OutputDirectory = r.OutputDirectory,
            Settings = r.Settings,
            PipelineVersion = r.PipelineVersion,
            SettingsHash = r.SettingsHash,
            PipelineHash = r.PipelineHash,
            Generator = r.Generator,
            StartedAt = now,
            Jobs = r.Jobs ?? 0,
            Status = RunState.Measuring,
        };
        state.Subjects.AddRange(r.Subjects.Select(s => new SubjectState { Id = s.Id, Label = s.Label, Input = s.Input, Problem = s.Problem }));
        return state;
    }

    /// <summary>Resumes an interrupted run with the subjects the client found now: done ones are kept (unless their
    /// result has gone), running ones go back to pending, new ones are added, vanished ones dropped.</summary>
    public static void Resume(RunState previous, RunRequest r, DateTimeOffset now)
    {
        var old = previous.Subjects.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var list = new List<SubjectState>();
        foreach (var si in r.Subjects)
        {
            if (old.TryGetValue(si.Id, out var s) && s.Label == si.Label)
            {
                s.Input = si.Input;
                s.Problem = si.Problem;
                if (s.Status == SubjectStatus.Running) { s.Status = SubjectStatus.Pending; s.StartedAt = null; s.Worker = null; }
                // a subject recorded done whose result has gone (deleted, or a different key) is redone
                if (s.Status == SubjectStatus.Done && ResultStore.TryLoadValid(ResultStore.ResultPath(previous.OutputDirectory, si.Label), s.CacheKey) is null)
                    s.Status = SubjectStatus.Pending;
                list.Add(s);
            }
            else list.Add(new SubjectState { Id = si.Id, Label = si.Label, Input = si.Input, Problem = si.Problem });
        }
        previous.Subjects = list;
        previous.ResumedAt.Add(now);
        previous.Status = RunState.Measuring;
        previous.FinishedAt = null;
        if (r.Jobs is { } j) previous.Jobs = j;
    }

    /// <summary>The subjects of a run as the group stage wants them.</summary>
    public static IReadOnlyList<SubjectInput> Inputs(RunState s, CohortManifest m) =>
        s.Subjects.Select(x => new SubjectInput(x.Id, x.Label,
            x.Input is not null && Uri.TryCreate(x.Input, UriKind.Absolute, out var u) && u.IsFile ? u.LocalPath : x.Input ?? "",
            m.Inputs.Type, x.Problem)).ToList();

    public static RunView View(RunState s) => new(
        s.RunId, s.Cohort, s.Manifest, s.OutputDirectory, s.Status, s.PipelineVersion, s.PipelineHash, s.SettingsHash, s.Generator, s.Jobs,
        s.StartedAt, s.FinishedAt, s.ResumedAt.ToArray(),
        s.Subjects.Select(x => new SubjectView(x.Id, x.Label, x.Status.ToString().ToLowerInvariant(), x.Attempts, x.Worker, x.FailureKind, x.Reason,
            x.StartedAt, x.FinishedAt, x.Seconds, x.FromCache, x.CacheKey)).ToArray(),
        s.Notes.ToArray(), s.Outputs.ToArray(), s.GroupText);

    public static RunState FromView(RunView v)
    {
        var s = new RunState
        {
            RunId = v.RunId, Cohort = v.Cohort, Manifest = v.Manifest, OutputDirectory = v.OutputDirectory, Status = v.Status,
            PipelineVersion = v.PipelineVersion, PipelineHash = v.PipelineHash, SettingsHash = v.SettingsHash, Generator = v.Generator,
            Jobs = v.Jobs, StartedAt = v.StartedAt, FinishedAt = v.FinishedAt, ResumedAt = v.ResumedAt.ToList(),
            Notes = v.Notes.ToList(), Outputs = v.Outputs.ToList(), GroupText = v.GroupText,
        };
        s.Subjects.AddRange(v.Subjects.Select(x => new SubjectState
        {
            Id = x.Id, Label = x.Label, Status = Enum.Parse<SubjectStatus>(x.Status, ignoreCase: true), Attempts = x.Attempts, Worker = x.Silo,
            FailureKind = x.FailureKind, Reason = x.Reason, StartedAt = x.StartedAt, FinishedAt = x.FinishedAt, Seconds = x.Seconds,
            FromCache = x.FromCache, CacheKey = x.CacheKey,
        }));
        return s;
    }

    private static void WriteDatasetDescription(CohortManifest m, string pipelineVersion, string pipelineHash)
    {
        var doc = new JsonObject
        {
            ["Name"] = $"BatchCohort derivatives: {m.Name}",
            ["BIDSVersion"] = "1.9.0",
            ["DatasetType"] = "derivative",
            ["GeneratedBy"] = new JsonArray(new JsonObject
            {
                ["Name"] = Generator,
                ["Version"] = Version,
                ["PipelineVersion"] = pipelineVersion,
                ["PipelineHash"] = pipelineHash,
                ["Description"] = "Atlas-based affine registration, head/intracranial/brain segmentation, OASIS-style volumes (eTIV, ASF, nWBV), group statistics.",
            }),
        };
        AtomicFile.WriteAllText(Path.Combine(m.OutputDirectory, "dataset_description.json"), doc.ToJsonString(Json.Options) + "\n");
    }

    /// <summary>Subjects at once on one silo: one per core, but no more than the memory allows (about 1.5 GiB per subject at the OASIS size).</summary>
    public static int DefaultJobs()
    {
        int cores = Environment.ProcessorCount;
        long avail = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        int byMemory = avail > 0 ? (int)Math.Max(1, avail / (1536L << 20)) : cores;
        return Math.Max(1, Math.Min(cores, byMemory));
    }
}
