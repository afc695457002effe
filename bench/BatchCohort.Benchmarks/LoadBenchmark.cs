// ─────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
// "io": loading image files into a float volume, C# (VolumeFile.ReadVolume) against nibabel 5.0
// (nib.load(p).get_fdata()), same files, same run.
//
//   dotnet run -c Release --project bench/BatchCohort.Benchmarks -- io [--reps N] [--warmup N]
//
// Files: ch2.nii.gz (Colin27, 181×217×181 uint8, gzip; from mricron-data) and a generated OASIS-1-shaped Analyze 7.5
// volume (256×256×128 int16 at 1×1×1.25 mm) in little- and big-endian byte order (OASIS-1 files are big-endian).
// Timing: median of N runs (default 9) after W warm-ups (default 2), each side; C# and nibabel runs alternate (one
// long-lived python process answers over stdin/stdout), so a busy machine slows both alike. Ratio = nibabel / C# (>1: C# faster).
// ─────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
using System.Diagnostics;
using System.Globalization;
using BatchCohort.Imaging.Formats;
using BatchCohort.Imaging.Formats.Analyze;
using BatchCohort.Imaging.Volumes;
using BatchCohort.TestSupport;

namespace BatchCohort.Benchmarks;

public sealed class LoadBenchmark : IBenchmark
{
    public string Name => "io";
    public string Description => "load ch2.nii.gz and 256×256×128 int16 Analyze (LE/BE) vs nibabel nib.load().get_fdata()";

    public int Run(string[] args)
    {
        int reps = 9, warmup = 2;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--reps" && i + 1 < args.Length) reps = int.Parse(args[++i], CultureInfo.InvariantCulture);
            else if (args[i] == "--warmup" && i + 1 < args.Length) warmup = int.Parse(args[++i], CultureInfo.InvariantCulture);
        }
        using var dir = new TempDir("iobench");
        var files = new List<(string Label, string Path)>();
        if (File.Exists(Requirements.Ch2Path)) files.Add(("ch2.nii.gz (181×217×181 uint8, gzip)", Requirements.Ch2Path));
        else Console.WriteLine($"note: {Requirements.Ch2Path} missing (apt-get install -y mricron-data); timing the generated files only");

        var oasis = OasisLike();
        var le = dir["oasis_le.hdr"];
        var be = dir["oasis_be.hdr"];
        VolumeFile.WriteAnalyze(oasis, le, VoxelType.Int16);
        VolumeFile.WriteAnalyze(oasis, be, VoxelType.Int16, new AnalyzeWriteOptions { BigEndian = true });
        var gz = dir["oasis_le.nii.gz"];
        VolumeFile.WriteNifti(oasis, gz, VoxelType.Int16);
        files.Add(("Analyze 256×256×128 int16 LE", le));
        files.Add(("Analyze 256×256×128 int16 BE (OASIS)", be));
        files.Add(("NIfTI .nii.gz 256×256×128 int16", gz));

