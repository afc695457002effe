using System.Globalization;
using BatchCohort.TestSupport;

namespace BatchCohort.Cli.Tests;

/// <summary>
/// The real pipeline (not the test measurer) through a cluster: two <c>batchcohort silo</c> processes on a real Redis
/// measure a cohort written by <c>batchcohort synth</c>, and group/measures.csv equals, to the last digit, the embedded
/// run's of the same cohort. Kept cheap: 2 synthetic subjects on the built-in phantom atlas (full OASIS grid; synth has
/// no lower resolution), not the 24-subject demo — the equality does not depend on the cohort's size. Both sides
/// measure one subject at a time with all cores (the equality is per core budget; see the note in the test).
/// </summary>
public sealed class ClusterPipelineTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private const int Subjects = 2;

    private static readonly Dictionary<string, string> RealMeasurer = new() { [Runtime.Measurement.MeasurerFactory.EnvironmentVariable] = "" };

    private static async Task WriteCohort(TempDir d)
    {
        var synth = await CliProcess.RunToEnd(d, 0, RealMeasurer, TimeSpan.FromMinutes(5),
            "synth", "--subjects", Subjects.ToString(CultureInfo.InvariantCulture), "--seed", "7", "--atlas", "phantom", "--out", d["data"]);
        Assert.True(synth.Code == 0, synth.Stderr);
        File.WriteAllText(d["cohort.json"], """
            {
              "name": "cluster-pipeline",
              "inputs": { "type": "files", "glob": "data/sub-*/anat/sub-*_T1w.hdr" },
              "demographics": { "path": "data/participants.tsv", "id": "participant_id" },
              "atlas": "phantom",
              "settings": {},
              "output": "out"
            }
            """);
    }

    [RequiresFact(Requirements.Redis)]
    public async Task Two_silos_with_the_real_pipeline_give_the_embedded_runs_measures_to_the_last_digit()
    {
        using var embedded = new TempDir("pipeline-embedded");
        await WriteCohort(embedded);
        // the same core budget per subject on both sides (this machine's cores, one subject at a time): the pipeline's
        // parallel sums depend on how many cores share them (measured: jobs 2 embedded vs 1 per silo differed in the
        // 12th digit of brain_ml), so "to the last digit" holds for the same budget, not across budgets
        var e = await CliProcess.RunToEnd(embedded, 0, RealMeasurer, TimeSpan.FromMinutes(10), "run", embedded.FullName, "--jobs", "1");
        Assert.True(e.Code == 0, e.Stderr + e.Stdout);

        using var d = new TempDir("pipeline-cluster");
        await WriteCohort(d);
        string clusterId = "p" + Guid.NewGuid().ToString("N")[..8];
        var silos = new List<ClusterTests.Silo>();
        try
        {
            silos.AddRange(await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => ClusterTests.StartSilo(redis.Connection, clusterId, d, 0, env: RealMeasurer, jobs: 1))));
            var r = await CliProcess.RunToEnd(d, 0, RealMeasurer, TimeSpan.FromMinutes(10), "run", d.FullName, "--cluster", redis.Connection, "--cluster-id", clusterId);
            Assert.True(r.Code == 0, r.Stderr + r.Stdout);
            Assert.Contains($"{Subjects} of {Subjects} subjects measured", r.Stdout);
        }
        finally
        {
            foreach (var s in silos) s.Dispose();
        }
        var expected = File.ReadAllText(embedded["out/group/measures.csv"]);
        Assert.Equal(Subjects, expected.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1);
        Assert.Equal(expected, File.ReadAllText(d["out/group/measures.csv"]));
    }
}
