//! Sync performance analytics: time series of delivery latency, deliveries,
//! resyncs, reconnects, slow consumers, bytes sent and the node's levels,
//! per node and per store, kept in the database (`sync_stats`).
//!
//! The `Recorder` runs off the store actors: every `--analytics-interval-secs`
//! (a minute) it reads the metrics' counters and histogram buckets, turns
//! what moved since the last reading into rows, and inserts them in one
//! batch on the blocking pool. A store's commits and fan-out never wait for
//! it: they only bump the atomic counters they bump anyway.
//!
//! `maintain` rolls rows older than `FINE_FOR` up into hours and deletes
//! rows past the retention (`--analytics-retention-days`); `query` answers
//! `GET /api/v1/admin/analytics/sync`, aggregating what is kept into the
//! asked step.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Datelike, Duration as Span, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::health::{interval_quantile_ms, HealthMonitor};
use super::metrics::{Metrics, StoreTotals};
use crate::counted::lock;
use crate::db::queries::sync_stats::{self as stats, StatRow, HOUR_SECS};
use crate::db::{self, DbPool};
use crate::error::ApiError;

/// Rows finer than an hour are kept this long, then rolled up: a day, and
/// an hour more so the daily report made after midnight still reads the
/// day's minutes.
pub const FINE_FOR: Span = Span::hours(25);

/// The longest range one query may span.
pub const MAX_RANGE: Span = Span::days(31);

/// The most points one query may answer.
pub const MAX_POINTS: i64 = 2000;

/// The steps a query may ask for, in seconds.
pub const STEPS: [i64; 6] = [60, 300, 900, 3600, 21_600, 86_400];

/// Stores with activity recorded per interval, busiest first: bounds the
/// rows (and so the table) whatever the number of stores.
pub const STORES_PER_SAMPLE: usize = 100;

/// How rows of a metric combine, over time and over nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Events counted in the interval: summed over time and nodes.
    Count,
    /// A level such as open connections: its highest value over time,
    /// summed over nodes.
    Gauge,
    /// A latency percentile, an alert, a shared level (database size): the
    /// highest value over time and nodes.
    Peak,
}

impl Kind {
    /// Combines one node's values of consecutive intervals.
    fn over_time(self, a: f64, b: f64) -> f64 {
        match self {
            Self::Count => a + b,
            Self::Gauge | Self::Peak => a.max(b),
        }
    }

    /// Combines the nodes' values of one interval.
    fn over_nodes(self, a: f64, b: f64) -> f64 {
        match self {
            Self::Count | Self::Gauge => a + b,
            Self::Peak => a.max(b),
        }
    }
}

/// The metrics recorded: name, kind, whether stores have their own rows.
pub const METRICS: [(&str, Kind, bool); 17] = [
    ("latency_p50_ms", Kind::Peak, true),
    ("latency_p90_ms", Kind::Peak, true),
    ("latency_p99_ms", Kind::Peak, true),
    ("deliveries", Kind::Count, true),
    ("deliveries_attempted", Kind::Count, true),
    ("deliveries_dropped", Kind::Count, true),
    ("reconnects", Kind::Count, true),
    ("store_restarts", Kind::Count, true),
    ("resyncs", Kind::Count, false),
    ("bytes_sent", Kind::Count, false),
    ("frames_sent", Kind::Count, false),
    ("errors", Kind::Count, false),
    ("starts", Kind::Count, false),
    ("connections", Kind::Gauge, false),
    ("outbox_frames", Kind::Gauge, false),
    ("resident_bytes", Kind::Gauge, false),
    ("database_bytes", Kind::Peak, false),
];

/// Node metrics named after a label: `resyncs.<reason>` (counts; slow
/// consumers are `resyncs.slow_consumer`) and `alert.<name>` (1 while the
/// alert fires), plus `disk_free_bytes`.
const FAMILIES: [(&str, Kind); 2] = [("resyncs.", Kind::Count), ("alert.", Kind::Peak)];

/// The kind of a metric and whether stores have rows of it; `None` for a
/// name nothing records.
pub fn kind_of(metric: &str) -> Option<(Kind, bool)> {
    if metric == "disk_free_bytes" {
        return Some((Kind::Peak, false));
    }
    if let Some((_, kind, per_store)) = METRICS.iter().find(|(name, _, _)| *name == metric) {
        return Some((*kind, *per_store));
    }
    FAMILIES.iter().find_map(|(prefix, kind)| {
        let label = metric.strip_prefix(prefix)?;
        let valid = !label.is_empty()
            && label.len() <= 60
            && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        valid.then_some((*kind, false))
    })
}

