using BatchCohort.Imaging.Formats;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using BatchCohort.Analysis.Tables;
using BatchCohort.Contracts;
using BatchCohort.Imaging;
using BatchCohort.Imaging.Processing;
using BatchCohort.Runtime.Caching;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Measurement;
using BatchCohort.Runtime.Storage;
using BatchCohort.Runtime.Coordination;

namespace BatchCohort.Runtime.Distribution;

/// <summary>
/// What a subject grain does with a <see cref="SubjectJob"/>, independent of Orleans: hash the input, look for a
/// result under the same cache key (found: report it, measure nothing), otherwise measure inside the silo's core
/// budget (<see cref="Parallelism.Limit"/>), write the derivatives and the result record atomically, and only then
/// return the report. Every failure becomes a Failed report with a reason; cancellation returns null (nothing is
/// reported, so the coordinator keeps the subject pending).
/// </summary>
public sealed class SubjectWorker
{
    private readonly ISubjectMeasurer _measurer;
    private readonly ConcurrentDictionary<string, RunSettings> _settings = new();

    public SubjectWorker(ISubjectMeasurer measurer, string? workerName = null, int coreBudget = 0)
    {
        _measurer = measurer;
        Name = workerName ?? $"{Environment.MachineName}/{Environment.ProcessId}";
        CoreBudget = coreBudget > 0 ? coreBudget : Environment.ProcessorCount;
    }

    public string Name { get; }
    public string PipelineVersion => _measurer.PipelineVersion;
    /// <summary>The cores one subject's parallel loops may use.</summary>
    public int CoreBudget { get; }

