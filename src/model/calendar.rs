//! The calendar window storesync accepts dates and times in, and the one
//! conversion from a UTC instant to a store's local day. chrono represents
//! years ±262143, but converting an instant near those edges to a time zone
//! panics, and a panic inside a group commit would take every other write
//! of the batch down with it. So every date or time a client sends is
//! checked against a sane window before it reaches a store actor, and the
//! conversion itself answers `None` instead of panicking.
//!
//! Guarded by `tests/calendar.rs` and the unit tests below.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::ApiError;

/// The first day any date or time input may name: storesync holds no
/// older business data, and nothing before it is a plausible sale.
pub const EARLIEST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(day) => day,
    None => NaiveDate::MIN,
};

/// The last day a query may name (`GET /sales/daily?from&to`): far enough
/// for any calendar view, far from chrono's edges.
pub const LATEST_QUERY_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2100, 12, 31) {
    Some(day) => day,
    None => NaiveDate::MAX,
};

/// How far in the future a sale may be dated: clocks of shop systems drift,
/// and a local day ahead of UTC is still today somewhere.
pub const SALE_FUTURE_SLACK: TimeDelta = TimeDelta::days(1);

/// The first instant a sale may be dated: 2000-01-01T00:00:00Z.
pub fn earliest_instant() -> DateTime<Utc> {
    Utc.from_utc_datetime(&EARLIEST_DAY.and_time(NaiveTime::MIN))
}

/// Refuses a sale's `at` outside `2000-01-01T00:00:00Z ..= now + 1 day`.
pub fn check_sale_time(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), ApiError> {
    let latest = now.checked_add_signed(SALE_FUTURE_SLACK).unwrap_or(now);
    if at < earliest_instant() || at > latest {
        return Err(ApiError::invalid("at", "at must be between 2000-01-01T00:00:00Z and one day from now".into()));
    }
    Ok(())
}

/// Refuses a queried day outside `2000-01-01 ..= 2100-12-31`.
pub fn check_query_day(field: &str, day: NaiveDate) -> Result<(), ApiError> {
    if !(EARLIEST_DAY..=LATEST_QUERY_DAY).contains(&day) {
        return Err(ApiError::invalid(field, format!("{field} must be between {EARLIEST_DAY} and {LATEST_QUERY_DAY}")));
    }
    Ok(())
}

/// A store's calendar day at `at`; `None` when the local time would fall
/// outside chrono's range (`DateTime::with_timezone` panics there).
pub fn local_day(tz: Tz, at: DateTime<Utc>) -> Option<NaiveDate> {
    let offset = tz.offset_from_utc_datetime(&at.naive_utc());
    let offset = chrono::Offset::fix(&offset);
    Some(at.naive_utc().checked_add_offset(offset)?.date())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn local_day_at_the_calendars_edges_answers_none_instead_of_panicking() {
        let auckland: Tz = "Pacific/Auckland".parse().unwrap();
        let honolulu: Tz = "Pacific/Honolulu".parse().unwrap();
        assert_eq!(local_day(auckland, DateTime::<Utc>::MAX_UTC), None);
        assert_eq!(local_day(honolulu, DateTime::<Utc>::MIN_UTC), None);
        assert_eq!(local_day(auckland, at("2026-03-01T20:00:00Z")), NaiveDate::from_ymd_opt(2026, 3, 2));
        assert_eq!(local_day(honolulu, at("2026-03-01T05:00:00Z")), NaiveDate::from_ymd_opt(2026, 2, 28));
    }

    #[test]
    fn sale_times_must_lie_between_2000_and_tomorrow() {
        let now = at("2026-03-01T12:00:00Z");
        for ok in ["2000-01-01T00:00:00Z", "2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z"] {
            assert!(check_sale_time(at(ok), now).is_ok(), "{ok}");
        }
        for bad in ["1999-12-31T23:59:59Z", "1900-01-01T00:00:00Z", "2026-03-02T12:00:01Z"] {
            let err = check_sale_time(at(bad), now).unwrap_err();
            assert_eq!(err.body().error.details.unwrap()["field"], "at", "{bad}");
        }
        assert!(check_sale_time(DateTime::<Utc>::MIN_UTC, now).is_err());
        assert!(check_sale_time(DateTime::<Utc>::MAX_UTC, now).is_err());
        assert!(check_sale_time(now, DateTime::<Utc>::MAX_UTC).is_ok(), "no overflow at the top");
    }

    #[test]
    fn queried_days_must_lie_between_2000_and_2100() {
        assert!(check_query_day("from", EARLIEST_DAY).is_ok());
        assert!(check_query_day("to", LATEST_QUERY_DAY).is_ok());
        for bad in [NaiveDate::MIN, NaiveDate::MAX, EARLIEST_DAY.pred_opt().unwrap()] {
            let err = check_query_day("to", bad).unwrap_err();
            assert_eq!(err.body().error.details.unwrap()["field"], "to");
        }
    }
}
