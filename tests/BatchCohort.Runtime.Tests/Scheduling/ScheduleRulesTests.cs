using BatchCohort.Runtime.Scheduling;

namespace BatchCohort.Runtime.Tests.Scheduling;

/// <summary>
/// The pure rules with a controllable clock. Expected instants are written from the zones' legal rules (EU: clocks
/// change at 01:00 UTC on the last Sundays of March and October; US: 02:00 local on the second Sunday of March and
/// the first Sunday of November), not computed by the code under test.
/// </summary>
public class ScheduleRulesTests
{
    private static ScheduleSpec Spec(string at, string zone, string created = "2026-01-01T00:00:00Z") => new()
    {
        Id = "t-0001", Cohort = "/nowhere/cohort.json", CohortName = "t", At = at, TimeZone = zone, CreatedAt = DateTimeOffset.Parse(created, System.Globalization.CultureInfo.InvariantCulture),
    };

    private static DateTimeOffset T(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Ticks every minute (as an Orleans reminder would) from <paramref name="from"/> to <paramref name="to"/>,
    /// skipping ticks inside <paramref name="down"/>, and applies every decision. Returns the fire instants by night.</summary>
    private static List<(DateOnly Night, DateTimeOffset At)> Simulate(ScheduleSpec spec, DateTimeOffset from, DateTimeOffset to,
        (DateTimeOffset From, DateTimeOffset To)? down = null, ScheduleState? state = null)
    {
        // by default the night of the start has been handled already (the schedule ran that night)
        state ??= new ScheduleState { LastNight = DateOnly.FromDateTime(from.UtcDateTime) };
        var fired = new List<(DateOnly, DateTimeOffset)>();
        for (var now = from; now <= to; now = now.AddMinutes(1))
        {
            if (down is { } d && now >= d.From && now < d.To) continue;
            var dec = ScheduleRules.Evaluate(spec, state, now, cohortRunGoing: false);
            if (dec.Action == ScheduleAction.Fire)
            {
                fired.Add((dec.Night!.Value, now));
                state = state with { LastNight = dec.Night };
            }
        }
        return fired;
    }

    [Fact]
    public void Fires_at_its_local_time_and_not_a_minute_before()
    {
        var spec = Spec("02:00", "Europe/Berlin");
        // 02:00 CET = 01:00 UTC in December
        Assert.Equal(ScheduleAction.Nothing, ScheduleRules.Evaluate(spec, new ScheduleState { LastNight = new DateOnly(2026, 12, 1) }, T("2026-12-02T00:59:59Z"), false).Action);
        var d = ScheduleRules.Evaluate(spec, new ScheduleState { LastNight = new DateOnly(2026, 12, 1) }, T("2026-12-02T01:00:00Z"), false);
        Assert.Equal(ScheduleAction.Fire, d.Action);
        Assert.Equal(new DateOnly(2026, 12, 2), d.Night);
        Assert.Equal(T("2026-12-02T01:00:00Z"), d.Occurrence);
        // a week of minute ticks: once a night, each at 01:00 UTC
        var fired = Simulate(spec, T("2026-12-01T12:00:00Z"), T("2026-12-08T12:00:00Z"));
        Assert.Equal(7, fired.Count);
        for (int i = 0; i < 7; i++)
        {
            Assert.Equal(new DateOnly(2026, 12, 2 + i), fired[i].Night);
            Assert.Equal(T($"2026-12-{2 + i:00}T01:00:00Z"), fired[i].At);
        }
        Assert.Equal(T("2026-12-09T01:00:00Z"), ScheduleRules.NextRun(spec, new ScheduleState { LastNight = new DateOnly(2026, 12, 8) }, T("2026-12-08T12:00:00Z")));
    }

    [Fact]
    public void After_downtime_covering_several_nights_it_fires_once_not_once_per_missed_night()
    {
        var spec = Spec("02:00", "UTC");
        // up on the 1st (fires), down from the 1st at noon to the 6th at 09:15 (4 nights missed), up until the 7th at noon
        var fired = Simulate(spec, T("2026-12-01T00:00:00Z"), T("2026-12-07T12:00:00Z"), (T("2026-12-01T12:00:00Z"), T("2026-12-06T09:15:00Z")),
            new ScheduleState { LastNight = new DateOnly(2026, 11, 30) });
        Assert.Equal(3, fired.Count);
        Assert.Equal((new DateOnly(2026, 12, 1), T("2026-12-01T02:00:00Z")), fired[0]);
        Assert.Equal((new DateOnly(2026, 12, 6), T("2026-12-06T09:15:00Z")), fired[1]);   // the catch-up: once, when back
        Assert.Equal((new DateOnly(2026, 12, 7), T("2026-12-07T02:00:00Z")), fired[2]);
    }

    [Fact]
    public void A_night_before_the_schedule_existed_never_fires()
    {
        var spec = Spec("02:00", "UTC", created: "2026-12-02T10:00:00Z");
        Assert.Equal(ScheduleAction.Nothing, ScheduleRules.Evaluate(spec, new ScheduleState(), T("2026-12-02T10:00:01Z"), false).Action);
        Assert.Equal(T("2026-12-03T02:00:00Z"), ScheduleRules.NextRun(spec, new ScheduleState(), T("2026-12-02T10:00:01Z")));
        Assert.Equal(ScheduleAction.Fire, ScheduleRules.Evaluate(spec, new ScheduleState(), T("2026-12-03T02:00:00Z"), false).Action);
    }

    [Fact]
    public void A_due_night_while_the_cohort_is_still_running_is_skipped_with_the_reason()
    {
        var spec = Spec("02:00", "UTC");
        var d = ScheduleRules.Evaluate(spec, new ScheduleState { LastNight = new DateOnly(2026, 12, 1) }, T("2026-12-02T02:00:00Z"), cohortRunGoing: true);
        Assert.Equal(ScheduleAction.Skip, d.Action);
        Assert.Equal(new DateOnly(2026, 12, 2), d.Night);
        Assert.Contains("still going", d.Reason);
    }

    [Theory]
    // Europe/Berlin spring forward, Sunday 2026-03-29: 02:00 CET → 03:00 CEST, so 02:30 does not exist that night;
    // it fires at 02:30 CET = 01:30 UTC. The nights around it: 01:30 UTC (CET) before, 00:30 UTC (CEST) after.
    [InlineData("Europe/Berlin", "02:30", "2026-03-27T12:00:00Z", "2026-03-28T01:30:00Z", "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z")]
    // Europe/Berlin fall back, Sunday 2026-10-25: 03:00 CEST → 02:00 CET, so 02:30 happens twice (00:30 and 01:30 UTC);
    // it fires at the first only.
    [InlineData("Europe/Berlin", "02:30", "2026-10-23T12:00:00Z", "2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z")]
    // America/New_York spring forward, Sunday 2026-03-08: 02:00 EST → 03:00 EDT; 02:30 EST = 07:30 UTC.
    [InlineData("America/New_York", "02:30", "2026-03-06T12:00:00Z", "2026-03-07T07:30:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z")]
    // America/New_York fall back, Sunday 2026-11-01: 02:00 EDT → 01:00 EST; 01:30 happens at 05:30 and 06:30 UTC.
    [InlineData("America/New_York", "01:30", "2026-10-30T12:00:00Z", "2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z")]
    public void A_daylight_saving_night_fires_exactly_once(string zone, string at, string from, string before, string dstNight, string after)
    {
        var spec = Spec(at, zone);
        var fired = Simulate(spec, T(from), T(from).AddDays(3));
        Assert.Equal(new[] { T(before), T(dstNight), T(after) }, fired.Select(f => f.At).ToArray());
        Assert.Equal(3, fired.Select(f => f.Night).Distinct().Count());
    }

    [Fact]
    public void Bad_times_and_zones_are_refused_with_the_option_named()
    {
        Assert.Contains("--at '25:00'", Assert.Throws<ArgumentException>(() => NightlyClock.ParseAt("25:00")).Message);
        Assert.Contains("--timezone 'Mars/Olympus'", Assert.Throws<ArgumentException>(() => NightlyClock.FindZone("Mars/Olympus")).Message);
    }
}
