using System.IO.Compression;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Runtime.Storage;
using Orleans.Runtime;
using Orleans.Storage;
using BatchCohort.Imaging.Formats;

namespace BatchCohort.Host;

/// <summary>
/// Grain storage in local files, for the embedded silo: run state lives beside the run's outputs. A cohort-run
/// grain's state is <c>runs/state.json</c> (the file a person or a script reads; it holds the current run of that
/// output folder) and its journal <c>runs/state.journal</c> (the subjects changed since state.json was written;
/// <see cref="RunState.TryLoad"/> applies it), every other grain's is <c>runs/grains/&lt;state&gt;-&lt;key&gt;.json</c>. JSON written atomically
/// (temp file + rename); the ETag is the SHA-256 of the file, so a stale writer gets an InconsistentStateException.
/// </summary>
public sealed class FileGrainStorage(string runsDirectory) : IGrainStorage
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Locks = new(StringComparer.Ordinal);

    public string PathOf(string stateName, GrainId grainId) =>
        grainId.Type.ToString() == "cohortrun"
            ? stateName == "journal"
                ? RunJournal.PathBeside(RunState.StatePath(Path.GetDirectoryName(runsDirectory.TrimEnd(Path.DirectorySeparatorChar))!))
                : RunState.StatePath(Path.GetDirectoryName(runsDirectory.TrimEnd(Path.DirectorySeparatorChar))!)
            : Path.Combine(runsDirectory, "grains", $"{stateName}-{Escape(grainId.Key.ToString()!)}.json");

    private static string Escape(string key)
    {
        var safe = new string(key.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        if (safe.Length > 80) safe = safe[..80];
        return safe + "-" + Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..8].ToLowerInvariant();
    }

    private static string ETagOf(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes))[..16];

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        if (!File.Exists(path)) { grainState.ETag = null; grainState.RecordExists = false; return; }
        var bytes = await File.ReadAllBytesAsync(path);
        grainState.ETag = ETagOf(bytes);
        T? value;
        try { value = JsonSerializer.Deserialize<T>(bytes, Json.Options); }
        catch (JsonException) { value = default; }
        // runs/state.json (and its journal) holds the folder's current run: another run's state is not this grain's
        if (value is null || (value is RunState r && r.RunId != grainId.Key.ToString())
            || (value is RunJournal j && j.RunId != grainId.Key.ToString())) { grainState.RecordExists = false; return; }
        grainState.State = value;
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        var gate = Locks.GetOrAdd(path, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync();
        try
        {
            string? current = File.Exists(path) ? ETagOf(await File.ReadAllBytesAsync(path)) : null;
            if (current is not null && grainState.ETag is not null && current != grainState.ETag)
                throw new InconsistentStateException($"{path} was changed by another writer", current, grainState.ETag);
            // the journal is rewritten at every lease: compact JSON; state.json stays indented for people
            var ms = new MemoryStream();   // not SerializeToUtf8Bytes: see JsonStateSerializer
            JsonSerializer.Serialize(ms, grainState.State, grainState.State is RunJournal ? Json.Compact : Json.Options);
            var bytes = ms.ToArray();
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            AtomicFile.WriteAllBytes(path, bytes);
            grainState.ETag = ETagOf(bytes);
            grainState.RecordExists = true;
        }
        finally { gate.Release(); }
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        if (File.Exists(path)) File.Delete(path);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }
}

/// <summary>Grain state as System.Text.Json (the same JSON as the embedded files), gzip-compressed, in Redis and Azure
/// blobs. A run's snapshot of 10,000 subjects is 4.4 MB of JSON, mostly the same property names: compressed it is about
/// a tenth of that, written straight through the compressor, so the whole document never lies in one buffer. Every
/// write of it used to leave several megabytes on the large-object heap (the JSON, then the Redis client's copy) — most
/// of the coordinator silo's growth while it measured. State written uncompressed (by an earlier version) still reads.</summary>
public sealed class JsonStateSerializer : IGrainStorageSerializer
{
    /// <remarks>Through a stream, not <c>SerializeToUtf8Bytes</c>: buffers rented from the shared array pool while a
    /// megabyte document grows stay pooled, counted as the silo's. The output starts at the size of the last document
    /// of the same type (plus an eighth), so it is not a doubling series of copies.</remarks>
    public BinaryData Serialize<T>(T? input)
    {
        int hint = SizeHint<T>.Last;
        var ms = new MemoryStream(hint > 0 ? hint + hint / 8 : 256);
        using (var z = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
            JsonSerializer.Serialize(z, input, Json.Compact);
        SizeHint<T>.Last = (int)ms.Length;
        return new BinaryData(ms.GetBuffer().AsMemory(0, (int)ms.Length));
    }

    private static class SizeHint<T>
    {
        public static volatile int Last;
    }

    /// <summary>True for gzip's magic bytes (a JSON document never starts with 0x1f).</summary>
    public static bool IsCompressed(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 0x1f && data[1] == 0x8b;

    public T Deserialize<T>(BinaryData input)
    {
        var data = input.ToMemory();
        if (!IsCompressed(data.Span)) return JsonSerializer.Deserialize<T>(data.Span, Json.Options)!;
        using var z = new GZipStream(input.ToStream(), CompressionMode.Decompress);
        return JsonSerializer.Deserialize<T>(z, Json.Options)!;
    }
}
