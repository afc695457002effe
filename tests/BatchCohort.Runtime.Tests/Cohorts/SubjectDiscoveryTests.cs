using System.Text.Json;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.TestSupport;

namespace BatchCohort.Runtime.Tests.Cohorts;

public class SubjectDiscoveryTests
{
    private static void Touch(TempDir d, params string[] rel)
    {
        foreach (var r in rel)
        {
            var p = d[r];
            Directory.CreateDirectory(Path.GetDirectoryName(p)!);
            File.WriteAllText(p, r);
        }
    }

    private static CohortManifest Manifest(TempDir d, string inputsJson)
    {
        File.WriteAllText(d["cohort.json"], $$"""{ "inputs": {{inputsJson}} }""");
        return CohortManifest.Load(d.FullName);
    }

    [RequiresFact(Requirements.Scipy)]
    public void Glob_matches_what_python_glob_matches()
    {
        using var d = new TempDir("glob");
        Touch(d, "data/sub-01_T1w.nii.gz", "data/sub-02_T1w.nii", "data/sub-03_T1w.hdr", "data/sub-03_T1w.img",
            "data/.hidden.nii", "data/deep/a/b/sub-04_T1w.nii.gz", "data/deep/sub-05_T1w.nii.gz", "data/deep/.h/sub-06_T1w.nii.gz",
            "data/subA.nii", "data/subb.nii", "data/x[1].nii", "other/sub-07.nii");
        var patterns = new[]
        {
            "data/*.nii*", "data/sub-0?_T1w.*", "data/**/*.nii.gz", "data/**", "**/sub-*", "data/sub[AB].nii", "data/sub[!A].nii",
            "data/sub[a-c].nii", "*/sub-0[1-3]_T1w.nii*", "data/deep/*/*/*.nii.gz", "data/.*", "nothing/*",
        };
        var ours = patterns.ToDictionary(p => p, p => Glob.Expand(p, false, new PathGuard(d["cohort.json"], d.FullName, d.FullName, false), "g")
            .Select(f => Path.GetRelativePath(d.FullName, f)).ToList());
        var script = "import glob, json, os, sys\nos.chdir(sys.argv[1])\npats = json.loads(sys.argv[2])\n" +
                     "print(json.dumps({p: sorted(f for f in glob.glob(p, recursive=True) if os.path.isfile(f)) for p in pats}))\n";
        var json = ExternalTool.Check(Requirements.Python, new[] { "-c", script, d.FullName, JsonSerializer.Serialize(patterns) });
        var theirs = JsonSerializer.Deserialize<Dictionary<string, List<string>>>(json)!;
        foreach (var p in patterns)
            Assert.True(theirs[p].Order(StringComparer.Ordinal).SequenceEqual(ours[p].Order(StringComparer.Ordinal)),
                $"{p}: python {string.Join(",", theirs[p])} vs ours {string.Join(",", ours[p])}");
        Assert.NotEmpty(ours["data/**/*.nii.gz"]);
    }

    [Fact]
    public void Files_give_one_subject_per_image_with_analyze_pairs_collapsed_and_bids_ids()
    {
        using var d = new TempDir("disc");
        Touch(d, "data/sub-01_T1w.nii.gz", "data/sub-02_T1w.hdr", "data/sub-02_T1w.img", "data/sub-03_T1w.nii", "data/sub-03_T1w.json", "data/README",
            "data/sub-04_T1w.mgz", "data/sub-05_T1w.mgh");
        var s = SubjectDiscovery.Discover(Manifest(d, """{ "glob": "data/*" }"""));
        Assert.Equal(new[] { "01", "02", "03", "04", "05" }, s.Select(x => x.Id));
        Assert.EndsWith("sub-02_T1w.hdr", s[1].InputPath);
        Assert.All(s, x => Assert.Null(x.Problem));
    }