/// The cumulative figures of one reading.
#[derive(Default)]
struct Reading {
    attempted: u64,
    succeeded: u64,
    dropped: u64,
    bytes: u64,
    frames: u64,
    errors: u64,
    buckets: Vec<(f64, u64)>,
    resyncs: HashMap<String, u64>,
    stores: HashMap<String, StoreTotals>,
}

/// Writes this node's rows every interval.
pub struct Recorder {
    metrics: Arc<Metrics>,
    health: Arc<HealthMonitor>,
    pool: DbPool,
    node: String,
    interval: Duration,
    retention: Span,
    data_dir: PathBuf,
    /// The last reading, and the interval its rows went to.
    last: Mutex<(Reading, Option<NaiveDateTime>)>,
    started: AtomicBool,
}

/// `at` rounded down to a multiple of `step_secs` since the epoch.
pub fn floor(at: DateTime<Utc>, step_secs: i64) -> NaiveDateTime {
    let secs = at.timestamp().div_euclid(step_secs) * step_secs;
    DateTime::from_timestamp(secs, 0).unwrap_or(at).naive_utc()
}

impl Recorder {
    /// A recorder for `node`, writing every `interval` and keeping
    /// `retention_days` of rows.
    pub fn new(
        metrics: Arc<Metrics>,
        health: Arc<HealthMonitor>,
        pool: DbPool,
        node: String,
        interval: Duration,
        retention_days: u32,
        data_dir: PathBuf,
    ) -> Arc<Self> {
        let recorder = Self {
            metrics,
            health,
            pool,
            node,
            interval: interval.max(Duration::from_secs(1)),
            retention: Span::days(i64::from(retention_days.max(1))),
            data_dir,
            last: Mutex::default(),
            started: AtomicBool::new(false),
        };
        // The first rows count from here: what happened before this
        // process started is not this process's to count.
        *lock(&recorder.last) = (recorder.reading(), None);
        Arc::new(recorder)
    }

    /// This node's name in the rows.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Records forever, and maintains the table every hour (spawn it).
    pub async fn run(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        let mut maintained: Option<DateTime<Utc>> = None;
        loop {
            tick.tick().await;
            if let Err(e) = self.record().await {
                log::warn!(error = e.detail().as_str(); "sync analytics: recording failed");
            }
            let now = Utc::now();
            if maintained.is_none_or(|at| now - at >= Span::hours(1)) {
                maintained = Some(now);
                match maintain(&self.pool, now, self.retention).await {
                    Ok(done) => log::debug!(rolled_up = done.0, deleted = done.1; "sync analytics maintained"),
                    Err(e) => log::warn!(error = e.detail().as_str(); "sync analytics: maintenance failed"),
                }
            }
        }
    }

    /// Takes a reading and writes the rows of what moved since the last
    /// one, with the storage figures (which also feed the early warnings).
    pub async fn record(&self) -> Result<usize, ApiError> {
        let now = Utc::now();
        let dir = self.data_dir.clone();
        let (database, free) =
            db::blocking(&self.pool, move |conn| Ok((stats::database_bytes(conn).ok(), free_disk_bytes(&dir)))).await?;
        self.health.predictor.observe_storage(now, database, free);
        let mut rows = self.rows(now);
        if let Some(at) = rows.first().map(|r| r.at) {
            let step = rows[0].step_secs;
            let level = |metric: &str, value: u64| self.row("", metric, step, at, value as f64);
            rows.extend(database.map(|b| level("database_bytes", b)));
            rows.extend(free.map(|b| level("disk_free_bytes", b)));
        }
        let written = rows.len();
        db::blocking(&self.pool, move |conn| stats::insert(conn, &rows)).await?;
        Ok(written)
    }

    fn row(&self, store: &str, metric: &str, step_secs: i32, at: NaiveDateTime, value: f64) -> StatRow {
        StatRow { node: self.node.clone(), store: store.to_owned(), metric: metric.to_owned(), step_secs, at, value }
    }

    fn reading(&self) -> Reading {
        let (attempted, succeeded, dropped) = self.metrics.delivery_totals();
        Reading {
            attempted,
            succeeded,
            dropped,
            bytes: self.metrics.bytes_sent.get(),
            frames: self.metrics.frames_sent.get(),
            errors: self.metrics.internal_errors(),
            buckets: self.metrics.delivery_buckets(),
            resyncs: self.metrics.resyncs_by_reason(),
            stores: self.metrics.store_totals(),
        }
    }

