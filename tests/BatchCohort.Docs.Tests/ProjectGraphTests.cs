using System.Text.RegularExpressions;
using System.Xml.Linq;
using BatchCohort.TestSupport;

namespace BatchCohort.Docs.Tests;

/// <summary>
/// docs/development.md's "Project graph" section has one line per project of BatchCohort.sln, naming the projects it
/// references (<c>src/BatchCohort.Runtime → BatchCohort.Analysis, BatchCohort.Contracts</c>). These tests read every
/// project file's ProjectReference items and fail, naming the exact line to add, change or remove, when the page and
/// the build disagree — so the page cannot drift from the solution.
/// </summary>
public sealed class ProjectGraphTests
{
    internal const string DocPath = "docs/development.md";
    internal const string Section = "## Project graph";
    private const string Arrow = "→";
    private const string Nothing = "(nothing)";

    [Fact]
    public void Development_page_lists_every_project_of_the_solution_with_what_it_references()
    {
        var real = RealGraph();
        Assert.NotEmpty(real);
        var documented = DocumentedGraph(out var docLines);

        var problems = new List<string>();
        foreach (var (project, refs) in real)
        {
            string expected = Line(project, refs);
            if (!documented.TryGetValue(project, out var docRefs))
                problems.Add($"add this line: {expected}");
            else if (!docRefs.SetEquals(refs))
                problems.Add($"change \"{docLines[project]}\" to: {expected}");
        }
        foreach (var project in documented.Keys.Where(p => !real.ContainsKey(p)))
            problems.Add($"remove \"{docLines[project]}\": {project} is not a project of BatchCohort.sln");

        if (problems.Count > 0)
            Assert.Fail($"{DocPath}, section \"{Section}\", differs from the ProjectReferences of BatchCohort.sln's projects:\n  "
                        + string.Join("\n  ", problems));
    }

    [Fact]
    public void Every_project_file_in_the_tree_is_in_the_solution()
    {
        var inSln = SolutionProjects().Select(p => p.Path).ToHashSet(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var top in new[] { "src", "tests", "bench", "samples" })
        {
            string dir = Path.Combine(Repo.Root, top);
            if (!Directory.Exists(dir)) continue;
            foreach (var f in Directory.EnumerateFiles(dir, "*.csproj", SearchOption.AllDirectories))
            {
                string rel = Rel(f);
                if (rel.Split('/').Any(s => s is "bin" or "obj" or "node_modules")) continue;
                if (!inSln.Contains(rel)) missing.Add(rel);
            }
        }
        Assert.True(missing.Count == 0,
            "not in BatchCohort.sln (so CI neither builds nor tests them): " + string.Join(", ", missing)
            + " — add with: dotnet sln BatchCohort.sln add <path>");
    }

    [Fact]
    public void Science_projects_reference_no_infrastructure()
    {
        // DESIGN.md: Imaging (and the neuro application split from it) and Analysis never depend on messaging,
        // storage, hosting or Orleans. Checked on the real project files, transitively.
        var science = new HashSet<string>(StringComparer.Ordinal) { "BatchCohort.Imaging", "BatchCohort.Neuro", "BatchCohort.Analysis" };
        string[] forbiddenPackages = { "Microsoft.Orleans", "Orleans", "Azure.", "MassTransit", "Microsoft.Extensions.Hosting", "StackExchange.Redis", "Microsoft.AspNetCore" };
        var projects = SolutionProjects().ToDictionary(p => p.Name, p => p.Path, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var name in science.Where(projects.ContainsKey))
        {
            var doc = XDocument.Load(Path.Combine(Repo.Root, projects[name]));
            foreach (var r in References(projects[name]).Where(r => !science.Contains(r)))
                problems.Add($"{projects[name]} references {r}");
            foreach (var pkg in doc.Descendants().Where(e => e.Name.LocalName == "PackageReference")
                         .Select(e => (string?)e.Attribute("Include") ?? "")
                         .Where(p => forbiddenPackages.Any(f => p.StartsWith(f, StringComparison.OrdinalIgnoreCase))))
                problems.Add($"{projects[name]} uses the package {pkg}");
        }
        Assert.True(problems.Count == 0, "science code must not reference infrastructure: " + string.Join("; ", problems));
    }

