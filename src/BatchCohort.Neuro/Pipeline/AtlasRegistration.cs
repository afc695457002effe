using System.Runtime.CompilerServices;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Imaging.Registration;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Neuro.Pipeline;

/// <summary>The pipeline's registration step: the atlas prepared once (pyramid, masks) and reused for every subject.</summary>
internal static class AtlasRegistration
{
    private static readonly ConditionalWeakTable<Atlas, Dictionary<string, RegistrationAtlas>> Prepared = new();

    public static AffineRegistrationResult Register(Volume subject, Atlas atlas, PipelineSettings settings)
    {
        var key = settings.Registration.AtlasKey();   // the preparation depends on the pyramid and samples only
        var byKey = Prepared.GetOrCreateValue(atlas);
        RegistrationAtlas prepared;
        lock (byKey)
        {
            if (!byKey.TryGetValue(key, out prepared!))
            {
                prepared = RegistrationAtlas.Prepare(atlas.Head, atlas.HeadMask, atlas.IcvMask, settings.Registration);
                byKey[key] = prepared;
            }
        }
        return AffineRegistration.Register(prepared, subject, settings.Registration);
    }
}
