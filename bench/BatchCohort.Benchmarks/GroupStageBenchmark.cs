// "groupstage": the cohort group stage (descriptives, Student/Welch t, d/g, OLS with covariates, Pearson/Spearman,
// BH-FDR, ratio normalisation) on a 100,000-row table, against scipy/statsmodels doing the same work in the same run
// (groupstage_bench.py). Parquet throughput of the same table against DuckDB: ParquetBenchmark ('parquet').
//   dotnet run -c Release --project bench/BatchCohort.Benchmarks -- groupstage [--rows N] [--reps N] [--no-python]
// Ratio = reference time / our time (>1: ours faster). Times are medians over reps after one warm-up.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BatchCohort.Analysis.Statistics;
using BatchCohort.Analysis.Tables;
using BatchCohort.TestSupport;

namespace BatchCohort.Benchmarks;

public sealed class GroupStageBenchmark : IBenchmark
{
    public string Name => "groupstage";
    public string Description => "group statistics on 100,000 rows vs scipy/statsmodels";

    internal static Table MakeTable(int n)
    {
        var r = new Random(42);
        double N01() => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
        var id = new string?[n]; var grp = new string?[n]; var sex = new string?[n];
        var age = new double[n]; var icv = new double[n]; var brain = new double[n]; var gm = new double[n]; var wm = new double[n];
        for (int i = 0; i < n; i++)
        {
            id[i] = $"SUB{i:D6}";
            bool patient = r.NextDouble() < 0.4;
            grp[i] = patient ? "patient" : "control";
            sex[i] = r.Next(2) == 0 ? "F" : "M";
            age[i] = Math.Round(55 + 40 * r.NextDouble(), 1);
            icv[i] = (sex[i] == "M" ? 1550 : 1380) + 110 * N01();
            double nwbv = 0.95 - 0.0032 * age[i] - (patient ? 0.02 : 0) + 0.02 * N01();
            brain[i] = nwbv * icv[i];
            gm[i] = brain[i] * (0.55 + 0.02 * N01());
            wm[i] = brain[i] - gm[i];
        }
        return new Table(new StringColumn("subject", id), new StringColumn("group", grp), new StringColumn("sex", sex),
            new DoubleColumn("age", age), new DoubleColumn("icv_ml", icv), new DoubleColumn("brain_ml", brain),
            new DoubleColumn("gm_ml", gm), new DoubleColumn("wm_ml", wm));
    }

    private static readonly GroupStatisticsSpec Spec = new()
    {
        GroupColumn = "group", Levels = new[] { "control", "patient" }, Measures = new[] { "brain_ml", "gm_ml", "wm_ml" },
        Covariates = new[] { "age", "sex" }, CorrelateWith = new[] { "age" },
        Normalise = new[] { new NormaliseSpec("brain_ml", "icv_ml", NormalisationMethod.Ratio, "nwbv") },
    };

    private static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }

    public int Run(string[] args)
    {
        int rows = 100_000, reps = 5;
        bool python = !args.Contains("--no-python");
        for (int i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--rows") rows = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            if (args[i] == "--reps") reps = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
        }
        var table = MakeTable(rows);
        Console.WriteLine($"groupstage: {rows:N0} rows × {table.ColumnCount} columns; 4 measures (3 + nwbv ratio), covariates age+sex, correlation with age; {reps} reps after a warm-up");

        // ---- group stage
        GroupStatisticsResult res = GroupStatistics.Run(table, Spec);
        var times = new List<double>();
        for (int k = 0; k < reps; k++)
        {
            var sw = Stopwatch.StartNew();
            res = GroupStatistics.Run(table, Spec);
            times.Add(sw.Elapsed.TotalSeconds);
        }
        double ours = Median(times);
        Console.WriteLine($"  group stage (ours)         {ours * 1000,9:F1} ms   {(ours < 1 ? "PASS: under 1 s" : "FAIL: over 1 s")}");
        BenchResults.Figure("group stage", $"{rows:N0} rows", ours, "s", "< 1 s", ours < 1);
        using var tmp = new TempDir("bench-groupstage");
        if (python && File.Exists(Requirements.Python))
        {
            var csv = tmp["table.csv"];
            CsvTable.Write(table, csv);
            var script = Path.Combine(Repo.Root, "bench", "BatchCohort.Benchmarks", "groupstage_bench.py");
            var outp = ExternalTool.Check(Requirements.Python, new[] { script, csv, reps.ToString(CultureInfo.InvariantCulture) }, TimeSpan.FromMinutes(10));
            using var doc = JsonDocument.Parse(outp);
            var py = Median(doc.RootElement.GetProperty("seconds").EnumerateArray().Select(e => e.GetDouble()).ToList());
            Console.WriteLine($"  scipy/statsmodels          {py * 1000,9:F1} ms   ratio {py / ours,6:F2}x (>1: ours faster)");
            BenchResults.Ratio("group stage", $"{rows:N0} rows", ours, "scipy/statsmodels", py, 1, "s");
            // agreement on the headline numbers (a benchmark that computed something else would be meaningless)
            var chk = doc.RootElement.GetProperty("checks");
            double worst = 0;
            foreach (var m in new[] { "brain_ml", "gm_ml", "wm_ml", "nwbv" })
            {
                var st = res.Stats;
                for (int i = 0; i < st.RowCount; i++)
                {
                    if ((string?)st["measure"].GetValue(i) != m) continue;
                    var test = (string?)st["test"].GetValue(i);
                    if (test == "welch_t") { worst = Math.Max(worst, RelErr(chk.GetProperty(m).GetProperty("welch_t").GetDouble(), st["statistic"].GetDouble(i))); worst = Math.Max(worst, RelErr(chk.GetProperty(m).GetProperty("g").GetDouble(), st["hedges_g"].GetDouble(i))); }
                    if (test == "ols" && (string?)st["term"].GetValue(i) == "group[T.patient]") worst = Math.Max(worst, RelErr(chk.GetProperty(m).GetProperty("ols_group").GetDouble(), st["estimate"].GetDouble(i)));
                    if (test == "pearson") worst = Math.Max(worst, RelErr(chk.GetProperty(m).GetProperty("r").GetDouble(), st["estimate"].GetDouble(i)));
                }
            }
            Console.WriteLine($"  agreement with scipy/statsmodels: max relative difference {worst:E1} (Welch t, g, OLS group β, r; CSV round trip included)");
        }
        else Console.WriteLine("  scipy/statsmodels: skipped");

        Console.WriteLine("  Parquet write/read MB/s of this table against DuckDB: the 'parquet' benchmark");
        return 0;
    }

    private static double RelErr(double a, double b) => Math.Abs(a - b) / Math.Max(Math.Abs(a), 1e-300);
}
