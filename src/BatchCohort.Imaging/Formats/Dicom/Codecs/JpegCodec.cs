using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace BatchCohort.Imaging.Formats.Dicom.Codecs;

/// <summary>
/// JPEG decoding for DICOM (ITU-T T.81): the lossless process 14 (Annex H: Huffman-coded prediction differences,
/// predictors 1–7, point transform, restart intervals) and the sequential DCT processes 1 and 2/4 (Huffman, 8- or
/// 12-bit). The DCT path uses the integer Loeffler–Ligtenberg–Moschytz inverse DCT with 13-bit constants,
/// triangle ("fancy") chroma upsampling and fixed-point YCbCr→RGB, the choices the IJG library makes by default,
/// so decoded pixels match what DCMTK (and GDCM) produce. YBR_FULL/YBR_FULL_422 colour is converted to RGB
/// (<see cref="DicomPixelData.DecodedPhotometric"/> then says RGB); RGB is left as coded. Hierarchical, progressive and arithmetic-coded JPEG are refused with a message.
/// </summary>
internal sealed class JpegCodec
{
    private readonly byte[] _d;
    private int _pos;
    private readonly int _end;
    private readonly string _path;
    private readonly int _frameIndex;

    // bit reader
    private ulong _bits;
    private int _nbits;
    private bool _marker;
    private int _overrun;

    private readonly HuffmanTable?[] _dc = new HuffmanTable?[4];
    private readonly HuffmanTable?[] _ac = new HuffmanTable?[4];
    private readonly int[]?[] _q = new int[]?[4];
    private int _restartInterval;

    // frame
    private int _sof = -1;
    private int _precision;
    private int _width, _height;
    private Component[] _comps = Array.Empty<Component>();
    private int _hmax, _vmax;

    private sealed class Component
    {
        public int Id, H, V, Tq;
        public int BlocksPerLine, BlocksPerColumn; // storage, in blocks (DCT) — for lossless, width/height in samples
        public int Width, Height;                   // samples actually covered
        public short[] Plane = Array.Empty<short>(); // DCT: (BlocksPerLine·8) × (BlocksPerColumn·8)
        public int[] Lossless = Array.Empty<int>();  // lossless: Width × Height
        public int Pred;                             // DC predictor (DCT)
        public int DcTable, AcTable;
    }

    private JpegCodec(byte[] data, int offset, int length, string path, int frameIndex)
    {
        _d = data;
        _pos = offset;
        _end = offset + length;
        _path = path;
        _frameIndex = frameIndex;
    }

    private DicomFormatException Bad(string p) => new(_path, $"JPEG frame {_frameIndex + 1}: {p}");

    /// <summary>
    /// Reads the frame header (SOF) without decoding, so a caller can check the image size before allocating for
    /// it. Null when no frame header is found before the first scan or the end of the data.
    /// </summary>
    public static (int Width, int Height, int Components, int Precision)? PeekFrameHeader(ReadOnlySpan<byte> d)
    {
        int p = 2;
        if (d.Length < 4 || d[0] != 0xFF || d[1] != 0xD8) return null;
        while (p + 4 <= d.Length)
        {
            if (d[p] != 0xFF) { p++; continue; }
            int m = d[p + 1];
            if (m == 0xFF) { p++; continue; }
            if (m == 0xD8 || m is >= 0xD0 and <= 0xD7 || m == 0x01 || m == 0x00) { p += 2; continue; }
            if (m == 0xD9 || m == 0xDA) return null;
            int len = (d[p + 2] << 8) | d[p + 3];
            if (m is 0xC0 or 0xC1 or 0xC2 or 0xC3 or >= 0xC5 and <= 0xC7 or >= 0xC9 and <= 0xCB or >= 0xCD and <= 0xCF)
            {
                if (p + 10 > d.Length) return null;
                return ((d[p + 7] << 8) | d[p + 8], (d[p + 5] << 8) | d[p + 6], d[p + 9], d[p + 4]);
            }
            p += 2 + len;
        }
        return null;
    }

    /// <summary>Decodes one JPEG frame into native little-endian layout (samples interleaved) of the DICOM description.</summary>
    public static void Decode(ReadOnlySpan<byte> src, DicomPixelDescription d, Span<byte> output, string path, int frameIndex)
    {
        // The decoder keeps indices into an array; copy only when the span is not already one.
        var data = src.ToArray();
        var c = new JpegCodec(data, 0, data.Length, path, frameIndex);
        c.Run(d, output);
    }

