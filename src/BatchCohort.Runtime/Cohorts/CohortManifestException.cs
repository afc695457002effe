namespace BatchCohort.Runtime.Cohorts;

/// <summary>A cohort manifest that cannot be used: the message names the manifest, the field and the problem.</summary>
public sealed class CohortManifestException : FormatException
{
    public CohortManifestException(string manifestPath, string field, string problem)
        : base($"{manifestPath}: {(string.IsNullOrEmpty(field) ? "" : field + ": ")}{problem}")
    {
        ManifestPath = manifestPath;
        Field = field;
        Problem = problem;
    }

    public string ManifestPath { get; }
    public string Field { get; }
    public string Problem { get; }
}

/// <summary>
/// A cohort that cannot be run, with every problem found (one line each: the manifest or file, the field, the
/// problem). The CLI prints one line per problem and exits 2.
/// </summary>
public sealed class CohortValidationException : FormatException
{
    public CohortValidationException(IReadOnlyList<string> problems)
        : base(problems.Count == 1 ? problems[0] : $"{problems.Count} problems: " + string.Join("; ", problems))
    {
        Problems = problems;
    }

    public IReadOnlyList<string> Problems { get; }
}
