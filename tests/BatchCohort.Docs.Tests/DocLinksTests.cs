using System.Text;
using System.Text.RegularExpressions;
using BatchCohort.TestSupport;

namespace BatchCohort.Docs.Tests;

/// <summary>
/// Every relative link in docs/*.md and README.md leads somewhere: the file exists, and a #fragment names a heading
/// of it (GitHub's anchors: lower case, punctuation dropped, spaces as hyphens). Links inside code are not links.
/// The one page that may be absent is the generated docs/benchmarks.md.
/// </summary>
public sealed class DocLinksTests
{
    private static readonly Regex Link = new(@"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+""[^""]*"")?\)");
    private static readonly Regex Image = new(@"!\[[^\]]*\]\(([^)\s]+)\)");

    [Fact]
    public void Every_relative_link_and_anchor_in_the_docs_resolves()
    {
        var pages = Directory.EnumerateFiles(Path.Combine(Repo.Root, "docs"), "*.md", SearchOption.AllDirectories)
            .Append(Path.Combine(Repo.Root, "README.md"))
            .Where(File.Exists)
            .OrderBy(p => p, StringComparer.Ordinal)
            .ToList();
        var problems = new List<string>();
        int links = 0;
        foreach (var page in pages)
        {
            var lines = File.ReadAllLines(page);
            bool fenced = false;
            for (int i = 0; i < lines.Length; i++)
            {
                if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal)) { fenced = !fenced; continue; }
                if (fenced) continue;
                string text = Regex.Replace(lines[i], "`[^`]*`", "");
                foreach (Match m in Link.Matches(text).Concat(Image.Matches(text)))
                {
                    string target = m.Groups[1].Value;
                    if (Regex.IsMatch(target, "^[a-z]+:", RegexOptions.IgnoreCase)) continue; // http:, https:, mailto:
                    links++;
                    string? problem = Check(page, target);
                    if (problem is not null) problems.Add($"{ProjectGraphTests.Rel(page)}:{i + 1}: ({target}) {problem}");
                }
            }
        }
        Assert.True(links > 0, "no relative links found: the parser broke");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static string? Check(string page, string target)
    {
        int hash = target.IndexOf('#');
        string path = hash < 0 ? target : target[..hash];
        string? fragment = hash < 0 ? null : Uri.UnescapeDataString(target[(hash + 1)..]);
        string file = path.Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, Uri.UnescapeDataString(path)));
        if (!File.Exists(file) && !Directory.Exists(file))
        {
            // docs/benchmarks.md is generated (dotnet run -c Release --project bench/BatchCohort.Benchmarks -- all),
            // and a fresh checkout may not have run it yet: a link to it is a link to that command's output.
            if (file == Path.Combine(Repo.Root, "docs", "benchmarks.md")) return null;
            return "no such file";
        }
        if (fragment is null || !file.EndsWith(".md", StringComparison.Ordinal)) return null;
        var anchors = Anchors(File.ReadAllLines(file));
        return anchors.Contains(fragment) ? null : $"no heading with the anchor #{fragment} in {ProjectGraphTests.Rel(file)}";
    }

    /// <summary>GitHub's heading anchors: lower case; letters, digits, spaces, hyphens and underscores kept; spaces → hyphens; repeats get -1, -2.</summary>
    internal static HashSet<string> Anchors(string[] lines)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new HashSet<string>(StringComparer.Ordinal);
        bool fenced = false;
        foreach (var line in lines)
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) { fenced = !fenced; continue; }
            if (fenced) continue;
            var h = Regex.Match(line, @"^#{1,6}\s+(.*?)\s*#*\s*$");
            if (!h.Success) continue;
            var sb = new StringBuilder();
            foreach (char c in h.Groups[1].Value.ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_') sb.Append(c);
                else if (c == ' ') sb.Append('-');
            }
            string slug = sb.ToString();
            int n = seen.GetValueOrDefault(slug);
            seen[slug] = n + 1;
            result.Add(n == 0 ? slug : $"{slug}-{n}");
        }
        return result;
    }

    [Fact]
    public void Anchors_are_made_as_github_makes_them()
    {
        var a = Anchors(new[] { "# Getting started", "## 4. Your own cohort in five steps", "## `inspect` and `convert`", "## Code examples", "## Code examples" });
        Assert.Contains("getting-started", a);
        Assert.Contains("4-your-own-cohort-in-five-steps", a);
        Assert.Contains("inspect-and-convert", a);
        Assert.Contains("code-examples", a);
        Assert.Contains("code-examples-1", a);
    }
}
