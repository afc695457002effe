using System.Collections.Concurrent;
using System.Net.Sockets;
using Azure;
using Azure.Core;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

using BatchCohort.Imaging.Formats;

namespace BatchCohort.Runtime.Storage;

/// <summary>
/// A prefix in an Azure Blob Storage container as a storage location: <c>az://container/prefix</c> (credentials
/// from <c>AZURE_STORAGE_CONNECTION_STRING</c>), or an https blob URL — with a SAS query (the SAS is the credential)
/// or without one (the connection string's credential). Path-style URLs of the emulator
/// (<c>http://127.0.0.1:10000/devstoreaccount1/container/prefix</c>) work the same way.
///
/// Conditional writes are the service's: create = If-None-Match: * (a second creator gets 409), replace =
/// If-Match: etag (a stale writer gets 412). A block blob becomes visible only when its block list is committed,
/// so a process killed mid-upload leaves the old object or none, never half of one. Transient failures (timeouts,
/// 408/429/500/502/503/504, dropped connections) are retried by the SDK with exponential backoff
/// (BATCHCOHORT_STORAGE_RETRIES, default 4; delay 0.4 s doubling to 8 s). Errors become one-line
/// <see cref="StorageException"/>s naming the location without its SAS; the connection string is never shown.
/// </summary>
public sealed class BlobFolder : IStorageLocation
{
    public const string ConnectionStringVariable = "AZURE_STORAGE_CONNECTION_STRING";
    public const string RetriesVariable = "BATCHCOHORT_STORAGE_RETRIES";

    private static readonly ConcurrentDictionary<string, BlobServiceClient> Services = new();

    private readonly BlobContainerClient _container;
    private readonly string _prefix;      // "" or "a/b" (no slashes at the ends)
    private readonly string _displayBase; // az://container or https://host/[account/]container, no query

    private BlobFolder(BlobContainerClient container, string prefix, string displayBase)
    {
        _container = container;
        _prefix = prefix.Trim('/');
        _displayBase = displayBase.TrimEnd('/');
    }

    public string Display => _prefix.Length == 0 ? _displayBase : _displayBase + "/" + _prefix;
    public string? LocalPath => null;

    public IStorageLocation Child(string relative) => new BlobFolder(_container, StorageLocation.Join(_prefix, relative), _displayBase);

    public string DisplayOf(string relative) => _displayBase + "/" + StorageLocation.Join(_prefix, relative);

    /// <summary>Opens az://container/prefix or an http(s) blob URL as a folder.</summary>
    public static BlobFolder Open(string spec)
    {
        var (container, name, display) = Parse(spec);
        return new BlobFolder(container, name, display);
    }

    /// <summary>Opens az://container/path/name as (its folder, name).</summary>
    public static (IStorageLocation Folder, string Name) OpenObject(string spec)
    {
        var (container, name, display) = Parse(spec);
        name = name.Trim('/');
        int slash = name.LastIndexOf('/');
        return (new BlobFolder(container, slash < 0 ? "" : name[..slash], display), slash < 0 ? name : name[(slash + 1)..]);
    }

    private static (BlobContainerClient Container, string Name, string Display) Parse(string spec)
    {
        var shown = StorageLocation.Redact(spec);
        if (spec.StartsWith("az://", StringComparison.OrdinalIgnoreCase))
        {
            var rest = spec[5..];
            int slash = rest.IndexOf('/');
            var containerName = slash < 0 ? rest : rest[..slash];
            var name = slash < 0 ? "" : rest[(slash + 1)..];
            CheckContainerName(containerName, shown);
            return (Service(shown).GetBlobContainerClient(containerName), name, "az://" + containerName);
        }
        if (!Uri.TryCreate(spec, UriKind.Absolute, out var uri)) throw new StorageException($"{shown}: not a valid blob URL");
        BlobUriBuilder b;
        try { b = new BlobUriBuilder(uri); }
        catch (Exception e) when (e is ArgumentException or FormatException or UriFormatException) { throw new StorageException($"{shown}: not a valid blob URL", e); }
        if (string.IsNullOrEmpty(b.BlobContainerName)) throw new StorageException($"{shown}: the URL names no container");
        CheckContainerName(b.BlobContainerName, shown);
        var blobName = b.BlobName ?? "";
        var display = StorageLocation.Redact(new BlobUriBuilder(uri) { BlobName = "", Sas = null, Query = null }.ToUri().AbsoluteUri).TrimEnd('/');
        if (b.Sas is not null && !string.IsNullOrEmpty(b.Sas.Signature))
        {
            var containerUri = new BlobUriBuilder(uri) { BlobName = "" }.ToUri();
            return (new BlobContainerClient(containerUri, Options()), blobName, display);
        }
        // no SAS: the connection string's account must be the URL's
        var service = Service(shown);
        if (!string.Equals(service.AccountName, b.AccountName, StringComparison.OrdinalIgnoreCase))
            throw new StorageException($"{shown}: no SAS in the URL, and {ConnectionStringVariable} is for another account");
        return (service.GetBlobContainerClient(b.BlobContainerName), blobName, display);
    }

