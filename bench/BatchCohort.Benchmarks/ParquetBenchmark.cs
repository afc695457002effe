// "parquet": write/read throughput of tables through Parquet.Net 6.1.0 on the 100,000-row group table of the
// 'groupstage' benchmark, against DuckDB (node @duckdb/node-api, parquet_oracle.mjs bench-duckdb) in the same run:
// DuckDB reads our file of each codec into a table and writes that table with the same codec.
//   dotnet run -c Release --project bench/BatchCohort.Benchmarks -- parquet [--rows N] [--reps N] [--no-duckdb]
// Ratio = DuckDB's time / ours (>1: ours faster). Times are medians over reps after one warm-up; MB = our file's size.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BatchCohort.Analysis.Tables;
using BatchCohort.Analysis.Tables.Parquet;
using BatchCohort.TestSupport;

namespace BatchCohort.Benchmarks;

public sealed class ParquetBenchmark : IBenchmark
{
    public string Name => "parquet";
    public string Description => "Parquet.Net write/read MB/s of the 100,000-row group table vs DuckDB, per codec";

    public int Run(string[] args)
    {
        int rows = 100_000, reps = 5;
        for (int i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--rows") rows = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            if (args[i] == "--reps") reps = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
        }
        var table = GroupStageBenchmark.MakeTable(rows);
        using var tmp = new TempDir("bench-parquet");
        Console.WriteLine($"parquet: {rows:N0} rows × {table.ColumnCount} columns (3 text, 5 double), Parquet.Net 6.1.0, median of {reps}");
        Measure(table, tmp, reps, !args.Contains("--no-duckdb"));
        return 0;
    }

    private static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }

    public static void Measure(Table table, TempDir tmp, int reps, bool duck)
    {
        int rows = table.RowCount;
        string input = $"{rows:N0} rows";
        bool haveDuck = duck && Directory.Exists(Path.Combine(Requirements.NodeModules, "@duckdb", "node-api"));
        foreach (var codec in new[] { ParquetCompression.Snappy, ParquetCompression.Zstd, ParquetCompression.Uncompressed, ParquetCompression.Gzip })
        {
            var path = tmp[$"t_{codec}.parquet"];
            var opts = new ParquetWriteOptions { Compression = codec };
            ParquetFile.Write(table, path, opts);
            if (ParquetFile.Read(path).RowCount != rows) throw new InvalidOperationException("read back the wrong number of rows");
            var wt = new List<double>(); var rt = new List<double>();
            for (int k = 0; k < reps; k++)
            {
                var sw = Stopwatch.StartNew(); ParquetFile.Write(table, path, opts); wt.Add(sw.Elapsed.TotalSeconds);
                sw.Restart(); var back = ParquetFile.Read(path); rt.Add(sw.Elapsed.TotalSeconds);
                if (back.RowCount != rows) throw new InvalidOperationException("read back the wrong number of rows");
            }
            double w = Median(wt), rd = Median(rt), mb = new FileInfo(path).Length / 1e6;
            string name = codec.ToString().ToLowerInvariant();
            Console.WriteLine($"  ours   {name,-12} file {mb,6:F2} MB  write {w * 1000,7:F1} ms ({mb / w,7:F1} MB/s, {rows / w / 1e6,5:F2} M rows/s)  read {rd * 1000,7:F1} ms ({mb / rd,7:F1} MB/s, {rows / rd / 1e6,5:F2} M rows/s)");
            BenchResults.Figure($"parquet write {name}", input, mb / w, "MB/s", note: $"file {mb:F2} MB");
            BenchResults.Figure($"parquet read {name}", input, mb / rd, "MB/s", note: $"file {mb:F2} MB");
            if (!haveDuck) continue;
            var dr = new List<double>(); var dw = new List<double>();
            for (int k = 0; k < Math.Max(1, reps / 2); k++)
            {
                using var doc = JsonDocument.Parse(ExternalTool.Node("parquet_oracle.mjs", "bench-duckdb", path, tmp[$"duck_{name}.parquet"], name));
                dr.Add(doc.RootElement.GetProperty("read_ms").GetDouble() / 1000);
                dw.Add(doc.RootElement.GetProperty("write_ms").GetDouble() / 1000);
            }
            double dmr = Median(dr), dmw = Median(dw);
            double dmb = new FileInfo(tmp[$"duck_{name}.parquet"]).Length / 1e6;
            Console.WriteLine($"  duckdb {name,-12} file {dmb,6:F2} MB  write {dmw * 1000,7:F1} ms ({mb / dmw,7:F1} MB/s of our file's size)  read our file {dmr * 1000,7:F1} ms ({mb / dmr,7:F1} MB/s)   ratio write {dmw / w,5:F2}x, read {dmr / rd,5:F2}x (>1: ours faster)");
            BenchResults.Ratio($"parquet write {name}", input, w * 1000, "DuckDB", dmw * 1000, 1, note: "DuckDB writes its own table with the same codec; multi-threaded");
            BenchResults.Ratio($"parquet read {name}", input, rd * 1000, "DuckDB", dmr * 1000, 1, note: "DuckDB reads our file into its own table; multi-threaded");
        }
    }
}