    public async Task<SubjectReport?> RunAsync(SubjectJob job, CancellationToken ct)
    {
        if (ct.IsCancellationRequested) return null;
        var sw = Stopwatch.StartNew();
        string? key = null;
        SubjectStorage? io = null;
        try
        {
            if (job.KnownProblem is not null)
                throw new SubjectMeasurementException(job.KnownProblem, FailureKinds.InputMissing);
            if (job.PipelineVersion != _measurer.PipelineVersion)
                throw new SubjectMeasurementException($"silo {Name} runs pipeline version {_measurer.PipelineVersion}, the run needs {job.PipelineVersion}", FailureKinds.Internal);
            // the input on this machine (a blob input is streamed into scratch) and the subject's folder, local or in a blob container
            try { io = await SubjectStorage.OpenAsync(Location(job.Input), Location(job.Output), job.SubjectLabel, Scratch, ct); }
            catch (StorageException e) { throw new SubjectMeasurementException(e.Message, FailureKinds.InputUnreadable, e); }
            var input = io.InputPath;
            string inputHash;
            try { inputHash = await Task.Run(() => ContentHash.OfInput(input, ct), ct); }
            catch (FileNotFoundException e) { throw new SubjectMeasurementException(e.Message, FailureKinds.InputMissing, e); }
            catch (DirectoryNotFoundException e) { throw new SubjectMeasurementException($"input file not found: {input} ({e.Message})", FailureKinds.InputMissing, e); }
            catch (UnauthorizedAccessException e) { throw new SubjectMeasurementException($"input not readable: {input} ({e.Message})", FailureKinds.InputUnreadable, e); }
            key = CacheKey.Compute(inputHash, _measurer.PipelineVersion, job.SettingsHash);
            if (await io.TryLoadAsync(key, ct) is { } cached)
                return Measured(job, key, io.ResultUri, true, sw.Elapsed.TotalSeconds, cached);
            var settings = await SettingsAsync(job.Settings, ct);
            if (settings.Hash != job.SettingsHash)
                throw new SubjectMeasurementException($"settings document {job.Settings} does not have the hash the job names", FailureKinds.Internal);
            // a blob atlas: this process's own copy (fetched once, checked against the atlas identity of the cache key)
            AtlasSpec atlas;
            try { atlas = await AtlasCache.LocalAsync(settings.Atlas, settings.AtlasIdentity, Scratch, ct); }
            catch (StorageException e) { throw new SubjectMeasurementException("atlas: " + e.Message, FailureKinds.InputUnreadable, e); }
            var outDir = io.WorkDirectory();
            var work = new SubjectWork(job.SubjectId, job.SubjectLabel, input, settings.InputType, atlas,
                (JsonObject)settings.PipelineSettings.DeepClone(), outDir, "sub-" + job.SubjectLabel);
            MeasurerOutput m;
            using (Parallelism.Limit(CoreBudget))
                m = await _measurer.MeasureAsync(work, ct);
            ct.ThrowIfCancellationRequested();
            var result = new ResultRecord
            {
                SubjectId = job.SubjectId,
                SubjectLabel = job.SubjectLabel,
                CacheKey = key,
                InputHash = inputHash,
                PipelineVersion = _measurer.PipelineVersion,
                SettingsHash = job.SettingsHash,
                RunId = job.RunId,
                MeasuredAt = DateTimeOffset.UtcNow,
                Seconds = Math.Round(sw.Elapsed.TotalSeconds, 3),
                Measures = m.Measures.ToDictionary(kv => kv.Key, kv => kv.Value is double d && double.IsFinite(d) ? d : (double?)null),
                Labels = m.Labels.ToDictionary(kv => kv.Key, kv => kv.Value),
                Files = m.Files.ToDictionary(kv => kv.Key, kv => kv.Value),
                Steps = m.StepSeconds.ToDictionary(kv => kv.Key, kv => kv.Value),
            };
            foreach (var f in result.Files)
                if (!File.Exists(Path.Combine(outDir, f.Value)))
                    throw new SubjectMeasurementException($"the pipeline reported a {f.Key} file it did not write: {f.Value}", FailureKinds.Internal);
            // the measures row as a one-row Parquet table (DESIGN layout), then the result record: durable before it is reported
            var rowFile = $"sub-{job.SubjectLabel}_measures.parquet";
            AtomicFile.WriteVia(Path.Combine(outDir, rowFile), tmp => TableFile.Write(GroupStage.MeasuresTable(new[] { result }), tmp));
            result.Files["measures"] = rowFile;
            // derivatives first, then the record, created only if absent (If-None-Match): of two workers racing on this
            // subject one commits, the other finds that record and reports it instead of its own
            var commit = await io.CommitAsync(result, ct);
            return Measured(job, key, io.ResultUri, !commit.Won, sw.Elapsed.TotalSeconds, commit.Result);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return null;   // interrupted: nothing reported; the subject stays pending and is redone on resume
        }
        catch (Exception e)
        {
            var (kind, reason) = Describe(e);
            if (io is not null) reason = io.Rename(reason);
            return new SubjectReport(job.RunId, job.SubjectId, job.Attempt, SubjectOutcome.Failed, Name, sw.Elapsed.TotalSeconds,
                CacheKey: key, FailureKind: kind, Reason: reason);
        }
        finally
        {
            io?.Dispose();
        }
    }

    /// <summary>The scratch space blob inputs are streamed into (default: the process's).</summary>
    public ScratchSpace? Scratch { get; init; }

    /// <summary>A job's location: a file URI's path, any other URI (az://, https) as written.</summary>
    private static string Location(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var u) ? SubjectStorage.LocationOf(u) : uri;

    private SubjectReport Measured(SubjectJob job, string key, Uri result, bool fromCache, double seconds, ResultRecord r) =>
        new(job.RunId, job.SubjectId, job.Attempt, SubjectOutcome.Measured, Name, seconds, CacheKey: key,
            Result: result.AbsoluteUri, FromCache: fromCache, Measures: new Dictionary<string, double?>(r.Measures));

