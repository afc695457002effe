using BatchCohort.TestSupport;

namespace BatchCohort.Docs.Tests;

/// <summary>docs/development.md keeps up with the tree: every oracle script under tests/oracles is named in it.</summary>
public sealed class DevelopmentPageTests
{
    [Fact]
    public void Every_oracle_script_is_named_on_the_development_page()
    {
        string page = File.ReadAllText(Path.Combine(Repo.Root, ProjectGraphTests.DocPath));
        var scripts = Directory.EnumerateFiles(Repo.Oracles, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".py", StringComparison.Ordinal) || f.EndsWith(".mjs", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(Repo.Oracles, f).Replace('\\', '/'))
            .Where(r => !r.Split('/').Contains("node_modules"))
            .OrderBy(r => r, StringComparer.Ordinal)
            .ToList();
        Assert.NotEmpty(scripts);
        var missing = scripts.Where(r => !page.Contains("`" + r + "`", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0,
            $"{ProjectGraphTests.DocPath}, section \"Test oracles\": add a row (or a name to a row) for " +
            string.Join(", ", missing.Select(m => "`" + m + "`")) + ": what it runs and what it checks");
    }
}
