using System.Reflection;
using BatchCohort.Benchmarks;

// dotnet run -c Release --project bench/BatchCohort.Benchmarks -- <name> [args]   (no name: list them)
var all = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToList();
if (args.Length == 0 || args[0] is "-h" or "--help" or "list")
{
    Console.WriteLine("benchmarks (each prints times and ratios against a named reference run in the same script):");
    foreach (var b in all) Console.WriteLine($"  {b.Name,-14} {b.Description}");
    Console.WriteLine($"  {"all",-14} every benchmark above (defaults, or the sizes in Program.AllArgs), then docs/benchmarks.md written from their figures");
    return 0;
}
if (args[0] == "all") return RunAll(all, args[1..]);
var bench = all.FirstOrDefault(b => b.Name == args[0]);
if (bench is null)
{
    Console.Error.WriteLine($"unknown benchmark '{args[0]}'; known: {string.Join(", ", all.Select(b => b.Name))}");
    return 2;
}
BenchResults.Current = bench.Name;
// --results FILE (used by 'all', which runs each benchmark in a process of its own): the recorded figures as JSON
string? resultsFile = null;
var benchArgs = args[1..].ToList();
int ri = benchArgs.IndexOf("--results");
if (ri >= 0 && ri + 1 < benchArgs.Count) { resultsFile = benchArgs[ri + 1]; benchArgs.RemoveRange(ri, 2); }
int code = bench.Run(benchArgs.ToArray());
if (resultsFile is not null) BenchResults.Save(resultsFile);
return code;

// all [--out docs/benchmarks.md] [--skip a,b]: every benchmark with its default arguments, one after the other, each in
// a process of its own (as when run alone: no heap, caches or JIT state left by the ones before it), and the markdown
// page written from what they recorded (BenchResults, handed back as JSON). A benchmark that fails is reported and
// the rest go on.
static int RunAll(List<IBenchmark> all, string[] args)
{
    string outPath = Path.Combine(BatchCohort.TestSupport.Repo.Root, "docs", "benchmarks.md");
    var skip = new HashSet<string>(StringComparer.Ordinal);
    for (int i = 0; i < args.Length; i++)
    {
        if (args[i] == "--out" && i + 1 < args.Length) outPath = Path.GetFullPath(args[++i]);
        else if (args[i] == "--skip" && i + 1 < args.Length) skip.UnionWith(args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries));
    }
    var runs = new List<(string, string, int, TimeSpan, string, string)>();
    foreach (var b in all.Where(b => !skip.Contains(b.Name)))
    {
        var bargs = AllArgs.TryGetValue(b.Name, out var given) ? given : Array.Empty<string>();
        string shown = string.Join(' ', new[] { b.Name }.Concat(bargs));
        Console.WriteLine($"==== {shown}: {b.Description}");
        BenchResults.Current = b.Name;
        string before = BenchResults.LoadAverage();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        int rc;
        var results = Path.Combine(Path.GetTempPath(), $"bench-{b.Name}-{Environment.ProcessId}.json");
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
            // the same assembly: under 'dotnet run' the process is the dotnet host and the assembly its first argument
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") psi.ArgumentList.Add(typeof(BenchResults).Assembly.Location);
            psi.ArgumentList.Add(b.Name);
            foreach (var a in bargs) psi.ArgumentList.Add(a);
            psi.ArgumentList.Add("--results");
            psi.ArgumentList.Add(results);
            using var child = System.Diagnostics.Process.Start(psi)!;
            child.WaitForExit();
            rc = child.ExitCode;
            if (File.Exists(results)) { BenchResults.Load(results); File.Delete(results); }
        }
        catch (Exception e) { Console.Error.WriteLine($"{b.Name} failed: {e.GetType().Name}: {e.Message}"); rc = 70; }
        runs.Add((shown, b.Description, rc, sw.Elapsed, before, BenchResults.LoadAverage()));
    }
    var command = "dotnet run -c Release --project bench/BatchCohort.Benchmarks -- all" + (skip.Count > 0 ? " --skip " + string.Join(',', skip) : "");
    Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
    File.WriteAllText(outPath, BenchResults.Markdown(command, runs));
    Console.WriteLine($"wrote {outPath}");
    return runs.All(r => r.Item3 == 0) ? 0 : 1;
}

// The arguments `all` gives a benchmark whose own defaults are sized for a study of one figure rather than for a page
// of every figure (each is shown in the page's first table; run the benchmark alone for the full size).
partial class Program
{
    private static readonly Dictionary<string, string[]> AllArgs = new(StringComparer.Ordinal)
    {
        ["crossatlas"] = new[] { "--synth", "2", "--elastix-too" },
    };
}

namespace BatchCohort.Benchmarks
{
    /// <summary>One benchmark, found by reflection; one file each.</summary>
    public interface IBenchmark
    {
        string Name { get; }
        string Description { get; }
        int Run(string[] args);
    }
}
