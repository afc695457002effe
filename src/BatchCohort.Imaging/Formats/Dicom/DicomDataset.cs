using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace BatchCohort.Imaging.Formats.Dicom;

/// <summary>
/// The elements of one data set (a file's main data set, its file meta group, or a sequence item), with typed
/// accessors. Values are read from the file's buffer on demand; text is decoded with the Specific Character Set.
/// Accessors that meet a malformed value throw <see cref="DicomFormatException"/> naming the file and the tag.
/// </summary>
public sealed class DicomDataset
{
    private readonly byte[] _buffer;
    private readonly List<DicomElement> _elements;
    private readonly bool _sorted;
    private readonly DicomDataset? _parent;
    private readonly int _depth;
    private Encoding? _encoding;

    internal DicomDataset(byte[] buffer, string source, bool explicitVr, bool bigEndian, List<DicomElement> elements,
        bool sorted, DicomDataset? parent = null, int depth = 0)
    {
        _buffer = buffer;
        Source = source;
        ExplicitVr = explicitVr;
        BigEndian = bigEndian;
        _elements = elements;
        _sorted = sorted;
        _parent = parent;
        _depth = depth;
    }

    internal static DicomDataset Empty(string source) => new(Array.Empty<byte>(), source, true, false, new List<DicomElement>(), true);

    /// <summary>The file this data set came from (used in error messages).</summary>
    public string Source { get; }
    public bool ExplicitVr { get; }
    public bool BigEndian { get; }
    public IReadOnlyList<DicomElement> Elements => _elements;
    public int Count => _elements.Count;

    internal byte[] Buffer => _buffer;

    public bool Contains(DicomTag tag) => TryGet(tag, out _);