        Console.WriteLine($"io benchmark: median of {reps} after {warmup} warm-up(s), C# and nibabel runs interleaved; {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {LoadAverage()}");
        var psi = new ProcessStartInfo(Requirements.Python)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(Repo.Root, "bench", "BatchCohort.Benchmarks", "load_bench.py"));
        psi.ArgumentList.Add("serve");
        using var py = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + Requirements.Python);
        string version = py.StandardOutput.ReadLine() ?? "?";
        (double Wall, double Cpu) Nib(string path)
        {
            py.StandardInput.WriteLine(path);
            py.StandardInput.Flush();
            var line = py.StandardOutput.ReadLine() ?? throw new InvalidOperationException("nibabel timing process ended");
            var parts = line.Split(' ');
            return (double.Parse(parts[0], CultureInfo.InvariantCulture) * 1000, double.Parse(parts[1], CultureInfo.InvariantCulture) * 1000);
        }
        (double Wall, double Cpu) Ours(string path)
        {
            double c0 = CpuMs();
            var sw = Stopwatch.StartNew();
            var v = VolumeFile.ReadVolume(path);
            double ms = sw.Elapsed.TotalMilliseconds;
            double cpu = CpuMs() - c0;
            GC.KeepAlive(v);
            return (ms, cpu);
        }

        Console.WriteLine();
        Console.WriteLine($"{"",-40} {"── wall-clock median (ms) ──",30}   {"── CPU time median (ms) ──",30}");
        Console.WriteLine($"{"file",-40} {"C#",9} {"nibabel",10} {"ratio",8}   {"C#",9} {"nibabel",10} {"ratio",8}");
        foreach (var (label, path) in files)
        {
            for (int i = 0; i < warmup; i++) { Ours(path); Nib(path); }
            var a = new (double Wall, double Cpu)[reps];
            var b = new (double Wall, double Cpu)[reps];
            for (int i = 0; i < reps; i++)
            {
                a[i] = Ours(path);
                b[i] = Nib(path);
            }
            double Med(IEnumerable<double> xs) { var s = xs.OrderBy(x => x).ToArray(); return s[s.Length / 2]; }
            double ow = Med(a.Select(x => x.Wall)), nw = Med(b.Select(x => x.Wall));
            double oc = Med(a.Select(x => x.Cpu)), nc = Med(b.Select(x => x.Cpu));
            Console.WriteLine($"{label,-40} {ow,9:F1} {nw,10:F1} {nw / ow,8:F2}   {oc,9:F1} {nc,10:F1} {nc / oc,8:F2}");
            BenchResults.Ratio("load (wall clock)", label, ow, "nibabel get_fdata", nw, 1);
            BenchResults.Ratio("load (CPU time)", label, oc, "nibabel get_fdata", nc, 1);
        }
        py.StandardInput.WriteLine();
        py.WaitForExit(10_000);
        Console.WriteLine();
        Console.WriteLine($"ratio = nibabel {version} median / C# median (> 1: C# faster). C# = VolumeFile.ReadVolume (float32 volume,");
        Console.WriteLine("scaled); nibabel = nib.load(p).get_fdata() (float64 array). CPU time = the process's, all threads (clock_gettime");
        Console.WriteLine($"CLOCK_PROCESS_CPUTIME_ID on both sides): the fairer figure on a shared machine. Load average after: {LoadAverage()}");
        return 0;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec ts);

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec { public long Sec; public long Nsec; }

    /// <summary>CPU time of this process, all threads (CLOCK_PROCESS_CPUTIME_ID = 2 on Linux; else TotalProcessorTime).</summary>
    private static double CpuMs()
    {
        try
        {
            if (OperatingSystem.IsLinux() && ClockGetTime(2, out var ts) == 0) return ts.Sec * 1e3 + ts.Nsec / 1e6;
        }
        catch (DllNotFoundException) { }
        catch (EntryPointNotFoundException) { }
        return Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
    }

    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "?"; }
    }

    /// <summary>A head-like 256×256×128 volume at 1×1×1.25 mm (smooth ellipsoid, texture): realistic compressibility.</summary>
    private static Volume OasisLike()
    {
        var shape = new Shape3(256, 256, 128);
        var v = new Volume(shape, new float[shape.Count], Affine.FromSpacing(-1, 1, 1.25, 127.5, -127.5, -79.375));
        var rng = new Random(1);
        var noise = new float[4096];
        for (int i = 0; i < noise.Length; i++) noise[i] = (float)(rng.NextDouble() * 40);
        Parallel.For(0, shape.Z, z =>
        {
            for (int y = 0; y < shape.Y; y++)
                for (int x = 0; x < shape.X; x++)
                {
                    double dx = (x - 128) / 90.0, dy = (y - 128) / 110.0, dz = (z - 64) / 55.0;
                    double r = dx * dx + dy * dy + dz * dz;
                    float val = r < 1 ? (float)(600 + 400 * Math.Cos(6 * r) ) : 0;
                    v.Data[shape.Index(x, y, z)] = val > 0 ? MathF.Round(val + noise[(x * 7 + y * 13 + z * 31) & 4095]) : 0;
                }
        });
        return v;
    }
}
