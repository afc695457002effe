using System.IO.Compression;

namespace BatchCohort.Analysis.Tables.Parquet;

/// <summary>Page compression codecs (the Parquet format's <c>CompressionCodec</c> numbering).</summary>
public enum ParquetCompression { Uncompressed = 0, Snappy = 1, Gzip = 2, Lzo = 3, Brotli = 4, Lz4 = 5, Zstd = 6, Lz4Raw = 7 }

/// <summary>How <see cref="ParquetFile.Write(Table, string, ParquetWriteOptions?)"/> lays a table out.</summary>
public sealed record ParquetWriteOptions
{
    /// <summary>Page compression: Uncompressed, Snappy (default, like DuckDB and Arrow), Gzip, Zstd, Brotli or Lz4Raw.</summary>
    public ParquetCompression Compression { get; init; } = ParquetCompression.Snappy;

    /// <summary>
    /// Codec effort. Default <see cref="System.IO.Compression.CompressionLevel.Optimal"/>: Parquet.Net's own default is
    /// SmallestSize, which made zstd writes 50–100× slower here for a few percent smaller files.
    /// </summary>
    public CompressionLevel CompressionLevel { get; init; } = CompressionLevel.Optimal;

    /// <summary>Rows per row group (default 1,000,000).</summary>
    public int RowGroupSize { get; init; } = 1_000_000;

    /// <summary>
    /// Dictionary-encode string columns when they repeat enough for it to pay (default true; Parquet.Net leaves
    /// dictionaries off unless asked). Labels such as group or sex shrink to a few bytes a row.
    /// </summary>
    public bool DictionaryForStrings { get; init; } = true;

    /// <summary>Key/value metadata stored in the footer (e.g. pipeline version, settings hash).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}

/// <summary>The footer of a Parquet file, as far as tables and tests need it.</summary>
public sealed record ParquetMetadata
{
    public required long NumRows { get; init; }
    public string? CreatedBy { get; init; }
    public required IReadOnlyDictionary<string, string> KeyValueMetadata { get; init; }
    public required IReadOnlyList<ParquetColumnInfo> Columns { get; init; }
    public required IReadOnlyList<ParquetRowGroupInfo> RowGroups { get; init; }
}

/// <summary>One column of the schema: its name and physical / logical types as the file declares them.</summary>
public sealed record ParquetColumnInfo(string Name, string PhysicalType, string? LogicalType, bool Nullable);

public sealed record ParquetRowGroupInfo(long NumRows, IReadOnlyList<ParquetChunkInfo> Columns);

/// <summary>A column chunk: codec, encodings and statistics (min/max as Parquet.Net decodes them; null when absent).</summary>
public sealed record ParquetChunkInfo(string Column, ParquetCompression Codec, IReadOnlyList<string> Encodings, long? NullCount, object? Min, object? Max);

/// <summary>
/// Parquet files of <see cref="Table"/>s, through Parquet.Net 6.1.0. Write: flat schema, every column OPTIONAL,
/// String → BYTE_ARRAY (STRING), Int32 → INT32, Int64 → INT64, Double → DOUBLE, Boolean → BOOLEAN,
/// Timestamp → INT64 TIMESTAMP(MILLIS, UTC) — milliseconds on purpose, see <see cref="ParquetTableWriter"/>.
/// Read: also files from DuckDB, Arrow, hyparquet and others (all codecs Parquet.Net knows, ZSTD included); see
/// <see cref="ParquetTableReader"/> for how their types map onto table columns.
/// </summary>
public static class ParquetFile
{
    /// <summary>Key/value entry naming the BatchCohort version that wrote a file (the footer's created_by is Parquet.Net's).</summary>
    public const string WriterKey = "batchcohort.writer";

    public static string WriterName => $"BatchCohort version {typeof(ParquetFile).Assembly.GetName().Version?.ToString(3)}";

    public static void Write(Table table, string path, ParquetWriteOptions? options = null) =>
        Run(() => WriteAsync(table, path, options));

    public static async Task WriteAsync(Table table, string path, ParquetWriteOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        // A library write, like pandas' to_parquet: where a half file must never be seen (the runtime's outputs),
        // the caller writes through BatchCohort's AtomicFile.
        await using var fs = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, useAsync: false);
        await ParquetTableWriter.WriteAsync(table, fs, options ?? new ParquetWriteOptions(), ct).ConfigureAwait(false);
    }

    /// <summary>Writes to a writable, seekable stream (left open).</summary>
    public static void Write(Table table, Stream output, ParquetWriteOptions? options = null) =>
        Run(() => ParquetTableWriter.WriteAsync(table, output, options ?? new ParquetWriteOptions(), default));

    public static byte[] ToBytes(Table table, ParquetWriteOptions? options = null)
    {
        using var ms = new MemoryStream();
        Write(table, ms, options);
        return ms.ToArray();
    }

    /// <summary>Reads the whole file (or only the named columns).</summary>
    public static Table Read(string path, IReadOnlyCollection<string>? columns = null) => Run(() => ReadAsync(path, columns));

    public static async Task<Table> ReadAsync(string path, IReadOnlyCollection<string>? columns = null, CancellationToken ct = default)
    {
        await using var fs = Open(path);
        return await ParquetTableReader.ReadAsync(fs, path, columns, ct).ConfigureAwait(false);
    }

    public static Table Read(byte[] bytes, string source = "<parquet bytes>", IReadOnlyCollection<string>? columns = null) =>
        Run(async () =>
        {
            using var ms = new MemoryStream(bytes, writable: false);
            return await ParquetTableReader.ReadAsync(ms, source, columns, default).ConfigureAwait(false);
        });

    /// <summary>The footer only (schema, row groups, statistics, key/value metadata, created_by).</summary>
    public static ParquetMetadata ReadMetadata(string path) => Run(async () =>
    {
        await using var fs = Open(path);
        return await ParquetTableReader.ReadMetadataAsync(fs, path, default).ConfigureAwait(false);
    });

    private static FileStream Open(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException(Directory.Exists(path) ? $"{path}: is a folder, not a Parquet file" : $"{path}: no such file", path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }

    // Parquet.Net is asynchronous only. The synchronous API runs it on the thread pool so that no caller's
    // synchronization context (a test runner's, an Orleans grain's) can be blocked by its continuations.
    private static void Run(Func<Task> work) => Task.Run(work).GetAwaiter().GetResult();
    private static T Run<T>(Func<Task<T>> work) => Task.Run(work).GetAwaiter().GetResult();
}