    [Fact]
    public void An_id_pattern_names_oasis_subjects_and_labels_drop_separators()
    {
        using var d = new TempDir("disc");
        Touch(d, "data/disc1/OAS1_0001_MR1/RAW/OAS1_0001_MR1_mpr-1_anon.hdr", "data/disc1/OAS1_0001_MR1/RAW/OAS1_0001_MR1_mpr-1_anon.img",
            "data/disc1/OAS1_0001_MR1/RAW/OAS1_0001_MR1_mpr-2_anon.hdr",
            "data/disc2/OAS1_0042_MR1/RAW/OAS1_0042_MR1_mpr-1_anon.hdr", "data/disc2/OAS1_0042_MR1/RAW/OAS1_0042_MR1_mpr-1_anon.img");
        var m = CohortManifest.Load(Path.Combine(Repo.Root, "cohorts", "oasis1"));
        var s = SubjectDiscovery.Discover(Manifest(d, $$"""{ "glob": {{JsonSerializer.Serialize(m.Inputs.Globs)}}, "idPattern": {{JsonSerializer.Serialize(m.Inputs.IdPattern!.ToString())}} }"""));
        Assert.Equal(new[] { "OAS1_0001_MR1", "OAS1_0042_MR1" }, s.Select(x => x.Id));
        Assert.Equal(new[] { "OAS10001MR1", "OAS10042MR1" }, s.Select(x => x.Label));
        Assert.EndsWith("OAS1_0001_MR1_mpr-1_anon.hdr", s[0].InputPath);
    }

    [Fact]
    public void Two_inputs_for_one_id_are_refused_naming_both()
    {
        using var d = new TempDir("disc");
        Touch(d, "a/sub-01_T1w.nii", "b/sub-01_T1w.nii.gz");
        var e = Assert.Throws<CohortManifestException>(() => SubjectDiscovery.Discover(Manifest(d, """{ "glob": "*/sub-*" }""")));
        Assert.Contains("a/sub-01_T1w.nii", e.Message);
        Assert.Contains("b/sub-01_T1w.nii.gz", e.Message);
    }

    [Fact]
    public void An_explicit_subject_whose_file_is_missing_is_kept_with_the_problem()
    {
        using var d = new TempDir("disc");
        Touch(d, "data/sub-01_T1w.nii");
        var s = SubjectDiscovery.Discover(Manifest(d, """{ "glob": "data/*.nii", "subjects": [ { "id": "99", "path": "data/sub-99_T1w.nii" } ] }"""));
        Assert.Equal(2, s.Count);
        Assert.Equal("99", s[1].Id);
        Assert.Equal($"input file not found: {d["data/sub-99_T1w.nii"]}", s[1].Problem);
    }

    [Fact]
    public void A_bids_dataset_gives_participants_with_their_first_T1w_or_a_problem()
    {
        using var d = new TempDir("bids");
        Touch(d, "ds/sub-01/anat/sub-01_T1w.nii.gz", "ds/sub-02/ses-b/anat/sub-02_ses-b_T1w.nii.gz", "ds/sub-02/ses-a/anat/sub-02_ses-a_T1w.nii.gz",
            "ds/sub-03/anat/sub-03_T2w.nii.gz", "ds/dataset_description.json");
        File.WriteAllText(d["ds/participants.tsv"], "participant_id\tage\nsub-01\t30\nsub-02\t40\nsub-03\t50\n");
        var m = Manifest(d, """{ "type": "bids", "path": "ds" }""");
        var s = SubjectDiscovery.Discover(m);
        Assert.Equal(new[] { "01", "02", "03" }, s.Select(x => x.Id));
        Assert.EndsWith("sub-02_ses-a_T1w.nii.gz", s[1].InputPath);
        Assert.Contains("no T1w image found for sub-03", s[2].Problem);
        Assert.Equal(d["ds/participants.tsv"], m.Demographics!.Path);   // BIDS demographics by default
    }

    [Fact]
    public void Dicom_inputs_are_folders()
    {
        using var d = new TempDir("dicom");
        Touch(d, "dicom/s1/IM0001", "dicom/s1/IM0002", "dicom/s2/IM0001");
        var s = SubjectDiscovery.Discover(Manifest(d, """{ "type": "dicom", "glob": "dicom/*" }"""));
        Assert.Equal(new[] { "s1", "s2" }, s.Select(x => x.Id));
        Assert.True(Directory.Exists(s[0].InputPath));
    }
}
