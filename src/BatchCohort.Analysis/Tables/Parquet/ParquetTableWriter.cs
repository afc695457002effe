using Parquet;
using Parquet.Schema;

namespace BatchCohort.Analysis.Tables.Parquet;

/// <summary>
/// Writes a <see cref="Table"/> with Parquet.Net's low-level API (one typed buffer per column and row group).
/// Choices made against Parquet.Net 6.1.0's pitfalls (measured here, see docs/tables.md):
/// <list type="bullet">
/// <item>Timestamps are written as TIMESTAMP(MILLIS, UTC). Parquet.Net writes the row-group min/max of MICROS and
/// NANOS timestamps in milliseconds (upstream issue #769), and DuckDB then skips row groups a
/// <c>WHERE ts &gt;= …</c> filter needs; there is no public way to leave those statistics out. Sub-millisecond
/// digits are floored (toward the past); CSV keeps microseconds.</item>
/// <item>Compression level <see cref="ParquetWriteOptions.CompressionLevel"/> (Optimal), not Parquet.Net's SmallestSize.</item>
/// <item>Timestamps never become INT96 (that is what Parquet.Net's serializer does with DateTime unless told).</item>
/// <item>String columns get a dictionary hint (Parquet.Net's dictionary encoding is off unless asked).</item>
/// </list>
/// </summary>
internal static class ParquetTableWriter
{
    public static async Task WriteAsync(Table table, Stream output, ParquetWriteOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (options.RowGroupSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "the row group size must be positive");
        var fields = table.Columns.Select(Field).ToArray();
        var po = new ParquetOptions
        {
            CompressionMethod = Codec(options.Compression),
            CompressionLevel = options.CompressionLevel,
        };
        if (options.DictionaryForStrings)
            for (int i = 0; i < fields.Length; i++)
                if (table.Columns[i].Type == ColumnType.String) po.ColumnEncodingHints[fields[i].Path.ToString()] = EncodingHint.Dictionary;

        var meta = new Dictionary<string, string>(StringComparer.Ordinal) { [ParquetFile.WriterKey] = ParquetFile.WriterName };
        if (options.Metadata is not null) foreach (var (k, v) in options.Metadata) meta[k] = v;

        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), output, po, false, ct).ConfigureAwait(false);
        writer.CustomMetadata = meta;
        int n = table.RowCount;
        for (int start = 0; start < n; start += options.RowGroupSize)
        {
            int count = Math.Min(options.RowGroupSize, n - start);
            using var rg = writer.CreateRowGroup();
            for (int c = 0; c < fields.Length; c++)
                await WriteColumnAsync(rg, fields[c], table.Columns[c], start, count, ct).ConfigureAwait(false);
        }
    }

    private static DataField Field(Column c) => c.Type switch
    {
        ColumnType.String => new DataField<string>(c.Name, true),
        ColumnType.Int32 => new DataField<int>(c.Name, true),
        ColumnType.Int64 => new DataField<long>(c.Name, true),
        ColumnType.Double => new DataField<double>(c.Name, true),
        ColumnType.Boolean => new DataField<bool>(c.Name, true),
        ColumnType.Timestamp => new DateTimeDataField(c.Name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Millis, isNullable: true),
        _ => throw new NotSupportedException($"column '{c.Name}': type {c.Type} has no Parquet mapping"),
    };

    private static CompressionMethod Codec(ParquetCompression c) => c switch
    {
        ParquetCompression.Uncompressed => CompressionMethod.None,
        ParquetCompression.Snappy => CompressionMethod.Snappy,
        ParquetCompression.Gzip => CompressionMethod.Gzip,
        ParquetCompression.Zstd => CompressionMethod.Zstd,
        ParquetCompression.Brotli => CompressionMethod.Brotli,
        ParquetCompression.Lz4Raw => CompressionMethod.Lz4Raw,
        _ => throw new NotSupportedException($"Parquet compression {c} is not supported for writing (use Snappy, Zstd, Gzip, Brotli, Lz4Raw or Uncompressed)"),
    };

    private static Task WriteColumnAsync(ParquetRowGroupWriter rg, DataField field, Column column, int start, int count, CancellationToken ct)
    {
        switch (column)
        {
            case StringColumn s:
                return rg.WriteAsync(field, new ArraySegment<string>(s.Values!, start, count), null);
            case Int32Column i: return WriteValues(rg, field, i, start, count, static v => v, ct);
            case Int64Column l: return WriteValues(rg, field, l, start, count, static v => v, ct);
            case DoubleColumn d: return WriteValues(rg, field, d, start, count, static v => v, ct);
            case BooleanColumn b: return WriteValues(rg, field, b, start, count, static v => v, ct);
            case TimestampColumn t:
                return WriteValues(rg, field, t, start, count, micros => ToDateTime(column.Name, micros), ct);
            default:
                throw new NotSupportedException($"column '{column.Name}': {column.GetType().Name} cannot be written to Parquet");
        }
    }

    /// <summary>Non-null values packed together plus one definition level per row (1 = value, 0 = null).</summary>
    private static Task WriteValues<TIn, TOut>(ParquetRowGroupWriter rg, DataField field, ValueColumn<TIn> column, int start, int count,
        Func<TIn, TOut> convert, CancellationToken ct) where TIn : struct where TOut : struct
    {
        var levels = new int[count];
        var valid = column.Valid;
        int k = 0;
        for (int r = 0; r < count; r++)
            if (valid is null || valid[start + r]) { levels[r] = 1; k++; }
        ReadOnlyMemory<TOut> values;
        if (typeof(TIn) == typeof(TOut) && valid is null)
            values = (ReadOnlyMemory<TOut>)(object)new ReadOnlyMemory<TIn>(column.Values, start, count);
        else
        {
            var packed = new TOut[k];
            int j = 0;
            for (int r = 0; r < count; r++)
                if (levels[r] == 1) packed[j++] = convert(column.Values[start + r]);
            values = packed;
        }
        return rg.WriteAllPartsAsync(field, values, levels, null, ct);
    }

    private static DateTime ToDateTime(string column, long micros)
    {
        long ms = micros / 1000;
        if (micros % 1000 < 0) ms--; // floor, also before 1970
        if (ms < MinMillis || ms > MaxMillis)
            throw new ArgumentOutOfRangeException(nameof(micros), $"column '{column}': timestamp {micros} µs since 1970 is outside the years 1–9999 that Parquet files of tables hold");
        return new DateTime(DateTime.UnixEpoch.Ticks + ms * TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
    }

    private static readonly long MinMillis = (DateTime.MinValue.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
    private static readonly long MaxMillis = (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
}
