using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace BatchCohort.Runtime.Measurement;

/// <summary>The JSON type a setting takes.</summary>
public enum SettingKind
{
    /// <summary>A whole number.</summary>
    Integer,
    /// <summary>A number.</summary>
    Number,
    /// <summary>true or false.</summary>
    Boolean,
    /// <summary>One of a fixed set of words.</summary>
    Choice,
    /// <summary>A non-empty list of numbers.</summary>
    NumberList,
}

/// <summary>
/// One key of a manifest's <c>settings</c>: its dotted path ("registration.metric" is
/// <c>"settings": { "registration": { "metric": … } }</c>), its type, default, allowed range and meaning.
/// </summary>
public sealed record SettingDefinition(
    string Key,
    SettingKind Kind,
    object Default,
    string Description,
    double? Min = null,
    double? Max = null,
    IReadOnlyList<string>? Choices = null)
{
    /// <summary>The default as the manifest writes it.</summary>
    public string DefaultText => Format(Default);

    /// <summary>The allowed values, in words ("0 – 10", "&gt; 0", "one of a, b").</summary>
    public string RangeText => Kind switch
    {
        SettingKind.Boolean => "true or false",
        SettingKind.Choice => "one of " + string.Join(", ", Choices ?? Array.Empty<string>()),
        _ => (Min, Max) switch
        {
            ({ } lo, { } hi) => $"{Num(lo)} – {Num(hi)}",
            ({ } lo, null) => $"≥ {Num(lo)}",
            (null, { } hi) => $"≤ {Num(hi)}",
            _ => "any",
        } + (Kind == SettingKind.NumberList ? " (each; a non-empty list)" : ""),
    };

    public static string Format(object v) => v switch
    {
        bool b => b ? "true" : "false",
        double d => Num(d),
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        double[] a => "[" + string.Join(", ", a.Select(Num)) + "]",
        string s => "\"" + s + "\"",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };

    private static string Num(double d) => d.ToString("0.###############", CultureInfo.InvariantCulture);
}

/// <summary>A problem with one setting: the dotted key and what is wrong.</summary>
public sealed record SettingProblem(string Key, string Problem);

/// <summary>
/// The settings a measurer accepts: the single definition from which the manifest's <c>settings</c> are checked,
/// the values are read, and docs/settings.md's table is generated (a test keeps that page equal to
/// <see cref="ToMarkdownTable"/>).
/// </summary>
public sealed class SettingsCatalog
{
    public SettingsCatalog(IEnumerable<SettingDefinition> definitions)
    {
        Definitions = definitions.ToList();
        var dup = Definitions.GroupBy(d => d.Key, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"setting '{dup.Key}' is defined twice");
    }

    public IReadOnlyList<SettingDefinition> Definitions { get; }

    public SettingDefinition? Find(string key) => Definitions.FirstOrDefault(d => d.Key == key);

    /// <summary>
    /// Checks a manifest's settings: every key must be a defined setting (an unknown key is a problem naming the
    /// closest valid key), every value of the right type and inside its range. <paramref name="values"/> gets the
    /// values given (dotted key → bool, double, long, string or double[]).
    /// </summary>
    public IReadOnlyList<SettingProblem> Validate(JsonObject settings, out Dictionary<string, object> values)
    {
        values = new Dictionary<string, object>(StringComparer.Ordinal);
        var problems = new List<SettingProblem>();
        Walk(settings, "", problems, values);
        return problems;
    }

    private void Walk(JsonObject o, string prefix, List<SettingProblem> problems, Dictionary<string, object> values)
    {
        foreach (var (name, node) in o)
        {
            var key = prefix + name;
            var def = Find(key);
            if (def is not null)
            {
                var problem = Read(def, node, out var value);
                if (problem is not null) problems.Add(new SettingProblem(key, problem));
                else values[key] = value!;
                continue;
            }
            bool isSection = Definitions.Any(d => d.Key.StartsWith(key + ".", StringComparison.Ordinal));
            if (isSection)
            {
                if (node is JsonObject sub) Walk(sub, key + ".", problems, values);
                else problems.Add(new SettingProblem(key, "must be an object (a section of settings: " +
                    string.Join(", ", Definitions.Where(d => d.Key.StartsWith(key + ".", StringComparison.Ordinal)).Select(d => d.Key[(key.Length + 1)..])) + ")"));
                continue;
            }
            var candidates = Definitions.Select(d => d.Key).Concat(Sections()).ToList();
            var near = NearestName.Find(key, candidates) ?? NearestName.Find(name, candidates.Select(c => c[(c.LastIndexOf('.') + 1)..]).Distinct());
            var full = near is null ? null : candidates.FirstOrDefault(c => c == near || c.EndsWith("." + near, StringComparison.Ordinal));
            problems.Add(new SettingProblem(key, "unknown setting" + (full is null ? "" : $"; did you mean '{full}'?") +
                " (every setting is listed in docs/settings.md)"));
        }
    }

