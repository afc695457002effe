using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using BatchCohort.Analysis.Tables;
using BatchCohort.Contracts;
using BatchCohort.Imaging;
using BatchCohort.Runtime.Caching;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Measurement;
using BatchCohort.Runtime.Storage;

namespace BatchCohort.Runtime.Distribution;

/// <summary>
/// What a per-subject consumer does with a <see cref="MeasureSubject"/> command, independent of the transport:
/// hash the input, look for a result under the same cache key (found: announce it, measure nothing), otherwise
/// measure, write the result record atomically, and only then announce it. Every failure becomes a
/// <see cref="SubjectFailed"/> event with a reason; cancellation (Ctrl-C) announces nothing, so the coordinator
/// keeps the subject pending.
/// </summary>
public sealed class SubjectWorker
{
    private readonly ISubjectMeasurer _measurer;
    private readonly ConcurrentDictionary<Uri, RunSettings> _settings = new();

    public SubjectWorker(ISubjectMeasurer measurer, string? workerName = null)
    {
        _measurer = measurer;
        Name = workerName ?? $"{Environment.MachineName}/{Environment.ProcessId}";
    }

    public string Name { get; }

    /// <summary>Publishes events through <paramref name="publish"/> (a MassTransit publish endpoint in the product).</summary>
    public async Task HandleAsync(MeasureSubject cmd, Func<object, Task> publish, CancellationToken ct)
    {
        if (ct.IsCancellationRequested) return;
        var sw = Stopwatch.StartNew();
        string? key = null;
        SubjectStorage? io = null;
        try
        {
            if (cmd.KnownProblem is not null)
                throw new SubjectMeasurementException(cmd.KnownProblem, FailureKinds.InputMissing);
            // the input on this machine (a blob is streamed into scratch) and the subject's folder, local or in a blob container
            try { io = await SubjectStorage.OpenAsync(SubjectStorage.LocationOf(cmd.Input), SubjectStorage.LocationOf(cmd.Output), cmd.SubjectLabel, Scratch, ct); }
            catch (StorageException e) { throw new SubjectMeasurementException(e.Message, FailureKinds.InputUnreadable, e); }
            var input = io.InputPath;
            string inputHash;
            try { inputHash = await Task.Run(() => ContentHash.OfInput(input, ct), ct); }
            catch (FileNotFoundException e) { throw new SubjectMeasurementException(e.Message, FailureKinds.InputMissing, e); }
            catch (DirectoryNotFoundException e) { throw new SubjectMeasurementException($"input file not found: {input} ({e.Message})", FailureKinds.InputMissing, e); }
            catch (UnauthorizedAccessException e) { throw new SubjectMeasurementException($"input not readable: {input} ({e.Message})", FailureKinds.InputUnreadable, e); }
            key = CacheKey.Compute(inputHash, _measurer.PipelineVersion, cmd.SettingsHash);
            if (await io.TryLoadAsync(key, ct) is not null)
            {
                await publish(new SubjectMeasured
                {
                    RunId = cmd.RunId, SubjectId = cmd.SubjectId, CacheKey = key, Result = io.ResultUri,
                    FromCache = true, Seconds = sw.Elapsed.TotalSeconds, Worker = Name,
                });
                return;
            }
            var settings = _settings.GetOrAdd(cmd.Settings, u => RunSettings.Load(LocalPath(u)));
            if (settings.Hash != cmd.SettingsHash)
                throw new SubjectMeasurementException($"settings document {cmd.Settings} does not have the hash the command names", FailureKinds.Internal);
            await publish(new SubjectStarted { RunId = cmd.RunId, SubjectId = cmd.SubjectId, Worker = Name, StartedAt = DateTimeOffset.UtcNow });
            var outDir = io.WorkDirectory();
            var work = new SubjectWork(cmd.SubjectId, cmd.SubjectLabel, input, settings.InputType, settings.Atlas,
                (JsonObject)settings.PipelineSettings.DeepClone(), outDir, "sub-" + cmd.SubjectLabel);
            var m = await _measurer.MeasureAsync(work, ct);
            ct.ThrowIfCancellationRequested();
            var result = new SubjectResult
            {
                SubjectId = cmd.SubjectId,
                SubjectLabel = cmd.SubjectLabel,
                CacheKey = key,
                InputHash = inputHash,
                PipelineVersion = _measurer.PipelineVersion,
                SettingsHash = cmd.SettingsHash,
                RunId = cmd.RunId,
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
            // the measures row as a one-row Parquet table (DESIGN layout), then the result record: durable before it is announced
            var rowFile = $"sub-{cmd.SubjectLabel}_measures.parquet";
            var tmp = Path.Combine(outDir, $".{cmd.SubjectLabel}-{Guid.NewGuid():N}.parquet");
            TableFile.Write(CohortGroupStage.MeasuresTable(new[] { result }), tmp);
            File.Move(tmp, Path.Combine(outDir, rowFile), overwrite: true);
            result.Files["measures"] = rowFile;
            // derivatives first, then the record, created only if absent: of two workers racing on this subject one
            // commits, the other finds that record and announces it instead of its own
            var commit = await io.CommitAsync(result, ct);
            await publish(new SubjectMeasured
            {
                RunId = cmd.RunId, SubjectId = cmd.SubjectId, CacheKey = key, Result = io.ResultUri,
                FromCache = !commit.Won, Seconds = sw.Elapsed.TotalSeconds, Worker = Name,
            });
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // interrupted: nothing announced; the subject stays pending and is redone on resume
        }
        catch (Exception e)
        {
            var (kind, reason) = Describe(e);
            if (io is not null) reason = io.Rename(reason);
            await publish(new SubjectFailed
            {
                RunId = cmd.RunId, SubjectId = cmd.SubjectId, Reason = reason, Kind = kind, CacheKey = key,
                Seconds = sw.Elapsed.TotalSeconds, Worker = Name,
            });
        }
        finally
        {
            io?.Dispose();
        }
    }

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

    /// <summary>The scratch space blob inputs are streamed into (settable for tests).</summary>
    public ScratchSpace? Scratch { get; init; }

    private static string LocalPath(Uri u) =>
        u.IsAbsoluteUri && u.IsFile ? u.LocalPath : throw new SubjectMeasurementException($"this worker reads local files only, not {u.OriginalString}", FailureKinds.Internal);
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
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException("not an object");
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
