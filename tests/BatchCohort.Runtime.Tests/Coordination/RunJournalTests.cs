using System.Text.Json;
using BatchCohort.Contracts;
using BatchCohort.Runtime.Coordination;
using BatchCohort.TestSupport;

namespace BatchCohort.Runtime.Tests.Coordination;

/// <summary>
/// The coordinator's incremental persistence: a snapshot of the run state plus a journal of the subjects changed since.
/// The truth is the state the ledger holds in memory after a sequence of leases, reports, failures and put-backs; the
/// state rebuilt from an older snapshot and the journal (as recovery does) must equal it field for field, and a journal
/// of another epoch or run must change nothing.
/// </summary>
public sealed class RunJournalTests
{
    private static RunState NewState(int n)
    {
        var s = new RunState { RunId = "r1", Cohort = "c", Status = RunState.Measuring, StartedAt = DateTimeOffset.UnixEpoch };
        for (int i = 0; i < n; i++) s.Subjects.Add(new SubjectState { Id = $"s{i:000}", Label = $"sub-{i:000}", Input = $"/data/sub-{i:000}.nii" });
        return s;
    }

    private static readonly JsonSerializerOptions Opts = BatchCohort.Runtime.Storage.Json.Compact;

    private static string J(RunState s) => JsonSerializer.Serialize(s, Opts);

    private static RunState Copy(RunState s) => JsonSerializer.Deserialize<RunState>(J(s), Opts)!;

    /// <summary>Replays what the grain does: changes taken from the ledger become the latest delta per subject.</summary>
    private static void Take(RunLedger ledger, Dictionary<string, SubjectDelta> deltas)
    {
        foreach (var x in ledger.TakeChanges()) deltas[x.Id] = SubjectDelta.Of(x);
    }

    [Fact]
    public void An_old_snapshot_plus_the_journal_equals_the_state_in_memory_and_another_epoch_is_ignored()
    {
        var state = NewState(40);
        var ledger = new RunLedger(state);
        var now = DateTimeOffset.UnixEpoch.AddHours(1);
        var snapshot = Copy(state);   // written when the run opened (epoch 0)
        var deltas = new Dictionary<string, SubjectDelta>(StringComparer.Ordinal);

        var a = ledger.Lease("siloA", 10, now);
        var b = ledger.Lease("siloB", 10, now.AddSeconds(1));
        Assert.Equal(new[] { "s000", "s009" }, new[] { a[0].Id, a[^1].Id });
        Assert.Equal("s010", b[0].Id);
        Take(ledger, deltas);
        Assert.Equal(20, deltas.Count);
        for (int i = 0; i < 6; i++)
            Assert.True(ledger.Apply(new SubjectReport("r1", a[i].Id, 1, SubjectOutcome.Measured, "siloA", 0.25, CacheKey: "k" + i), now.AddSeconds(2)));
        // a failure that may be the silo's: back to pending, to be tried elsewhere
        Assert.True(ledger.Apply(new SubjectReport("r1", b[0].Id, 1, SubjectOutcome.Failed, "siloB", 0.1, FailureKind: "internal", Reason: "boom"), now.AddSeconds(2)));
        // siloB dies: its running subjects go back to pending
        Assert.Equal(9, ledger.Requeue(silo => silo == "siloB", now.AddSeconds(3)));
        // leases scan from the first pending subject again (s010, put back), not past it
        var again = ledger.Lease("siloA", 3, now.AddSeconds(3));
        Assert.Equal(new[] { "s010", "s011", "s012" }, again.Select(x => x.Id));   // s010 avoids only siloB, where it failed
        Take(ledger, deltas);
        Assert.Equal(20, deltas.Count);   // one delta per changed subject (its latest), not one per change

        var journal = new RunJournal { RunId = "r1", Epoch = state.Epoch, Changes = deltas.Values.ToList() };
        // through JSON, as grain storage keeps it
        journal = JsonSerializer.Deserialize<RunJournal>(JsonSerializer.Serialize(journal, Opts), Opts)!;
        var rebuilt = Copy(snapshot);
        Assert.NotEqual(J(state), J(rebuilt));
        Assert.True(journal.ApplyTo(rebuilt));
        Assert.Equal(J(state), J(rebuilt));
        var s010 = rebuilt.Subjects.Single(x => x.Id == "s010");
        Assert.Equal((SubjectStatus.Running, "siloA", 2, "siloB", "boom"), (s010.Status, s010.Worker, s010.Attempts, s010.AvoidSilo, s010.Reason));

        // a compaction wrote a newer snapshot (epoch 1) and crashed before the journal: the old journal is ignored
        var newer = Copy(state);
        newer.Epoch = 1;
        var before = J(newer);
        Assert.False(journal.ApplyTo(newer));
        Assert.Equal(before, J(newer));
        // another run's journal (a previous run of the same output folder) is ignored too
        Assert.False(new RunJournal { RunId = "r0", Epoch = 1, Changes = journal.Changes }.ApplyTo(newer));
    }

    [Fact]
    public void RunState_TryLoad_applies_the_journal_beside_runs_state_json()
    {
        using var d = new TempDir("journal");
        var state = NewState(5);
        var path = RunState.StatePath(d.FullName);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        state.Save(path);
        var ledger = new RunLedger(state);
        ledger.Lease("siloA", 2, DateTimeOffset.UnixEpoch);
        ledger.Apply(new SubjectReport("r1", "s000", 1, SubjectOutcome.Measured, "siloA", 1, CacheKey: "k0"), DateTimeOffset.UnixEpoch);
        var journal = new RunJournal { RunId = "r1", Epoch = 0, Changes = ledger.TakeChanges().Select(SubjectDelta.Of).ToList() };
        File.WriteAllText(RunJournal.PathBeside(path), JsonSerializer.Serialize(journal, Opts));

        var loaded = RunState.TryLoad(path)!;
        Assert.Equal(J(state), J(loaded));
        Assert.Equal(SubjectStatus.Done, loaded.Subjects[0].Status);
        Assert.Equal(SubjectStatus.Running, loaded.Subjects[1].Status);
        // a run record (runs/<id>.json) is read as written
        var record = RunState.RecordPath(d.FullName, "r1");
        File.Copy(path, record);
        Assert.Equal(SubjectStatus.Pending, RunState.TryLoad(record)!.Subjects[0].Status);
    }
}
