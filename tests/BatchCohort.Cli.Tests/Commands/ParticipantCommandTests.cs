using System.Globalization;
using System.Text.Json;
using BatchCohort.Analysis.Tables;
using BatchCohort.TestSupport;

namespace BatchCohort.Cli.Tests.Commands;

public sealed class ParticipantCommandTests
{
    [RequiresFact(Requirements.Ch2, Requirements.ItkKmeans, Requirements.NodeParquet)]
    public async Task Participant_writes_the_measures_as_parquet_that_duckdb_reads_equal_to_the_csv()
    {
        using var tmp = new TempDir("cli-participant");
        var o = new StringWriter();
        var e = new StringWriter();
        int code = await CliApp.RunAsync(new[] { "participant", Requirements.ItkKmeansT1, "--atlas", "colin27", "--id", "0001", "--out", tmp.FullName }, o, e);
        Assert.True(code == 0, e.ToString() + o);
        var anat = Path.Combine(tmp.FullName, "sub-0001", "anat");
        var pq = Path.Combine(anat, "sub-0001_measures.parquet");
        Assert.True(File.Exists(pq), o.ToString());
        Assert.True(File.Exists(Path.Combine(anat, "sub-0001_from-atlas_to-T1w_mode-image_xfm.txt")));
        var csv = CsvTable.Read(Path.Combine(anat, "sub-0001_measures.csv"));

        // DuckDB reads our file: participant_id in BIDS form, then every CSV column with the CSV's values
        using var doc = JsonDocument.Parse(ExternalTool.Node("parquet_oracle.mjs", "read-duckdb", pq));
        var cols = doc.RootElement.GetProperty("columns");
        Assert.Equal("sub-0001", cols.GetProperty("participant_id")[0].GetString());
        foreach (var name in csv.ColumnNames)
        {
            var c = csv[name];
            var theirs = cols.GetProperty(name)[0];
            if (c.IsNumeric)
                Assert.Equal(csv.GetDoubles(name)[0], double.Parse(theirs.GetString()!, CultureInfo.InvariantCulture), 12);
            else
                Assert.Equal(c.IsNull(0) ? "" : c.Format(0), theirs.ValueKind == JsonValueKind.Null ? "" : theirs.GetString());
        }
        Assert.True(csv.GetDoubles("icv_ml")[0] > 500);
    }
}