    /// <summary>One line a person can act on, and the failure's kind.</summary>
    public static (string Kind, string Reason) Describe(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } ag) e = ag.InnerExceptions[0];
        var msg = e.Message.ReplaceLineEndings(" ").Trim();
        return e switch
        {
            SubjectMeasurementException sme => (sme.Kind, msg),
            ImageFormatException => (FailureKinds.InputUnreadable, msg),
            FileNotFoundException or DirectoryNotFoundException => (FailureKinds.InputMissing, msg),
            InvalidDataException or EndOfStreamException or FormatException or NotSupportedException => (FailureKinds.InputUnreadable, msg),
            IOException or UnauthorizedAccessException => (FailureKinds.InputUnreadable, msg),
            OutOfMemoryException => (FailureKinds.Measurement, "not enough memory to measure this subject"),
            OperationCanceledException => (FailureKinds.Measurement, "the measurement was cancelled: " + msg),
            _ => (FailureKinds.Internal, $"internal error ({e.GetType().Name}): {msg}"),
        };
    }

    /// <summary>The run's settings document (read once per process): a local file (a local output), or a blob of the
    /// output read through this process's credentials — a silo on another machine never needs the client's files.</summary>
    private async Task<RunSettings> SettingsAsync(string uri, CancellationToken ct)
    {
        if (_settings.TryGetValue(uri, out var known)) return known;
        RunSettings loaded;
        if (StorageLocation.IsRemote(uri))
        {
            StoredBytes? doc;
            try
            {
                var (folder, name) = StorageLocation.OpenObject(uri);
                doc = await folder.ReadAsync(name, 16L << 20, ct);
            }
            catch (StorageException e) { throw new SubjectMeasurementException($"settings document: {e.Message}", FailureKinds.Internal, e); }
            if (doc is null) throw new SubjectMeasurementException($"settings document {StorageLocation.Redact(uri)}: not found", FailureKinds.Internal);
            loaded = RunSettings.Parse(System.Text.Encoding.UTF8.GetString(doc.Content), StorageLocation.Redact(uri));
        }
        else
        {
            var path = Uri.TryCreate(uri, UriKind.Absolute, out var u) && u.IsFile ? u.LocalPath
                : throw new SubjectMeasurementException($"settings document {uri}: neither a file nor a blob location", FailureKinds.Internal);
            loaded = RunSettings.Load(path);
        }
        return _settings.GetOrAdd(uri, loaded);
    }
}

/// <summary>
/// The run's settings document (runs/settings-&lt;hash&gt;.json): what every worker needs besides the subject —
/// the input type, the atlas, and the pipeline settings. Its hash is the settings part of every cache key.
/// </summary>
public sealed record RunSettings(InputType InputType, AtlasSpec Atlas, string AtlasIdentity, JsonObject PipelineSettings)
{
    /// <summary>The hash of the settings that change measurements: atlas identity (its files' contents) and pipeline settings.
    /// The input type is not part of it (the input's own bytes are).</summary>
    public string Hash => CanonicalJson.Hash(new JsonObject
    {
        ["atlas"] = AtlasIdentity,
        ["settings"] = PipelineSettings.DeepClone(),
    });

    public JsonObject ToJson() => new()
    {
        ["inputType"] = InputType.ToString().ToLowerInvariant(),
        ["atlas"] = new JsonObject
        {
            ["kind"] = Atlas.Kind,
            ["path"] = Atlas.Path,
            ["head"] = Atlas.Head,
            ["brain"] = Atlas.Brain,
            ["icv"] = Atlas.Icv,
            ["tissues"] = Atlas.Tissues,
            ["identity"] = AtlasIdentity,
        },
        ["settings"] = PipelineSettings.DeepClone(),
    };

    public static RunSettings Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SubjectMeasurementException($"settings document {path} is unreadable: {e.Message}", FailureKinds.Internal, e);
        }
        return Parse(text, path);
    }

    /// <summary>A settings document's text; <paramref name="shown"/> names it in errors.</summary>
    public static RunSettings Parse(string text, string shown)
    {
        var path = shown;
        try
        {
            var o = JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException("not an object");
            var a = o["atlas"] as JsonObject ?? throw new InvalidDataException("no atlas");
            var atlas = new AtlasSpec((string)a["kind"]!, (string?)a["path"], (string?)a["head"], (string?)a["brain"], (string?)a["icv"], (string?)a["tissues"]);
            var type = Enum.Parse<InputType>((string)o["inputType"]!, ignoreCase: true);
            return new RunSettings(type, atlas, (string)a["identity"]!, (o["settings"] as JsonObject ?? new JsonObject()).DeepClone().AsObject());
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or ArgumentException or InvalidCastException or NullReferenceException)
        {
            throw new SubjectMeasurementException($"settings document {path} is unreadable: {e.Message}", FailureKinds.Internal, e);
        }
    }
}
