using System.Collections.Concurrent;
using System.Text.Json;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Neuro.Pipeline;
using BatchCohort.Runtime.Cohorts;

namespace BatchCohort.Runtime.Measurement;

/// <summary>
/// The product's measurer: the Imaging layer's per-subject pipeline (<see cref="SubjectPipeline"/>: register the atlas,
/// segment head, intracranial space and brain, classify tissues, measure), writing its derivatives into the subject's
/// output folder. A subject the pipeline cannot measure (unreadable, not a head, registration failed) becomes a
/// <see cref="SubjectMeasurementException"/> with the pipeline's reason — never a made-up number.
/// </summary>
public sealed class ImagingSubjectMeasurer : ISubjectMeasurer
{
    // Atlases are loaded (and their masks derived) once per process and shared by every subject.
    private static readonly ConcurrentDictionary<AtlasSpec, Lazy<Atlas>> Atlases = new();

    public string PipelineVersion => $"{SubjectPipeline.Version}+{new PipelineSettings().Hash()}";

    public IReadOnlyList<string> MeasureNames { get; } = Columns().Where(c => c.Numeric).Select(c => c.Name).ToList();

    public IReadOnlyList<string> LabelNames { get; } = Columns().Where(c => !c.Numeric).Select(c => c.Name).ToList();

    public SettingsCatalog Settings => PipelineSettingsCatalog.Catalog;

    /// <summary>The columns of a measures row that become cohort-table columns (not the id, version or timings).</summary>
    private static IEnumerable<(string Name, bool Numeric)> Columns() =>
        new BatchCohort.Neuro.Measurement.SubjectMeasures { SubjectId = "", PipelineVersion = "" }.Columns()
            .Where(c => IsTableColumn(c.Name)).Select(c => (c.Name, c.Value is double));

    private static bool IsTableColumn(string name) => name is not ("subject_id" or "pipeline_version") && !name.StartsWith("t_", StringComparison.Ordinal);

    public Task<MeasurerOutput> MeasureAsync(SubjectWork work, CancellationToken cancellationToken) =>
        Task.Run(() => Measure(work, cancellationToken), cancellationToken);

    private static MeasurerOutput Measure(SubjectWork work, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var atlas = ResolveAtlas(work.Atlas);
        var settings = ParseSettings(work.Settings);
        var result = SubjectPipeline.Run(work.SubjectId, work.InputPath, atlas, settings);
        ct.ThrowIfCancellationRequested();
        if (!result.Success)
        {
            string kind = result.FailedStep == "load" ? FailureKinds.InputUnreadable : FailureKinds.Measurement;
            throw new SubjectMeasurementException($"{result.FailedStep}: {result.FailureReason}", kind);
        }
        var (paths, m) = SubjectOutputs.Write(result, SubjectOutputPaths.InFolder(work.OutputDirectory, work.FilePrefix));
        string rel(string p) => Path.GetRelativePath(work.OutputDirectory, p);
        var measures = new List<KeyValuePair<string, double?>>();
        var labels = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in m.Columns())
        {
            if (!IsTableColumn(name)) continue;
            if (value is double d) measures.Add(new(name, d));
            else labels.Add(new(name, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? ""));
        }
        return new MeasurerOutput
        {
            Measures = measures,
            Labels = labels,
            Files = new Dictionary<string, string>
            {
                ["brain_mask"] = rel(paths.BrainMask),
                ["icv_mask"] = rel(paths.IcvMask),
                ["head_mask"] = rel(paths.HeadMask),
                ["dseg"] = rel(paths.Dseg),
                ["xfm"] = rel(paths.Transform),
                ["xfm_itk"] = rel(paths.ItkTransform),
                ["measures_csv"] = rel(paths.MeasuresCsv),
                ["qc"] = rel(paths.QcPng),
            },
            StepSeconds = new Dictionary<string, double>
            {
                ["load"] = m.TimeLoadS, ["register"] = m.TimeRegisterS, ["segment"] = m.TimeSegmentS,
                ["measure"] = m.TimeMeasureS, ["write"] = m.TimeWriteS,
            },
        };
    }

    private static PipelineSettings ParseSettings(System.Text.Json.Nodes.JsonObject? json)
    {
        try
        {
            return PipelineSettingsCatalog.Parse(json);
        }
        catch (ArgumentException ex)
        {
            throw new SubjectMeasurementException($"pipeline settings in the manifest are invalid: {ex.Message}", FailureKinds.Internal);
        }
    }

    private static Atlas ResolveAtlas(AtlasSpec spec)
    {
        var lazy = Atlases.GetOrAdd(spec, s => new Lazy<Atlas>(() => Load(s), LazyThreadSafetyMode.ExecutionAndPublication));
        try { return lazy.Value; }
        catch (Exception ex) when (ex is IOException or ArgumentException or InvalidDataException)
        {
            Atlases.TryRemove(spec, out _);
            throw new SubjectMeasurementException($"atlas cannot be loaded: {ex.Message}", FailureKinds.Internal, ex);
        }
    }

    private static Atlas Load(AtlasSpec s) => s.Kind.ToLowerInvariant() switch
    {
        "files" => AtlasLibrary.FromFiles(s.Head ?? throw new ArgumentException("atlas files: 'head' is required"),
            s.Brain ?? throw new ArgumentException("atlas files: 'brain' is required"), s.Icv, s.Tissues),
        "path" => AtlasLibrary.Resolve(s.Path, out _),
        _ => AtlasLibrary.Resolve(s.Kind, out _),
    };
}
