using System.Globalization;
using System.Text;
using BatchCohort.Imaging;
using BatchCohort.Runtime.Measurement;

namespace BatchCohort.TestMeasurers;

/// <summary>
/// TEST ONLY. A deterministic stand-in for the imaging pipeline, so the runtime's behaviour (dispatch, cache,
/// resume, failure reporting) can be tested without measuring brains. Its inputs are tiny text files written by
/// <see cref="TestInputs"/>: "BCTEST" then a number. The measures are fixed functions of that number, so two runs
/// over the same inputs must give identical tables. A file without the magic is "corrupt" and fails the way a real
/// reader would (ImageFormatException naming the file). Every completed measurement appends one line
/// "measured &lt;id&gt; &lt;pid&gt;" to the markers file, so tests can count how often each subject was measured.
///
/// Configured by environment (for use inside a real batchcohort process): BATCHCOHORT_TEST_MARKERS (file),
/// BATCHCOHORT_TEST_DELAY_MS (per subject), BATCHCOHORT_TEST_PIPELINE (version), BATCHCOHORT_TEST_FAIL (comma-separated
/// subject ids this process cannot measure: they throw as a machine-specific failure would).
/// </summary>
public sealed class CountingTestMeasurer : ISubjectMeasurer
{
    public const string Magic = "BCTEST";

    public CountingTestMeasurer()
        : this(Environment.GetEnvironmentVariable("BATCHCOHORT_TEST_MARKERS"),
               int.TryParse(Environment.GetEnvironmentVariable("BATCHCOHORT_TEST_DELAY_MS"), out var d) ? d : 0,
               Environment.GetEnvironmentVariable("BATCHCOHORT_TEST_PIPELINE") ?? "test-pipeline-1",
               (Environment.GetEnvironmentVariable("BATCHCOHORT_TEST_FAIL") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
    {
    }

    public CountingTestMeasurer(string? markersPath, int delayMs, string pipelineVersion, IEnumerable<string>? failSubjects = null)
    {
        MarkersPath = markersPath;
        DelayMs = delayMs;
        PipelineVersion = pipelineVersion;
        FailSubjects = new HashSet<string>(failSubjects ?? Array.Empty<string>(), StringComparer.Ordinal);
    }

    /// <summary>Subjects this instance cannot measure (an InvalidOperationException, as a machine-specific failure).</summary>
    public IReadOnlySet<string> FailSubjects { get; }

    public string? MarkersPath { get; }
    public int DelayMs { get; }
    public string PipelineVersion { get; }

    /// <summary>The columns it produces, declared as the product's measurer declares its own (so manifests are checked).</summary>
    public IReadOnlyList<string> MeasureNames { get; } = new[] { "icv_ml", "brain_ml", "nwbv", "brain_icv_ratio" };

    public IReadOnlyList<string> LabelNames { get; } = new[] { "qc_flags" };

    /// <summary>The pipeline's settings (it stands in for the pipeline, so a manifest written for the pipeline is
    /// valid for it), plus its own "scale", which multiplies brain_ml.</summary>
    public SettingsCatalog Settings { get; } = new(PipelineSettingsCatalog.Catalog.Definitions.Append(
        new SettingDefinition("scale", SettingKind.Number, 1.0, "Multiplies brain_ml (test only).", 0.01, 100)));

    private int _calls;
    /// <summary>Completed measurements in this process.</summary>
    public int Calls => Volatile.Read(ref _calls);

    private readonly object _log = new();
    public List<string> Measured { get; } = new();

    public async Task<MeasurerOutput> MeasureAsync(SubjectWork work, CancellationToken cancellationToken)
    {
        var text = await File.ReadAllTextAsync(work.InputPath, cancellationToken);
        if (!text.StartsWith(Magic, StringComparison.Ordinal))
            throw new ImageFormatException(work.InputPath, "not a test volume (wrong magic)");
        double v = double.Parse(text[Magic.Length..].Trim(), CultureInfo.InvariantCulture);
        double scale = work.Settings["scale"] is { } s ? (double)s : 1.0;
        // atlas files are read as the pipeline reads them (a process that cannot reach its atlas fails the subject);
        // BATCHCOHORT_TEST_ATLAS_LOG: "<id> <head path>" per subject, so tests see which copy each process used
        if (work.Atlas.Kind == "files")
        {
            foreach (var f in new[] { work.Atlas.Head, work.Atlas.Brain, work.Atlas.Icv, work.Atlas.Tissues })
                if (f is not null) _ = await File.ReadAllBytesAsync(f, cancellationToken);
            if (Environment.GetEnvironmentVariable("BATCHCOHORT_TEST_ATLAS_LOG") is { Length: > 0 } atlasLog)
                lock (_log) AppendLine(atlasLog, $"{work.SubjectId} {work.Atlas.Head}\n");
        }
        if (DelayMs > 0) await Task.Delay(DelayMs, cancellationToken);
        if (FailSubjects.Contains(work.SubjectId))
            throw new InvalidOperationException($"simulated failure of {work.SubjectId} in process {Environment.ProcessId}");
        var qc = work.FilePrefix + "_qc.png";
        await File.WriteAllBytesAsync(Path.Combine(work.OutputDirectory, qc), TinyPng, cancellationToken);
        var files = new Dictionary<string, string> { ["qc"] = qc };
        // BATCHCOHORT_TEST_PAD_MB: a large derivative (deterministic bytes), so that uploads take long enough to be interrupted
        if (double.TryParse(Environment.GetEnvironmentVariable("BATCHCOHORT_TEST_PAD_MB"), NumberStyles.Float, CultureInfo.InvariantCulture, out var padMb) && padMb > 0)
        {
            var pad = work.FilePrefix + "_pad.bin";
            var bytes = new byte[(int)(padMb * 1048576)];
            new Random((int)v).NextBytes(bytes);
            await File.WriteAllBytesAsync(Path.Combine(work.OutputDirectory, pad), bytes, cancellationToken);
            files["pad"] = pad;
        }
        double icv = 1400 + 3 * v;
        double brain = (1000 + 2 * v) * scale;
        cancellationToken.ThrowIfCancellationRequested();
        if (MarkersPath is not null)
            lock (_log) AppendLine(MarkersPath, $"measured {work.SubjectId} {Environment.ProcessId}\n");
        Interlocked.Increment(ref _calls);
        lock (_log) Measured.Add(work.SubjectId);
        return new MeasurerOutput
        {
            Measures = new[]
            {
                new KeyValuePair<string, double?>("icv_ml", icv),
                new KeyValuePair<string, double?>("brain_ml", brain),
                new KeyValuePair<string, double?>("nwbv", brain / icv),
                new KeyValuePair<string, double?>("brain_icv_ratio", brain / icv),
            },
            // a text column as the pipeline's qc_flags: empty when nothing is flagged
            Labels = new[] { new KeyValuePair<string, string>("qc_flags", v > 100 ? "large" : "") },
            Files = files,
            StepSeconds = new Dictionary<string, double> { ["measure"] = DelayMs / 1000.0 },
        };
    }

    /// <summary>
    /// Appends a line safely when several processes (cluster silos) share the markers file: .NET's FileMode.Append seeks
    /// to the end and writes there (no O_APPEND), so two processes appending at once can overwrite each other's line.
    /// FileShare.None takes an exclusive lock on the file on Unix (flock) and Windows; others wait for it.
    /// </summary>
    private static void AppendLine(string path, string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                using var f = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.None);
                f.Write(bytes);
                return;
            }
            catch (IOException) when (attempt < 5000) { Thread.Sleep(1); }
        }
    }

    /// <summary>A 1×1 grey PNG.</summary>
    public static readonly byte[] TinyPng = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==");
}

