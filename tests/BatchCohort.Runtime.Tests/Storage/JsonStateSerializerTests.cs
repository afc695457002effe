using System.Diagnostics;
using System.Text.Json;
using BatchCohort.Host;
using BatchCohort.Runtime.Coordination;
using BatchCohort.TestSupport;

namespace BatchCohort.Runtime.Tests.Storage;

/// <summary>
/// Grain state as Redis and Azure blobs hold it: gzip-compressed JSON. The bytes are read back by the gzip program
/// (not our code) and compared with the plain JSON of the same state; state written uncompressed by an earlier version
/// still reads.
/// </summary>
public sealed class JsonStateSerializerTests
{
    private static RunState Run(int n)
    {
        var s = new RunState { RunId = "20261203T000000Z-abcdef", Cohort = "big", Status = RunState.Measuring, StartedAt = DateTimeOffset.UnixEpoch };
        for (int i = 0; i < n; i++)
            s.Subjects.Add(new SubjectState
            {
                Id = $"{i:00000}", Label = $"{i:00000}", Input = $"file:///data/study/sub-{i:00000}/anat/sub-{i:00000}_T1w.nii.gz",
                Status = i % 3 == 0 ? SubjectStatus.Done : SubjectStatus.Pending, CacheKey = Convert.ToHexString(BitConverter.GetBytes((long)i * 7919)).ToLowerInvariant().PadLeft(64, '0'),
                Worker = i % 3 == 0 ? "127.0.0.1:11111@155300165" : null, Attempts = i % 3 == 0 ? 1 : 0,
                StartedAt = i % 3 == 0 ? DateTimeOffset.UnixEpoch.AddSeconds(i) : null,
            });
        return s;
    }

    [Fact]
    public void A_run_of_10000_subjects_is_written_as_gzip_that_the_gzip_program_reads_back_as_the_same_json()
    {
        var state = Run(10_000);
        var plain = JsonSerializer.Serialize(state, BatchCohort.Runtime.Storage.Json.Compact);
        var bytes = new JsonStateSerializer().Serialize(state).ToArray();
        Assert.True(JsonStateSerializer.IsCompressed(bytes));
        Assert.True(bytes.Length * 5 < plain.Length, $"{bytes.Length} bytes compressed, {plain.Length} plain");

        using var d = new TempDir("gz");
        File.WriteAllBytes(d["state.gz"], bytes);
        var psi = new ProcessStartInfo("gzip", new[] { "-dc", d["state.gz"] }) { RedirectStandardOutput = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        var text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        Assert.Equal(plain, text);

        var back = new JsonStateSerializer().Deserialize<RunState>(new BinaryData(bytes));
        Assert.Equal(plain, JsonSerializer.Serialize(back, BatchCohort.Runtime.Storage.Json.Compact));
    }

    [Fact]
    public void State_written_uncompressed_by_an_earlier_version_still_reads()
    {
        var state = Run(3);
        var plain = JsonSerializer.SerializeToUtf8Bytes(state, BatchCohort.Runtime.Storage.Json.Compact);
        Assert.False(JsonStateSerializer.IsCompressed(plain));
        var back = new JsonStateSerializer().Deserialize<RunState>(new BinaryData(plain));
        Assert.Equal(3, back.Subjects.Count);
        Assert.Equal("file:///data/study/sub-00002/anat/sub-00002_T1w.nii.gz", back.Subjects[2].Input);
        Assert.Equal(SubjectStatus.Done, back.Subjects[0].Status);
    }
}
