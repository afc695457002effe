using Parquet;
using Parquet.Schema;

namespace BatchCohort.Analysis.Tables.Parquet;

/// <summary>
/// Reads flat Parquet files into a <see cref="Table"/> with Parquet.Net (every codec it knows: Snappy, Gzip, Zstd,
/// Brotli, LZ4; data pages v1/v2; dictionary, RLE, delta and byte-stream-split encodings). Types:
/// BOOLEAN → Boolean; INT8/16/32 and UINT8/16 → Int32; INT64 and UINT32 → Int64 (UINT64 too while it fits);
/// FLOAT/DOUBLE/DECIMAL → Double; STRING/untyped BYTE_ARRAY/UUID → String; TIMESTAMP (millis/micros/nanos), INT96
/// and DATE → Timestamp (microseconds; nanoseconds are truncated). Nested or repeated columns and TIME/INTERVAL/binary
/// logical types are refused with a message naming the column.
/// </summary>
internal static class ParquetTableReader
{
    private static ParquetOptions Options() => new() { TreatByteArrayAsString = true };

    public static async Task<Table> ReadAsync(Stream input, string source, IReadOnlyCollection<string>? wanted, CancellationToken ct)
    {
        await using var reader = await Open(input, source, ct).ConfigureAwait(false);
        try
        {
            var fields = Flat(reader.Schema, source);
            if (wanted is not null)
            {
                var byName = fields.ToDictionary(f => f.Name, StringComparer.Ordinal);
                fields = wanted.Select(w => byName.TryGetValue(w, out var f) ? f
                    : throw Ours(new ArgumentException($"{source}: no column '{w}' (columns: {string.Join(", ", byName.Keys)})"))).ToList();
            }
            long total = 0;
            foreach (var rg in reader.RowGroups) total += rg.RowCount;
            if (total > Array.MaxLength) throw Ours(new NotSupportedException($"{source}: {total} rows are more than a table holds"));
            int n = (int)total;
            var sinks = fields.Select(f => Sink.For(f, n, source)).ToList();
            int offset = 0;
            foreach (var rg in reader.RowGroups)
            {
                int rows = checked((int)rg.RowCount);
                for (int c = 0; c < sinks.Count; c++)
                {
                    Guard(rg, fields[c], source);
                    await sinks[c].ReadAsync(rg, offset, rows, ct).ConfigureAwait(false);
                }
                offset += rows;
            }
            return new Table(sinks.Select(s => s.Column));
        }
        catch (Exception e) when (IsLibraryFailure(e))
        {
            throw new InvalidDataException($"{source}: unreadable Parquet data ({e.Message})", e);
        }
    }

    public static async Task<ParquetMetadata> ReadMetadataAsync(Stream input, string source, CancellationToken ct)
    {
        await using var reader = await Open(input, source, ct).ConfigureAwait(false);
        var meta = reader.Metadata ?? throw new InvalidDataException($"{source}: Parquet footer missing");
        var fields = reader.Schema.DataFields;
        var columns = fields.Select(f => new ParquetColumnInfo(f.Name, f.SchemaElement?.Type?.ToString() ?? "?", Logical(f), f.IsNullable)).ToList();
        var groups = new List<ParquetRowGroupInfo>();
        foreach (var rg in reader.RowGroups)
        {
            var chunks = new List<ParquetChunkInfo>();
            foreach (var f in fields)
            {
                var md = rg.GetMetadata(f)?.MetaData;
                var st = rg.GetStatistics(f);
                chunks.Add(new ParquetChunkInfo(f.Name,
                    md is null ? ParquetCompression.Uncompressed : (ParquetCompression)(int)md.Codec,
                    md?.Encodings?.Select(e => e.ToString()).ToList() ?? new List<string>(),
                    st?.NullCount, st?.MinValue, st?.MaxValue));
            }
            groups.Add(new ParquetRowGroupInfo(rg.RowCount, chunks));
        }
        return new ParquetMetadata
        {
            NumRows = meta.NumRows,
            CreatedBy = meta.CreatedBy,
            KeyValueMetadata = reader.CustomMetadata ?? new Dictionary<string, string>(),
            Columns = columns,
            RowGroups = groups,
        };
    }

