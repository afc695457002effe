using System.Diagnostics;
using System.Globalization;

namespace BatchCohort.Runtime.Storage;

/// <summary>
/// The bounded local scratch where remote inputs are streamed before they are measured: one folder per process
/// under BATCHCOHORT_SCRATCH (default: the system temp folder), one sub-folder per subject, deleted when the
/// subject is done. No single input may be larger than BATCHCOHORT_SCRATCH_MAX_MB (default 2048 MB); a larger one
/// is refused before a byte is read. Folders left by a killed process are removed by the next one.
/// </summary>
public sealed class ScratchSpace
{
    public const string RootVariable = "BATCHCOHORT_SCRATCH";
    public const string MaxVariable = "BATCHCOHORT_SCRATCH_MAX_MB";

    private static readonly Lazy<ScratchSpace> SharedInstance = new(() => new ScratchSpace(
        Environment.GetEnvironmentVariable(RootVariable) is { Length: > 0 } r ? r : Path.Combine(Path.GetTempPath(), "batchcohort-scratch"),
        (long)((double.TryParse(Environment.GetEnvironmentVariable(MaxVariable), NumberStyles.Float, CultureInfo.InvariantCulture, out var mb) && mb > 0 ? mb : 2048) * 1048576)));

    public static ScratchSpace Shared => SharedInstance.Value;

    public ScratchSpace(string parent, long maxInputBytes)
    {
        Directory.CreateDirectory(parent);
        RemoveStale(parent);
        Root = Path.Combine(Path.GetFullPath(parent), $"p{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(Root);
        MaxInputBytes = maxInputBytes;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(Root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { } };
    }

    public string Root { get; }
    public long MaxInputBytes { get; }

    /// <summary>A fresh folder, deleted (with everything in it) when disposed.</summary>
    public ScratchFolder CreateFolder(string tag)
    {
        var safe = new string(tag.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());
        var p = Path.Combine(Root, safe + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(p);
        return new ScratchFolder(p);
    }

    private static void RemoveStale(string parent)
    {
        foreach (var d in Directory.EnumerateDirectories(parent, "p*-*"))
        {
            var name = Path.GetFileName(d);
            var pidText = name[1..name.IndexOf('-')];
            if (!int.TryParse(pidText, out var pid) || pid == Environment.ProcessId) continue;
            bool alive;
            try { using var p = Process.GetProcessById(pid); alive = !p.HasExited; }
            catch (ArgumentException) { alive = false; }
            catch (InvalidOperationException) { alive = false; }
            if (!alive) { try { Directory.Delete(d, true); } catch (IOException) { } catch (UnauthorizedAccessException) { } }
        }
    }
}

public sealed class ScratchFolder(string path) : IDisposable
{
    public string Path { get; } = path;

    public void Dispose()
    {
        try { if (Directory.Exists(Path)) Directory.Delete(Path, true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A subject's input on this machine: the path itself for a local input, or a scratch copy of a remote one.</summary>
public sealed class MaterializedInput : IDisposable
{
    private readonly ScratchFolder? _scratch;

    private MaterializedInput(string localPath, string display, ScratchFolder? scratch, string? remoteFolder)
    {
        LocalPath = localPath;
        Display = display;
        _scratch = scratch;
        RemoteFolder = remoteFolder;
    }

    /// <summary>The file (or DICOM folder) to hash and measure.</summary>
    public string LocalPath { get; }
    /// <summary>The input as a person names it (no secret).</summary>
    public string Display { get; }
    private string? RemoteFolder { get; }

    /// <summary>A message about the scratch copy, rewritten to name the remote input instead.</summary>
    public string Rename(string message) =>
        _scratch is null || RemoteFolder is null ? message : message.Replace(_scratch.Path + System.IO.Path.DirectorySeparatorChar, RemoteFolder + "/", StringComparison.Ordinal).Replace(_scratch.Path, RemoteFolder, StringComparison.Ordinal);

    public void Dispose() => _scratch?.Dispose();

    /// <summary>
    /// A local input as it is; a remote one (az://…/x.nii.gz, an Analyze .hdr whose .img is beside it, or a DICOM
    /// folder given as a URI ending in "/") streamed into a scratch folder under its own names, so that its content
    /// hash — and so its cache key — is the one the same bytes have on disk. Throws <see cref="FileNotFoundException"/>
    /// naming the URI when it is not there, <see cref="StorageException"/> when it is larger than the scratch limit.
    /// </summary>
    public static async Task<MaterializedInput> OpenAsync(string input, ScratchSpace scratch, CancellationToken ct)
    {
        if (!StorageLocation.IsRemote(input)) return new MaterializedInput(input, input, null, null);
        var shown = StorageLocation.Redact(input);
        var folderInput = input.Split('?')[0].EndsWith('/');
        var (parent, name) = StorageLocation.OpenObject(folderInput ? input.Split('?')[0].TrimEnd('/') + (input.Contains('?') ? "?" + input.Split('?', 2)[1] : "") : input);
        var dir = scratch.CreateFolder(name);
        try
        {
            if (folderInput)
            {
                var items = await parent.Child(name).ListAsync("", ct);
                if (items.Count == 0) throw new FileNotFoundException($"input folder not found or empty: {shown}", shown);
                long total = items.Sum(i => i.Size);
                if (total > scratch.MaxInputBytes) throw LocalFolder.TooLarge(shown, total, scratch.MaxInputBytes);
                var local = System.IO.Path.Combine(dir.Path, name);
                foreach (var it in items)
                    await parent.Child(name).DownloadAsync(it.Path, System.IO.Path.Combine(local, it.Path.Replace('/', System.IO.Path.DirectorySeparatorChar)), scratch.MaxInputBytes, ct);
                return new MaterializedInput(local, shown, dir, parent.Display);
            }
            var parts = new List<(string Name, StoredItem Info)>();
            var main = await parent.GetInfoAsync(name, ct) ?? throw new FileNotFoundException($"input file not found: {shown}", shown);
            parts.Add((name, main));
            var lower = name.ToLowerInvariant();
            if (lower.EndsWith(".hdr", StringComparison.Ordinal) || lower.EndsWith(".img", StringComparison.Ordinal) || lower.EndsWith(".img.gz", StringComparison.Ordinal))
            {
                var stem = lower.EndsWith(".img.gz", StringComparison.Ordinal) ? name[..^7] : name[..^4];
                var others = lower.EndsWith(".hdr", StringComparison.Ordinal) ? new[] { ".img", ".img.gz", ".IMG" } : new[] { ".hdr", ".HDR" };
                foreach (var ext in others)
                {
                    if (await parent.GetInfoAsync(stem + ext, ct) is { } other) { parts.Add((stem + ext, other)); break; }
                }
            }
            long sum = parts.Sum(p => p.Info.Size);
            if (sum > scratch.MaxInputBytes) throw LocalFolder.TooLarge(shown, sum, scratch.MaxInputBytes);
            foreach (var (n, _) in parts) await parent.DownloadAsync(n, System.IO.Path.Combine(dir.Path, n), scratch.MaxInputBytes, ct);
            return new MaterializedInput(System.IO.Path.Combine(dir.Path, name), shown, dir, parent.Display);
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }
}