    /// The rows of what moved since the last reading, in the interval that
    /// holds `now`; none when that interval has its rows already (then the
    /// next reading carries the counts on).
    fn rows(&self, now: DateTime<Utc>) -> Vec<StatRow> {
        let step = self.interval.as_secs() as i64;
        let at = floor(now, step);
        let mut last = lock(&self.last);
        if last.1 == Some(at) {
            return Vec::new();
        }
        let now_reading = self.reading();
        let before = std::mem::replace(&mut last.0, now_reading);
        last.1 = Some(at);
        let read = &last.0;
        let step = step as i32;
        let mut rows = Vec::new();
        let mut put = |store: &str, metric: &str, value: f64| rows.push(self.row(store, metric, step, at, value));
        let delta = |now: u64, then: u64| now.saturating_sub(then) as f64;
        for (name, q) in [("latency_p50_ms", 0.5), ("latency_p90_ms", 0.9), ("latency_p99_ms", 0.99)] {
            if let Some(ms) = interval_quantile_ms(&before.buckets, &read.buckets, q).filter(|v| v.is_finite()) {
                put("", name, ms);
            }
        }
        put("", "deliveries", delta(read.succeeded, before.succeeded));
        put("", "deliveries_attempted", delta(read.attempted, before.attempted));
        put("", "deliveries_dropped", delta(read.dropped, before.dropped));
        put("", "bytes_sent", delta(read.bytes, before.bytes));
        put("", "frames_sent", delta(read.frames, before.frames));
        put("", "errors", delta(read.errors, before.errors));
        let resyncs: u64 =
            read.resyncs.iter().map(|(r, n)| n.saturating_sub(before.resyncs.get(r).copied().unwrap_or(0))).sum();
        put("", "resyncs", resyncs as f64);
        for (reason, n) in &read.resyncs {
            let moved = n.saturating_sub(before.resyncs.get(reason).copied().unwrap_or(0));
            if moved > 0 && kind_of(&format!("resyncs.{reason}")).is_some() {
                put("", &format!("resyncs.{reason}"), moved as f64);
            }
        }
        let store_sum = |f: fn(&StoreTotals) -> u64, r: &Reading| r.stores.values().map(f).sum::<u64>();
        let reconnects = |t: &StoreTotals| t.resumed;
        let restarts = |t: &StoreTotals| t.restarts;
        put("", "reconnects", delta(store_sum(reconnects, read), store_sum(reconnects, &before)));
        put("", "store_restarts", delta(store_sum(restarts, read), store_sum(restarts, &before)));
        put("", "connections", self.metrics.ws_connections.get() as f64);
        put("", "outbox_frames", self.metrics.outbox_frames.get() as f64);
        if let Some(resident) = self.metrics.resident_bytes() {
            put("", "resident_bytes", resident as f64);
        }
        if !self.started.swap(true, Ordering::Relaxed) {
            put("", "starts", 1.0);
        }
        for alert in self.health.alerts() {
            put("", &format!("alert.{}", alert.name), 1.0);
        }
        for (store, figures) in busiest(&before.stores, &read.stores) {
            let then = before.stores.get(store).cloned().unwrap_or_default();
            for (name, q) in [("latency_p50_ms", 0.5), ("latency_p90_ms", 0.9), ("latency_p99_ms", 0.99)] {
                let ms = interval_quantile_ms(&then.delivery_buckets, &figures.delivery_buckets, q);
                if let Some(ms) = ms.filter(|v| v.is_finite()) {
                    put(store, name, ms);
                }
            }
            for (name, now, was) in [
                ("deliveries", figures.succeeded, then.succeeded),
                ("deliveries_attempted", figures.attempted, then.attempted),
                ("deliveries_dropped", figures.dropped, then.dropped),
                ("reconnects", figures.resumed, then.resumed),
                ("store_restarts", figures.restarts, then.restarts),
            ] {
                if now > was {
                    put(store, name, delta(now, was));
                }
            }
        }
        rows
    }
}

