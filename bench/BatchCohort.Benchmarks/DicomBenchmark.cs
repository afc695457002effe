using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using BatchCohort.Imaging.Formats.Dicom;

namespace BatchCohort.Benchmarks;

/// <summary>
/// Loading a 181-slice DICOM series (ch2.nii.gz written as MR DICOM by plastimatch, 181×217×181, 15 MB) into a
/// volume: ours (scan, parse, sort by position, decode, stack, in process) against dcm2niix (a process that also
/// writes an uncompressed NIfTI; its own "conversion required" time is shown too) and pydicom (read all slices,
/// sort, stack with numpy, timed inside Python), in the same run. Best of N after one warm-up each.
/// usage: dicom [repeats=5] [folder]   (without a folder, the series is made with plastimatch)
/// </summary>
public sealed class DicomBenchmark : IBenchmark
{
    public string Name => "dicom";
    public string Description => "load a 181-slice DICOM series vs dcm2niix and pydicom";

    public int Run(string[] args)
    {
        int repeats = args.Length > 0 && int.TryParse(args[0], out var r) ? r : 5;
        using var dir = new GeometryBenchmark.BenchDir();
        string folder;
        if (args.Length > 1) folder = args[1];
        else
        {
            folder = Path.Combine(dir.Path, "ch2dcm");
            const string ch2 = "/usr/share/mricron/templates/ch2.nii.gz";
            if (!File.Exists(ch2)) { Console.Error.WriteLine("needs mricron-data (ch2.nii.gz) and plastimatch"); return 2; }
            Exec("plastimatch", "convert", "--input", ch2, "--output-dicom", folder, "--modality", "MR");
        }
        int files = Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Length;
        long bytes = Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"series: {folder} ({files} files, {bytes / 1048576.0:F1} MB); best of {repeats}"));

        // ours
        var sw = Stopwatch.StartNew();
        var v = DicomSeriesReader.ReadVolume(folder);
        double cold = sw.Elapsed.TotalMilliseconds;
        double ours = double.MaxValue;
        long alloc = 0;
        for (int i = 0; i < repeats; i++)
        {
            long before = GC.GetTotalAllocatedBytes(true);
            sw.Restart();
            v = DicomSeriesReader.ReadVolume(folder);
            ours = Math.Min(ours, sw.Elapsed.TotalMilliseconds);
            alloc = GC.GetTotalAllocatedBytes(true) - before;
        }

        // dcm2niix (process wall time, and the time it reports for its own conversion)
        double d2nWall = double.MaxValue, d2nCore = double.MaxValue;
        var outDir = Path.Combine(dir.Path, "nii");
        for (int i = 0; i <= repeats; i++)
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, true);
            Directory.CreateDirectory(outDir);
            sw.Restart();
            var text = Exec("dcm2niix", "-z", "n", "-b", "n", "-f", "v", "-o", outDir, folder);
            double wall = sw.Elapsed.TotalMilliseconds;
            var m = Regex.Match(text, @"Conversion required ([0-9.]+) seconds");
            if (i == 0) continue; // warm-up
            d2nWall = Math.Min(d2nWall, wall);
            if (m.Success) d2nCore = Math.Min(d2nCore, double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * 1000);
        }

        // pydicom
        var script = Path.Combine(GeometryBenchmark.FindRoot(), "bench", "BatchCohort.Benchmarks", "scripts", "dicom_pydicom.py");
        var py = JsonDocument.Parse(GeometryBenchmark.RunPython(script, folder, repeats)).RootElement;
        double pyMs = py.GetProperty("best_s").GetDouble() * 1000;

        var ci = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(ci, $"volume: {v.Shape} @ {v.Spacing}, {v.OrientationCode}"));
        Console.WriteLine(string.Create(ci, $"{"reader",-42} {"ms",9} {"ratio (theirs/ours)",20}"));
        Console.WriteLine(string.Create(ci, $"{"BatchCohort DicomSeriesReader.ReadVolume",-42} {ours,9:F1} {"",20}  (first call incl. JIT {cold:F0} ms, {alloc / 1048576.0:F0} MB allocated)"));
        Console.WriteLine(string.Create(ci, $"{"dcm2niix process (writes .nii)",-42} {d2nWall,9:F1} {d2nWall / ours,19:F2}×"));
        if (d2nCore < double.MaxValue)
            Console.WriteLine(string.Create(ci, $"{"dcm2niix own 'conversion required'",-42} {d2nCore,9:F1} {d2nCore / ours,19:F2}×"));
        Console.WriteLine(string.Create(ci, $"{"pydicom read+sort+stack (in Python)",-42} {pyMs,9:F1} {pyMs / ours,19:F2}×"));
        var input = Path.GetFileName(folder.TrimEnd('/'));
        BenchResults.Ratio("read series → volume", input, ours, "dcm2niix process", d2nWall, 1);
        if (d2nCore < double.MaxValue) BenchResults.Ratio("read series → volume", input, ours, "dcm2niix 'conversion required'", d2nCore, 1);
        BenchResults.Ratio("read series → volume", input, ours, "pydicom read+sort+stack", pyMs, 1);
        return 0;
    }

    private static string Exec(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        var err = p.StandardError.ReadToEndAsync();
        var o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} failed ({p.ExitCode}): {err.Result}");
        return o + err.Result;
    }
}
