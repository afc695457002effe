using BatchCohort.Runtime.Cohorts;
using BatchCohort.TestSupport;

namespace BatchCohort.Runtime.Tests.Cohorts;

public class SyntheticCohortTests
{
    private sealed class Log : IRunObserver
    {
        public List<string> Lines { get; } = new();
        public void Phase(string text) => Lines.Add(text);
        public void Measuring(BatchCohort.Runtime.Coordination.RunProgressFeed progress, bool resumed) { }
        public void Note(string text) => Lines.Add(text);
    }

    private static CohortManifest Manifest(TempDir d, string synth) =>
        CohortManifest.Parse($$"""
            { "synthesize": {{synth}}, "inputs": { "glob": "data/sub-*/anat/sub-*_T1w.hdr" },
              "demographics": "data/participants.tsv" }
            """, d["cohort.json"]);

    [Fact]
    public async Task The_first_run_writes_the_cohort_once_and_later_runs_find_it()
    {
        using var d = new TempDir("synth");
        var m = Manifest(d, """{ "out": "data", "subjects": 2, "seed": 5, "atlas": "phantom" }""");
        var log = new Log();
        await SyntheticCohort.EnsureAsync(m, log, CancellationToken.None);
        Assert.True(SyntheticCohort.IsComplete(m.Synthesize!));
        var subjects = SubjectDiscovery.Discover(m);
        Assert.Equal(new[] { "0001", "0002" }, subjects.Select(s => s.Id));
        Assert.All(subjects, s => Assert.True(File.Exists(Path.ChangeExtension(s.InputPath, ".img"))));
        Assert.Equal(3, File.ReadAllLines(d["data/participants.tsv"]).Length);
        Assert.Empty(Directory.GetDirectories(d.FullName, "data.tmp-*"));
        Assert.Contains(log.Lines, l => l.Contains("2 subjects, seed 5, from phantom"));
        var stamp = File.GetLastWriteTimeUtc(d["data/participants.tsv"]);
        var again = new Log();
        await SyntheticCohort.EnsureAsync(m, again, CancellationToken.None);
        Assert.Empty(again.Lines);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(d["data/participants.tsv"]));
    }

    [Fact]
    public async Task A_folder_that_is_not_a_complete_synthetic_cohort_is_never_overwritten()
    {
        using var d = new TempDir("synth");
        Directory.CreateDirectory(d["data"]);
        File.WriteAllText(d["data/mine.txt"], "user data");
        var m = Manifest(d, """{ "out": "data", "subjects": 2 }""");
        var e = await Assert.ThrowsAsync<IOException>(() => SyntheticCohort.EnsureAsync(m, new Log(), CancellationToken.None));
        Assert.Contains("not a complete synthetic cohort", e.Message);
        Assert.Equal("user data", File.ReadAllText(d["data/mine.txt"]));
    }

    [Theory]
    [InlineData("""{ "subjets": 3 }""", "subjets")]
    [InlineData("""{ "subjects": 0 }""", "--subjects must be within")]
    [InlineData("""{ "atlas": "mni" }""", "synthesize.atlas: 'mni' is not one of")]
    [InlineData("""{ "format": "png" }""", "synthesize")]
    public void Bad_synthesis_options_are_refused(string synth, string expected)
    {
        using var d = new TempDir("synth");
        var e = Assert.Throws<CohortManifestException>(() => SyntheticCohort.ReadOptions(Manifest(d, synth)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void The_demo_manifest_asks_for_a_20_to_40_subject_cohort()
    {
        var m = CohortManifest.Load(Repo.Path_("cohorts", "demo"));
        var (o, atlas) = SyntheticCohort.ReadOptions(m);
        Assert.InRange(o.Subjects, 20, 40);
        Assert.Equal("auto", atlas);
        Assert.True(o.PatientEffect > 0);
    }
}
