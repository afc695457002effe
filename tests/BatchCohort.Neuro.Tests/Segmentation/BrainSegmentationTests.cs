using BatchCohort.Imaging.Volumes;
using BatchCohort.Neuro.Segmentation;

namespace BatchCohort.Neuro.Tests.Segmentation;

/// <summary>
/// The first pass's trusted region (<c>firstPassMarginMm</c>): brain found outside it is kept only where it survives a
/// stronger opening. Known synthetic truth on a 1 mm grid: a brain ball (radius 30 mm), a 7 mm thick bridge to a
/// 14 mm thick "temporalis" slab outside it.
/// </summary>
public class BrainSegmentationTests
{
    private const int N = 110;
    private static readonly Shape3 S = new(N, N, N);
    private static readonly Affine A = Affine.FromSpacing(1, 1, 1);

    private static (TissueClassification Tissue, Mask All, Mask Ball, Mask Muscle) Scene()
    {
        var labels = new byte[S.Count];
        var ball = new byte[S.Count];
        var muscle = new byte[S.Count];
        const int c = 48;
        for (int z = 0; z < N; z++)
            for (int y = 0; y < N; y++)
                for (int x = 0; x < N; x++)
                {
                    int i = S.Index(x, y, z);
                    double r = Math.Sqrt((x - c) * (x - c) + (y - c) * (y - c) + (z - c) * (z - c));
                    double rod = Math.Sqrt((y - c) * (y - c) + (z - c) * (z - c));
                    if (r <= 30) { labels[i] = TissueClassification.WmLabel; ball[i] = 1; }
                    else if (x >= 78 && x < 88 && rod <= 3.5) labels[i] = TissueClassification.GmLabel;            // the bridge
                    else if (x >= 88 && x < 102 && Math.Abs(y - c) <= 20 && Math.Abs(z - c) <= 20)                 // the slab
                    { labels[i] = TissueClassification.GmLabel; muscle[i] = 1; }
                }
        var all = new byte[S.Count];
        Array.Fill(all, (byte)1);
        var tissue = new TissueClassification(S, labels, new double[] { 50, 100, 150 }, new float[S.Count], new long[4]);
        return (tissue, new Mask(S, all, A, new Spacing3(1, 1, 1)), new Mask(S, ball, A, new Spacing3(1, 1, 1)), new Mask(S, muscle, A, new Spacing3(1, 1, 1)));
    }

    private static long Overlap(Mask a, Mask b)
    {
        long n = 0;
        for (int i = 0; i < a.Data.Length; i++) if (a.Data[i] != 0 && b.Data[i] != 0) n++;
        return n;
    }

    [Fact]
    public void A_bridge_out_of_the_trusted_region_is_cut_and_bulk_brain_outside_it_is_kept()
    {
        var (tissue, all, ball, muscle) = Scene();
        long ballN = ball.CountNonZero(), muscleN = muscle.CountNonZero();

        // without a trusted region the usual 2 mm opening leaves the 7 mm bridge, and the slab is taken as brain
        var plain = BrainSegmentation.Segment(tissue, all, guide: ball);
        Assert.True(Overlap(plain.Tissue, muscle) > 0.9 * muscleN, $"slab in the plain brain: {Overlap(plain.Tissue, muscle)} of {muscleN}");

        // trusted: a ball of radius 25 (a carried ICV 5 mm too small): the ball's outer shell is bulk and stays,
        // the bridge does not survive the 5 mm opening, so the slab is a separate piece outside the guide and dropped
        var trusted = new byte[S.Count];
        for (int z = 0; z < N; z++)
            for (int y = 0; y < N; y++)
                for (int x = 0; x < N; x++)
                    trusted[S.Index(x, y, z)] = (byte)((x - 48) * (x - 48) + (y - 48) * (y - 48) + (z - 48) * (z - 48) <= 25 * 25 ? 1 : 0);
        var guarded = BrainSegmentation.Segment(tissue, all, guide: ball, trusted: all.WithData(trusted), untrustedOpeningMm: 5);
        Assert.Equal(0, Overlap(guarded.Tissue, muscle));
        Assert.True(Overlap(guarded.Tissue, ball) >= 0.995 * ballN, $"ball kept: {Overlap(guarded.Tissue, ball)} of {ballN}");
        Assert.True(guarded.Tissue.CountNonZero() <= ballN + 400, $"brain {guarded.Tissue.CountNonZero()} voxels, ball {ballN} (at most the bridge's first 2 mm may return)");
    }
}