/// The stores whose figures moved, busiest (most attempted deliveries)
/// first, at most `STORES_PER_SAMPLE`.
fn busiest<'a>(
    before: &HashMap<String, StoreTotals>,
    now: &'a HashMap<String, StoreTotals>,
) -> Vec<(&'a String, &'a StoreTotals)> {
    let mut moved: Vec<(&String, &StoreTotals, u64)> = now
        .iter()
        .filter(|(store, t)| before.get(*store) != Some(t))
        .map(|(store, t)| (store, t, t.attempted.saturating_sub(before.get(store).map_or(0, |b| b.attempted))))
        .collect();
    moved.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(b.0)));
    moved.into_iter().take(STORES_PER_SAMPLE).map(|(s, t, _)| (s, t)).collect()
}

/// Free bytes on the volume of `dir`, from `df` (POSIX output): the
/// standard library has no statvfs, and the crate forbids unsafe code.
pub fn free_disk_bytes(dir: &Path) -> Option<u64> {
    let out = std::process::Command::new("df").arg("-Pk").arg(dir).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let kib: u64 = text.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()?;
    Some(kib * 1024)
}

/// Hourly rows of `rows`: one per node, store, metric and hour, combined
/// over time by the metric's kind.
pub fn roll_up(rows: &[StatRow]) -> Vec<StatRow> {
    let mut hours: BTreeMap<(&str, &str, &str, NaiveDateTime), f64> = BTreeMap::new();
    for row in rows {
        let Some((kind, _)) = kind_of(&row.metric) else { continue };
        let hour = floor(row.at.and_utc(), i64::from(HOUR_SECS));
        hours
            .entry((&row.node, &row.store, &row.metric, hour))
            .and_modify(|v| *v = kind.over_time(*v, row.value))
            .or_insert(row.value);
    }
    hours
        .into_iter()
        .map(|((node, store, metric, at), value)| StatRow {
            node: node.to_owned(),
            store: store.to_owned(),
            metric: metric.to_owned(),
            step_secs: HOUR_SECS,
            at,
            value,
        })
        .collect()
}

/// The most hours one `maintain` rolls up: bounds the rows it holds.
const MAX_ROLLUP_HOURS: i64 = 6;

/// The cluster-wide lock key of `maintain` (any constant every node shares).
const MAINTAIN_LOCK: i64 = 7_265_728;

/// Rolls rows older than `FINE_FOR` up into hours (at most
/// `MAX_ROLLUP_HOURS` at a time, from the oldest) and deletes rows older
/// than `retention`, in one transaction that one node at a time runs;
/// answers (rows rolled up, rows deleted).
pub async fn maintain(pool: &DbPool, now: DateTime<Utc>, retention: Span) -> Result<(usize, usize), ApiError> {
    let cutoff = floor(now - FINE_FOR, i64::from(HOUR_SECS));
    let expired = (now - retention).naive_utc();
    db::blocking(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            if !stats::try_job_lock(conn, MAINTAIN_LOCK)? {
                return Ok((0, 0));
            }
            let deleted = stats::delete_before(conn, expired)?;
            let Some((from, to)) = stats::roll_up_hours(conn, cutoff, MAX_ROLLUP_HOURS)? else {
                return Ok((0, deleted));
            };
            let rows = stats::rows_between(conn, from, to)?;
            let hourly = roll_up(&rows);
            stats::delete_between(conn, from, to)?;
            stats::insert(conn, &hourly)?;
            Ok((rows.len(), deleted))
        })
    })
    .await
}

/// One point of a series: the start of its step, and the value (`null`
/// for a level or percentile with no row in the step).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Point {
    pub at: DateTime<Utc>,
    pub value: Option<f64>,
}

/// A series as `GET /api/v1/admin/analytics/sync` answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Series {
    pub metric: String,
    pub kind: Kind,
    /// The store, or null for the nodes' totals.
    pub store: Option<String>,
    /// The node, or null for every node combined.
    pub node: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Seconds per point.
    pub step: i64,
    pub points: Vec<Point>,
    /// The nodes that recorded anything in the range.
    pub nodes: Vec<String>,
}

/// Which series to answer (the query of `GET /api/v1/admin/analytics/sync`).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SeriesQuery {
    /// latency_p50_ms, latency_p90_ms, latency_p99_ms, deliveries,
    /// deliveries_attempted, deliveries_dropped, reconnects, store_restarts
    /// (these also per store), resyncs, bytes_sent, frames_sent, errors,
    /// starts, connections, outbox_frames, resident_bytes, database_bytes,
    /// disk_free_bytes, resyncs.<reason>, alert.<name>.
    pub metric: String,
    /// A store's slug: that store's series; none: the nodes' totals.
    pub store: Option<String>,
    /// One node's series; none: every node combined.
    pub node: Option<String>,
    /// Start (RFC 3339, years 2000-2100); default 24 hours before `to`.
    pub from: Option<DateTime<Utc>>,
    /// End (exclusive); default now. At most 31 days after `from`.
    pub to: Option<DateTime<Utc>>,
    /// Seconds per point: 60, 300, 900, 3600, 21600 or 86400, at most 2000
    /// points; default the finest that fits.
    pub step: Option<i64>,
}

