using System.Text.Json;

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
}
