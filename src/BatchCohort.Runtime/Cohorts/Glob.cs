using System.Text;
using System.Text.RegularExpressions;

namespace BatchCohort.Runtime.Cohorts;

/// <summary>
/// File-name patterns of cohort manifests, relative to the manifest's folder: <c>*</c> (any run of characters
/// within a name), <c>?</c> (one character), <c>[abc]</c>/<c>[a-z]</c>/<c>[!a]</c> (a character class) and <c>**</c>
/// (any number of folders, including none). Names starting with "." are matched only by a pattern segment that
/// starts with ".". Matching is case-sensitive (as the file system is on Linux). Results are sorted (ordinal).
/// </summary>
public static class Glob
{
    private const int MaxDepth = 64;

    public static bool HasWildcards(string s) => s.IndexOfAny(['*', '?', '[']) >= 0;

    /// <summary>The folder a pattern starts searching in (the part before its first wildcard), as a full path.</summary>
    public static string FixedPrefix(string pattern, PathGuard guard)
    {
        var segs = pattern.Replace('\\', '/').Split('/');
        int firstWild = Array.FindIndex(segs, HasWildcards);
        var fixedSegs = firstWild < 0 ? segs[..^1] : segs[..firstWild];
        var prefix = string.Join('/', fixedSegs);
        if (prefix.Length == 0) return pattern.StartsWith('/') ? "/" : guard.BaseDirectory;
        return Path.GetFullPath(Path.Combine(guard.BaseDirectory, prefix));
    }

    /// <summary>Expands <paramref name="pattern"/> to the full paths of matching files (or folders).</summary>
    public static IReadOnlyList<string> Expand(string pattern, bool directories, PathGuard guard, string field)
    {
        var segs = pattern.Replace('\\', '/').Split('/');
        int firstWild = Array.FindIndex(segs, HasWildcards);
        if (firstWild < 0)
        {
            var full = guard.Resolve(pattern, field);
            return (directories ? Directory.Exists(full) : File.Exists(full)) ? new[] { full } : Array.Empty<string>();
        }
        var prefix = string.Join('/', segs[..firstWild]);
        if (prefix.Length == 0 && pattern.StartsWith('/')) prefix = "/";
        var start = prefix.Length == 0 ? guard.BaseDirectory : guard.Resolve(prefix, field);
        if (prefix.Length == 0) guard.Check(start, ".", field);
        var rest = segs[firstWild..];
        foreach (var s in rest)
        {
            if (s is ".." or ".")
                throw new CohortManifestException(guard.ManifestPath, field, $"pattern '{pattern}': '{s}' after a wildcard is not allowed");
            if (s.Length == 0)
                throw new CohortManifestException(guard.ManifestPath, field, $"pattern '{pattern}' has an empty folder name");
        }
        var matchers = rest.Select(s => s == "**" ? null : ToRegex(s)).ToArray();
        var found = new SortedSet<string>(StringComparer.Ordinal);
        if (Directory.Exists(start)) Walk(start, 0, 0, rest, matchers, directories, found);
        foreach (var f in found) guard.Check(f, f, field);
        return found.ToList();
    }

    private static void Walk(string dir, int i, int depth, string[] segs, Regex?[] matchers, bool directories, SortedSet<string> found)
    {
        if (depth > MaxDepth) return;
        bool last = i == segs.Length - 1;
        if (segs[i] == "**")
        {
            if (last)
            {
                // "a/**" matches everything below a
                foreach (var e in Entries(dir, directories, false)) found.Add(e);
                foreach (var d in Entries(dir, true, false)) Walk(d, i, depth + 1, segs, matchers, directories, found);
                return;
            }
            Walk(dir, i + 1, depth, segs, matchers, directories, found);
            foreach (var d in Entries(dir, true, false)) Walk(d, i, depth + 1, segs, matchers, directories, found);
            return;
        }
        var rx = matchers[i]!;
        bool dotOk = segs[i].StartsWith('.');
        if (!HasWildcards(segs[i]))
        {
            var p = Path.Combine(dir, segs[i]);
            if (last) { if (directories ? Directory.Exists(p) : File.Exists(p)) found.Add(p); }
            else if (Directory.Exists(p)) Walk(p, i + 1, depth + 1, segs, matchers, directories, found);
            return;
        }
        foreach (var e in Entries(dir, last ? directories : true, dotOk))
        {
            if (!rx.IsMatch(Path.GetFileName(e))) continue;
            if (last) found.Add(e);
            else Walk(e, i + 1, depth + 1, segs, matchers, directories, found);
        }
    }

    private static IEnumerable<string> Entries(string dir, bool directories, bool includeDot)
    {
        IEnumerable<string> items;
        try { items = directories ? Directory.EnumerateDirectories(dir) : Directory.EnumerateFiles(dir); }
        catch (UnauthorizedAccessException) { yield break; }
        catch (DirectoryNotFoundException) { yield break; }
        foreach (var e in items)
            if (includeDot || !Path.GetFileName(e).StartsWith('.')) yield return e;
    }

    internal static Regex ToRegex(string segment)
    {
        var sb = new StringBuilder("^");
        AppendSegment(sb, segment, "");
        sb.Append('$');
        return new Regex(sb.ToString(), RegexOptions.CultureInvariant);
    }

    /// <summary>One name's pattern as a regular expression: * any run, ? one character, [abc] / [!abc] / [a-z] a class,
    /// none of them matching a character of <paramref name="excluded"/> (the path separator for '/'-separated
    /// patterns, nothing for a single name).</summary>
    internal static void AppendSegment(StringBuilder sb, string segment, string excluded)
    {
        string any = excluded.Length == 0 ? "." : "[^" + Regex.Escape(excluded) + "]";
        for (int i = 0; i < segment.Length; i++)
        {
            char c = segment[i];
            switch (c)
            {
                case '*': sb.Append(any).Append('*'); break;
                case '?': sb.Append(any); break;
                case '[':
                    int close = segment.IndexOf(']', i + 2);
                    if (close < 0) { sb.Append(@"\["); break; }
                    var body = segment[(i + 1)..close];
                    bool neg = body.StartsWith('!') || body.StartsWith('^');
                    if (neg) body = body[1..];
                    sb.Append('[').Append(neg ? "^" + Regex.Escape(excluded) : "").Append(Regex.Escape(body).Replace(@"\-", "-")).Append(']');
                    i = close;
                    break;
                default: sb.Append(Regex.Escape(c.ToString())); break;
            }
        }
    }
}
