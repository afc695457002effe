// <sample:scipy-style>
using BatchCohort.Imaging.Formats;
using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Processing.Exposure;
using BatchCohort.Imaging.Processing.Filtering;
using BatchCohort.Imaging.Processing.Labels;
using BatchCohort.Imaging.Processing.Morphology;
using BatchCohort.Imaging.Processing.Thresholding;
using BatchCohort.Imaging.Volumes;

public static partial class ProcessingSamples
{
    // scipy:  sm = ndi.gaussian_filter(a, sigma=1.5 / zooms)            (σ = 1.5 mm on any voxel size)
    //         m = ndi.binary_fill_holes(largest(ndi.binary_closing(sm > threshold_otsu(sm), ball(3 mm))))
    public static void SmoothAndMask(string inputPath, string outputPath)
    {
        Volume t1 = VolumeFile.ReadVolume(inputPath);
        Volume smooth = Filters.GaussianFilter(t1, 1.5, unit: LengthUnit.Millimetres);
        float otsu = Thresholds.Otsu(smooth);
        Mask head = Mask.GreaterThan(smooth, otsu);
        head = BinaryMorphology.BinaryClosing(head, radiusMm: 3);
        head = BinaryMorphology.BinaryFillHoles(Labeling.LargestComponent(head));
        Console.WriteLine($"Otsu threshold {otsu:F1}; mask {head.VolumeMl():F0} mL");
        VolumeFile.Write(head.ToVolume(), outputPath, VoxelType.UInt8);
    }
}
// </sample:scipy-style>

public static partial class ProcessingSamples
{
    public static void FilterFamily(Volume vol, Volume buffer, Mask brain)
    {
        // <sample:filters>
        var smooth = Filters.GaussianFilter(vol, 2.0, unit: LengthUnit.Millimetres);        // σ = 2 mm on any spacing
        var dz     = Filters.GaussianFilter(vol, 1.0, order: new Order3(0, 0, 1));          // ∂/∂z of the smoothed image
        Filters.GaussianFilter(vol, new Vec3(1, 1, 0.5), mode: BoundaryMode.Nearest, output: buffer); // no allocation
        var med    = Filters.MedianFilter(vol, 3);               // also UniformFilter(size), Sobel(axis), GradientMagnitude,
        var log    = Filters.GaussianLaplace(vol, 1.5);          // GaussianGradientMagnitude, Laplace, Convolve/Correlate(kernel[x,y,z], origin)
        float t    = Thresholds.Otsu(vol);                        // also Triangle, Isodata, IterativeMean, Local(block, Gaussian|Mean)
        var eq     = Intensity.EqualizeHist(vol, mask: brain);    // also Histogram(min,max,bins[,labels,index]), ExposureHistogram,
        var r      = Intensity.RescaleIntensity(vol, IntensityRange.Percentiles(2, 98), IntensityRange.Of(0, 1)); // CumulativeDistribution, Percentile
        // </sample:filters>
        GC.KeepAlive((smooth, dz, med, log, t, eq, r));
    }
}
