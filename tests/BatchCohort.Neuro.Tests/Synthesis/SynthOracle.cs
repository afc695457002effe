using System.Text.Json;
using BatchCohort.TestSupport;

namespace BatchCohort.Neuro.Tests.Synthesis;

/// <summary>Runs tests/oracles/synth_oracle.py once for a batch of tasks and returns one JSON element per task.</summary>
internal static class SynthOracle
{
    public static JsonElement[] Run(string workDir, params object[] tasks)
    {
        var req = Path.Combine(workDir, "oracle-request.json");
        var res = Path.Combine(workDir, "oracle-result.json");
        File.WriteAllText(req, JsonSerializer.Serialize(new { tasks }));
        ExternalTool.Python("synth_oracle.py", req, res);
        using var doc = JsonDocument.Parse(File.ReadAllText(res));
        return doc.RootElement.GetProperty("results").EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    public static double[] Doubles(this JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();
}
