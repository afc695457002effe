using System.Diagnostics;
using BatchCohort.Runtime.Measurement;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Cli.Tests;

/// <summary>
/// Runs `dotnet batchcohort.dll …` as a user would, with the test-only measurer plugged in (an environment override
/// of BATCHCOHORT_MEASURER to "" gives the product's own measurer, the imaging pipeline).
/// </summary>
internal static class CliProcess
{
    public static string Dll
    {
        get
        {
            // tests/BatchCohort.Cli.Tests/bin/<Config>/net10.0/ → src/BatchCohort.Cli/bin/<Config>/net10.0/batchcohort.dll
            var config = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Name;
            var p = Repo.Path_("src", "BatchCohort.Cli", "bin", config, "net10.0", "batchcohort.dll");
            return File.Exists(p) ? p : Path.Combine(AppContext.BaseDirectory, "batchcohort.dll");
        }
    }

    public static Process Start(TempDir d, int delayMs, IDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = d.FullName,
        };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment[MeasurerFactory.EnvironmentVariable] = typeof(CountingTestMeasurer).Assembly.Location + ":" + typeof(CountingTestMeasurer).FullName;
        psi.Environment["BATCHCOHORT_TEST_MARKERS"] = d["markers.txt"];
        psi.Environment["BATCHCOHORT_TEST_DELAY_MS"] = delayMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (env is not null) foreach (var kv in env) psi.Environment[kv.Key] = kv.Value;
        return Process.Start(psi)!;
    }

    public sealed record Result(int Code, string Stdout, string Stderr, TimeSpan Elapsed)
    {
        /// <summary>The lines the CLI writes for a user-facing error ("batchcohort: error: …").</summary>
        public string[] ErrorLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("batchcohort: error: ", StringComparison.Ordinal)).ToArray();
    }

    public static async Task<Result> RunToEnd(TempDir d, int delayMs, IDictionary<string, string>? env, TimeSpan limit, params string[] args)
    {
        var sw = Stopwatch.StartNew();
        using var p = Start(d, delayMs, env, args);
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(limit);
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { p.Kill(true); throw new TimeoutException($"batchcohort {string.Join(' ', args)} did not finish in {limit}"); }
        return new Result(p.ExitCode, await so, await se, sw.Elapsed);
    }
}