/// Steps of `step` seconds it takes to cover `span` seconds (both positive).
fn steps_in(span: i64, step: i64) -> i64 {
    (span + step - 1) / step
}

/// The range a query covers: checked, with defaults (the last 24 hours,
/// the finest step that fits `MAX_POINTS`).
fn checked_range(q: &SeriesQuery, now: DateTime<Utc>) -> Result<(Kind, DateTime<Utc>, DateTime<Utc>, i64), ApiError> {
    let (kind, per_store) = kind_of(&q.metric).ok_or_else(|| {
        let known: Vec<&str> = METRICS.iter().map(|m| m.0).collect();
        ApiError::invalid(
            "metric",
            format!("unknown metric; one of {}, disk_free_bytes, resyncs.<reason>, alert.<name>", known.join(", ")),
        )
    })?;
    if q.store.is_some() && !per_store {
        return Err(ApiError::invalid("store", format!("{} is recorded per node, not per store", q.metric)));
    }
    if q.node.as_ref().is_some_and(|n| n.is_empty() || n.len() > 100) {
        return Err(ApiError::invalid("node", "a node name is 1-100 characters".into()));
    }
    let in_calendar = |t: &DateTime<Utc>| (2000..=2100).contains(&t.year());
    let to = q.to.unwrap_or(now);
    let from = q.from.unwrap_or(to - Span::days(1));
    if !in_calendar(&from) || !in_calendar(&to) {
        return Err(ApiError::invalid("from", "from and to must be in the years 2000-2100".into()));
    }
    if from >= to {
        return Err(ApiError::invalid("from", "from must be before to".into()));
    }
    if to - from > MAX_RANGE {
        return Err(ApiError::invalid("to", format!("a range spans at most {} days", MAX_RANGE.num_days())));
    }
    let span = (to - from).num_seconds();
    let step = match q.step {
        Some(step) if !STEPS.contains(&step) => {
            return Err(ApiError::invalid("step", format!("step is one of {STEPS:?} seconds")));
        }
        Some(step) if steps_in(span, step) > MAX_POINTS => {
            return Err(ApiError::invalid("step", format!("at most {MAX_POINTS} points: take a longer step")));
        }
        Some(step) => step,
        None => STEPS.into_iter().find(|s| steps_in(span, *s) <= MAX_POINTS).unwrap_or(86_400),
    };
    Ok((kind, from, to, step))
}

/// Answers a series query from the kept rows.
pub async fn query(pool: &DbPool, q: SeriesQuery, now: DateTime<Utc>) -> Result<Series, ApiError> {
    let (kind, from, to, step) = checked_range(&q, now)?;
    let start = floor(from, step);
    let (metric, store, node) = (q.metric.clone(), q.store.clone().unwrap_or_default(), q.node.clone());
    let end = to.naive_utc();
    let (rows, nodes) = db::blocking(pool, move |conn| {
        let rows = stats::range(conn, &metric, &store, node.as_deref(), start, end)?;
        Ok((rows, stats::nodes(conn, start, end)?))
    })
    .await?;
    let points = bucket(&rows, kind, start.and_utc(), to, step);
    Ok(Series { metric: q.metric, kind, store: q.store, node: q.node, from, to, step, points, nodes })
}

