using System.Globalization;

namespace BatchCohort.Runtime.Scheduling;

/// <summary>
/// The calendar arithmetic of a nightly schedule, pure and clock-free. Each local date ("night") has exactly one
/// occurrence instant, so daylight-saving changes neither skip nor double a night:
/// <list type="bullet">
/// <item>a local time that does not exist that night (spring forward, e.g. 02:30 in Europe/Berlin on the last Sunday
/// of March) fires at the same clock reading with the offset from before the gap — 02:30 CET = 03:30 CEST;</item>
/// <item>a local time that happens twice (fall back, e.g. 01:30 in America/New_York on the first Sunday of November)
/// fires at its first occurrence (daylight time) only.</item>
/// </list>
/// </summary>
public static class NightlyClock
{
    public static TimeOnly ParseAt(string at)
    {
        if (TimeOnly.TryParseExact(at.Trim(), new[] { "HH:mm", "H:mm" }, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)) return t;
        throw new ArgumentException($"--at '{at}': expected a local time of day as HH:mm (e.g. 02:00)");
    }

    public static TimeZoneInfo FindZone(string id)
    {
        try { return TimeZoneInfo.FindSystemTimeZoneById(id); }
        catch (TimeZoneNotFoundException) { throw new ArgumentException($"--timezone '{id}': not a known IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)"); }
        catch (InvalidTimeZoneException) { throw new ArgumentException($"--timezone '{id}': the time zone data is invalid on this machine"); }
    }

    /// <summary>The machine's zone as an IANA id (UTC when it has none).</summary>
    public static string LocalZoneId() => TimeZoneInfo.Local.HasIanaId ? TimeZoneInfo.Local.Id
        : TimeZoneInfo.TryConvertWindowsIdToIanaId(TimeZoneInfo.Local.Id, out var iana) ? iana : "UTC";

    /// <summary>The one instant at which the schedule fires for local date <paramref name="night"/>.</summary>
    public static DateTimeOffset Occurrence(DateOnly night, TimeOnly at, TimeZoneInfo zone)
    {
        var local = night.ToDateTime(at, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local))
        {
            // In the spring-forward gap: keep the clock reading, with the offset in force just before the gap.
            var before = local.AddHours(-6);
            var offset = zone.IsInvalidTime(before) ? zone.BaseUtcOffset : zone.GetUtcOffset(before);
            return new DateTimeOffset(local, offset);
        }
        if (zone.IsAmbiguousTime(local))
        {
            // Happens twice: the first one (the larger offset is the earlier instant).
            var offsets = zone.GetAmbiguousTimeOffsets(local);
            return new DateTimeOffset(local, offsets.Max());
        }
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    /// <summary>The local date of <paramref name="instant"/> in <paramref name="zone"/>.</summary>
    public static DateOnly LocalDate(DateTimeOffset instant, TimeZoneInfo zone) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime);

    /// <summary>The latest night whose occurrence is at or before <paramref name="now"/>.</summary>
    public static DateOnly LatestDueNight(DateTimeOffset now, TimeOnly at, TimeZoneInfo zone)
    {
        var today = LocalDate(now, zone);
        for (var d = today.AddDays(1); ; d = d.AddDays(-1))
            if (Occurrence(d, at, zone) <= now) return d;
    }
}

/// <summary>What the scheduler should do with a schedule at a given instant.</summary>
public enum ScheduleAction { Nothing, Fire, Skip }

public sealed record ScheduleDecision(ScheduleAction Action, DateOnly? Night, DateTimeOffset? Occurrence, string? Reason)
{
    public static readonly ScheduleDecision None = new(ScheduleAction.Nothing, null, null, null);
}

/// <summary>
/// The rules, as a pure function of (schedule, what was remembered, now, is a run of this cohort going):
/// a night fires once, at or after its occurrence; after downtime covering several nights only the latest one is due,
/// so it fires once (not once per missed night); a night whose occurrence comes while the previous run of that cohort
/// is still going is skipped and noted; a night before the schedule existed never fires.
/// </summary>
public static class ScheduleRules
{
    public static ScheduleDecision Evaluate(ScheduleSpec spec, ScheduleState state, DateTimeOffset now, bool cohortRunGoing)
    {
        var zone = spec.Zone;
        var at = spec.LocalTime;
        var night = NightlyClock.LatestDueNight(now, at, zone);
        var occurrence = NightlyClock.Occurrence(night, at, zone);
        if (occurrence < spec.CreatedAt) return ScheduleDecision.None;
        if (state.LastNight is { } last && night <= last) return ScheduleDecision.None;
        if (cohortRunGoing)
            return new ScheduleDecision(ScheduleAction.Skip, night, occurrence, "the previous run of this cohort was still going");
        return new ScheduleDecision(ScheduleAction.Fire, night, occurrence, null);
    }

    /// <summary>When the schedule fires next: the first night after the last handled one whose occurrence is after
    /// both now and the schedule's creation; a night already due and not yet handled is "now" (its occurrence).</summary>
    public static DateTimeOffset NextRun(ScheduleSpec spec, ScheduleState state, DateTimeOffset now)
    {
        var zone = spec.Zone;
        var at = spec.LocalTime;
        var due = Evaluate(spec, state, now, cohortRunGoing: false);
        if (due.Action == ScheduleAction.Fire) return due.Occurrence!.Value;
        for (var d = NightlyClock.LocalDate(now, zone).AddDays(-1); ; d = d.AddDays(1))
        {
            var occ = NightlyClock.Occurrence(d, at, zone);
            if (occ > now && occ >= spec.CreatedAt && (state.LastNight is not { } last || d > last)) return occ;
        }
    }
}