    // ---- the real graph -------------------------------------------------------------------------------------------

    internal sealed record SlnProject(string Name, string Path);

    /// <summary>The C# projects named by BatchCohort.sln (paths relative to the root, with forward slashes).</summary>
    internal static List<SlnProject> SolutionProjects()
    {
        var rx = new Regex("^Project\\(\"\\{[^}]+\\}\"\\)\\s*=\\s*\"([^\"]+)\"\\s*,\\s*\"([^\"]+\\.csproj)\"", RegexOptions.Multiline);
        string sln = File.ReadAllText(Path.Combine(Repo.Root, "BatchCohort.sln"));
        return rx.Matches(sln).Select(m => new SlnProject(m.Groups[1].Value, m.Groups[2].Value.Replace('\\', '/'))).ToList();
    }

    /// <summary>Project folder (e.g. "src/BatchCohort.Runtime") → names of the projects it references.</summary>
    internal static SortedDictionary<string, HashSet<string>> RealGraph()
    {
        var g = new SortedDictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var p in SolutionProjects())
            g[ProjectFolder(p.Path)] = References(p.Path).ToHashSet(StringComparer.Ordinal);
        return g;
    }

    private static IEnumerable<string> References(string csprojRel)
    {
        string path = Path.Combine(Repo.Root, csprojRel);
        var doc = XDocument.Load(path);
        return doc.Descendants()
            .Where(e => e.Name.LocalName == "ProjectReference")
            .Select(e => (string?)e.Attribute("Include"))
            .Where(s => !string.IsNullOrWhiteSpace(s))
            .Select(s => Path.GetFileNameWithoutExtension(s!.Replace('\\', '/')))
            .Distinct(StringComparer.Ordinal);
    }

    private static string ProjectFolder(string csprojRel)
    {
        int slash = csprojRel.LastIndexOf('/');
        return slash < 0 ? "." : csprojRel[..slash];
    }

    internal static string Line(string project, IEnumerable<string> refs)
    {
        var sorted = refs.OrderBy(r => r, StringComparer.Ordinal).ToList();
        return $"{project} {Arrow} {(sorted.Count == 0 ? Nothing : string.Join(", ", sorted))}";
    }

    // ---- the documented graph -------------------------------------------------------------------------------------

    /// <summary>The lines of the first fenced block after the "Project graph" heading, parsed.</summary>
    private static Dictionary<string, HashSet<string>> DocumentedGraph(out Dictionary<string, string> lines)
    {
        string file = Path.Combine(Repo.Root, DocPath);
        Assert.True(File.Exists(file), $"{DocPath} is missing");
        var all = File.ReadAllLines(file);
        int h = Array.FindIndex(all, l => l.TrimEnd() == Section);
        Assert.True(h >= 0, $"{DocPath}: no heading \"{Section}\"");
        int open = Array.FindIndex(all, h + 1, l => l.TrimStart().StartsWith("```", StringComparison.Ordinal));
        Assert.True(open > h, $"{DocPath}: no fenced block after \"{Section}\"");
        int close = Array.FindIndex(all, open + 1, l => l.TrimStart().StartsWith("```", StringComparison.Ordinal));
        Assert.True(close > open, $"{DocPath}: the block after \"{Section}\" (line {open + 1}) is not closed");

        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        lines = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = open + 1; i < close; i++)
        {
            string line = all[i].Trim();
            if (line.Length == 0) continue;
            int a = line.IndexOf(Arrow, StringComparison.Ordinal);
            Assert.True(a > 0, $"{DocPath} line {i + 1}: \"{line}\" is not \"<project folder> {Arrow} <references, or {Nothing}>\"");
            string project = line[..a].Trim();
            string rhs = line[(a + Arrow.Length)..].Trim();
            var refs = rhs == Nothing
                ? new HashSet<string>(StringComparer.Ordinal)
                : rhs.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            Assert.False(graph.ContainsKey(project), $"{DocPath} line {i + 1}: {project} is listed twice");
            graph[project] = refs;
            lines[project] = line;
        }
        return graph;
    }

    internal static string Rel(string full) => Path.GetRelativePath(Repo.Root, full).Replace('\\', '/');
}
