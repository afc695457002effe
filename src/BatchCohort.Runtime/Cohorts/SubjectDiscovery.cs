using System.Text;
using System.Text.RegularExpressions;

namespace BatchCohort.Runtime.Cohorts;

/// <summary>
/// One subject of a cohort: its id (as the demographics table knows it), the BIDS label used in output names
/// (the id with everything but letters and digits removed), its input (a file or a DICOM folder), and a problem
/// already known before measuring (e.g. the file the manifest names does not exist).
/// </summary>
public sealed record SubjectInput(string Id, string Label, string InputPath, InputType Type, string? Problem = null);

/// <summary>Turns a manifest's <c>inputs</c> into the cohort's subjects, sorted by id.</summary>
public static class SubjectDiscovery
{
    public static IReadOnlyList<SubjectInput> Discover(CohortManifest m)
    {
        var found = new List<(string Id, string Path, string? Problem, string Source)>();
        var inp = m.Inputs;
        if (inp.Type == InputType.Bids) found.AddRange(DiscoverBids(m));
        foreach (var g in inp.Globs)
        {
            bool remote = Storage.StorageLocation.IsRemote(g);
            var paths = remote ? RemoteGlob.Expand(g, inp.Type == InputType.Dicom) : Glob.Expand(g, inp.Type == InputType.Dicom, m.Guard, "inputs.glob");
            if (inp.Type == InputType.Files) paths = CollapsePairs(paths);
            foreach (var p in paths)
            {
                // a blob: the id comes from its name in the container (no SAS), as a file's comes from its path under the manifest
                var shown = Storage.StorageLocation.Redact(p);
                var rel = remote ? string.Join('/', shown.Split("://", 2)[1].Split('/').Skip(1)) : Path.GetRelativePath(Path.GetDirectoryName(m.ManifestPath)!, p).Replace('\\', '/');
                var id = IdFromPath(rel, remote ? shown.TrimEnd('/') : p, inp.IdPattern, inp.Type)
                    ?? throw new CohortManifestException(m.ManifestPath, "inputs.idPattern", $"does not match '{rel}' (every matched path needs an (?<id>…))");
                found.Add((id, p, null, rel));
            }
        }
        foreach (var s in inp.Subjects)
        {
            string? problem = null;
            // a blob is looked for by the worker (a missing one fails that subject with its location)
            bool exists = Storage.StorageLocation.IsRemote(s.Path) || (inp.Type == InputType.Dicom ? Directory.Exists(s.Path) : File.Exists(s.Path));
            if (!exists) problem = inp.Type == InputType.Dicom ? $"input folder not found: {s.Path}" : $"input file not found: {s.Path}";
            found.Add((s.Id, s.Path, problem, s.Path));
        }

        var byId = new Dictionary<string, (string Id, string Path, string? Problem, string Source)>(StringComparer.Ordinal);
        var byLabel = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in found)
        {
            if (byId.TryGetValue(f.Id, out var prev))
                throw new CohortManifestException(m.ManifestPath, "inputs",
                    $"subject '{f.Id}' has two inputs: {prev.Source} and {f.Source} (narrow the pattern, or set idPattern)");
            var label = Label(f.Id);
            if (label.Length == 0) throw new CohortManifestException(m.ManifestPath, "inputs", $"subject id '{f.Id}' has no letters or digits to name its outputs");
            if (byLabel.TryGetValue(label, out var other))
                throw new CohortManifestException(m.ManifestPath, "inputs", $"subject ids '{other}' and '{f.Id}' both give the output label sub-{label}");
            byId[f.Id] = f;
            byLabel[label] = f.Id;
        }
        return byId.Values
            .OrderBy(f => f.Id, StringComparer.Ordinal)
            .Select(f => new SubjectInput(f.Id, Label(f.Id), f.Path, inp.Type, f.Problem))
            .ToList();
    }

    /// <summary>The BIDS label of an id: letters and digits only (BIDS forbids "_" and "-" inside a label).</summary>
    public static string Label(string id)
    {
        var s = id.StartsWith("sub-", StringComparison.Ordinal) ? id[4..] : id;
        var sb = new StringBuilder(s.Length);
        foreach (var c in s) if (char.IsAsciiLetterOrDigit(c)) sb.Append(c);
        return sb.ToString();
    }

    /// <summary>
    /// The subject id of a matched path: the (?&lt;id&gt;…) group of the pattern, searched in the path relative to the
    /// manifest; without a pattern, the file (or folder) name without its extensions, "sub-X_…" giving "X".
    /// </summary>
    public static string? IdFromPath(string relative, string full, Regex? pattern, InputType type)
    {
        if (pattern is not null)
        {
            var mt = pattern.Match(relative);
            return mt.Success && mt.Groups["id"].Success && mt.Groups["id"].Value.Length > 0 ? mt.Groups["id"].Value : null;
        }
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(full));
        if (type != InputType.Dicom) name = StripExtensions(name);
        if (name.StartsWith("sub-", StringComparison.Ordinal))
        {
            int us = name.IndexOf('_');
            return us > 4 ? name[4..us] : name[4..];
        }
        return name;
    }

    public static string StripExtensions(string name)
    {
        foreach (var ext in new[] { ".nii.gz", ".img.gz", ".mgh.gz", ".nii", ".hdr", ".img", ".mgz", ".mgh" })
            if (name.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) return name[..^ext.Length];
        return name;
    }

    /// <summary>A pattern such as "*" matches both halves of an Analyze pair: keep the .hdr, drop its .img/.img.gz.</summary>
    private static IReadOnlyList<string> CollapsePairs(IReadOnlyList<string> paths)
    {
        // blob URLs may carry a SAS query: judge names without it
        var set = new HashSet<string>(paths.Select(Storage.StorageLocation.Redact), StringComparer.Ordinal);
        var keep = new List<string>();
        foreach (var p in paths)
        {
            var bare = Storage.StorageLocation.Redact(p);
            var lower = bare.ToLowerInvariant();
            bool isImg = lower.EndsWith(".img", StringComparison.Ordinal) || lower.EndsWith(".img.gz", StringComparison.Ordinal);
            if (isImg)
            {
                var stem = lower.EndsWith(".img.gz", StringComparison.Ordinal) ? bare[..^7] : bare[..^4];
                if (set.Contains(stem + ".hdr") || set.Contains(stem + ".HDR")) continue;
            }
            else if (!(lower.EndsWith(".nii", StringComparison.Ordinal) || lower.EndsWith(".nii.gz", StringComparison.Ordinal) || lower.EndsWith(".hdr", StringComparison.Ordinal)
                       || lower.EndsWith(".mgz", StringComparison.Ordinal) || lower.EndsWith(".mgh", StringComparison.Ordinal) || lower.EndsWith(".mgh.gz", StringComparison.Ordinal)))
            {
                continue; // not an image (a .json sidecar, a README) — patterns like "*" should not make subjects of them
            }
            keep.Add(p);
        }
        return keep;
    }

    private static IEnumerable<(string Id, string Path, string? Problem, string Source)> DiscoverBids(CohortManifest m)
    {
        var root = m.Inputs.BidsRoot!;
        if (!Directory.Exists(root)) throw new CohortManifestException(m.ManifestPath, "inputs.path", $"BIDS dataset folder not found: {root}");
        var ids = new List<string>();
        var participants = Path.Combine(root, "participants.tsv");
        if (File.Exists(participants))
        {
            using var r = new StreamReader(participants);
            var header = r.ReadLine()?.Split('\t') ?? Array.Empty<string>();
            int col = Array.IndexOf(header, "participant_id");
            if (col < 0) throw new InvalidDataException($"{participants}: no participant_id column");
            string? line;
            while ((line = r.ReadLine()) is not null)
            {
                if (line.Length == 0) continue;
                var cells = line.Split('\t');
                if (col < cells.Length && cells[col].Trim().Length > 0) ids.Add(cells[col].Trim());
            }
        }
        else
        {
            ids.AddRange(Directory.EnumerateDirectories(root, "sub-*").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal));
        }
        foreach (var pid in ids.Distinct(StringComparer.Ordinal))
        {
            var folder = pid.StartsWith("sub-", StringComparison.Ordinal) ? pid : "sub-" + pid;
            var id = folder[4..];
            var dir = Path.Combine(root, folder);
            var candidates = new List<string>();
            foreach (var anat in new[] { Path.Combine(dir, "anat") }.Concat(Directory.Exists(dir)
                         ? Directory.EnumerateDirectories(dir, "ses-*").Order(StringComparer.Ordinal).Select(s => Path.Combine(s, "anat"))
                         : Enumerable.Empty<string>()))
            {
                if (!Directory.Exists(anat)) continue;
                candidates.AddRange(Directory.EnumerateFiles(anat, folder + "*_T1w.nii.gz").Concat(Directory.EnumerateFiles(anat, folder + "*_T1w.nii")).Order(StringComparer.Ordinal));
                if (candidates.Count > 0) break;
            }
            if (candidates.Count == 0)
                yield return (id, Path.Combine(dir, "anat"), $"no T1w image found for {folder} (looked for {folder}/[ses-*/]anat/{folder}*_T1w.nii[.gz])", folder);
            else
            {
                m.Guard.Check(candidates[0], candidates[0], "inputs.path");
                yield return (id, candidates[0], null, candidates[0]);
            }
        }
    }
}