    private static void CheckContainerName(string name, string shown)
    {
        // 3-63 characters: lower-case letters, digits and single hyphens, starting and ending with a letter or digit
        bool ok = name.Length is >= 3 and <= 63 && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
                  && name[0] != '-' && name[^1] != '-' && !name.Contains("--", StringComparison.Ordinal);
        if (!ok) throw new StorageException($"{shown}: '{name}' is not a valid container name (3-63 lower-case letters, digits and hyphens)");
    }

    private static BlobServiceClient Service(string shown)
    {
        var cs = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (string.IsNullOrWhiteSpace(cs))
            throw new StorageException($"{shown}: no credentials: set {ConnectionStringVariable}, or give an https blob URL with a SAS");
        return Services.GetOrAdd(cs, s =>
        {
            try { return new BlobServiceClient(s, Options()); }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
            {
                // the SDK's message may quote the string: say only which variable is wrong
                throw new StorageException($"{shown}: {ConnectionStringVariable} is not a valid storage connection string");
            }
        });
    }

    private static BlobClientOptions Options()
    {
        // 2025-11-05: the newest version the Azurite emulator accepts without --skipApiVersionCheck; Azure accepts it too.
        var o = new BlobClientOptions(BlobClientOptions.ServiceVersion.V2025_11_05);
        int retries = int.TryParse(Environment.GetEnvironmentVariable(RetriesVariable), out var r) && r >= 0 ? r : 4;
        o.Retry.Mode = RetryMode.Exponential;
        o.Retry.MaxRetries = retries;
        o.Retry.Delay = TimeSpan.FromSeconds(0.4);
        o.Retry.MaxDelay = TimeSpan.FromSeconds(8);
        o.Retry.NetworkTimeout = TimeSpan.FromSeconds(100);
        o.Diagnostics.IsLoggingEnabled = false;
        o.Diagnostics.IsTelemetryEnabled = false;
        return o;
    }

    private string Name(string relative) => StorageLocation.Join(_prefix, relative);

    private BlobClient Blob(string relative) => _container.GetBlobClient(Name(relative));

    public async Task<StoredItem?> GetInfoAsync(string relative, CancellationToken ct = default)
    {
        try
        {
            var p = await Blob(relative).GetPropertiesAsync(cancellationToken: ct);
            return new StoredItem(relative, p.Value.ContentLength, p.Value.ETag.ToString());
        }
        catch (RequestFailedException e) when (e.Status == 404 && e.ErrorCode != "ContainerNotFound") { return null; }
        catch (Exception e) when (IsStorageError(e)) { throw Fail(DisplayOf(relative), e); }
    }

    public async Task<StoredBytes?> ReadAsync(string relative, long maxBytes, CancellationToken ct = default)
    {
        try
        {
            var info = await GetInfoAsync(relative, ct);
            if (info is null) return null;
            if (info.Size > maxBytes) throw LocalFolder.TooLarge(DisplayOf(relative), info.Size, maxBytes);
            var r = await Blob(relative).DownloadContentAsync(new BlobDownloadOptions(), ct);
            return new StoredBytes(r.Value.Content.ToArray(), r.Value.Details.ETag.ToString());
        }
        catch (RequestFailedException e) when (e.Status == 404 && e.ErrorCode != "ContainerNotFound") { return null; }
        catch (Exception e) when (IsStorageError(e)) { throw Fail(DisplayOf(relative), e); }
    }

