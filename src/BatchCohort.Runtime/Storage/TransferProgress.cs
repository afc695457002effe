using System.Diagnostics;
using System.Globalization;

namespace BatchCohort.Runtime.Storage;

/// <summary>
/// Progress of large transfers (at least BATCHCOHORT_PROGRESS_MB, default 16 MB): one line at most every second,
/// and one when the transfer ends, e.g. "uploading az://c/out/sub-01/anat/x.nii.gz: 96.0 of 200.0 MB (48%)".
/// Lines go to <see cref="Line"/> (the CLI prints them); nothing is shown when no one listens.
/// </summary>
public static class TransferProgress
{
    public const string ThresholdVariable = "BATCHCOHORT_PROGRESS_MB";

    /// <summary>Receives progress lines (from any thread).</summary>
    public static event Action<string>? Line;

    public static long ThresholdBytes =>
        (long)((double.TryParse(Environment.GetEnvironmentVariable(ThresholdVariable), NumberStyles.Float, CultureInfo.InvariantCulture, out var mb) && mb >= 0 ? mb : 16) * 1048576);

    /// <summary>A progress handler for one transfer, or null when it is small or no one listens.</summary>
    public static IProgress<long>? For(string verb, string shown, long total)
    {
        if (Line is null || total < ThresholdBytes) return null;
        return new Reporter(verb, shown, total);
    }

    private sealed class Reporter(string verb, string shown, long total) : IProgress<long>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan _last = TimeSpan.FromSeconds(-1);
        private bool _done;

        public void Report(long value)
        {
            lock (this)
            {
                if (_done) return;
                bool end = value >= total;
                if (!end && _clock.Elapsed - _last < TimeSpan.FromSeconds(1)) return;
                _last = _clock.Elapsed;
                _done = end;
                var pct = total > 0 ? 100.0 * value / total : 100;
                Line?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"{verb} {shown}: {value / 1048576.0:0.0} of {total / 1048576.0:0.0} MB ({pct:0}%)"));
            }
        }
    }
}