    /// <summary>
    /// Refuses column chunks that Parquet.Net 6.1.0 decodes wrongly or not at all (measured against DuckDB and
    /// hyparquet-writer files, see docs/tables.md), so that no wrong value reaches a table silently:
    /// RLE-encoded booleans (hyparquet-writer's default: a third of the values came back flipped); INT32
    /// DELTA_BINARY_PACKED whose values span more than 2³¹ (DuckDB PARQUET_VERSION v2: every value after the first
    /// wide delta was wrong); DELTA_BINARY_PACKED timestamps (Parquet.Net throws).
    /// </summary>
    private static void Guard(ParquetRowGroupReader rg, DataField f, string source)
    {
        var md = rg.GetMetadata(f)?.MetaData;
        if (md?.Encodings is not { } enc) return;
        bool plain = enc.Contains(global::Parquet.Meta.Encoding.PLAIN);
        bool dict = enc.Contains(global::Parquet.Meta.Encoding.PLAIN_DICTIONARY) || enc.Contains(global::Parquet.Meta.Encoding.RLE_DICTIONARY);
        bool delta = enc.Contains(global::Parquet.Meta.Encoding.DELTA_BINARY_PACKED);
        string Refuse(string what) => $"{source}: column '{f.Name}' {what}, which Parquet.Net 6.1.0 does not read correctly; rewrite the file with PLAIN/dictionary encodings (e.g. DuckDB's default PARQUET_VERSION v1)";
        if (f.ClrType == typeof(bool) && !plain && !dict && enc.Contains(global::Parquet.Meta.Encoding.RLE))
            throw Ours(new NotSupportedException(Refuse("holds RLE-encoded booleans")));
        if (delta && f.ClrType == typeof(DateTime))
            throw Ours(new NotSupportedException(Refuse("holds DELTA_BINARY_PACKED timestamps")));
        if (delta && md.Type == global::Parquet.Meta.Type.INT32)
        {
            var st = rg.GetStatistics(f);
            long span = st?.MinValue is IConvertible lo && st.MaxValue is IConvertible hi
                ? Convert.ToInt64(hi, System.Globalization.CultureInfo.InvariantCulture) - Convert.ToInt64(lo, System.Globalization.CultureInfo.InvariantCulture)
                : long.MaxValue;
            if (span > int.MaxValue)
                throw Ours(new NotSupportedException(Refuse("holds DELTA_BINARY_PACKED INT32 values spanning more than 2^31 (or without statistics)")));
        }
    }

    private static string? Logical(DataField f)
    {
        var lt = f.SchemaElement?.LogicalType;
        if (lt is null) return f.SchemaElement?.ConvertedType?.ToString();
        if (lt.TIMESTAMP is { } ts)
            return $"TIMESTAMP({(ts.Unit?.MILLIS is not null ? "MILLIS" : ts.Unit?.MICROS is not null ? "MICROS" : "NANOS")},{(ts.IsAdjustedToUTC ? "utc" : "local")})";
        if (lt.STRING is not null) return "STRING";
        if (lt.DATE is not null) return "DATE";
        if (lt.INTEGER is { } i) return $"INT({i.BitWidth},{(i.IsSigned ? "signed" : "unsigned")})";
        if (lt.DECIMAL is { } d) return $"DECIMAL({d.Precision},{d.Scale})";
        return "OTHER";
    }

