using System.Text.RegularExpressions;
using BatchCohort.Analysis.Reports;
using BatchCohort.Analysis.Statistics;
using BatchCohort.Analysis.Tables;
using BatchCohort.TestSupport;

namespace BatchCohort.Analysis.Tests.Reports;

public class HtmlReportTests
{
    /// <summary>A synthetic OASIS-like cohort with a planted atrophy effect in patients (nWBV −0.03) and age decline.</summary>
    internal static Table DemoCohort(int n = 80, int seed = 7)
    {
        var r = new Random(seed);
        double N01() => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
        var id = new string?[n]; var grp = new string?[n]; var sex = new string?[n];
        var age = new double[n]; var icv = new double[n]; var brain = new double[n];
        for (int i = 0; i < n; i++)
        {
            id[i] = $"OAS1_{i + 1:D4}_MR1";
            bool patient = i % 5 < 2;
            grp[i] = patient ? "patient" : "control";
            sex[i] = r.Next(2) == 0 ? "F" : "M";
            age[i] = 60 + 30 * r.NextDouble();
            icv[i] = (sex[i] == "M" ? 1550 : 1380) + 110 * N01();
            double nwbv = 0.95 - 0.0032 * age[i] - (patient ? 0.03 : 0) + 0.018 * N01();
            brain[i] = nwbv * icv[i];
        }
        return new Table(new StringColumn("subject", id), new StringColumn("group", grp), new StringColumn("sex", sex),
            new DoubleColumn("age", age), new DoubleColumn("icv_ml", icv), new DoubleColumn("brain_ml", brain));
    }

    internal static GroupStatisticsResult Analyse(Table t) => GroupStatistics.Run(t, new GroupStatisticsSpec
    {
        GroupColumn = "group", Levels = new[] { "control", "patient" }, Measures = new[] { "brain_ml" },
        Covariates = new[] { "age", "sex" }, CorrelateWith = new[] { "age" }, SubjectColumn = "subject",
        Normalise = new[] { new NormaliseSpec("brain_ml", "icv_ml", NormalisationMethod.Ratio, "nwbv"), new NormaliseSpec("brain_ml", "icv_ml", NormalisationMethod.Residual) },
    });

    internal static ReportInput Input(GroupStatisticsResult res, string dir) => new()
    {
        Stats = res,
        Title = "Demo cohort — group report",
        Failed = new[] { new FailedSubject("OAS1_0099_MR1", "input file missing: sub-99/anat/T1w.nii.gz"), new FailedSubject("OAS1_0100_MR1", "corrupt NIfTI header: sizeof_hdr is 12, expected 348") },
        Thumbnails = Enumerable.Range(1, 6).Select(i => new QcThumbnail($"OAS1_{i:D4}_MR1", Path.Combine(dir, "..", $"sub-OAS1{i:D4}", "anat", $"sub-OAS1{i:D4}_qc.png"))).ToList(),
        RunInfo = new[] { KeyValuePair.Create("cohort", "demo"), KeyValuePair.Create("run", "2026-11-21T17-00-00Z"), KeyValuePair.Create("pipeline", "0.1.0") },
        TotalSubjects = 82,
    };

    [Fact]
    public void ReportIsSelfContainedAndHasEverySection()
    {
        using var tmp = new TempDir("report");
        var dir = Path.Combine(tmp.FullName, "group");
        var res = Analyse(DemoCohort());
        var path = Path.Combine(dir, "report.html");
        HtmlReport.Write(Input(res, dir), path);
        var html = File.ReadAllText(path);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotMatch(new Regex(@"(src|href)\s*=\s*""//", RegexOptions.IgnoreCase), html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("@import", html);
        foreach (var id in HtmlReport.SectionIds) Assert.Contains($"<section id=\"{id}\"", html);
        // thumbnails: relative links to each montage
        Assert.Contains("href=\"../sub-OAS10001/anat/sub-OAS10001_qc.png\"", html);
        Assert.Contains("src=\"../sub-OAS10001/anat/sub-OAS10001_qc.png\"", html);
        // failed subjects with reasons
        Assert.Contains("OAS1_0100_MR1", html);
        Assert.Contains("corrupt NIfTI header", html);
        // plots: one box plot per measure and one scatter per measure, with tick labels
        Assert.Equal(res.Measures.Count * 2 + 1, Regex.Matches(html, "<svg class=\"plot\"").Count);
        Assert.Contains("class=\"tick\"", html);
        Assert.Contains("nwbv vs age", html);
        // the planted effect is reported as significant
        Assert.Contains("<span class=\"badge sig\">significant</span> <b>nwbv</b> is lower in <b>patient</b>", html);
    }

    [RequiresFact(Requirements.Chromium)]
    public void ChromiumRendersTheReportOffline()
    {
        using var tmp = new TempDir("report");
        var dir = Path.Combine(tmp.FullName, "group");
        var res = Analyse(DemoCohort());
        HtmlReport.Write(Input(res, dir), Path.Combine(dir, "report.html"));
        var png = Path.Combine(tmp.FullName, "shot.png");
        var profile = Path.Combine(tmp.FullName, "profile");
        var r = ExternalTool.Run("chromium", new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
            "--user-data-dir=" + profile, "--hide-scrollbars", "--window-size=1280,4200", "--screenshot=" + png,
            "file://" + Path.Combine(dir, "report.html"),
        }, TimeSpan.FromMinutes(2));
        Assert.True(File.Exists(png), "chromium wrote no screenshot: " + r.Stderr);
        Assert.True(new FileInfo(png).Length > 50_000, "screenshot is suspiciously small (blank page?)");
        var keep = Environment.GetEnvironmentVariable("BATCHCOHORT_KEEP_REPORT");
        if (!string.IsNullOrEmpty(keep)) { File.Copy(png, keep, true); File.Copy(Path.Combine(dir, "report.html"), Path.ChangeExtension(keep, ".html"), true); }
    }
}