    private void Run(DicomPixelDescription d, Span<byte> output)
    {
        if (_end - _pos < 4 || _d[_pos] != 0xFF || _d[_pos + 1] != 0xD8) throw Bad("does not start with a JPEG Start Of Image marker");
        _pos += 2;
        bool sawScan = false;
        while (true)
        {
            int marker = NextMarker();
            if (marker < 0)
            {
                if (sawScan) break; // missing EOI after complete data: tolerated like IJG does
                throw Bad("ends before any image data (no Start Of Scan)");
            }
            if (marker == 0xD9) break; // EOI
            if (marker is >= 0xD0 and <= 0xD7) continue; // stray RST
            if (marker == 0x01) continue; // TEM
            int len = ReadSegmentLength();
            int segEnd = _pos + len - 2;
            switch (marker)
            {
                case 0xC4: ReadDht(segEnd); break;
                case 0xDB: ReadDqt(segEnd); break;
                case 0xDD:
                    if (len < 4) throw Bad("DRI segment too short");
                    _restartInterval = U16(_pos);
                    break;
                case 0xC0: case 0xC1: case 0xC3:
                    if (_sof >= 0) throw Bad("more than one frame header (hierarchical JPEG is not supported)");
                    _sof = marker;
                    ReadSof(segEnd, d);
                    break;
                case 0xC2: throw Bad("progressive JPEG (process 10/12) is not supported");
                case 0xC5: case 0xC6: case 0xC7: throw Bad("hierarchical JPEG is not supported");
                case 0xC9: case 0xCA: case 0xCB: case 0xCD: case 0xCE: case 0xCF: throw Bad("arithmetic-coded JPEG is not supported");
                case 0xDA:
                    if (_sof < 0) throw Bad("scan before frame header");
                    int after = ReadSosAndDecode(segEnd);
                    sawScan = true;
                    _pos = after;
                    continue;
                case 0xDC: throw Bad("DNL marker (height defined after the scan) is not supported");
                default: break; // APPn, COM, others: skip
            }
            _pos = segEnd;
        }
        if (!sawScan) throw Bad("contains no scan");
        Output(d, output);
    }

    private int U16(int p) => (_d[p] << 8) | _d[p + 1];

    /// <summary>Finds the next marker at or after the current position (skipping fill bytes); -1 at end of data.</summary>
    private int NextMarker()
    {
        while (_pos < _end)
        {
            if (_d[_pos] != 0xFF) { _pos++; continue; }
            while (_pos < _end && _d[_pos] == 0xFF) _pos++;
            if (_pos >= _end) return -1;
            int m = _d[_pos++];
            if (m == 0x00) continue; // stuffed byte outside a scan: keep looking
            return m;
        }
        return -1;
    }

    private int ReadSegmentLength()
    {
        if (_end - _pos < 2) throw Bad("truncated marker segment");
        int len = U16(_pos);
        if (len < 2 || len > _end - _pos) throw Bad($"marker segment length {len} runs past the end of the data");
        _pos += 2;
        return len;
    }

    private void ReadDht(int segEnd)
    {
        int p = _pos;
        while (p < segEnd)
        {
            if (segEnd - p < 17) throw Bad("truncated Huffman table");
            int tc = _d[p] >> 4, th = _d[p] & 15;
            if (tc > 1 || th > 3) throw Bad($"Huffman table class {tc} id {th} is not valid");
            var counts = new int[17];
            int total = 0;
            for (int i = 1; i <= 16; i++) { counts[i] = _d[p + i]; total += counts[i]; }
            p += 17;
            if (total > 256 || segEnd - p < total) throw Bad("Huffman table lists more values than it holds");
            var values = new byte[total];
            Array.Copy(_d, p, values, 0, total);
            p += total;
            var t = new HuffmanTable(counts, values, this);
            if (tc == 0) _dc[th] = t; else _ac[th] = t;
        }
    }

