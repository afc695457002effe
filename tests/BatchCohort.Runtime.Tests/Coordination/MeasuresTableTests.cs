using BatchCohort.Analysis.Tables;
using BatchCohort.Runtime.Caching;
using BatchCohort.Runtime.Coordination;

namespace BatchCohort.Runtime.Tests.Coordination;

/// <summary>
/// The measures table built a record at a time (the group stage no longer holds every record): columns in the order
/// names are first seen, missing values null, a label replacing a measure of the same name, a measure null for every
/// subject still numeric. The expected tables are written out by hand below.
/// </summary>
public sealed class MeasuresTableTests
{
    private static ResultRecord Record(string label, Dictionary<string, double?> measures, Dictionary<string, string>? labels = null) => new()
    {
        SubjectId = label, SubjectLabel = label, CacheKey = "k", InputHash = "h", PipelineVersion = "p", SettingsHash = "s",
        RunId = "r", MeasuredAt = DateTimeOffset.UnixEpoch, Seconds = 1, Measures = measures, Labels = labels ?? new(),
    };

    [Fact]
    public void Columns_follow_first_appearance_and_missing_values_are_null()
    {
        var t = GroupStage.MeasuresTable(new[]
        {
            Record("01", new() { ["icv_ml"] = 1400, ["brain_ml"] = 1000 }, new() { ["qc_flags"] = "large" }),
            Record("02", new() { ["brain_ml"] = 990, ["etiv_ml"] = 1500 }),
            Record("03", new() { ["icv_ml"] = 1390, ["wm_ml"] = null }, new() { ["site"] = "A" }),
        });
        Assert.Equal(new[] { "participant_id", "icv_ml", "brain_ml", "qc_flags", "etiv_ml", "wm_ml", "site" }, t.ColumnNames);
        Assert.Equal(new string?[] { "sub-01", "sub-02", "sub-03" }, t.GetStrings("participant_id"));
        Assert.Equal(ColumnType.Double, t.Find("icv_ml")!.Type);
        Assert.Equal(1400, t.GetDoubles("icv_ml")[0]);
        Assert.True(t.Find("icv_ml")!.IsNull(1));
        Assert.Equal(1390, t.GetDoubles("icv_ml")[2]);
        Assert.Equal(new[] { 1000.0, 990.0 }, t.GetDoubles("brain_ml").Take(2));
        Assert.True(t.Find("brain_ml")!.IsNull(2));
        Assert.Equal(new string?[] { "large", null, null }, t.GetStrings("qc_flags"));
        Assert.True(t.Find("etiv_ml")!.IsNull(0));
        Assert.Equal(1500, t.GetDoubles("etiv_ml")[1]);
        // null for every subject, and still a measure: numeric, not text
        Assert.Equal(ColumnType.Double, t.Find("wm_ml")!.Type);
        Assert.Equal(3, t.Find("wm_ml")!.NullCount);
        Assert.Equal(new string?[] { null, null, "A" }, t.GetStrings("site"));
    }

    [Fact]
    public void A_label_named_like_a_measure_of_the_same_record_replaces_it_in_place_and_no_record_gives_an_empty_table()
    {
        var t = GroupStage.MeasuresTable(new[]
        {
            Record("01", new() { ["grade"] = 2, ["x"] = 1 }, new() { ["grade"] = "II" }),
            Record("02", new() { ["x"] = 2 }),
        });
        Assert.Equal(new[] { "participant_id", "grade", "x" }, t.ColumnNames);
        Assert.Equal(ColumnType.String, t.Find("grade")!.Type);
        Assert.Equal(new string?[] { "II", null }, t.GetStrings("grade"));
        Assert.Equal(new[] { 1.0, 2.0 }, t.GetDoubles("x"));

        var empty = GroupStage.MeasuresTable(Array.Empty<ResultRecord>());
        Assert.Equal(new[] { "participant_id" }, empty.ColumnNames);
        Assert.Equal(0, empty.RowCount);
    }
}
