using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using BatchCohort.Imaging.Formats;
using BatchCohort.Imaging.Processing.Morphology;
using BatchCohort.Neuro.Synthesis;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Neuro.Atlases;

/// <summary>
/// Where atlases come from: Colin27 from the Debian mricron-data package when installed, the built-in head phantom
/// otherwise, or any template given by path. Loaded atlases (with their derived masks) are cached in memory for the
/// life of the process, keyed by their files' paths, sizes and modification times.
/// </summary>
public static class AtlasLibrary
{
    /// <summary>Where Debian's mricron-data installs Colin27 (ch2.nii.gz, ch2bet.nii.gz) and its label maps.</summary>
    public const string MricronTemplates = "/usr/share/mricron/templates";

    /// <summary>Environment variable that overrides <see cref="MricronTemplates"/> as the folder holding ch2.nii.gz and ch2bet.nii.gz.</summary>
    public const string Colin27DirVariable = "BATCHCOHORT_COLIN27_DIR";

    private static readonly ConcurrentDictionary<string, Lazy<Atlas>> Cache = new();

    public static string Colin27Dir => Environment.GetEnvironmentVariable(Colin27DirVariable) is { Length: > 0 } d ? d : MricronTemplates;

    public static bool Colin27Available(string? dir = null)
    {
        dir ??= Colin27Dir;
        return File.Exists(Path.Combine(dir, "ch2.nii.gz")) && File.Exists(Path.Combine(dir, "ch2bet.nii.gz"));
    }

    /// <summary>
    /// "auto"/"default" (or null): Colin27 when installed, else the phantom (<paramref name="fellBack"/> says which);
    /// "colin27"; "phantom"; or a path: a folder holding head/brain[/icv][/dseg] images or an atlas.json (see
    /// <see cref="FromFolder"/>), or an atlas.json file.
    /// </summary>
    public static Atlas Resolve(string? spec, out bool fellBack)
    {
        fellBack = false;
        switch (spec?.Trim().ToLowerInvariant())
        {
            case null or "" or "auto" or "default":
                if (Colin27Available()) return Colin27();
                fellBack = true;
                return Phantom();
            case "colin27" or "ch2":
                return Colin27();
            case "phantom":
                return Phantom();
        }
        string path = spec!.Trim();
        if (Directory.Exists(path)) return FromFolder(path);
        if (File.Exists(path) && path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return FromManifest(path);
        throw new ArgumentException($"atlas '{spec}': expected colin27, phantom, or a folder / atlas.json with head, brain and (optionally) icv images; nothing is there");
    }

    /// <summary>Colin27: ch2.nii.gz (T1 head), ch2bet.nii.gz (its brain), the ICV mask and tissue classes derived (<see cref="AtlasDerivation"/>).</summary>
    public static Atlas Colin27(string? dir = null)
    {
        dir ??= Colin27Dir;
        var head = Path.Combine(dir, "ch2.nii.gz");
        var bet = Path.Combine(dir, "ch2bet.nii.gz");
        if (!File.Exists(head) || !File.Exists(bet))
            throw new FileNotFoundException($"Colin27 needs {head} and {bet} (Debian: apt-get install mricron-data; or set {Colin27DirVariable})");
        var labels = new Dictionary<string, string>();
        foreach (var n in new[] { "aal", "brodmann" })
        {
            var p = Path.Combine(dir, n + ".nii.gz");
            if (File.Exists(p)) labels[n] = p;
        }
        return FromFiles(head, bet, null, null, labels, "colin27");
    }

    /// <summary>The built-in procedural head phantom as an atlas (masks and tissue classes exact from its labels).</summary>
    public static Atlas Phantom(PhantomOptions? options = null)
    {
        var o = options ?? new PhantomOptions();
        string key = "phantom|" + o;
        return Cache.GetOrAdd(key, _ => new Lazy<Atlas>(() => BuildPhantom(o))).Value;
    }

    private static Atlas BuildPhantom(PhantomOptions o)
    {
        var p = HeadPhantom.Generate(o);
        // The brain mask is BET-like, as Colin27's: brain tissue and the ventricles, holes filled.
        var brain = BinaryMorphology.BinaryFillHoles(p.MaskOf(l => HeadPhantom.IsBrain(l) || l == PhantomLabel.Ventricle));
        return new Atlas("phantom", "built-in procedural head phantom (HeadPhantom, folding seed " + o.FoldingSeed.ToString(CultureInfo.InvariantCulture) + ")",
            p.T1, p.HeadMask(), brain, p.IcvMask(), p.TissueClasses(), new Dictionary<string, string>(),
            new[] { "phantom: masks and tissue classes are unions of its exact labels" });
    }

    /// <summary>
    /// A template given by files: the T1 head, a brain mask (any image; non-zero = brain, e.g. a skull-stripped T1),
    /// optionally an intracranial mask (else derived) and a tissue map (values 1 CSF, 2 GM, 3 WM; else derived).
    /// </summary>
    public static Atlas FromFiles(string headPath, string brainPath, string? icvPath = null, string? tissuePath = null,
        IReadOnlyDictionary<string, string>? labelMaps = null, string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(headPath);
        ArgumentException.ThrowIfNullOrEmpty(brainPath);
        var files = new[] { headPath, brainPath, icvPath, tissuePath }.Where(f => f is not null).Select(f => f!).ToArray();
        foreach (var f in files)
            if (!File.Exists(f)) throw new FileNotFoundException($"{f}: atlas file not found", f);
        string key = "files|" + string.Join("|", files.Select(f =>
        {
            var fi = new FileInfo(f);
            return fi.FullName + ":" + fi.Length.ToString(CultureInfo.InvariantCulture) + ":" + fi.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture);
        }));
        return Cache.GetOrAdd(key, _ => new Lazy<Atlas>(() =>
            BuildFromFiles(headPath, brainPath, icvPath, tissuePath, labelMaps ?? new Dictionary<string, string>(), name))).Value;
    }

