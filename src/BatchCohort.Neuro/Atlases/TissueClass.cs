namespace BatchCohort.Neuro.Atlases;

/// <summary>
/// The tissue classes of an atlas's (and a synthetic subject's) truth map, in FSL FAST's order for the brain classes.
/// Intracranial = CSF + grey + white; brain = grey + white.
/// </summary>
public enum TissueClass : byte
{
    /// <summary>Outside the head (air).</summary>
    Background = 0,
    /// <summary>Cerebrospinal fluid inside the skull: ventricles, sulci, cisterns, the subarachnoid space.</summary>
    Csf = 1,
    GreyMatter = 2,
    WhiteMatter = 3,
    /// <summary>Head tissue outside the intracranial space: scalp, skull, muscle, eyes, neck.</summary>
    OtherHead = 4,
}

/// <summary>Volumes in millilitres of the intracranial tissue classes.</summary>
public sealed record TissueVolumes(double CsfMl, double GreyMl, double WhiteMl)
{
    public double BrainMl => GreyMl + WhiteMl;
    public double IntracranialMl => CsfMl + GreyMl + WhiteMl;

    /// <summary>Volumes of a class map (values as in <see cref="TissueClass"/>) with the given voxel volume (mm³).</summary>
    public static TissueVolumes Count(ReadOnlySpan<byte> classes, double voxelVolumeMm3)
    {
        long csf = 0, gm = 0, wm = 0;
        foreach (var c in classes)
        {
            switch ((TissueClass)c)
            {
                case TissueClass.Csf: csf++; break;
                case TissueClass.GreyMatter: gm++; break;
                case TissueClass.WhiteMatter: wm++; break;
            }
        }
        double f = voxelVolumeMm3 / 1000.0;
        return new TissueVolumes(csf * f, gm * f, wm * f);
    }

    /// <summary>The same anatomy under an isotropic change of size: every volume times <paramref name="factor"/>.</summary>
    public TissueVolumes Scaled(double factor) => new(CsfMl * factor, GreyMl * factor, WhiteMl * factor);
}
