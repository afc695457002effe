using System.Text.Json;
using BatchCohort.Runtime.Coordination;

namespace BatchCohort.Runtime.Storage;

/// <summary>
/// The runs an output holds, read from the output itself — a folder, or a blob prefix through this process's
/// credentials — never from a staging folder, which is current only on the machine that ran the run: runs/state.json
/// (the coordinator's latest push: the open or last run) and the runs/&lt;run-id&gt;.json records of finished runs.
/// </summary>
public static class OutputRuns
{
    /// <summary>The output's runs/state.json (the open or last run), or null when there is none.</summary>
    public static async Task<RunState?> ReadStateAsync(string location, CancellationToken ct = default)
    {
        var got = await StorageLocation.Open(location).ReadAsync(CohortStorage.StateName, 256L << 20, ct);
        if (got is null) return null;
        try { return JsonSerializer.Deserialize<RunState>(got.Content, Json.Options); }
        catch (JsonException) { return null; }
    }

    /// <summary>Every run found, newest first. A <see cref="StorageException"/> (one line, no secret) when the output cannot be read.</summary>
    public static async Task<IReadOnlyList<RunState>> ReadAsync(string location, CancellationToken ct = default)
    {
        var output = StorageLocation.Open(location);
        var states = new Dictionary<string, RunState>(StringComparer.Ordinal);
        IReadOnlyList<StoredItem> items;
        if (output.LocalPath is { } lp && !Directory.Exists(lp)) throw new StorageException($"{lp}: no such folder");
        items = await output.ListAsync("runs", ct);
        foreach (var it in items.OrderBy(i => i.Path == CohortStorage.StateName ? 1 : 0))   // state.json last: the newest word on its run
        {
            if (!it.Path.StartsWith("runs/", StringComparison.Ordinal)) continue;
            var name = it.Path["runs/".Length..];
            if (name.Contains('/') || !name.EndsWith(".json", StringComparison.Ordinal) || name.StartsWith('.')
                || name.StartsWith("settings-", StringComparison.Ordinal) || name.StartsWith("cohort-", StringComparison.Ordinal) || name == "atlas.json") continue;
            var got = await output.ReadAsync("runs/" + name, 256L << 20, ct);
            if (got is null) continue;
            RunState? s;
            try { s = JsonSerializer.Deserialize<RunState>(got.Content, Json.Options); }
            catch (JsonException) { continue; }
            if (s is null || s.RunId.Length == 0) continue;
            states[s.RunId] = s;
        }
        return states.Values.OrderByDescending(s => s.StartedAt).ToList();
    }
}