/// <summary>TEST ONLY. Writes a small cohort the <see cref="CountingTestMeasurer"/> can measure.</summary>
public static class TestInputs
{
    /// <summary>Writes data/sub-XX_T1w.nii files (values 10, 20, …), participants.tsv and a cohort.json.
    /// Patients get larger values. Returns the subject ids.</summary>
    public static IReadOnlyList<string> WriteCohort(string dir, int n, IEnumerable<string>? corrupt = null, IEnumerable<string>? missing = null,
        string? extraManifest = null)
    {
        var data = Path.Combine(dir, "data");
        Directory.CreateDirectory(data);
        var ids = new List<string>();
        var tsv = new StringBuilder("participant_id\tage\tsex\tgroup\n");
        var corruptSet = new HashSet<string>(corrupt ?? Array.Empty<string>());
        for (int i = 1; i <= n; i++)
        {
            var id = i.ToString("00", CultureInfo.InvariantCulture);
            ids.Add(id);
            string group = i % 2 == 0 ? "patient" : "control";
            File.WriteAllText(Path.Combine(data, $"sub-{id}_T1w.nii"),
                corruptSet.Contains(id) ? "garbage, not a volume\n" : $"{CountingTestMeasurer.Magic}\n{(10 * i + (group == "patient" ? 7 : 0)).ToString(CultureInfo.InvariantCulture)}\n");
            tsv.Append($"sub-{id}\t{60 + i}\t{(i % 3 == 0 ? "F" : "M")}\t{group}\n");
        }
        var missingList = (missing ?? Array.Empty<string>()).ToList();
        foreach (var m in missingList) tsv.Append($"sub-{m}\t70\tF\tcontrol\n");
        File.WriteAllText(Path.Combine(data, "participants.tsv"), tsv.ToString());
        var subjects = string.Join(",\n", missingList.Select(m => $"      {{ \"id\": \"{m}\", \"path\": \"data/sub-{m}_T1w.nii\" }}"));
        File.WriteAllText(Path.Combine(dir, "cohort.json"), $$"""
            {
              "name": "test-cohort",
              "inputs": {
                "type": "files",
                "glob": "data/sub-*_T1w.nii"{{(missingList.Count > 0 ? ",\n    \"subjects\": [\n" + subjects + "\n    ]" : "")}}
              },
              "demographics": { "path": "data/participants.tsv", "id": "participant_id" },
              "groups": { "column": "group", "levels": { "control": "control", "patient": "patient" } },
              "atlas": "phantom",
              "settings": { "scale": 1.0 },
              "output": "out",
              "analyses": [
                { "type": "compare-groups", "measures": ["brain_ml", "nwbv"], "covariates": ["age", "sex"] },
                { "type": "correlate", "measures": ["nwbv"], "with": "age" }
              ]{{extraManifest ?? ""}}
            }
            """);
        return ids;
    }

    /// <summary>Markers per subject id ("measured &lt;id&gt; &lt;pid&gt;" lines).</summary>
    public static Dictionary<string, int> CountMarkers(string markersPath)
    {
        var d = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!File.Exists(markersPath)) return d;
        // a measuring process appends under an exclusive lock (AppendLine); a reader opening the file in that instant
        // gets a sharing violation (an IOException on Unix too: .NET takes a shared flock to read): try again shortly
        string[] lines;
        for (int attempt = 0; ; attempt++)
        {
            try { lines = File.ReadAllLines(markersPath); break; }
            catch (IOException) when (attempt < 100 && File.Exists(markersPath)) { Thread.Sleep(10); }
        }
        foreach (var line in lines)
        {
            var parts = line.Split(' ');
            if (parts.Length >= 2 && parts[0] == "measured") d[parts[1]] = d.GetValueOrDefault(parts[1]) + 1;
        }
        return d;
    }
}
