using System.Text;
using System.Text.RegularExpressions;
using BatchCohort.Runtime.Storage;

namespace BatchCohort.Runtime.Cohorts;

/// <summary>
/// The manifest's glob patterns over a blob prefix (az://container/data/sub-*_T1w.nii.gz, …/**/*.nii): the literal
/// part before the first wildcard is listed once, the rest is matched against each blob's name with the same rules
/// as <see cref="Glob"/> (* and ? stay within a name, ** crosses folders, names starting with "." only by a pattern
/// that starts with "."). For DICOM, the matches are folders (prefixes holding blobs), returned with a trailing "/".
/// </summary>
public static class RemoteGlob
{
    public static IReadOnlyList<string> Expand(string pattern, bool directories, CancellationToken ct = default)
    {
        int q = pattern.IndexOf('?', pattern.IndexOf("://", StringComparison.Ordinal) + 3);
        // a SAS query starts with "?sv=" or similar: a '?' wildcard never follows "://host/" that way, but be strict:
        string query = "";
        if (q >= 0 && pattern.IndexOf('=', q) > q && !pattern[(q + 1)..].Contains('/'))
        {
            query = pattern[q..];
            pattern = pattern[..q];
        }
        int scheme = pattern.IndexOf("://", StringComparison.Ordinal) + 3;
        var head = pattern[..scheme];
        var segs = pattern[scheme..].Split('/');
        int firstWild = Array.FindIndex(segs, Glob.HasWildcards);
        if (firstWild < 0)
        {
            // no wildcard: the object (or folder) itself, when it is there
            var (folder, name) = StorageLocation.OpenObject(pattern + query);
            if (directories)
                return folder.Child(name).ListAsync("", ct).GetAwaiter().GetResult().Count > 0 ? new[] { pattern.TrimEnd('/') + "/" + query } : Array.Empty<string>();
            return folder.GetInfoAsync(name, ct).GetAwaiter().GetResult() is not null ? new[] { pattern + query } : Array.Empty<string>();
        }
        var baseSpec = head + string.Join('/', segs[..firstWild]);
        var rx = ToRegex(segs[firstWild..]);
        var loc = StorageLocation.Open(baseSpec + query);
        var items = loc.ListAsync("", ct).GetAwaiter().GetResult();
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var it in items)
        {
            if (!directories)
            {
                if (rx.IsMatch(it.Path)) found.Add(baseSpec.TrimEnd('/') + "/" + it.Path + query);
                continue;
            }
            var parts = it.Path.Split('/');
            for (int k = 1; k < parts.Length; k++)
            {
                var dir = string.Join('/', parts[..k]);
                if (rx.IsMatch(dir)) found.Add(baseSpec.TrimEnd('/') + "/" + dir + "/" + query);
            }
        }
        return found.ToList();
    }

    /// <summary>A regular expression for a '/'-separated pattern: * and ? within a name, ** any number of folders.</summary>
    internal static Regex ToRegex(string[] segs)
    {
        var sb = new StringBuilder("^");
        for (int i = 0; i < segs.Length; i++)
        {
            var s = segs[i];
            bool last = i == segs.Length - 1;
            if (s == "**")
            {
                sb.Append(last ? "(?:[^/.][^/]*)(?:/[^/.][^/]*)*" : "(?:[^/.][^/]*/)*");
                continue;
            }
            if (!s.StartsWith('.')) sb.Append("(?!\\.)");
            Glob.AppendSegment(sb, s, "/");
            if (!last) sb.Append('/');
        }
        sb.Append('$');
        return new Regex(sb.ToString(), RegexOptions.CultureInvariant);
    }
}