    private IEnumerable<string> Sections() =>
        Definitions.Select(d => d.Key).Where(k => k.Contains('.')).Select(k => k[..k.LastIndexOf('.')]).Distinct();

    private static string? Read(SettingDefinition d, JsonNode? node, out object? value)
    {
        value = null;
        switch (d.Kind)
        {
            case SettingKind.Boolean:
                if (node is JsonValue bv && bv.TryGetValue<bool>(out var b)) { value = b; return null; }
                return "must be true or false";
            case SettingKind.Choice:
                if (node is JsonValue cv && cv.TryGetValue<string>(out var s))
                {
                    var match = d.Choices!.FirstOrDefault(c => string.Equals(c, s, StringComparison.OrdinalIgnoreCase));
                    if (match is not null) { value = match; return null; }
                    var near = NearestName.Find(s, d.Choices!);
                    return $"'{s}' is not one of {string.Join(", ", d.Choices!)}" + (near is null ? "" : $"; did you mean '{near}'?");
                }
                return $"must be one of {string.Join(", ", d.Choices!)} (a string)";
            case SettingKind.Integer:
            {
                if (!TryNumber(node, out var x)) return "must be a whole number";
                if (x != Math.Floor(x) || Math.Abs(x) > int.MaxValue) return $"must be a whole number (got {Num(x)})";
                var r = InRange(d, x);
                if (r is not null) return r;
                value = (long)x;
                return null;
            }
            case SettingKind.Number:
            {
                if (!TryNumber(node, out var x)) return "must be a number";
                var r = InRange(d, x);
                if (r is not null) return r;
                value = x;
                return null;
            }
            case SettingKind.NumberList:
            {
                if (node is not JsonArray a || a.Count == 0) return "must be a non-empty list of numbers, e.g. [8, 4, 2]";
                var list = new double[a.Count];
                for (int i = 0; i < a.Count; i++)
                {
                    if (!TryNumber(a[i], out list[i])) return $"item {i + 1} must be a number";
                    var r = InRange(d, list[i]);
                    if (r is not null) return $"item {i + 1}: {r}";
                }
                value = list;
                return null;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(d), d.Kind, null);
        }
    }

    private static bool TryNumber(JsonNode? node, out double x)
    {
        x = double.NaN;
        return node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number && v.TryGetValue(out x) && double.IsFinite(x);
    }

    private static string? InRange(SettingDefinition d, double x)
    {
        if (d.Min is { } lo && x < lo || d.Max is { } hi && x > hi) return $"{Num(x)} is outside the allowed range {d.RangeText}";
        return null;
    }

    private static string Num(double d) => d.ToString("0.###############", CultureInfo.InvariantCulture);

    /// <summary>The table of docs/settings.md: key, type, default, allowed values, meaning.</summary>
    public string ToMarkdownTable()
    {
        var sb = new StringBuilder();
        sb.Append("| setting | type | default | allowed | meaning |\n| --- | --- | --- | --- | --- |\n");
        foreach (var d in Definitions)
            sb.Append($"| `{d.Key}` | {(d.Kind == SettingKind.NumberList ? "list of numbers" : d.Kind.ToString().ToLowerInvariant())} | `{d.DefaultText}` | {d.RangeText} | {d.Description.Replace("|", "\\|")} |\n");
        return sb.ToString();
    }
}

/// <summary>"Did you mean …": the closest of a set of names by edit distance (case-insensitive), if close enough.</summary>
public static class NearestName
{
    public static string? Find(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestD = int.MaxValue;
        var n = name.ToLowerInvariant();
        foreach (var c in candidates)
        {
            int d = Distance(n, c.ToLowerInvariant());
            if (d < bestD) { bestD = d; best = c; }
        }
        if (best is null) return null;
        // close enough: one edit for short names, about a third of the name for long ones
        int allowed = Math.Max(1, Math.Min(name.Length, best.Length) / 3);
        return bestD <= allowed ? best : null;
    }

    /// <summary>Optimal string alignment distance (Levenshtein plus adjacent transpositions: "nwvb" → "nwbv" is 1).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int v = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = Math.Min(v, d[i - 2, j - 2] + 1);
                d[i, j] = v;
            }
        return d[a.Length, b.Length];
    }
}