    private void ReadDqt(int segEnd)
    {
        int p = _pos;
        while (p < segEnd)
        {
            int pq = _d[p] >> 4, tq = _d[p] & 15;
            if (tq > 3 || pq > 1) throw Bad("quantisation table header is not valid");
            p++;
            int need = 64 * (pq + 1);
            if (segEnd - p < need) throw Bad("truncated quantisation table");
            var q = new int[64];
            for (int k = 0; k < 64; k++)
            {
                q[ZigZag[k]] = pq == 0 ? _d[p + k] : U16(p + 2 * k);
            }
            p += need;
            _q[tq] = q;
        }
    }

    private void ReadSof(int segEnd, DicomPixelDescription d)
    {
        if (segEnd - _pos < 6) throw Bad("truncated frame header");
        _precision = _d[_pos];
        _height = U16(_pos + 1);
        _width = U16(_pos + 3);
        int nf = _d[_pos + 5];
        if (segEnd - _pos < 6 + 3 * nf) throw Bad("truncated frame header");
        if (_height == 0) throw Bad("frame height 0 (DNL) is not supported");
        if (_width == 0 || nf == 0 || nf > 4) throw Bad($"frame header gives {_width}×{_height} with {nf} components");
        if (_width != d.Columns || _height != d.Rows)
            throw Bad($"JPEG frame is {_width}×{_height} but the DICOM header says {d.Columns}×{d.Rows}");
        if (nf != d.SamplesPerPixel)
            throw Bad($"JPEG has {nf} components but SamplesPerPixel is {d.SamplesPerPixel}");
        bool lossless = _sof == 0xC3;
        if (lossless ? _precision is < 2 or > 16 : _precision is not (8 or 12))
            throw Bad($"sample precision {_precision} is not valid for this JPEG process");
        if (_precision > d.BitsAllocated) throw Bad($"JPEG precision {_precision} exceeds BitsAllocated {d.BitsAllocated}");
        _comps = new Component[nf];
        _hmax = 1; _vmax = 1;
        for (int i = 0; i < nf; i++)
        {
            int p = _pos + 6 + 3 * i;
            var c = new Component { Id = _d[p], H = _d[p + 1] >> 4, V = _d[p + 1] & 15, Tq = _d[p + 2] };
            if (c.H is < 1 or > 4 || c.V is < 1 or > 4 || c.Tq > 3) throw Bad("component sampling factors or table id are not valid");
            _comps[i] = c;
            _hmax = Math.Max(_hmax, c.H);
            _vmax = Math.Max(_vmax, c.V);
        }
        foreach (var c in _comps)
        {
            c.Width = (_width * c.H + _hmax - 1) / _hmax;
            c.Height = (_height * c.V + _vmax - 1) / _vmax;
            if (lossless)
            {
                if (c.H != _hmax || c.V != _vmax) throw Bad("subsampled components in lossless JPEG are not supported");
                c.Lossless = new int[(long)c.Width * c.Height];
            }
            else
            {
                int mcusX = (_width + 8 * _hmax - 1) / (8 * _hmax);
                int mcusY = (_height + 8 * _vmax - 1) / (8 * _vmax);
                c.BlocksPerLine = mcusX * c.H;
                c.BlocksPerColumn = mcusY * c.V;
                c.Plane = new short[(long)c.BlocksPerLine * 8 * c.BlocksPerColumn * 8];
            }
        }
    }

    // ------------------------------------------------------------------ entropy-coded data

    private void ResetBits()
    {
        _bits = 0;
        _nbits = 0;
        _marker = false;
    }

    private void Fill()
    {
        while (_nbits <= 56)
        {
            int b = 0;
            if (!_marker && _pos < _end)
            {
                b = _d[_pos];
                if (b == 0xFF)
                {
                    int next = _pos + 1 < _end ? _d[_pos + 1] : -1;
                    if (next == 0x00) _pos += 2;
                    else { _marker = true; b = 0; }
                }
                else _pos++;
            }
            if (_marker || (_pos >= _end && b == 0))
            {
                _overrun += 8;
                if (_overrun > 4096) throw Bad("entropy-coded data ends before the image is complete (file truncated or corrupt)");
            }
            _bits |= (ulong)(byte)b << (56 - _nbits);
            _nbits += 8;
        }
    }

    internal int PeekBits(int n)
    {
        if (_nbits < n) Fill();
        return (int)(_bits >> (64 - n));
    }