    public async Task DownloadAsync(string relative, string localFile, long maxBytes, CancellationToken ct = default)
    {
        var shown = DisplayOf(relative);
        var info = await GetInfoAsync(relative, ct) ?? throw new StorageException($"{shown}: not found");
        if (info.Size > maxBytes) throw LocalFolder.TooLarge(shown, info.Size, maxBytes);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(localFile))!);
        try
        {
            await AtomicFile.WriteViaAsync(localFile, tmp => Blob(relative).DownloadToAsync(tmp, new BlobDownloadToOptions
            {
                // the object whose size was checked, not one replaced meanwhile
                Conditions = new BlobRequestConditions { IfMatch = new ETag(info.ETag!) },
                ProgressHandler = TransferProgress.For("downloading", shown, info.Size),
            }, ct));
        }
        catch (Exception e) when (IsStorageError(e)) { throw Fail(shown, e); }
    }

    public async Task<string?> CreateAsync(string relative, byte[] content, CancellationToken ct = default)
    {
        try
        {
            var r = await Blob(relative).UploadAsync(new BinaryData(content), new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, ct);
            return r.Value.ETag.ToString();
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412 && e.ErrorCode is "BlobAlreadyExists" or "ConditionNotMet" or null) { return null; }
        catch (Exception e) when (IsStorageError(e)) { throw Fail(DisplayOf(relative), e); }
    }

    public async Task<string> ReplaceAsync(string relative, byte[] content, string? ifMatch, CancellationToken ct = default)
    {
        try
        {
            var r = await Blob(relative).UploadAsync(new BinaryData(content), new BlobUploadOptions
            {
                Conditions = ifMatch is null ? new BlobRequestConditions { IfNoneMatch = ETag.All } : new BlobRequestConditions { IfMatch = new ETag(ifMatch) },
            }, ct);
            return r.Value.ETag.ToString();
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412 && e.ErrorCode != "ContainerNotFound")
        {
            throw new StorageConflictException($"{DisplayOf(relative)}: changed by someone else since it was read ({e.Status} {e.ErrorCode})", e);
        }
        catch (Exception e) when (IsStorageError(e)) { throw Fail(DisplayOf(relative), e); }
    }

    public async Task UploadFileAsync(string relative, string localFile, CancellationToken ct = default)
    {
        var shown = DisplayOf(relative);
        long size = new FileInfo(localFile).Length;
        try
        {
            await Blob(relative).UploadAsync(localFile, new BlobUploadOptions
            {
                ProgressHandler = TransferProgress.For("uploading", shown, size),
                TransferOptions = new Azure.Storage.StorageTransferOptions { InitialTransferSize = 8 << 20, MaximumTransferSize = 8 << 20, MaximumConcurrency = 2 },
            }, ct);
        }
        catch (Exception e) when (IsStorageError(e)) { throw Fail(shown, e); }
    }

    public async Task<IReadOnlyList<StoredItem>> ListAsync(string prefix = "", CancellationToken ct = default)
    {
        var full = Name(prefix);
        var listPrefix = full.Length == 0 ? null : full + "/";
        var items = new List<StoredItem>();
        try
        {
            await foreach (var b in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, listPrefix, ct))
            {
                var rel = _prefix.Length == 0 ? b.Name : b.Name[(_prefix.Length + 1)..];
                items.Add(new StoredItem(rel, b.Properties.ContentLength ?? 0, b.Properties.ETag?.ToString()));
            }
        }
        catch (Exception e) when (IsStorageError(e)) { throw Fail(Display, e); }
        items.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return items;
    }

    public async Task DeleteAsync(string relative, CancellationToken ct = default)
    {
        try { await Blob(relative).DeleteIfExistsAsync(cancellationToken: ct); }
        catch (Exception e) when (IsStorageError(e)) { throw Fail(DisplayOf(relative), e); }
    }

    public override string ToString() => Display;

    private static bool IsStorageError(Exception e) =>
        e is RequestFailedException or AggregateException or HttpRequestException or SocketException
            or TimeoutException or (TaskCanceledException and not OperationCanceledException { CancellationToken.IsCancellationRequested: true });

    /// <summary>One line for a person: the location and what went wrong. The SDK's own message (which carries request
    /// headers and may carry a URL) is never passed through.</summary>
    private StorageException Fail(string shown, Exception e)
    {
        var root = e;
        while (root is AggregateException { InnerExceptions.Count: > 0 } ag) root = ag.InnerExceptions[^1];
        if (root is RequestFailedException rf)
        {
            var code = rf.ErrorCode ?? "";
            var problem = (rf.Status, code) switch
            {
                (404, "ContainerNotFound") => $"the container '{_container.Name}' does not exist",
                (404, _) => "not found",
                (403, _) => $"access denied ({(code.Length > 0 ? code : "403")}): check the account key in {ConnectionStringVariable} or the SAS (its permissions and expiry)",
                (401, _) => $"not authorised ({(code.Length > 0 ? code : "401")}): check {ConnectionStringVariable} or the SAS",
                (409, _) or (412, _) => $"changed by someone else ({rf.Status} {code})",
                (0, _) => $"cannot reach the storage endpoint {Endpoint()}" + (Cause(rf) is { } c ? $" ({c})" : ""),
                _ => $"the storage service answered {rf.Status}{(code.Length > 0 ? " " + code : "")}",
            };
            return new StorageException($"{shown}: {problem}", e);
        }
        var cause = Cause(root) ?? root.GetType().Name;
        return new StorageException($"{shown}: cannot reach the storage endpoint {Endpoint()} ({cause})", e);
    }

    private string Endpoint() => $"{_container.Uri.Host}:{_container.Uri.Port}";

    private static string? Cause(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            if (x is SocketException se) return se.SocketErrorCode.ToString();
        for (var x = e; x is not null; x = x.InnerException)
            if (x is TimeoutException or TaskCanceledException) return "timed out";
        return null;
    }
}