/// The rows in steps of `step` seconds from `start` to `to`: each node's
/// rows combined over time, then the nodes combined; a step without rows
/// is 0 for a count and null otherwise.
pub fn bucket(rows: &[StatRow], kind: Kind, start: DateTime<Utc>, to: DateTime<Utc>, step: i64) -> Vec<Point> {
    let mut per_node: HashMap<(&str, i64), f64> = HashMap::new();
    for row in rows {
        let index = (row.at.and_utc() - start).num_seconds().div_euclid(step);
        per_node.entry((&row.node, index)).and_modify(|v| *v = kind.over_time(*v, row.value)).or_insert(row.value);
    }
    let mut steps: BTreeMap<i64, f64> = BTreeMap::new();
    for ((_, index), value) in per_node {
        steps.entry(index).and_modify(|v| *v = kind.over_nodes(*v, value)).or_insert(value);
    }
    let count = steps_in((to - start).num_seconds(), step);
    (0..count)
        .map(|i| Point {
            at: start + Span::seconds(i * step),
            value: steps.get(&i).copied().or((kind == Kind::Count).then_some(0.0)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(node: &str, metric: &str, at: &str, value: f64) -> StatRow {
        StatRow {
            node: node.into(),
            store: String::new(),
            metric: metric.into(),
            step_secs: 60,
            at: NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M").unwrap(),
            value,
        }
    }

    #[test]
    fn counts_add_up_and_percentiles_keep_the_worst() {
        let rows = [
            row("a", "deliveries", "2026-11-01 10:05", 3.0),
            row("a", "deliveries", "2026-11-01 10:59", 4.0),
            row("b", "deliveries", "2026-11-01 10:30", 5.0),
            row("a", "latency_p99_ms", "2026-11-01 10:05", 12.0),
            row("a", "latency_p99_ms", "2026-11-01 10:06", 80.0),
            row("a", "latency_p99_ms", "2026-11-01 11:00", 5.0),
        ];
        let hourly = roll_up(&rows);
        let value = |node: &str, metric: &str, hour: u32| {
            hourly
                .iter()
                .find(|r| {
                    r.node == node && r.metric == metric && r.at.time().format("%H").to_string() == format!("{hour}")
                })
                .map(|r| r.value)
        };
        assert_eq!(hourly.len(), 4);
        assert!(hourly.iter().all(|r| r.step_secs == HOUR_SECS));
        assert_eq!(value("a", "deliveries", 10), Some(7.0));
        assert_eq!(value("b", "deliveries", 10), Some(5.0));
        assert_eq!(value("a", "latency_p99_ms", 10), Some(80.0));
        assert_eq!(value("a", "latency_p99_ms", 11), Some(5.0));
        let start = DateTime::parse_from_rfc3339("2026-11-01T10:00:00Z").unwrap().to_utc();
        let counts = bucket(&rows[..3], Kind::Count, start, start + Span::hours(2), 3600);
        assert_eq!(counts.iter().map(|p| p.value).collect::<Vec<_>>(), [Some(12.0), Some(0.0)]);
        let p99 = bucket(&rows[3..5], Kind::Peak, start, start + Span::hours(2), 3600);
        assert_eq!(p99.iter().map(|p| p.value).collect::<Vec<_>>(), [Some(80.0), None]);
    }

    #[test]
    fn only_recorded_metrics_are_known() {
        assert_eq!(kind_of("latency_p99_ms"), Some((Kind::Peak, true)));
        assert_eq!(kind_of("resyncs.slow_consumer"), Some((Kind::Count, false)));
        assert_eq!(kind_of("alert.delivery_latency_high"), Some((Kind::Peak, false)));
        for unknown in ["", "latency", "resyncs.", "resyncs.Bad-Reason", "alert.x y", "starts "] {
            assert_eq!(kind_of(unknown), None, "{unknown:?}");
        }
    }

    #[test]
    fn ranges_and_steps_are_checked() {
        let now = DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z").unwrap().to_utc();
        let q = |from: Option<Span>, to: Option<Span>, step: Option<i64>| SeriesQuery {
            metric: "deliveries".into(),
            store: None,
            node: None,
            from: from.map(|d| now - d),
            to: to.map(|d| now - d),
            step,
        };
        let field = |q: SeriesQuery| match checked_range(&q, now) {
            Err(ApiError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(checked_range(&q(None, None, None), now).unwrap().3, 60, "a day by minutes");
        assert_eq!(checked_range(&q(Some(Span::days(7)), None, None), now).unwrap().3, 900);
        assert_eq!(field(q(Some(Span::hours(1)), Some(Span::hours(2)), None)), "from", "inverted");
        assert_eq!(field(q(Some(Span::days(40)), None, None)), "to", "too long");
        assert_eq!(field(q(None, None, Some(7))), "step");
        assert_eq!(field(q(Some(Span::days(7)), None, Some(60))), "step", "too many points");
        let per_node = SeriesQuery { metric: "bytes_sent".into(), store: Some("s1".into()), ..q(None, None, None) };
        assert_eq!(field(per_node), "store");
        assert_eq!(field(SeriesQuery { metric: "nope".into(), ..q(None, None, None) }), "metric");
    }
}
