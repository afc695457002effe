using System.Text.Json;
using BatchCohort.Imaging.Formats.Png;
using BatchCohort.TestSupport;

namespace BatchCohort.Imaging.Tests.Formats;

public class PngEncoderTests
{
    [Fact]
    public void Crc32_matches_the_standard_check_value()
    {
        // The CRC-32 "check" value of the ASCII string 123456789 (ISO-HDLC / PNG / zlib) is 0xCBF43926.
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(0u, Crc32.Compute(ReadOnlySpan<byte>.Empty));
        // "IEND" with no data: every PNG ends with this CRC, AE 42 60 82.
        Assert.Equal(0xAE426082u, Crc32.Compute("IEND"u8));
    }

    [Fact]
    public void Writes_signature_header_and_end_chunk()
    {
        var png = PngEncoder.Encode(new byte[] { 0, 128, 255, 7 }, 2, 2, PngColorType.Grey);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal("IHDR"u8.ToArray(), png[12..16]);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82 }, png[^12..]);
    }

    [Theory]
    [InlineData(0, 2, 2)]
    [InlineData(-1, 0, 2)]
    [InlineData(40000, 2, 2)]
    public void Rejects_bad_sizes(int w, int h, int _)
    {
        Assert.Throws<ArgumentException>(() => PngEncoder.Encode(new byte[Math.Max(0, w) * Math.Max(0, h)], w, h, PngColorType.Grey));
    }

    [Fact]
    public void Rejects_a_buffer_of_the_wrong_length()
    {
        var ex = Assert.Throws<ArgumentException>(() => PngEncoder.Encode(new byte[11], 2, 2, PngColorType.Rgb));
        Assert.Contains("needs 12", ex.Message);
    }

    [RequiresFact(Requirements.Skimage)]
    public void Pil_decodes_every_filter_and_colour_type_to_the_same_pixels()
    {
        using var dir = new TempDir("png");
        var rng = new Random(42);
        var cases = new List<(string Path, byte[] Pixels, int W, int H, PngColorType Type)>();
        var sizes = new[] { (1, 1), (1, 9), (17, 5), (64, 48), (255, 3) };
        int n = 0;
        foreach (var type in new[] { PngColorType.Grey, PngColorType.Rgb })
            foreach (var filter in new[] { PngFilter.None, PngFilter.Sub, PngFilter.Up, PngFilter.Average, PngFilter.Paeth, PngFilter.Adaptive })
                foreach (var (w, h) in sizes)
                {
                    int bpp = type == PngColorType.Rgb ? 3 : 1;
                    var px = new byte[w * h * bpp];
                    // a mix of smooth gradients (where filters matter) and noise (extreme residuals, -128..127 wrap)
                    for (int y = 0; y < h; y++)
                        for (int x = 0; x < w; x++)
                            for (int c = 0; c < bpp; c++)
                                px[(y * w + x) * bpp + c] = (x + y) % 7 == 0 ? (byte)rng.Next(256) : (byte)(x * 3 + y * 5 + c * 40);
                    var path = dir[$"img{n++}.png"];
                    File.WriteAllBytes(path, PngEncoder.Encode(px, w, h, type, filter));
                    cases.Add((path, px, w, h, type));
                }
        var output = ExternalTool.Python("png_decode.py", cases.Select(c => c.Path).ToArray());
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(cases.Count, lines.Length);
        for (int i = 0; i < cases.Count; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            var r = doc.RootElement;
            var c = cases[i];
            Assert.True(r.GetProperty("crc_ok").GetBoolean(), $"{c.Path}: chunk CRC mismatch");
            Assert.Equal(c.Type == PngColorType.Rgb ? "RGB" : "L", r.GetProperty("mode").GetString());
            Assert.Equal(c.W, r.GetProperty("width").GetInt32());
            Assert.Equal(c.H, r.GetProperty("height").GetInt32());
            Assert.Equal(c.Pixels, File.ReadAllBytes(c.Path + ".raw"));
        }
    }
}