    internal void SkipBits(int n)
    {
        _bits <<= n;
        _nbits -= n;
    }

    private int GetBits(int n)
    {
        if (n == 0) return 0;
        int v = PeekBits(n);
        SkipBits(n);
        return v;
    }

    private static int Extend(int v, int s) => s == 0 ? 0 : v < (1 << (s - 1)) ? v - (1 << s) + 1 : v;

    /// <summary>Handles a restart marker between intervals: byte-align, expect RSTn, reset predictors.</summary>
    private void Restart()
    {
        ResetBits();
        // Find the RSTn marker (skipping any stray bytes a writer left).
        while (_pos < _end)
        {
            if (_d[_pos] == 0xFF && _pos + 1 < _end && _d[_pos + 1] is >= 0xD0 and <= 0xD7) { _pos += 2; break; }
            if (_d[_pos] == 0xFF && _pos + 1 < _end && _d[_pos + 1] == 0xFF) { _pos++; continue; }
            if (_d[_pos] == 0xFF && _pos + 1 < _end && _d[_pos + 1] != 0x00) break; // another marker: leave it
            _pos++;
        }
        foreach (var c in _comps) c.Pred = 0;
    }

    private int ReadSosAndDecode(int segEnd)
    {
        int ns = _d[_pos];
        if (ns < 1 || ns > 4 || segEnd - _pos < 1 + 2 * ns + 3) throw Bad("scan header is not valid");
        var scomps = new Component[ns];
        for (int i = 0; i < ns; i++)
        {
            int id = _d[_pos + 1 + 2 * i];
            int tables = _d[_pos + 2 + 2 * i];
            var c = Array.Find(_comps, x => x.Id == id) ?? throw Bad($"scan names component {id}, which the frame does not have");
            c.DcTable = tables >> 4;
            c.AcTable = tables & 15;
            if (c.DcTable > 3 || c.AcTable > 3) throw Bad("scan names a Huffman table id above 3");
            scomps[i] = c;
        }
        int ss = _d[_pos + 1 + 2 * ns];
        int se = _d[_pos + 2 + 2 * ns];
        int ahal = _d[_pos + 3 + 2 * ns];
        _pos = segEnd;
        ResetBits();
        _overrun = 0;
        if (_sof == 0xC3) DecodeLosslessScan(scomps, ss, ahal & 15);
        else
        {
            // Ss, Se, Ah/Al must be 0, 63, 0 in a sequential scan; like IJG, a writer's wrong values are ignored.
            DecodeDctScan(scomps);
        }
        // Leave the position at the next marker (the bit reader may have read ahead only up to a marker).
        if (_marker) { /* _pos already at the 0xFF of the marker */ }
        return _pos;
    }

    // ------------------------------------------------------------------ lossless (Annex H)

