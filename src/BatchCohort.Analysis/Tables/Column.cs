using System.Globalization;

namespace BatchCohort.Analysis.Tables;

/// <summary>The value types a <see cref="Table"/> column can hold (each maps onto one Parquet physical/logical type).</summary>
public enum ColumnType
{
    /// <summary>UTF-8 text (Parquet BYTE_ARRAY, logical STRING).</summary>
    String,
    /// <summary>32-bit signed integer (Parquet INT32).</summary>
    Int32,
    /// <summary>64-bit signed integer (Parquet INT64).</summary>
    Int64,
    /// <summary>IEEE double (Parquet DOUBLE).</summary>
    Double,
    /// <summary>true/false (Parquet BOOLEAN).</summary>
    Boolean,
    /// <summary>UTC instant with microsecond resolution (Parquet INT64, TIMESTAMP(MICROS, isAdjustedToUTC=true)).</summary>
    Timestamp,
}

/// <summary>
/// One named, typed, nullable column. Concrete kinds: <see cref="StringColumn"/>, <see cref="Int32Column"/>,
/// <see cref="Int64Column"/>, <see cref="DoubleColumn"/>, <see cref="BooleanColumn"/>, <see cref="TimestampColumn"/>.
/// A null is "no value" (missing); for doubles NaN is a value distinct from null.
/// </summary>
public abstract class Column
{
    protected Column(string name)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("a column needs a non-empty name", nameof(name));
        Name = name;
    }

    public string Name { get; }
    public abstract ColumnType Type { get; }
    public abstract int Length { get; }
    public abstract bool IsNull(int row);

    /// <summary>The value boxed (string, int, long, double, bool or DateTime in UTC), or null.</summary>
    public abstract object? GetValue(int row);

    public int NullCount
    {
        get
        {
            int n = 0;
            for (int i = 0; i < Length; i++) if (IsNull(i)) n++;
            return n;
        }
    }

    /// <summary>True for Int32, Int64 and Double columns (the ones statistics can use).</summary>
    public bool IsNumeric => Type is ColumnType.Int32 or ColumnType.Int64 or ColumnType.Double;

    /// <summary>The value as a double (NaN when null). Throws for non-numeric columns (Boolean gives 0/1).</summary>
    public abstract double GetDouble(int row);

    /// <summary>The value as invariant text (empty for null): what CSV writes.</summary>
    public virtual string Format(int row)
    {
        var v = GetValue(row);
        return v switch
        {
            null => "",
            double d => FormatDouble(d),
            bool b => b ? "true" : "false",
            DateTime t => t.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => v.ToString() ?? "",
        };
    }

    /// <summary>Round-trip text for a double ("R" shortest form; NaN, Infinity, -Infinity).</summary>
    public static string FormatDouble(double d) =>
        double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity"
        : d.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A new column of the same name and type holding the given rows (in that order; -1 gives null).</summary>
    public abstract Column Take(ReadOnlySpan<int> rows);

    /// <summary>A copy under another name.</summary>
    public abstract Column Rename(string newName);

    /// <summary>An empty column builder of the given type.</summary>
    public static Column CreateEmpty(string name, ColumnType type, int length) => type switch
    {
        ColumnType.String => new StringColumn(name, new string?[length]),
        ColumnType.Int32 => new Int32Column(name, new int[length], AllNull(length)),
        ColumnType.Int64 => new Int64Column(name, new long[length], AllNull(length)),
        ColumnType.Double => new DoubleColumn(name, new double[length], AllNull(length)),
        ColumnType.Boolean => new BooleanColumn(name, new bool[length], AllNull(length)),
        ColumnType.Timestamp => new TimestampColumn(name, new long[length], AllNull(length)),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private static bool[] AllNull(int n) => new bool[n];

    public override string ToString() => $"{Name}: {Type}[{Length}]";
}

/// <summary>Text column; a null entry is a missing value.</summary>
public sealed class StringColumn : Column
{
    public StringColumn(string name, string?[] values) : base(name) => Values = values ?? throw new ArgumentNullException(nameof(values));

    public string?[] Values { get; }
    public override ColumnType Type => ColumnType.String;
    public override int Length => Values.Length;
    public override bool IsNull(int row) => Values[row] is null;
    public override object? GetValue(int row) => Values[row];
    public string? this[int row] => Values[row];

    public override double GetDouble(int row) =>
        throw new InvalidOperationException($"column '{Name}' holds text, not numbers");

    public override Column Take(ReadOnlySpan<int> rows)
    {
        var v = new string?[rows.Length];
        for (int i = 0; i < rows.Length; i++) v[i] = rows[i] < 0 ? null : Values[rows[i]];
        return new StringColumn(Name, v);
    }

    public override Column Rename(string newName) => new StringColumn(newName, Values);
}

/// <summary>
/// A column of fixed-size values with an optional validity mask (<c>Valid[i] == false</c> means null; a null
/// mask means no nulls).
/// </summary>
public abstract class ValueColumn<T> : Column where T : struct
{
    protected ValueColumn(string name, T[] values, bool[]? valid) : base(name)
    {
        Values = values ?? throw new ArgumentNullException(nameof(values));
        if (valid is not null && valid.Length != values.Length)
            throw new ArgumentException($"column '{name}': validity mask has {valid.Length} entries for {values.Length} values");
        Valid = valid;
    }

