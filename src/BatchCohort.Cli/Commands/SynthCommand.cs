using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Neuro.Synthesis;

namespace BatchCohort.Cli.Commands;

/// <summary>
/// <c>batchcohort synth --subjects N --seed S --out DIR [--atlas colin27|phantom|PATH] [--format analyze|nifti] [--layout las|oasis]</c>:
/// a synthetic OASIS-style cohort with known truth (README, "Synthetic cohorts").
/// </summary>
public sealed class SynthCommand : ICliCommand
{
    public Command Build()
    {
        var subjects = new Option<int>("--subjects") { Description = "Number of subjects.", DefaultValueFactory = _ => 20 };
        var seed = new Option<ulong>("--seed") { Description = "Random seed: the same seed gives the same bytes.", DefaultValueFactory = _ => 1UL };
        var output = new Option<string>("--out") { Description = "Output folder (BIDS-like layout).", Required = true };
        var atlas = new Option<string>("--atlas")
        {
            Description = "colin27 (Debian mricron-data), phantom (built in), a folder with head/brain[/icv] images or an atlas.json. Default: colin27 when installed, else phantom.",
            DefaultValueFactory = _ => "auto",
        };
        var format = new Option<string>("--format") { Description = "analyze (OASIS-1's Analyze 7.5 .hdr/.img, default) or nifti (.nii.gz).", DefaultValueFactory = _ => "analyze" };
        format.AcceptOnlyFromAmong("analyze", "nifti");
        var layout = new Option<string>("--layout") { Description = "las (axial slabs, orientation in the header, default) or oasis (OASIS-1's raw sagittal layout: array axes anterior→posterior, inferior→superior, right→left; as Analyze the header holds voxel sizes only).", DefaultValueFactory = _ => "las" };
        layout.AcceptOnlyFromAmong("las", "oasis");
        var truthLabels = new Option<bool>("--truth-labels") { Description = "Also write each subject's true tissue classes (derivatives/truth/…_dseg.nii.gz)." };
        var cmd = new Command("synth", "Write a synthetic cohort (random pose, head size, age/group atrophy, bias, Rician noise) on the OASIS grid with its ground truth.")
        {
            subjects, seed, output, atlas, format, layout, truthLabels,
        };
        cmd.SetAction(parse =>
        {
            var o = parse.InvocationConfiguration.Output;
            var opts = new SynthOptions
            {
                Subjects = parse.GetValue(subjects),
                Seed = parse.GetValue(seed),
                Format = parse.GetValue(format) == "nifti" ? SynthFormat.Nifti : SynthFormat.Analyze,
                Layout = parse.GetValue(layout) == "oasis" ? SynthLayout.Oasis : SynthLayout.Las,
                WriteTruthLabels = parse.GetValue(truthLabels),
            };
            opts.Validate();
            string outDir = parse.GetValue(output)!;
            if (File.Exists(outDir)) throw new ArgumentException($"--out {outDir} is a file; give a folder");
            var sw = Stopwatch.StartNew();
            string spec = parse.GetValue(atlas)!;
            var at = AtlasLibrary.Resolve(spec, out bool fellBack);
            if (fellBack)
                o.WriteLine($"Colin27 not found ({Path.Combine(AtlasLibrary.Colin27Dir, "ch2.nii.gz")} + ch2bet.nii.gz; apt-get install mricron-data): using the built-in phantom atlas instead.");
            o.WriteLine(at.ToString());
            foreach (var n in at.Notes) o.WriteLine("  " + n);
            o.WriteLine(FormattableString.Invariant($"atlas ready in {sw.Elapsed.TotalSeconds:0.0} s; writing {opts.Subjects} subjects ({(opts.Format == SynthFormat.Analyze ? "Analyze 7.5" : "NIfTI-1")}, {(opts.Layout == SynthLayout.Oasis ? "OASIS sagittal layout, " : "")}256×256×128 @ 1×1×1.25 mm, int16) to {outDir}"));
            var written = CohortSynthesizer.Run(at, opts, outDir, line => o.WriteLine(line));
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {written.Count} subjects, participants.tsv and truth.tsv in {sw.Elapsed.TotalSeconds:0.0} s"));
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
