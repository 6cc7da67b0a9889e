//! Early warnings: trend checks that say when an alert threshold will be
//! crossed at the current rate, before it is. The health loop feeds every
//! sample (p99 latency, outbox occupancy, resync rate, memory per
//! connection) and the analytics recorder feeds the storage figures
//! (database size, free disk space) each minute; each check fits its recent
//! window with `trend::eta_secs`. A warning names what, when it crosses,
//! and the runbook that applies; it is logged once when it starts and
//! listed with the alerts (`GET /api/v1/admin/health`) while it holds.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Duration as Span, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::health::{Sample, Thresholds, MEMORY_ALERT_MIN_CONNECTIONS};
use super::trend::{eta_secs, Direction};
use crate::counted::lock;

/// Outbox occupancy (queued frames over what the open sessions may queue)
/// past which sessions start becoming slow consumers.
pub const OUTBOX_OCCUPANCY_LIMIT: f64 = 0.5;

/// A warning that a threshold will be crossed at the current rate.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Warning {
    pub name: &'static str,
    pub message: String,
    /// The fitted value now, and the threshold it heads for.
    pub value: f64,
    pub threshold: f64,
    /// When the line crosses the threshold at the current rate.
    pub crosses_at: DateTime<Utc>,
    /// The runbook section: `docs/runbooks.md#<anchor>`.
    pub runbook: &'static str,
    pub since: DateTime<Utc>,
}

/// One trend check.
struct Check {
    name: &'static str,
    what: &'static str,
    direction: Direction,
    /// How much history the fit uses.
    window: Span,
    /// How far ahead a crossing is worth a warning.
    horizon: Span,
    runbook: &'static str,
    show: fn(f64) -> String,
}

fn ms(v: f64) -> String {
    format!("{v:.0} ms")
}
fn percent(v: f64) -> String {
    format!("{:.0} %", v * 100.0)
}
fn per_minute(v: f64) -> String {
    format!("{v:.1}/min")
}
fn bytes(v: f64) -> String {
    format!("{:.1} MiB", v / (1024.0 * 1024.0))
}

const LATENCY: Check = Check {
    name: "latency_p99_rising",
    what: "p99 commit-to-socket latency",
    direction: Direction::Rising,
    window: Span::minutes(15),
    horizon: Span::hours(1),
    runbook: "docs/runbooks.md#delivery_latency_high",
    show: ms,
};
const OUTBOX: Check = Check {
    name: "outbox_occupancy_rising",
    what: "outbox occupancy",
    direction: Direction::Rising,
    window: Span::minutes(15),
    horizon: Span::hours(1),
    runbook: "docs/runbooks.md#slow-consumers",
    show: percent,
};
const RESYNCS: Check = Check {
    name: "resync_rate_rising",
    what: "resync rate",
    direction: Direction::Rising,
    window: Span::minutes(15),
    horizon: Span::hours(1),
    runbook: "docs/runbooks.md#resync_rate_high",
    show: per_minute,
};
const MEMORY: Check = Check {
    name: "memory_per_connection_rising",
    what: "memory per connection",
    direction: Direction::Rising,
    window: Span::minutes(15),
    horizon: Span::hours(6),
    runbook: "docs/runbooks.md#memory_per_client_high",
    show: bytes,
};
const DATABASE: Check = Check {
    name: "database_filling_disk",
    what: "database size",
    direction: Direction::Rising,
    window: Span::hours(6),
    horizon: Span::days(7),
    runbook: "docs/runbooks.md#disk-full",
    show: bytes,
};
const DISK: Check = Check {
    name: "disk_free_falling",
    what: "free disk space",
    direction: Direction::Falling,
    window: Span::hours(6),
    horizon: Span::days(7),
    runbook: "docs/runbooks.md#disk-full",
    show: bytes,
};

/// The series of every check and the warnings holding now.
pub struct Predictor {
    thresholds: Thresholds,
    per_min: f64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    series: HashMap<&'static str, VecDeque<(DateTime<Utc>, f64)>>,
    warnings: Vec<Warning>,
}

