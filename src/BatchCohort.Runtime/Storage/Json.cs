using System.Text.Json;
using BatchCohort.Imaging.Formats;

namespace BatchCohort.Runtime.Storage;

/// <summary>The JSON conventions of every file the runtime writes (camelCase, indented, no nulls dropped).</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DictionaryKeyPolicy = null,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        // Files for people and tools, never embedded in HTML: keep "+", "<", non-ASCII names readable.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The same conventions without indentation: state the coordinator writes often (grain storage, journals).</summary>
    public static readonly JsonSerializerOptions Compact = new(Options) { WriteIndented = false };

    /// <summary>Writes <paramref name="value"/> as JSON with these conventions, atomically (<see cref="AtomicFile"/>).</summary>
    /// <summary>Writes <paramref name="value"/> as JSON into <paramref name="path"/> atomically, streamed: a run record of
    /// 10,000 subjects is megabytes, and <c>SerializeToUtf8Bytes</c> would leave the buffers it grew pooled in the process.</summary>
    public static void WriteFile<T>(string path, T value, JsonSerializerOptions? options = null) =>
        AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, value, options ?? Options));
}
