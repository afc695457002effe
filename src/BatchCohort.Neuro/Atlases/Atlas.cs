using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Neuro.Atlases;

/// <summary>
/// An atlas bundle: a T1-weighted head template with its brain mask, its intracranial (ICV) mask, a tissue-class map
/// (<see cref="TissueClass"/>) and optional label maps (e.g. AAL), all on the template's grid.
/// <para><see cref="BrainMask"/> is the template's own brain mask as published (for Colin27, ch2bet: a BET-style
/// envelope that includes the ventricles and some sulcal CSF). Brain <em>tissue</em> (grey + white matter) is what
/// <see cref="TissueClasses"/> says; the two differ by the CSF inside the envelope.</para>
/// Built by <see cref="AtlasLibrary"/>, which caches derived masks in memory; atlases are never part of the repository.
/// </summary>
public sealed class Atlas
{
    internal Atlas(string name, string source, Volume head, Mask headMask, Mask brainMask, Mask icvMask, byte[] tissueClasses,
        IReadOnlyDictionary<string, string> labelMapFiles, IReadOnlyList<string> notes)
    {
        if (headMask.Shape != head.Shape || brainMask.Shape != head.Shape || icvMask.Shape != head.Shape || tissueClasses.Length != head.Shape.Count)
            throw new ArgumentException($"atlas '{name}': the masks and the tissue map must be on the template's {head.Shape} grid");
        Name = name;
        Source = source;
        Head = head;
        HeadMask = headMask;
        BrainMask = brainMask;
        IcvMask = icvMask;
        TissueClasses = tissueClasses;
        LabelMapFiles = labelMapFiles;
        Notes = notes;
        Volumes = TissueVolumes.Count(tissueClasses, head.VoxelVolumeMm3);
        var means = new double[5];
        var counts = new long[5];
        var d = head.Data;
        for (int i = 0; i < d.Length; i++)
        {
            int c = tissueClasses[i];
            if (c < 5) { means[c] += d[i]; counts[c]++; }
        }
        for (int c = 0; c < 5; c++) means[c] = counts[c] > 0 ? means[c] / counts[c] : 0;
        _classMeans = means;
        IcvCentroidWorld = Centroid(icvMask);
    }

    /// <summary>Short name: "colin27", "phantom", or the folder/file name of a template given by path.</summary>
    public string Name { get; }

    /// <summary>Where it came from, in words (files, or "built-in procedural phantom").</summary>
    public string Source { get; }

    /// <summary>The T1-weighted head template.</summary>
    public Volume Head { get; }

    /// <summary>Everything that is head (not air).</summary>
    public Mask HeadMask { get; }

    /// <summary>The template's brain mask (an envelope, ventricles included).</summary>
    public Mask BrainMask { get; }

    /// <summary>The intracranial space: brain, CSF and ventricles, bounded by the inner table of the skull.</summary>
    public Mask IcvMask { get; }

    /// <summary>One <see cref="TissueClass"/> per voxel of <see cref="Head"/>.</summary>
    public byte[] TissueClasses { get; }

    /// <summary>Volumes of the tissue classes (mL).</summary>
    public TissueVolumes Volumes { get; }

    /// <summary>Optional label maps by name (e.g. "aal" → its file), on the template's world space.</summary>
    public IReadOnlyDictionary<string, string> LabelMapFiles { get; }

    /// <summary>How derived parts were made (one line each), for logs and reports.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Intracranial volume (mL) of <see cref="IcvMask"/>.</summary>
    public double IcvMl => IcvMask.VolumeMl();

    /// <summary>Volume (mL) of the template's brain mask.</summary>
    public double BrainMaskMl => BrainMask.VolumeMl();

    /// <summary>World position (RAS mm) of the centroid of the intracranial mask.</summary>
    public (double X, double Y, double Z) IcvCentroidWorld { get; }

    private readonly double[] _classMeans;

    /// <summary>Mean template intensity of a tissue class.</summary>
    public double MeanIntensity(TissueClass c) => _classMeans[(int)c];

    public override string ToString() =>
        FormattableString.Invariant($"atlas {Name} ({Source}): ICV {IcvMl:0} mL, brain mask {BrainMaskMl:0} mL, GM {Volumes.GreyMl:0} mL, WM {Volumes.WhiteMl:0} mL, CSF {Volumes.CsfMl:0} mL");

    private static (double, double, double) Centroid(Mask m)
    {
        double sx = 0, sy = 0, sz = 0;
        long n = 0;
        var s = m.Shape;
        for (int z = 0; z < s.Z; z++)
            for (int y = 0; y < s.Y; y++)
            {
                int i = s.Index(0, y, z);
                for (int x = 0; x < s.X; x++, i++)
                    if (m.Data[i] != 0) { sx += x; sy += y; sz += z; n++; }
            }
        if (n == 0) throw new ArgumentException("the intracranial mask is empty");
        return m.Affine.Apply(sx / n, sy / n, sz / n);
    }
}