impl Predictor {
    /// Checks against the alert `thresholds`, for samples `sample_secs` apart.
    pub fn new(thresholds: Thresholds, sample_secs: f64) -> Self {
        Self { thresholds, per_min: 60.0 / sample_secs.max(1e-3), state: Mutex::default() }
    }

    /// Feeds a health sample; `outbox_frames` are the frames queued then.
    pub fn observe_sample(&self, s: &Sample, outbox_frames: i64) {
        let t = &self.thresholds;
        let capacity = s.connections as f64 * t.outbox_capacity as f64;
        let memory = s.memory_per_connection_bytes.filter(|_| s.connections >= MEMORY_ALERT_MIN_CONNECTIONS);
        self.observe(
            s.at,
            &[
                (&LATENCY, s.latency_p99_ms.filter(|v| v.is_finite()), t.latency_p99_ms),
                (&OUTBOX, (capacity > 0.0).then(|| outbox_frames as f64 / capacity), OUTBOX_OCCUPANCY_LIMIT),
                (&RESYNCS, Some(s.resyncs as f64 * self.per_min), t.resyncs_per_min),
                (&MEMORY, memory.map(|m| m as f64), t.memory_per_client_bytes),
            ],
        );
    }

    /// Feeds the database's size and the data volume's free space: the
    /// database heads for a full disk (its size plus what is free).
    pub fn observe_storage(&self, at: DateTime<Utc>, database_bytes: Option<u64>, free_bytes: Option<u64>) {
        let full = database_bytes.zip(free_bytes).map_or(f64::INFINITY, |(d, f)| (d + f) as f64);
        self.observe(
            at,
            &[(&DATABASE, database_bytes.map(|b| b as f64), full), (&DISK, free_bytes.map(|b| b as f64), 0.0)],
        );
    }

    /// Warnings holding now.
    pub fn warnings(&self) -> Vec<Warning> {
        lock(&self.state).warnings.clone()
    }

    /// Adds each check's value (a missing one is skipped) and re-evaluates
    /// those checks against their thresholds.
    fn observe(&self, at: DateTime<Utc>, values: &[(&Check, Option<f64>, f64)]) {
        let mut state = lock(&self.state);
        for (check, value, threshold) in values {
            let series = state.series.entry(check.name).or_default();
            if let Some(v) = value {
                series.push_back((at, *v));
            }
            while series.front().is_some_and(|(t, _)| *t < at - check.window) {
                series.pop_front();
            }
            let warning = forecast(check, series, *threshold);
            let held = state.warnings.iter().position(|w| w.name == check.name);
            match (warning, held) {
                (Some(w), Some(i)) => state.warnings[i] = Warning { since: state.warnings[i].since, ..w },
                (Some(w), None) => {
                    log::warn!(warning = w.name, message = w.message.as_str(), runbook = w.runbook; "early warning");
                    state.warnings.push(w);
                }
                (None, Some(i)) => {
                    log::info!(warning = check.name; "early warning cleared");
                    state.warnings.remove(i);
                }
                (None, None) => {}
            }
        }
    }
}

/// The warning `check` gives on `series`, if its trend crosses `threshold`
/// within the horizon.
fn forecast(check: &Check, series: &VecDeque<(DateTime<Utc>, f64)>, threshold: f64) -> Option<Warning> {
    let (now, _) = *series.back()?;
    // Seconds before the last point: small numbers keep the fit precise.
    let points: Vec<(f64, f64)> =
        series.iter().map(|(t, v)| ((*t - now).num_milliseconds() as f64 / 1000.0, *v)).collect();
    let horizon = check.horizon.num_seconds() as f64;
    let eta = eta_secs(&points, threshold, check.direction, horizon)?;
    let fit = super::trend::fit(&points)?;
    let crosses_at = now + Span::milliseconds((eta * 1000.0) as i64);
    let show = check.show;
    let message = format!(
        "{} is {} and {} at {} per hour: it crosses {} in about {} (around {} UTC); see {}",
        check.what,
        show(fit.level),
        if fit.slope > 0.0 { "rising" } else { "falling" },
        show(fit.slope.abs() * 3600.0),
        show(threshold),
        in_words(eta),
        crosses_at.format("%Y-%m-%d %H:%M"),
        check.runbook,
    );
    Some(Warning {
        name: check.name,
        message,
        value: fit.level,
        threshold,
        crosses_at,
        runbook: check.runbook,
        since: now,
    })
}

