using BatchCohort.Runtime.Coordination;

namespace BatchCohort.Runtime;

/// <summary>What a person sees while a cohort runs. Every method may be called from any thread.</summary>
public interface IRunObserver
{
    void Phase(string text);
    /// <summary>The run is about to measure: subscribe to its progress here.</summary>
    void Measuring(RunProgressFeed progress, bool resumed);
    void Note(string text);
}

/// <summary>An observer that shows nothing.</summary>
public sealed class NullRunObserver : IRunObserver
{
    public static readonly NullRunObserver Instance = new();
    public void Phase(string text) { }
    public void Measuring(RunProgressFeed progress, bool resumed) { }
    public void Note(string text) { }
}