    private void DecodeLosslessScan(Component[] scomps, int predictor, int pt)
    {
        if (predictor is < 1 or > 7) throw Bad($"lossless predictor selection value {predictor} is not 1–7");
        if (pt >= _precision) throw Bad($"point transform {pt} is not below the precision {_precision}");
        foreach (var c in scomps)
            if (_dc[c.DcTable] is null) throw Bad($"Huffman table {c.DcTable} is used before it is defined");
        int width = _width, height = _height;
        int ns = scomps.Length;
        int initial = 1 << (_precision - pt - 1);
        int restart = _restartInterval; // in MCUs; one MCU = one sample of each scan component
        int mcuCount = 0;
        bool firstLineOfInterval = true;
        var tables = new HuffmanTable[ns];
        for (int i = 0; i < ns; i++) tables[i] = _dc[scomps[i].DcTable]!;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                if (restart > 0 && mcuCount > 0 && mcuCount % restart == 0)
                {
                    Restart();
                    firstLineOfInterval = true;
                }
                bool startOfInterval = restart > 0 ? mcuCount % restart == 0 : mcuCount == 0;
                for (int i = 0; i < ns; i++)
                {
                    var c = scomps[i];
                    var plane = c.Lossless;
                    int at = y * width + x;
                    int pred;
                    if (startOfInterval) pred = initial;
                    else if (firstLineOfInterval) pred = plane[at - 1];
                    else if (x == 0) pred = plane[at - width];
                    else
                    {
                        int ra = plane[at - 1], rb = plane[at - width], rc = plane[at - width - 1];
                        pred = predictor switch
                        {
                            1 => ra,
                            2 => rb,
                            3 => rc,
                            4 => ra + rb - rc,
                            5 => ra + ((rb - rc) >> 1),
                            6 => rb + ((ra - rc) >> 1),
                            _ => (ra + rb) >> 1,
                        };
                    }
                    int s = tables[i].Decode(this);
                    int diff;
                    if (s == 0) diff = 0;
                    else if (s == 16) diff = 32768;
                    else if (s > 16) throw Bad($"difference category {s} is not valid in lossless JPEG");
                    else diff = Extend(GetBits(s), s);
                    plane[at] = (pred + diff) & 0xFFFF;
                }
                mcuCount++;
            }
            firstLineOfInterval = false; // a restart at the start of the next row sets it again
        }
        _losslessPt = pt;
    }

    private int _losslessPt;

    // ------------------------------------------------------------------ sequential DCT (processes 1, 2, 4)

    private void DecodeDctScan(Component[] scomps)
    {
        foreach (var c in scomps)
        {
            if (_dc[c.DcTable] is null || _ac[c.AcTable] is null) throw Bad("scan uses a Huffman table that is not defined");
            if (_q[c.Tq] is null) throw Bad("component uses a quantisation table that is not defined");
            c.Pred = 0;
        }
        Span<int> block = stackalloc int[64];
        int restart = _restartInterval;
        int mcu = 0;
        if (scomps.Length == 1)
        {
            var c = scomps[0];
            int bw = (c.Width + 7) / 8, bh = (c.Height + 7) / 8;
            for (int by = 0; by < bh; by++)
                for (int bx = 0; bx < bw; bx++)
                {
                    if (restart > 0 && mcu > 0 && mcu % restart == 0) Restart();
                    DecodeBlock(c, block);
                    Idct(block, c, bx, by);
                    mcu++;
                }
            return;
        }
        int mcusX = (_width + 8 * _hmax - 1) / (8 * _hmax);
        int mcusY = (_height + 8 * _vmax - 1) / (8 * _vmax);
        for (int my = 0; my < mcusY; my++)
            for (int mx = 0; mx < mcusX; mx++)
            {
                if (restart > 0 && mcu > 0 && mcu % restart == 0) Restart();
                foreach (var c in scomps)
                    for (int v = 0; v < c.V; v++)
                        for (int h = 0; h < c.H; h++)
                        {
                            DecodeBlock(c, block);
                            Idct(block, c, mx * c.H + h, my * c.V + v);
                        }
                mcu++;
            }
    }

    private void DecodeBlock(Component c, Span<int> block)
    {
        block.Clear();
        var q = _q[c.Tq]!;
        int t = _dc[c.DcTable]!.Decode(this);
        if (t > 16) throw Bad($"DC difference category {t} is not valid");
        int diff = t == 0 ? 0 : Extend(GetBits(t), t);
        c.Pred += diff;
        block[0] = c.Pred * q[0];
        var ac = _ac[c.AcTable]!;
        for (int k = 1; k < 64;)
        {
            int rs = ac.Decode(this);
            int r = rs >> 4, s = rs & 15;
            if (s == 0)
            {
                if (r != 15) break;
                k += 16;
                continue;
            }
            k += r;
            if (k > 63) throw Bad("AC coefficient index runs past 63");
            int z = ZigZag[k];
            block[z] = Extend(GetBits(s), s) * q[z];
            k++;
        }
    }

    // Integer inverse DCT after Loeffler, Ligtenberg & Moschytz (ICASSP 1989), the factorisation IJG's "islow"
    // uses: 13-bit fixed-point constants, an extra 2 (8-bit) or 1 (12-bit) bits of precision between the passes.
    private const int ConstBits = 13;
    private const int Fix0_298631336 = 2446, Fix0_390180644 = 3196, Fix0_541196100 = 4433, Fix0_765366865 = 6270,
        Fix0_899976223 = 7373, Fix1_175875602 = 9633, Fix1_501321110 = 12299, Fix1_847759065 = 15137,
        Fix1_961570560 = 16069, Fix2_053119869 = 16819, Fix2_562915447 = 20995, Fix3_072711026 = 25172;

    private static long Descale(long x, int n) => (x + (1L << (n - 1))) >> n;

    private void Idct(Span<int> coef, Component c, int bx, int by)
    {
        int pass1 = _precision == 8 ? 2 : 1;
        int center = 1 << (_precision - 1);
        int maxv = (1 << _precision) - 1;
        Span<long> ws = stackalloc long[64];
        Span<long> line = stackalloc long[8];
        // Pass 1: columns
        for (int col = 0; col < 8; col++)
        {
            long d0 = coef[col], d1 = coef[8 + col], d2 = coef[16 + col], d3 = coef[24 + col],
                d4 = coef[32 + col], d5 = coef[40 + col], d6 = coef[48 + col], d7 = coef[56 + col];
            if (d1 == 0 && d2 == 0 && d3 == 0 && d4 == 0 && d5 == 0 && d6 == 0 && d7 == 0)
            {
                long dc = d0 << pass1;
                for (int r = 0; r < 8; r++) ws[r * 8 + col] = dc;
                continue;
            }
            Idct8(d0, d1, d2, d3, d4, d5, d6, d7, line);
            int sh = ConstBits - pass1;
            for (int r = 0; r < 8; r++) ws[r * 8 + col] = Descale(line[r], sh);
        }
        // Pass 2: rows
        int stride = c.BlocksPerLine * 8;
        int outBase = by * 8 * stride + bx * 8;
        int shift2 = ConstBits + pass1 + 3;
        for (int row = 0; row < 8; row++)
        {
            int w = row * 8;
            Idct8(ws[w], ws[w + 1], ws[w + 2], ws[w + 3], ws[w + 4], ws[w + 5], ws[w + 6], ws[w + 7], line);
            var plane = c.Plane;
            int o = outBase + row * stride;
            for (int k = 0; k < 8; k++) plane[o + k] = Clamp(Descale(line[k], shift2) + center, maxv);
        }
    }

    /// <summary>
    /// One 8-point inverse DCT (the islow integer algorithm: even part by the rotation of d2/d6, odd part by the
    /// four-input butterfly), outputs 0..7 in order and still scaled by 2^ConstBits; the column and the row pass both
    /// use it and differ only in how they descale.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Idct8(long d0, long d1, long d2, long d3, long d4, long d5, long d6, long d7, Span<long> outp)
    {
        // even part
        long z2 = d2, z3 = d6;
        long z1 = (z2 + z3) * Fix0_541196100;
        long tmp2 = z1 + z3 * -Fix1_847759065;
        long tmp3 = z1 + z2 * Fix0_765366865;
        long tmp0 = (d0 + d4) << ConstBits;
        long tmp1 = (d0 - d4) << ConstBits;
        long tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
        // odd part
        long o0 = d7, o1 = d5, o2 = d3, o3 = d1;
        z1 = o0 + o3; z2 = o1 + o2; z3 = o0 + o2; long z4 = o1 + o3;
        long z5 = (z3 + z4) * Fix1_175875602;
        o0 *= Fix0_298631336; o1 *= Fix2_053119869; o2 *= Fix3_072711026; o3 *= Fix1_501321110;
        z1 *= -Fix0_899976223; z2 *= -Fix2_562915447; z3 *= -Fix1_961570560; z4 *= -Fix0_390180644;
        z3 += z5; z4 += z5;
        o0 += z1 + z3; o1 += z2 + z4; o2 += z2 + z3; o3 += z1 + z4;
        outp[0] = tmp10 + o3; outp[7] = tmp10 - o3;
        outp[1] = tmp11 + o2; outp[6] = tmp11 - o2;
        outp[2] = tmp12 + o1; outp[5] = tmp12 - o1;
        outp[3] = tmp13 + o0; outp[4] = tmp13 - o0;
    }

    private static short Clamp(long v, int max) => (short)(v < 0 ? 0 : v > max ? max : v);

    // ------------------------------------------------------------------ output

    private void Output(DicomPixelDescription d, Span<byte> output)
    {
        int w = _width, h = _height, nf = _comps.Length;
        int bps = d.BytesPerSample;
        long need = (long)w * h * nf * bps;
        if (output.Length < need) throw Bad("output buffer too small");
        if (_sof == 0xC3)
        {
            int pt = _losslessPt;
            for (int i = 0; i < nf; i++)
            {
                var plane = _comps[i].Lossless;
                for (long p = 0; p < (long)w * h; p++)
                    Put(output, (p * nf + i) * bps, bps, (uint)((plane[p] << pt) & 0xFFFF));
            }
            return;
        }
        if (nf == 1)
        {
            var c = _comps[0];
            int stride = c.BlocksPerLine * 8;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    Put(output, ((long)y * w + x) * bps, bps, (uint)c.Plane[y * stride + x]);
            return;
        }
        // Colour: upsample every component to full size, then convert YCbCr → RGB when the stream is YCbCr.
        var full = new short[nf][];
        for (int i = 0; i < nf; i++) full[i] = Upsample(_comps[i]);
        // Colour transform as DCMTK decides by default: YCbCr → RGB when the DICOM header says the data are YBR_FULL
        // or YBR_FULL_422, none when it says RGB (whatever markers the JPEG carries).
        bool ycc = nf == 3 && d.Photometric.StartsWith("YBR_FULL", StringComparison.Ordinal);
        int max = (1 << _precision) - 1, center = 1 << (_precision - 1);
        for (long p = 0; p < (long)w * h; p++)
        {
            if (ycc)
            {
                int y = full[0][p], cb = full[1][p] - center, cr = full[2][p] - center;
                // IJG's fixed-point conversion (16 fractional bits, rounded), clamped to the sample range
                int r = y + (int)((91881L * cr + 32768) >> 16);
                int g = y + (int)((-22554L * cb - 46802L * cr + 32768) >> 16);
                int b = y + (int)((116130L * cb + 32768) >> 16);
                Put(output, p * 3 * bps, bps, (uint)Math.Clamp(r, 0, max));
                Put(output, (p * 3 + 1) * bps, bps, (uint)Math.Clamp(g, 0, max));
                Put(output, (p * 3 + 2) * bps, bps, (uint)Math.Clamp(b, 0, max));
            }
            else
            {
                for (int i = 0; i < nf; i++) Put(output, (p * nf + i) * bps, bps, (uint)full[i][p]);
            }
        }
    }

    /// <summary>Component plane at full image size; h2v1 and h2v2 use triangle ("fancy") upsampling, others replicate.</summary>
    private short[] Upsample(Component c)
    {
        int w = _width, h = _height;
        int stride = c.BlocksPerLine * 8;
        var outp = new short[(long)w * h];
        int fx = _hmax / c.H, fy = _vmax / c.V;
        if (_hmax % c.H != 0 || _vmax % c.V != 0) throw Bad("non-integral chroma sampling ratios are not supported");
        int cw = c.Width, ch = c.Height;
        if (fx == 1 && fy == 1)
        {
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) outp[y * w + x] = c.Plane[y * stride + x];
            return outp;
        }
        if (fx == 2 && fy == 1)
        {
            var row = new short[2 * cw];
            for (int y = 0; y < h; y++)
            {
                FancyH2(c.Plane.AsSpan(y * stride, cw), row);
                for (int x = 0; x < w; x++) outp[y * w + x] = row[x];
            }
            return outp;
        }
        if (fx == 2 && fy == 2)
        {
            // Each output row pair comes from the current input row (weight 3) and its neighbour above/below (1).
            var row = new short[2 * cw];
            for (int y = 0; y < h; y++)
            {
                int iy = y / 2;
                int ny = (y & 1) == 0 ? Math.Max(iy - 1, 0) : Math.Min(iy + 1, ch - 1);
                var cur = c.Plane.AsSpan(iy * stride, cw);
                var nb = c.Plane.AsSpan(ny * stride, cw);
                FancyH2V2(cur, nb, row);
                for (int x = 0; x < w; x++) outp[y * w + x] = row[x];
            }
            return outp;
        }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                outp[y * w + x] = c.Plane[Math.Min(y / fy, ch - 1) * stride + Math.Min(x / fx, cw - 1)];
        return outp;
    }

    private static void FancyH2(ReadOnlySpan<short> inp, Span<short> outp)
    {
        int n = inp.Length;
        if (n == 1) { outp[0] = outp[1] = inp[0]; return; }
        outp[0] = inp[0];
        outp[1] = (short)((inp[0] * 3 + inp[1] + 2) >> 2);
        for (int i = 1; i < n - 1; i++)
        {
            int v = inp[i] * 3;
            outp[2 * i] = (short)((v + inp[i - 1] + 1) >> 2);
            outp[2 * i + 1] = (short)((v + inp[i + 1] + 2) >> 2);
        }
        outp[2 * (n - 1)] = (short)((inp[n - 1] * 3 + inp[n - 2] + 1) >> 2);
        outp[2 * (n - 1) + 1] = inp[n - 1];
    }

    private static void FancyH2V2(ReadOnlySpan<short> cur, ReadOnlySpan<short> nb, Span<short> outp)
    {
        int n = cur.Length;
        if (n == 1)
        {
            int t = cur[0] * 3 + nb[0];
            outp[0] = (short)((t * 4 + 8) >> 4);
            outp[1] = (short)((t * 4 + 7) >> 4);
            return;
        }
        int thisSum = cur[0] * 3 + nb[0], nextSum = cur[1] * 3 + nb[1], lastSum;
        outp[0] = (short)((thisSum * 4 + 8) >> 4);
        outp[1] = (short)((thisSum * 3 + nextSum + 7) >> 4);
        lastSum = thisSum; thisSum = nextSum;
        for (int i = 1; i < n - 1; i++)
        {
            nextSum = cur[i + 1] * 3 + nb[i + 1];
            outp[2 * i] = (short)((thisSum * 3 + lastSum + 8) >> 4);
            outp[2 * i + 1] = (short)((thisSum * 3 + nextSum + 7) >> 4);
            lastSum = thisSum; thisSum = nextSum;
        }
        outp[2 * (n - 1)] = (short)((thisSum * 3 + lastSum + 8) >> 4);
        outp[2 * (n - 1) + 1] = (short)((thisSum * 4 + 7) >> 4);
    }

    private static void Put(Span<byte> o, long at, int bps, uint v)
    {
        switch (bps)
        {
            case 1: o[(int)at] = (byte)v; break;
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(o.Slice((int)at, 2), (ushort)v); break;
            default: BinaryPrimitives.WriteUInt32LittleEndian(o.Slice((int)at, 4), v); break;
        }
    }

    /// <summary>Zig-zag scan position k → natural (row-major) coefficient index (T.81 Figure A.6).</summary>
    private static readonly int[] ZigZag =
    {
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    };

    /// <summary>A Huffman table (T.81 Annex C and F.2.2.3) with a 9-bit lookahead table for short codes.</summary>
    private sealed class HuffmanTable
    {
        private const int Look = 9;
        private readonly ushort[] _fast = new ushort[1 << Look]; // (length << 8) | value; 0 = not a short code
        private readonly int[] _maxCode = new int[18];
        private readonly int[] _valPtr = new int[17];
        private readonly int[] _minCode = new int[17];
        private readonly byte[] _values;

        public HuffmanTable(int[] counts, byte[] values, JpegCodec owner)
        {
            _values = values;
            int code = 0, k = 0;
            for (int len = 1; len <= 16; len++)
            {
                _valPtr[len] = k;
                _minCode[len] = code;
                for (int i = 0; i < counts[len]; i++)
                {
                    if (len <= Look)
                    {
                        int shift = Look - len;
                        for (int j = 0; j < 1 << shift; j++)
                            _fast[(code << shift) | j] = (ushort)((len << 8) | values[k]);
                    }
                    code++;
                    k++;
                }
                _maxCode[len] = counts[len] > 0 ? code - 1 : -1;
                if (code > 1 << len) throw owner.Bad("Huffman table has more codes than its lengths allow");
                code <<= 1;
            }
            _maxCode[17] = int.MaxValue;
        }

        public int Decode(JpegCodec r)
        {
            int peek = r.PeekBits(Look);
            int e = _fast[peek];
            if (e != 0)
            {
                r.SkipBits(e >> 8);
                return e & 0xFF;
            }
            int all = r.PeekBits(16);
            for (int len = Look + 1; len <= 16; len++)
            {
                int code = all >> (16 - len);
                if (_maxCode[len] >= 0 && code <= _maxCode[len] && code >= _minCode[len])
                {
                    r.SkipBits(len);
                    return _values[_valPtr[len] + code - _minCode[len]];
                }
            }
            throw r.Bad("invalid Huffman code in the entropy-coded data");
        }
    }
}