/// "40 minutes", "5 hours", "3 days".
fn in_words(secs: f64) -> String {
    match secs {
        s if s < 2.0 * 3600.0 => format!("{:.0} minutes", (s / 60.0).max(1.0)),
        s if s < 2.0 * 86_400.0 => format!("{:.0} hours", s / 3600.0),
        s => format!("{:.0} days", s / 86_400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thresholds() -> Thresholds {
        Thresholds {
            sync_success: 0.999,
            latency_p99_ms: 500.0,
            memory_per_client_bytes: 100.0 * 1024.0 * 1024.0,
            resyncs_per_min: 60.0,
            errors_per_min: 10.0,
            expect_broker: false,
            outbox_capacity: 256,
        }
    }

    fn sample(at: DateTime<Utc>, latency: f64) -> Sample {
        Sample {
            at,
            connections: 20,
            deliveries_attempted: 100,
            deliveries_succeeded: 100,
            deliveries_dropped: 0,
            sync_success: 1.0,
            latency_p99_ms: Some(latency),
            resyncs: 0,
            errors: 0,
            resident_bytes: None,
            memory_per_connection_bytes: None,
        }
    }

    #[test]
    fn rising_latency_warns_once_with_its_runbook_and_clears_when_it_levels() {
        let predictor = Predictor::new(thresholds(), 10.0);
        let start = Utc::now();
        let at = |i: i64| start + Span::seconds(10 * i);
        for i in 0..30 {
            predictor.observe_sample(&sample(at(i), 100.0 + 5.0 * i as f64), 0);
        }
        let warnings = predictor.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let w = &warnings[0];
        assert_eq!((w.name, w.runbook), ("latency_p99_rising", "docs/runbooks.md#delivery_latency_high"));
        // 245 ms at sample 29, +0.5 ms/s: 500 ms about 510 s later.
        let eta = (w.crosses_at - at(29)).num_seconds();
        assert!((480..=540).contains(&eta), "eta {eta}: {}", w.message);
        assert!(w.message.contains("crosses 500 ms"), "{}", w.message);
        let since = w.since;
        predictor.observe_sample(&sample(at(30), 250.0), 0);
        assert_eq!(predictor.warnings()[0].since, since, "the same warning goes on");
        // Level for the next 15 minutes: the rise leaves the window.
        for i in 31..130 {
            predictor.observe_sample(&sample(at(i), 250.0), 0);
        }
        assert!(predictor.warnings().is_empty(), "{:?}", predictor.warnings());
    }

    #[test]
    fn storage_warns_when_the_disk_fills_at_this_rate() {
        let predictor = Predictor::new(thresholds(), 10.0);
        let start = Utc::now();
        let mib = 1024 * 1024;
        for i in 0..30u64 {
            let at = start + Span::minutes(i as i64);
            predictor.observe_storage(at, Some(500 * mib + i * 10 * mib), Some(2000 * mib - i * 10 * mib));
        }
        let names: Vec<&str> = predictor.warnings().iter().map(|w| w.name).collect();
        assert_eq!(names, ["database_filling_disk", "disk_free_falling"]);
        let steady = Predictor::new(thresholds(), 10.0);
        for i in 0..30u64 {
            steady.observe_storage(start + Span::minutes(i as i64), Some(500 * mib), Some(2000 * mib));
        }
        assert!(steady.warnings().is_empty());
    }
}