    private static async Task<ParquetReader> Open(Stream input, string source, CancellationToken ct)
    {
        try
        {
            return await ParquetReader.CreateAsync(input, Options(), leaveStreamOpen: true, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (IsLibraryFailure(e))
        {
            throw new InvalidDataException($"{source}: not a readable Parquet file ({e.Message})", e);
        }
    }

    // Parquet.Net reports corrupt input with many exception types (IOException "not a Parquet file",
    // ParquetException, Thrift protocol errors, index/argument errors from a damaged footer). Ours carry the source
    // already and pass through.
    private static bool IsLibraryFailure(Exception e) =>
        e is not (OperationCanceledException or OutOfMemoryException or FileNotFoundException)
        && e.Data["batchcohort"] is null;

    private static List<DataField> Flat(ParquetSchema schema, string source)
    {
        var list = new List<DataField>();
        foreach (var f in schema.Fields)
        {
            if (f is not DataField df || df.IsArray || f.MaxRepetitionLevel > 0)
                throw Ours(new NotSupportedException($"{source}: column '{f.Name}' is nested ({f.SchemaType}); only flat Parquet schemas are supported"));
            list.Add(df);
        }
        return list;
    }

    private static T Ours<T>(T e) where T : Exception
    {
        e.Data["batchcohort"] = true;
        return e;
    }

    /// <summary>Collects one column across row groups.</summary>
    private abstract class Sink
    {
        public abstract Column Column { get; }
        public abstract Task ReadAsync(ParquetRowGroupReader rg, int offset, int rows, CancellationToken ct);

        public static Sink For(DataField f, int n, string source)
        {
            var t = f.ClrType;
            if (t == typeof(string) || t == typeof(ReadOnlyMemory<char>)) return new StringSink(f, n);
            if (t == typeof(bool)) return new ValueSink<bool, bool>(f, new BooleanColumn(f.Name, new bool[n]), v => v);
            if (t == typeof(int)) return new ValueSink<int, int>(f, new Int32Column(f.Name, new int[n]), v => v);
            if (t == typeof(short)) return new ValueSink<short, int>(f, new Int32Column(f.Name, new int[n]), v => v);
            if (t == typeof(sbyte)) return new ValueSink<sbyte, int>(f, new Int32Column(f.Name, new int[n]), v => v);
            if (t == typeof(byte)) return new ValueSink<byte, int>(f, new Int32Column(f.Name, new int[n]), v => v);
            if (t == typeof(ushort)) return new ValueSink<ushort, int>(f, new Int32Column(f.Name, new int[n]), v => v);
            if (t == typeof(long)) return new ValueSink<long, long>(f, new Int64Column(f.Name, new long[n]), v => v);
            if (t == typeof(uint)) return new ValueSink<uint, long>(f, new Int64Column(f.Name, new long[n]), v => v);
            if (t == typeof(ulong))
                return new ValueSink<ulong, long>(f, new Int64Column(f.Name, new long[n]), v => v <= long.MaxValue ? (long)v
                    : throw Ours(new NotSupportedException($"{source}: column '{f.Name}' holds the unsigned value {v}, beyond a table's Int64")));
            if (t == typeof(double)) return new ValueSink<double, double>(f, new DoubleColumn(f.Name, new double[n]), v => v);
            if (t == typeof(float)) return new ValueSink<float, double>(f, new DoubleColumn(f.Name, new double[n]), v => v);
            if (t == typeof(decimal)) return new ValueSink<decimal, double>(f, new DoubleColumn(f.Name, new double[n]), v => (double)v);
            if (t == typeof(DateTime)) return new ValueSink<DateTime, long>(f, new TimestampColumn(f.Name, new long[n]), TimestampColumn.ToMicros);
            if (t == typeof(DateOnly))
                return new ValueSink<DateOnly, long>(f, new TimestampColumn(f.Name, new long[n]), d => TimestampColumn.ToMicros(d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc)));
            if (t == typeof(Guid)) return new ValueSink<Guid, Guid>(f, null, v => v, n);
            throw Ours(new NotSupportedException($"{source}: column '{f.Name}' has a Parquet type ({f.SchemaElement?.Type}, read as {t.Name}) that a table cannot hold"));
        }
    }

    private sealed class StringSink(DataField df, int n) : Sink
    {
        private readonly string?[] _values = new string?[n];
        public override Column Column => new StringColumn(df.Name, _values);

        public override Task ReadAsync(ParquetRowGroupReader rg, int offset, int rows, CancellationToken ct) =>
            rg.ReadAsync(df, _values.AsMemory(offset, rows), null, ct).AsTask();
    }

    /// <summary>Reads values of Parquet.Net's CLR type <typeparamref name="TIn"/> into a table column of <typeparamref name="TOut"/>.</summary>
    private sealed class ValueSink<TIn, TOut> : Sink where TIn : struct where TOut : struct
    {
        private readonly DataField _field;
        private readonly ValueColumn<TOut>? _column;
        private readonly Func<TIn, TOut> _convert;
        private readonly string?[]? _text; // Guid → String
        private bool[]? _valid;

        public ValueSink(DataField field, ValueColumn<TOut>? column, Func<TIn, TOut> convert, int n = 0)
        {
            _field = field;
            _column = column;
            _convert = convert;
            if (column is null) _text = new string?[n];
        }

        public override Column Column
        {
            get
            {
                if (_text is not null) return new StringColumn(_field.Name, _text);
                var c = _column!;
                return _valid is null ? c : c switch
                {
                    BooleanColumn b => new BooleanColumn(b.Name, b.Values, _valid),
                    Int32Column i => new Int32Column(i.Name, i.Values, _valid),
                    TimestampColumn ts => new TimestampColumn(ts.Name, ts.Values, _valid),
                    Int64Column l => new Int64Column(l.Name, l.Values, _valid),
                    DoubleColumn d => new DoubleColumn(d.Name, d.Values, _valid),
                    _ => throw new InvalidOperationException(c.GetType().Name),
                };
            }
        }

        public override async Task ReadAsync(ParquetRowGroupReader rg, int offset, int rows, CancellationToken ct)
        {
            if (!_field.IsNullable && _text is null && typeof(TIn) == typeof(TOut))
            {
                // REQUIRED column of the table's own type: straight into the column's array
                var target = (Memory<TIn>)(object)new Memory<TOut>(_column!.Values, offset, rows);
                await rg.ReadAsync(_field, target, null, ct).ConfigureAwait(false);
                return;
            }
            var buf = new TIn?[rows];
            await rg.ReadAsync(_field, buf.AsMemory(), null, ct).ConfigureAwait(false);
            for (int r = 0; r < rows; r++)
            {
                if (buf[r] is { } v)
                {
                    if (_text is not null) _text[offset + r] = ((Guid)(object)v).ToString("D");
                    else _column!.Values[offset + r] = _convert(v);
                }
                else if (_text is null)
                {
                    _valid ??= Enumerable.Repeat(true, _column!.Length).ToArray();
                    _valid[offset + r] = false;
                }
            }
        }
    }
}
