using BatchCohort.Runtime.Caching;

namespace BatchCohort.Runtime.Storage;

/// <summary>
/// A subject's storage for one job, whatever runs it (the embedded runner's worker, a subject grain): the input on
/// this machine (the path itself, or a scratch copy of a blob input), the subject's folder (sub-&lt;label&gt;/anat) as a
/// storage location where its result is looked for and committed, and a local folder for the measurer to write
/// derivatives into (the subject's folder itself when it is local, else a scratch folder uploaded at commit).
/// Dispose it when the job ends: scratch copies are deleted.
/// </summary>
public sealed class SubjectStorage : IDisposable
{
    private readonly MaterializedInput _input;
    private ScratchFolder? _work;

    private SubjectStorage(MaterializedInput input, IStorageLocation folder, string label, ScratchSpace scratch)
    {
        _input = input;
        Folder = folder;
        Label = label;
        Scratch = scratch;
    }

    public IStorageLocation Folder { get; }
    public string Label { get; }
    private ScratchSpace Scratch { get; }

    /// <summary>The input file (or DICOM folder) on this machine.</summary>
    public string InputPath => _input.LocalPath;

    /// <summary>The record's URI: a file URI, or the blob's az:// / https URI (without any SAS).</summary>
    public Uri ResultUri => Folder.LocalPath is { } lp
        ? FileUri.From(Path.Combine(lp, ResultStore.RecordName(Label)))
        : new Uri(Folder.DisplayOf(ResultStore.RecordName(Label)));

    /// <summary>
    /// Opens a job's storage. <paramref name="input"/> and <paramref name="subjectFolder"/> are paths or blob URIs
    /// (<see cref="LocationOf"/> turns a command's URIs into these). A blob input is streamed into scratch here:
    /// <see cref="FileNotFoundException"/> when it is not there, <see cref="StorageException"/> when it is too large
    /// or unreadable — both name the blob, never a key.
    /// </summary>
    public static async Task<SubjectStorage> OpenAsync(string input, string subjectFolder, string label, ScratchSpace? scratch = null, CancellationToken ct = default)
    {
        scratch ??= ScratchSpace.Shared;
        var folder = StorageLocation.Open(subjectFolder);
        var mat = await MaterializedInput.OpenAsync(input, scratch, ct);
        return new SubjectStorage(mat, folder, label, scratch);
    }

    /// <summary>A location as the storage layer takes it: a file URI's path, any other URI (az://, https) as written.</summary>
    public static string LocationOf(Uri u) => u.IsAbsoluteUri && u.IsFile ? u.LocalPath : u.OriginalString;

    /// <summary>The folder the measurer writes derivatives into (created).</summary>
    public string WorkDirectory()
    {
        if (Folder.LocalPath is { } lp) { Directory.CreateDirectory(lp); return lp; }
        _work ??= Scratch.CreateFolder("out-" + Label);
        return _work.Path;
    }

    /// <summary>The valid result under this cache key, or null.</summary>
    public Task<ResultRecord?> TryLoadAsync(string key, CancellationToken ct = default) => ResultStore.TryLoadValidAsync(Folder, Label, key, ct);

    /// <summary>Commits derivatives then the record (created only if absent); see <see cref="ResultStore.CommitAsync"/>.</summary>
    public Task<ResultStore.CommitOutcome> CommitAsync(ResultRecord result, CancellationToken ct = default) =>
        ResultStore.CommitAsync(Folder, WorkDirectory(), result, ct);

    /// <summary>A failure message about the scratch copy, rewritten to name the blob input instead.</summary>
    public string Rename(string message) => _input.Rename(message);

    public void Dispose()
    {
        _input.Dispose();
        _work?.Dispose();
    }
}