    public bool TryGet(DicomTag tag, out DicomElement element)
    {
        if (_sorted)
        {
            int lo = 0, hi = _elements.Count - 1;
            uint v = tag.Value;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                uint m = _elements[mid].Tag.Value;
                if (m == v) { element = _elements[mid]; return true; }
                if (m < v) lo = mid + 1; else hi = mid - 1;
            }
        }
        else
        {
            foreach (var e in _elements)
                if (e.Tag == tag) { element = e; return true; }
        }
        element = default;
        return false;
    }

    /// <summary>The raw value bytes of an element (in the data set's byte order).</summary>
    public ReadOnlySpan<byte> GetBytes(DicomElement e) => _buffer.AsSpan(e.Offset, e.Length);

    private DicomFormatException Bad(DicomTag tag, string problem) =>
        new(Source, $"element {tag} {DicomDictionary.NameOf(tag)}: {problem}");

    private DicomVr VrOf(in DicomElement e) => e.Vr != DicomVr.None ? e.Vr : DicomDictionary.ImplicitVr(e.Tag);

    /// <summary>The character set for text values (inherited by sequence items from their parent).</summary>
    public Encoding TextEncoding
    {
        get
        {
            if (_encoding is not null) return _encoding;
            if (TryGet(DicomTags.SpecificCharacterSet, out var e))
                _encoding = DicomCharacterSet.Resolve(DecodeAscii(GetBytes(e)));
            else
                _encoding = _parent?.TextEncoding ?? DicomCharacterSet.Default;
            return _encoding;
        }
    }

    private static string DecodeAscii(ReadOnlySpan<byte> b) => Encoding.Latin1.GetString(b);

    /// <summary>The whole text value with padding (trailing spaces and NULs, leading spaces) removed; null if absent.</summary>
    public string? GetString(DicomTag tag)
    {
        if (!TryGet(tag, out var e)) return null;
        var vr = VrOf(e);
        if (e.Kind != DicomElementKind.Value) throw Bad(tag, "is a sequence, not text");
        if (vr != DicomVr.None && !vr.IsText) throw Bad(tag, $"has VR {vr}, not a text VR");
        var bytes = GetBytes(e);
        var enc = vr == DicomVr.None || vr.UsesCharacterSet ? TextEncoding : Encoding.Latin1;
        return enc.GetString(bytes).Trim(' ', '\0');
    }

    /// <summary>The values of a multi-valued text element, split on backslash and trimmed; null if absent.</summary>
    public string[]? GetStrings(DicomTag tag)
    {
        var s = GetString(tag);
        if (s is null) return null;
        if (s.Length == 0) return Array.Empty<string>();
        var parts = s.Split('\\');
        for (int i = 0; i < parts.Length; i++) parts[i] = parts[i].Trim(' ', '\0');
        return parts;
    }

    /// <summary>
    /// Numeric values of a DS/IS text element or a binary US/SS/UL/SL/FL/FD/OF/OD element; null if absent, empty
    /// array if present with no value. Malformed numbers throw.
    /// </summary>
    public double[]? GetNumbers(DicomTag tag)
    {
        if (!TryGet(tag, out var e)) return null;
        if (e.Kind != DicomElementKind.Value) throw Bad(tag, "is a sequence, not a number");
        var vr = VrOf(e);
        var b = GetBytes(e);
        if (vr == DicomVr.DS || vr == DicomVr.IS)
        {
            var s = Encoding.Latin1.GetString(b).Trim(' ', '\0');
            if (s.Length == 0) return Array.Empty<double>();
            var parts = s.Split('\\');
            var r = new double[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                var p = parts[i].Trim(' ', '\0');
                if (!double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out r[i]) || !double.IsFinite(r[i]))
                    throw Bad(tag, $"'{Truncate(p)}' is not a number");
            }
            return r;
        }
        int size = vr == DicomVr.US || vr == DicomVr.SS ? 2
            : vr == DicomVr.UL || vr == DicomVr.SL || vr == DicomVr.FL || vr == DicomVr.OF ? 4
            : vr == DicomVr.FD || vr == DicomVr.OD ? 8 : 0;
        if (size == 0) throw Bad(tag, vr == DicomVr.None ? "has no known VR in an implicit-VR file" : $"has VR {vr}, not a numeric VR");
        if (b.Length % size != 0) throw Bad(tag, $"{b.Length} bytes is not a whole number of {vr} values");
        var v = new double[b.Length / size];
        bool be = BigEndian;
        for (int i = 0; i < v.Length; i++)
        {
            var s = b.Slice(i * size, size);
            v[i] = vr == DicomVr.US ? (be ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s))
                : vr == DicomVr.SS ? (be ? BinaryPrimitives.ReadInt16BigEndian(s) : BinaryPrimitives.ReadInt16LittleEndian(s))
                : vr == DicomVr.UL ? (be ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s))
                : vr == DicomVr.SL ? (be ? BinaryPrimitives.ReadInt32BigEndian(s) : BinaryPrimitives.ReadInt32LittleEndian(s))
                : vr == DicomVr.FL || vr == DicomVr.OF ? (be ? BinaryPrimitives.ReadSingleBigEndian(s) : BinaryPrimitives.ReadSingleLittleEndian(s))
                : (be ? BinaryPrimitives.ReadDoubleBigEndian(s) : BinaryPrimitives.ReadDoubleLittleEndian(s));
        }
        return v;
    }

    /// <summary>The first numeric value, or null if the element is absent or empty.</summary>
    public double? GetNumber(DicomTag tag)
    {
        var v = GetNumbers(tag);
        return v is { Length: > 0 } ? v[0] : null;
    }

    /// <summary>The first value as an integer; throws when it is not integral or out of range.</summary>
    public int? GetInt(DicomTag tag)
    {
        var d = GetNumber(tag);
        if (d is null) return null;
        double x = d.Value;
        if (x != Math.Floor(x) || x < int.MinValue || x > int.MaxValue)
            throw Bad(tag, FormattableString.Invariant($"{x} is not an integer"));
        return (int)x;
    }

    /// <summary>Items of a sequence (empty if absent). Items are parsed now, with the nesting cap applied.</summary>
    public IReadOnlyList<DicomDataset> GetSequence(DicomTag tag)
    {
        if (!TryGet(tag, out var e)) return Array.Empty<DicomDataset>();
        if (e.Kind == DicomElementKind.Encapsulated) throw Bad(tag, "is encapsulated pixel data, not a sequence");
        bool explicitVr = e.ItemsImplicitVr ? false : ExplicitVr;
        bool big = e.ItemsImplicitVr ? false : BigEndian;
        if (_depth + 1 > DicomParser.MaxDepth) throw Bad(tag, $"sequences nested more than {DicomParser.MaxDepth} deep");
        var parser = new DicomParser(_buffer, Source);
        var items = parser.ParseItems(e.Offset, e.Offset + e.Length, explicitVr, big, tag);
        var result = new List<DicomDataset>(items.Count);
        foreach (var (start, end, undefined) in items)
        {
            var elements = parser.ParseElements(start, end, explicitVr, big, _depth + 1, undefined, out _, out bool sorted);
            result.Add(new DicomDataset(_buffer, Source, explicitVr, big, elements, sorted, this, _depth + 1));
        }
        return result;
    }

    /// <summary>The fragments of encapsulated pixel data (Basic Offset Table first), as byte ranges of the buffer.</summary>
    internal List<(int Offset, int Length)> GetFragments(in DicomElement e) => new DicomParser(_buffer, Source).Fragments(e, BigEndian);

    private static string Truncate(string s) => s.Length <= 32 ? s : s[..32] + "…";
}