    public T[] Values { get; }

    /// <summary>Null when every row has a value; otherwise false marks a null row.</summary>
    public bool[]? Valid { get; private set; }

    public override int Length => Values.Length;
    public override bool IsNull(int row) => Valid is not null && !Valid[row];

    public T? this[int row] => IsNull(row) ? null : Values[row];

    /// <summary>Sets a row's value (null marks it missing).</summary>
    public void Set(int row, T? value)
    {
        if (value is { } v)
        {
            Values[row] = v;
            if (Valid is not null) Valid[row] = true;
        }
        else
        {
            Valid ??= Enumerable.Repeat(true, Values.Length).ToArray();
            Valid[row] = false;
            Values[row] = default;
        }
    }

    public override object? GetValue(int row) => IsNull(row) ? null : Box(Values[row]);
    protected virtual object Box(T v) => v;

    protected (T[] v, bool[]? m) TakeArrays(ReadOnlySpan<int> rows)
    {
        var v = new T[rows.Length];
        bool[]? m = null;
        for (int i = 0; i < rows.Length; i++)
        {
            int r = rows[i];
            if (r < 0 || IsNull(r))
            {
                m ??= Enumerable.Repeat(true, rows.Length).ToArray();
                m[i] = false;
            }
            else v[i] = Values[r];
        }
        return (v, m);
    }
}

public sealed class Int32Column : ValueColumn<int>
{
    public Int32Column(string name, int[] values, bool[]? valid = null) : base(name, values, valid) { }
    public override ColumnType Type => ColumnType.Int32;
    public override double GetDouble(int row) => IsNull(row) ? double.NaN : Values[row];
    public override Column Take(ReadOnlySpan<int> rows) { var (v, m) = TakeArrays(rows); return new Int32Column(Name, v, m); }
    public override Column Rename(string newName) => new Int32Column(newName, Values, Valid);
}

public sealed class Int64Column : ValueColumn<long>
{
    public Int64Column(string name, long[] values, bool[]? valid = null) : base(name, values, valid) { }
    public override ColumnType Type => ColumnType.Int64;
    public override double GetDouble(int row) => IsNull(row) ? double.NaN : Values[row];
    public override Column Take(ReadOnlySpan<int> rows) { var (v, m) = TakeArrays(rows); return new Int64Column(Name, v, m); }
    public override Column Rename(string newName) => new Int64Column(newName, Values, Valid);
}

public sealed class DoubleColumn : ValueColumn<double>
{
    public DoubleColumn(string name, double[] values, bool[]? valid = null) : base(name, values, valid) { }
    public override ColumnType Type => ColumnType.Double;
    public override double GetDouble(int row) => IsNull(row) ? double.NaN : Values[row];
    public override Column Take(ReadOnlySpan<int> rows) { var (v, m) = TakeArrays(rows); return new DoubleColumn(Name, v, m); }
    public override Column Rename(string newName) => new DoubleColumn(newName, Values, Valid);
}

public sealed class BooleanColumn : ValueColumn<bool>
{
    public BooleanColumn(string name, bool[] values, bool[]? valid = null) : base(name, values, valid) { }
    public override ColumnType Type => ColumnType.Boolean;
    public override double GetDouble(int row) => IsNull(row) ? double.NaN : Values[row] ? 1 : 0;
    public override Column Take(ReadOnlySpan<int> rows) { var (v, m) = TakeArrays(rows); return new BooleanColumn(Name, v, m); }
    public override Column Rename(string newName) => new BooleanColumn(newName, Values, Valid);
}

/// <summary>UTC instants stored as microseconds since 1970-01-01T00:00:00Z (Parquet TIMESTAMP_MICROS).</summary>
public sealed class TimestampColumn : ValueColumn<long>
{
    public TimestampColumn(string name, long[] microsSinceEpoch, bool[]? valid = null) : base(name, microsSinceEpoch, valid) { }

    public static TimestampColumn FromDateTimes(string name, IReadOnlyList<DateTime?> values)
    {
        var v = new long[values.Count];
        bool[]? m = null;
        for (int i = 0; i < v.Length; i++)
        {
            if (values[i] is { } t) v[i] = ToMicros(t);
            else { m ??= Enumerable.Repeat(true, v.Length).ToArray(); m[i] = false; }
        }
        return new TimestampColumn(name, v, m);
    }

    public override ColumnType Type => ColumnType.Timestamp;
    public override double GetDouble(int row) => throw new InvalidOperationException($"column '{Name}' holds timestamps, not numbers");
    protected override object Box(long v) => FromMicros(v);
    public override Column Take(ReadOnlySpan<int> rows) { var (v, m) = TakeArrays(rows); return new TimestampColumn(Name, v, m); }
    public override Column Rename(string newName) => new TimestampColumn(newName, Values, Valid);

    public static long ToMicros(DateTime t)
    {
        var u = t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : t;
        return (u.Ticks - DateTime.UnixEpoch.Ticks) / 10;
    }

    public static DateTime FromMicros(long micros) => new(DateTime.UnixEpoch.Ticks + micros * 10, DateTimeKind.Utc);
}
