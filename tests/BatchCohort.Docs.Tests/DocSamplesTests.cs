using System.Text.RegularExpressions;
using BatchCohort.TestSupport;

namespace BatchCohort.Docs.Tests;

/// <summary>
/// Every C# example in docs/*.md is code CI builds: each ```csharp block must be, up to whitespace, the text of a
/// region <c>// &lt;sample:name&gt;</c> … <c>// &lt;/sample:name&gt;</c> in a file of samples/ (the
/// BatchCohort.Samples project of the solution). A block with no such region fails the test, naming the page, the
/// line and what to do.
/// </summary>
public sealed class DocSamplesTests
{
    private static readonly Regex Open = new(@"^\s*//\s*<sample:([A-Za-z0-9_.\-]+)>\s*$");
    private static readonly Regex Close = new(@"^\s*//\s*</sample:([A-Za-z0-9_.\-]+)>\s*$");
    private static readonly string[] CSharpInfo = { "csharp", "cs", "c#" };

    internal sealed record Block(string File, int Line, int Index, string Code);
    internal sealed record Region(string File, int Line, string Name, string Code);

    [Fact]
    public void Every_csharp_block_in_docs_is_a_compiled_sample_region()
    {
        var blocks = CSharpBlocks();
        Assert.NotEmpty(blocks); // the pages carry examples; an empty list would mean the parser broke
        var regions = SampleRegions();
        var byCode = regions.GroupBy(r => Normalise(r.Code)).ToDictionary(g => g.Key, g => g.First());

        var problems = new List<string>();
        foreach (var b in blocks)
        {
            string code = Normalise(b.Code);
            if (byCode.ContainsKey(code)) continue;
            string first = b.Code.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "";
            string stem = Path.GetFileNameWithoutExtension(b.File);
            var (near, difference) = Closest(b, regions);
            string hint = near is null
                ? $"copy it between `// <sample:{stem}-{b.Index}>` and `// </sample:{stem}-{b.Index}>` in a file of samples/BatchCohort.Samples (so CI compiles it), or fence it as ```text if it is not meant to compile"
                : $"the closest sample region, '{near.Name}' ({near.File}:{near.Line}), differs: {difference}; make the two the same";
            problems.Add($"{b.File}:{b.Line} (```csharp block {b.Index}, \"{Shorten(first)}\"): no sample region has this code — {hint}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Sample_regions_are_closed_and_named_once()
    {
        SampleRegions(); // throws with the file and line of an unclosed, unopened or repeated region
    }

    [Fact]
    public void The_extractor_sees_fences_as_markdown_does()
    {
        // A page with a csharp block, a text block holding a fence-looking line, an indented csharp block in a list.
        string md = "# t\n```csharp\nvar a = 1;\n```\n```text\n  not code\n```\n- item\n  ```cs\n  var b =  2;\n  ```\n```bash\nls\n```\n";
        var blocks = CSharpBlocks("docs/t.md", md.Split('\n'));
        Assert.Equal(2, blocks.Count);
        Assert.Equal("var a = 1;", Normalise(blocks[0].Code));
        Assert.Equal(2, blocks[0].Line);
        Assert.Equal("var b = 2;", Normalise(blocks[1].Code));
        Assert.Equal(2, blocks[1].Index);
    }

    // ---- extraction ------------------------------------------------------------------------------------------------

    internal static string Normalise(string code) => Regex.Replace(code, @"\s+", " ").Trim();

    internal static List<Block> CSharpBlocks()
    {
        string docs = Path.Combine(Repo.Root, "docs");
        Assert.True(Directory.Exists(docs), "docs/ is missing");
        var all = new List<Block>();
        foreach (var f in Directory.EnumerateFiles(docs, "*.md", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal))
            all.AddRange(CSharpBlocks(ProjectGraphTests.Rel(f), File.ReadAllLines(f)));
        return all;
    }

    internal static List<Block> CSharpBlocks(string file, string[] lines)
    {
        var blocks = new List<Block>();
        int i = 0, index = 0;
        while (i < lines.Length)
        {
            string t = lines[i].TrimStart();
            if (!t.StartsWith("```", StringComparison.Ordinal)) { i++; continue; }
            int fence = t.TakeWhile(c => c == '`').Count();
            string info = t[fence..].Trim().Split(' ', 2)[0].ToLowerInvariant();
            int start = i + 1, j = start;
            while (j < lines.Length && !IsClose(lines[j], fence)) j++;
            if (CSharpInfo.Contains(info))
            {
                index++;
                blocks.Add(new Block(file, i + 1, index, string.Join("\n", lines[start..Math.Min(j, lines.Length)])));
            }
            i = j + 1;
        }
        return blocks;
    }

    private static bool IsClose(string line, int fence)
    {
        string t = line.Trim();
        return t.Length >= fence && t.All(c => c == '`');
    }

    internal static List<Region> SampleRegions()
    {
        string root = Path.Combine(Repo.Root, "samples");
        Assert.True(Directory.Exists(root), "samples/ is missing");
        var regions = new List<Region>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal))
        {
            string rel = ProjectGraphTests.Rel(f);
            if (rel.Split('/').Any(s => s is "bin" or "obj")) continue;
            var lines = File.ReadAllLines(f);
            string? name = null;
            int start = 0;
            for (int i = 0; i < lines.Length; i++)
            {
                var o = Open.Match(lines[i]);
                var c = Close.Match(lines[i]);
                if (o.Success)
                {
                    Assert.True(name is null, $"{rel}:{i + 1}: sample '{o.Groups[1].Value}' opens inside '{name}'");
                    name = o.Groups[1].Value;
                    start = i + 1;
                    Assert.False(names.ContainsKey(name), $"{rel}:{i + 1}: sample name '{name}' is used again (first in {(names.TryGetValue(name, out var w) ? w : "")})");
                    names[name] = $"{rel}:{i + 1}";
                }
                else if (c.Success)
                {
                    Assert.True(name == c.Groups[1].Value, $"{rel}:{i + 1}: '</sample:{c.Groups[1].Value}>' closes {(name is null ? "nothing" : $"'{name}'")}");
                    regions.Add(new Region(rel, start, name!, string.Join("\n", lines[start..i])));
                    name = null;
                }
            }
            Assert.True(name is null, $"{rel}: sample '{name}' (line {start}) is never closed");
        }
        return regions;
    }

    /// <summary>The region sharing most lines with the block (at least half of them), and its first differing line.</summary>
    private static (Region? Region, string Difference) Closest(Block b, List<Region> regions)
    {
        static List<string> Lines(string code) => code.Split('\n').Select(Normalise).Where(l => l.Length > 0).ToList();
        var bl = Lines(b.Code);
        Region? best = null;
        int bestShared = 0;
        foreach (var r in regions)
        {
            var rl = Lines(r.Code).ToHashSet(StringComparer.Ordinal);
            int shared = bl.Count(rl.Contains);
            if (shared > bestShared) { best = r; bestShared = shared; }
        }
        if (best is null || bestShared * 2 < bl.Count) return (null, "");
        var other = Lines(best.Code);
        for (int i = 0; i < Math.Max(bl.Count, other.Count); i++)
        {
            string mine = i < bl.Count ? bl[i] : "(end of block)", theirs = i < other.Count ? other[i] : "(end of region)";
            if (mine != theirs) return (best, $"the page has \"{Shorten(mine)}\" where the region has \"{Shorten(theirs)}\"");
        }
        return (best, "only in where lines break");
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
