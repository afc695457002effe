using BatchCohort.Cli;
using BatchCohort.Neuro.Atlases;
using BatchCohort.TestSupport;

namespace BatchCohort.Cli.Tests;

/// <summary>Sets BATCHCOHORT_COLIN27_DIR for one test, so the class is not run in parallel with others that read it.</summary>
[CollectionDefinition("colin27-env", DisableParallelization = true)]
public sealed class Colin27EnvCollection { }

[Collection("colin27-env")]
public class SynthSnapshotCommandTests
{
    private static async Task<(int Code, string Stdout, string Stderr)> Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = await CliApp.RunAsync(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public async Task Synth_without_colin27_uses_the_phantom_and_says_so_then_snapshot_draws_a_subject()
    {
        using var tmp = new TempDir("cli-synth");
        Directory.CreateDirectory(tmp["empty"]);
        var old = Environment.GetEnvironmentVariable(AtlasLibrary.Colin27DirVariable);
        try
        {
            Environment.SetEnvironmentVariable(AtlasLibrary.Colin27DirVariable, tmp["empty"]);
            var (code, stdout, stderr) = await Cli("synth", "--subjects", "1", "--seed", "4", "--out", tmp["out"]);
            Assert.True(code == 0, stderr);
            Assert.Contains("using the built-in phantom atlas", stdout);
            Assert.Contains("sub-0001", stdout);
        }
        finally
        {
            Environment.SetEnvironmentVariable(AtlasLibrary.Colin27DirVariable, old);
        }
        var hdr = Path.Combine(tmp["out"], "sub-0001", "anat", "sub-0001_T1w.hdr");
        Assert.True(File.Exists(hdr));
        Assert.Equal(256L * 256 * 128 * 2, new FileInfo(Path.ChangeExtension(hdr, ".img")).Length);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(tmp["out"], "participants.tsv")).Length);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(tmp["out"], "truth.tsv")).Length);

        var (c2, o2, e2) = await Cli("snapshot", hdr, "--point", "0,0,0", "--out", tmp["snap.png"]);
        Assert.True(c2 == 0, e2);
        Assert.Contains("wrote", o2);
        var png = File.ReadAllBytes(tmp["snap.png"]);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
    }

    [Theory]
    [InlineData("--subjects", "0", "--subjects must be within")]
    [InlineData("--atlas", "/no/such/atlas", "/no/such/atlas")]
    [InlineData("--format", "dicom", "dicom")]
    public async Task Synth_rejects_bad_arguments_with_one_line(string opt, string value, string expected)
    {
        using var tmp = new TempDir("cli-synth-bad");
        var (code, _, stderr) = await Cli("synth", opt, value, "--out", tmp["out"]);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public async Task Snapshot_reports_a_missing_file_and_bad_points_in_one_line()
    {
        using var tmp = new TempDir("cli-snap-bad");
        var (code, _, stderr) = await Cli("snapshot", tmp["missing.nii.gz"], "--out", tmp["x.png"]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("missing.nii.gz", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
        var (code2, _, stderr2) = await Cli("snapshot", tmp["missing.nii.gz"], "--point", "1,2", "--out", tmp["x.png"]);
        Assert.Equal(ExitCodes.BadInput, code2);
        Assert.Contains("three comma-separated numbers", stderr2);
    }
}