    private static Atlas BuildFromFiles(string headPath, string brainPath, string? icvPath, string? tissuePath,
        IReadOnlyDictionary<string, string> labelMaps, string? name)
    {
        var head = VolumeFile.ReadVolume(headPath);
        var notes = new List<string>();
        Mask OnGrid(string path, string what)
        {
            var v = VolumeFile.ReadVolume(path);
            if (v.Shape != head.Shape || v.Affine.MaxAbsDifference(head.Affine) > 1e-3)
                throw new ArgumentException($"{path}: the {what} is on a {v.Shape} grid that differs from the head template's {head.Shape} ({headPath})");
            return Mask.NonZero(v);
        }
        var brain = BinaryMorphology.BinaryFillHoles(OnGrid(brainPath, "brain mask"));
        if (brain.IsEmpty()) throw new ArgumentException($"{brainPath}: the brain mask is empty");
        var headMask = AtlasDerivation.HeadMask(head).Or(brain);
        Mask icv;
        if (icvPath is not null)
        {
            icv = OnGrid(icvPath, "intracranial mask");
            notes.Add("ICV mask from " + icvPath);
        }
        else
        {
            icv = AtlasDerivation.IntracranialMask(head, brain, out float dark);
            notes.Add(FormattableString.Invariant(
                $"ICV mask derived: brain mask closed ({AtlasDerivation.ClosingRadiusMm} mm ball) grown through the dark band (T1 ≤ {dark:0.#}, Otsu of the {AtlasDerivation.ShellMm} mm shell) above the midpoint of its CSF and bone levels (the inner table)"));
        }
        headMask = headMask.Or(icv);
        byte[] classes;
        if (tissuePath is not null)
        {
            var t = VolumeFile.ReadVolume(tissuePath);
            if (t.Shape != head.Shape) throw new ArgumentException($"{tissuePath}: the tissue map's grid {t.Shape} differs from the head template's {head.Shape}");
            classes = new byte[t.Data.Length];
            for (int i = 0; i < classes.Length; i++)
            {
                int c = (int)MathF.Round(t.Data[i]);
                classes[i] = c is >= 1 and <= 3 && icv.Data[i] != 0 ? (byte)c
                    : icv.Data[i] != 0 ? (byte)TissueClass.Csf
                    : headMask.Data[i] != 0 ? (byte)TissueClass.OtherHead : (byte)TissueClass.Background;
            }
            notes.Add("tissue classes from " + tissuePath);
        }
        else
        {
            classes = AtlasDerivation.TissueClasses(head, icv, headMask, out var c);
            notes.Add(FormattableString.Invariant($"tissue classes derived: 3-class k-means of T1 inside the ICV (centres {c[0]:0.#}, {c[1]:0.#}, {c[2]:0.#})"));
        }
        string source = string.Join(" + ", new[] { headPath, brainPath, icvPath, tissuePath }.Where(s => s is not null));
        return new Atlas(name ?? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(headPath))) ?? "atlas", source,
            head, headMask, brain, icv, classes, labelMaps, notes);
    }

    /// <summary>
    /// A folder holding head.nii[.gz] (or T1w.nii[.gz]), brain.nii[.gz] (or brain_mask.nii[.gz]), optionally
    /// icv.nii[.gz] and dseg.nii[.gz], and label maps named label-NAME.nii[.gz]; or an atlas.json in it.
    /// </summary>
    public static Atlas FromFolder(string dir)
    {
        var manifest = Path.Combine(dir, "atlas.json");
        if (File.Exists(manifest)) return FromManifest(manifest);
        string? find(params string[] stems) => stems
            .SelectMany(s => new[] { s + ".nii.gz", s + ".nii", s + ".hdr" })
            .Select(n => Path.Combine(dir, n)).FirstOrDefault(File.Exists);
        var head = find("head", "T1w", "t1") ?? throw new ArgumentException($"atlas folder {dir}: no head.nii[.gz] (or T1w.nii[.gz]) in it");
        var brain = find("brain", "brain_mask", "brainmask") ?? throw new ArgumentException($"atlas folder {dir}: no brain.nii[.gz] (or brain_mask.nii[.gz]) in it");
        var labels = Directory.EnumerateFiles(dir, "label-*.nii*")
            .ToDictionary(f => Path.GetFileName(f).Split('.')[0]["label-".Length..], f => f);
        return FromFiles(head, brain, find("icv", "icv_mask"), find("dseg", "tissues"), labels, Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/')));
    }

    /// <summary>atlas.json: {"name": …, "head": …, "brain": …, "icv": …, "tissues": …, "labels": {"aal": …}}; relative paths are relative to the file.</summary>
    public static Atlas FromManifest(string path)
    {
        JsonElement root;
        try { root = JsonDocument.Parse(File.ReadAllText(path)).RootElement; }
        catch (JsonException ex) { throw new ArgumentException($"{path}: not valid JSON ({ex.Message})"); }
        var baseDir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string? get(string k) => root.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? Path.Combine(baseDir, v.GetString()!) : null;
        var head = get("head") ?? throw new ArgumentException($"{path}: \"head\" is missing");
        var brain = get("brain") ?? throw new ArgumentException($"{path}: \"brain\" is missing");
        var labels = new Dictionary<string, string>();
        if (root.TryGetProperty("labels", out var l) && l.ValueKind == JsonValueKind.Object)
            foreach (var p in l.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.String) labels[p.Name] = Path.Combine(baseDir, p.Value.GetString()!);
        string? name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        return FromFiles(head, brain, get("icv"), get("tissues"), labels, name);
    }
}
