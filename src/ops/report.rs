//! Daily health reports: one per deployment and UTC day, made from the
//! sync analytics rows (`analytics`) shortly after midnight by whichever
//! node gets there first (the day is the table's key, and a node inserts
//! only if it is absent), kept for `KEEP_DAYS`. A report says the day's
//! sync success, latency, the incidents (alerts fired and for how long),
//! the busiest stores, the capacity headroom, and what changed (node starts,
//! store restarts, the version). Served as JSON and as an HTML page; a
//! report of today so far is made on demand.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Duration as Span, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::queries::sync_stats::{self as stats, ReportRow, StatRow};
use crate::db::{self, DbPool};
use crate::error::ApiError;

/// Days a report is kept.
pub const KEEP_DAYS: i64 = 30;

/// How long after midnight the day's report is made: the rows of the day's
/// last interval are written by then.
pub const AFTER_MIDNIGHT: Span = Span::minutes(5);

/// Stores listed as the busiest.
const BUSIEST: usize = 10;

/// The per-store metrics a report reads.
const STORE_METRICS: [&str; 4] = ["deliveries", "deliveries_dropped", "reconnects", "latency_p99_ms"];

/// This build's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One day's health.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Report {
    pub day: NaiveDate,
    pub generated_at: DateTime<Utc>,
    /// The day is not over: a report of today so far, made on demand.
    pub partial: bool,
    /// The node that made it.
    pub node: String,
    /// Intervals with rows: 0 for a day no node recorded.
    pub intervals: usize,
    pub deliveries: Deliveries,
    pub latency: Latency,
    pub resyncs: u64,
    pub reconnects: u64,
    pub bytes_sent: u64,
    pub errors: u64,
    /// Alerts that fired, per node, in time order.
    pub incidents: Vec<Incident>,
    pub busiest_stores: Vec<BusyStore>,
    pub capacity: Capacity,
    pub changes: Changes,
}

/// Frames queued for subscribers and what became of them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Deliveries {
    pub attempted: u64,
    pub succeeded: u64,
    pub dropped: u64,
    /// Succeeded over attempted (1 without deliveries).
    pub sync_success: f64,
}

/// Commit-to-socket latency: the median over the day's intervals (a
/// typical interval) and the worst interval.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Latency {
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p99_worst_ms: Option<f64>,
}

/// An alert that fired: from its first interval to the end of its last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Incident {
    pub alert: String,
    pub node: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub minutes: i64,
}

/// A store among the day's busiest, by deliveries.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BusyStore {
    pub store: String,
    pub deliveries: u64,
    pub dropped: u64,
    pub reconnects: u64,
    pub p99_worst_ms: Option<f64>,
}

/// How close the day came to the limits.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Capacity {
    /// The most connections open at once (all nodes).
    pub peak_connections: u64,
    pub peak_outbox_frames: u64,
    /// The most resident memory of any node.
    pub peak_resident_bytes: Option<u64>,
    /// The database's size at the end of the day, and its growth over it.
    pub database_bytes: Option<u64>,
    pub database_growth_bytes: Option<i64>,
    /// The least free space on a node's data volume.
    pub disk_free_bytes: Option<u64>,
    /// Days until the disk is full at the day's database growth.
    pub disk_days_left: Option<f64>,
}

/// What changed during the day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Changes {
    /// Node (re)starts: the node and the interval it started in.
    pub node_starts: Vec<NodeStart>,
    pub store_restarts: u64,
    pub version: String,
    /// The version of the day before's report, if there is one.
    pub previous_version: Option<String>,
}

/// A node process that started.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NodeStart {
    pub node: String,
    pub at: DateTime<Utc>,
}

/// A kept report in the list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Listed {
    pub day: String,
    pub generated_at: DateTime<Utc>,
}

fn day_start(day: NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// The report of `day` from the kept rows; `partial` when `now` is within it.
pub async fn generate(pool: &DbPool, node: &str, day: NaiveDate, now: DateTime<Utc>) -> Result<Report, ApiError> {
    let (from, to) = (day_start(day), day_start(day) + Span::days(1));
    let yesterday = (day - Span::days(1)).to_string();
    let (rows, stores, previous) = db::blocking(pool, move |conn| {
        let rows = stats::node_rows(conn, from, to)?;
        let stores = stats::store_sums(conn, &STORE_METRICS, from, to)?;
        Ok((rows, stores, stats::report(conn, &yesterday)?))
    })
    .await?;
    let previous_version = previous
        .and_then(|row| serde_json::from_str::<serde_json::Value>(&row.report).ok())
        .and_then(|report| report["changes"]["version"].as_str().map(str::to_owned));
    Ok(build(day, node, now, &rows, &stores, previous_version))
}

/// Sums of the node rows' metric over the day.
fn total(rows: &[StatRow], metric: &str) -> u64 {
    rows.iter().filter(|r| r.metric == metric).map(|r| r.value).sum::<f64>() as u64
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

/// The highest value of a level, summed over the nodes per interval.
fn peak_over_nodes(rows: &[StatRow], metric: &str) -> Option<f64> {
    let mut at: BTreeMap<NaiveDateTime, f64> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.metric == metric) {
        *at.entry(r.at).or_default() += r.value;
    }
    at.into_values().reduce(f64::max)
}

/// A report from the day's node rows and per-store sums.
pub fn build(
    day: NaiveDate,
    node: &str,
    now: DateTime<Utc>,
    rows: &[StatRow],
    stores: &[(String, String, f64, f64)],
    previous_version: Option<String>,
) -> Report {
    let (attempted, succeeded) = (total(rows, "deliveries_attempted"), total(rows, "deliveries"));
    let values = |metric: &str| rows.iter().filter(|r| r.metric == metric).map(|r| r.value).collect::<Vec<_>>();
    let mut by_store: BTreeMap<&str, BusyStore> = BTreeMap::new();
    for (store, metric, sum, max) in stores {
        let busy = by_store.entry(store).or_insert_with(|| BusyStore {
            store: store.clone(),
            deliveries: 0,
            dropped: 0,
            reconnects: 0,
            p99_worst_ms: None,
        });
        match metric.as_str() {
            "deliveries" => busy.deliveries = *sum as u64,
            "deliveries_dropped" => busy.dropped = *sum as u64,
            "reconnects" => busy.reconnects = *sum as u64,
            "latency_p99_ms" => busy.p99_worst_ms = Some(*max),
            _ => {}
        }
    }
    let mut busiest: Vec<BusyStore> = by_store.into_values().collect();
    busiest.sort_by(|a, b| b.deliveries.cmp(&a.deliveries).then_with(|| a.store.cmp(&b.store)));
    busiest.truncate(BUSIEST);
    let database = |pick: fn(&[StatRow]) -> Option<&StatRow>| {
        let sizes: Vec<StatRow> = rows.iter().filter(|r| r.metric == "database_bytes").cloned().collect();
        pick(&sizes).map(|r| r.value as u64)
    };
    let (first, last) = (database(|r| r.first()), database(|r| r.last()));
    let growth = first.zip(last).map(|(a, b)| b as i64 - a as i64);
    let free = values("disk_free_bytes").into_iter().reduce(f64::min).map(|v| v as u64);
    let covered_days =
        rows.first().zip(rows.last()).map(|(a, b)| ((b.at - a.at).num_seconds() as f64 / 86_400.0).max(1.0 / 24.0));
    let disk_days_left = match (free, growth, covered_days) {
        (Some(free), Some(growth), Some(days)) if growth > 0 => Some(free as f64 / (growth as f64 / days)),
        _ => None,
    };
    let to_utc = |at: NaiveDateTime| at.and_utc();
    Report {
        day,
        generated_at: now,
        partial: now.naive_utc() < day_start(day) + Span::days(1),
        node: node.to_owned(),
        intervals: rows.iter().map(|r| r.at).collect::<std::collections::BTreeSet<_>>().len(),
        deliveries: Deliveries {
            attempted,
            succeeded,
            dropped: total(rows, "deliveries_dropped"),
            sync_success: if attempted == 0 { 1.0 } else { (succeeded as f64 / attempted as f64).min(1.0) },
        },
        latency: Latency {
            p50_ms: median(values("latency_p50_ms")),
            p99_ms: median(values("latency_p99_ms")),
            p99_worst_ms: values("latency_p99_ms").into_iter().reduce(f64::max),
        },
        resyncs: total(rows, "resyncs"),
        reconnects: total(rows, "reconnects"),
        bytes_sent: total(rows, "bytes_sent"),
        errors: total(rows, "errors"),
        incidents: incidents(rows),
        busiest_stores: busiest,
        capacity: Capacity {
            peak_connections: peak_over_nodes(rows, "connections").unwrap_or(0.0) as u64,
            peak_outbox_frames: peak_over_nodes(rows, "outbox_frames").unwrap_or(0.0) as u64,
            peak_resident_bytes: values("resident_bytes").into_iter().reduce(f64::max).map(|v| v as u64),
            database_bytes: last,
            database_growth_bytes: growth,
            disk_free_bytes: free,
            disk_days_left,
        },
        changes: Changes {
            node_starts: rows
                .iter()
                .filter(|r| r.metric == "starts")
                .map(|r| NodeStart { node: r.node.clone(), at: to_utc(r.at) })
                .collect(),
            store_restarts: total(rows, "store_restarts"),
            version: VERSION.to_owned(),
            previous_version,
        },
    }
}

/// The runs of `alert.<name>` rows of each node: consecutive intervals are
/// one incident.
fn incidents(rows: &[StatRow]) -> Vec<Incident> {
    let mut found: Vec<Incident> = Vec::new();
    let mut alerts: Vec<&StatRow> = rows.iter().filter(|r| r.metric.starts_with("alert.")).collect();
    alerts.sort_by(|a, b| (&a.node, &a.metric, a.at).cmp(&(&b.node, &b.metric, b.at)));
    for r in alerts {
        let (start, end) = (r.at.and_utc(), r.at.and_utc() + Span::seconds(i64::from(r.step_secs)));
        let name = r.metric.trim_start_matches("alert.");
        match found.last_mut() {
            Some(last) if last.node == r.node && last.alert == name && last.ended_at >= start => {
                last.ended_at = end;
                last.minutes = (end - last.started_at).num_minutes();
            }
            _ => found.push(Incident {
                alert: name.to_owned(),
                node: r.node.clone(),
                started_at: start,
                ended_at: end,
                minutes: (end - start).num_minutes(),
            }),
        }
    }
    found.sort_by_key(|i| i.started_at);
    found
}

/// Makes and keeps yesterday's report if no node has yet, once the day is
/// `AFTER_MIDNIGHT` over (not for a day no node recorded: a new
/// deployment's first); deletes reports past `KEEP_DAYS`. Answers the day
/// it made a report of.
pub async fn make_due(pool: &DbPool, node: &str, now: DateTime<Utc>) -> Result<Option<NaiveDate>, ApiError> {
    let day = (now - AFTER_MIDNIGHT).date_naive() - Span::days(1);
    let (key, oldest) = (day.to_string(), (now.date_naive() - Span::days(KEEP_DAYS)).to_string());
    let exists = db::blocking(pool, move |conn| {
        stats::delete_reports_before(conn, &oldest)?;
        Ok(stats::report(conn, &key)?.is_some())
    })
    .await?;
    if exists {
        return Ok(None);
    }
    let report = generate(pool, node, day, now).await?;
    if report.intervals == 0 {
        return Ok(None);
    }
    let row = ReportRow {
        day: day.to_string(),
        generated_at: now.naive_utc(),
        node: node.to_owned(),
        report: serde_json::to_string(&report).map_err(|e| ApiError::Internal(e.to_string()))?,
    };
    let stored = db::blocking(pool, move |conn| stats::insert_report(conn, &row)).await?;
    if stored {
        log::info!(day:% = day, sync_success = report.deliveries.sync_success, incidents = report.incidents.len(); "daily health report");
    }
    Ok(stored.then_some(day))
}

/// Checks every few minutes whether a day's report is due (spawn it).
pub async fn run(pool: DbPool, node: String) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        tick.tick().await;
        if let Err(e) = make_due(&pool, &node, Utc::now()).await {
            log::warn!(error = e.detail().as_str(); "daily health report failed");
        }
    }
}

/// A kept report.
pub async fn stored(pool: &DbPool, day: NaiveDate) -> Result<Report, ApiError> {
    let key = day.to_string();
    let row = db::blocking(pool, move |conn| stats::report(conn, &key)).await?;
    let row = row.ok_or_else(|| ApiError::NotFound(format!("report of {day}")))?;
    serde_json::from_str(&row.report).map_err(|e| ApiError::Internal(format!("stored report of {day}: {e}")))
}

/// The kept reports, newest first.
pub async fn list(pool: &DbPool) -> Result<Vec<Listed>, ApiError> {
    let days = db::blocking(pool, stats::report_days).await?;
    Ok(days.into_iter().map(|(day, at)| Listed { day, generated_at: at.and_utc() }).collect())
}

/// Text for an HTML page: `&`, `<`, `>`, `"` and `'` escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn ms(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.1} ms"))
}

fn mib(v: Option<u64>) -> String {
    v.map_or("–".into(), |v| format!("{:.1} MiB", v as f64 / (1024.0 * 1024.0)))
}

/// Rows of a two-column table.
fn table(out: &mut String, caption: &str, rows: &[(&str, String)]) {
    let _ = write!(out, "<table><caption>{}</caption><tbody>", escape(caption));
    for (k, v) in rows {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th><td>{}</td></tr>", escape(k), escape(v));
    }
    out.push_str("</tbody></table>");
}

/// The report as a readable page; every value is escaped.
pub fn html(r: &Report) -> String {
    let title = format!("storesync health report, {}{}", r.day, if r.partial { " (so far)" } else { "" });
    let mut out = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{0}</title><link rel=\"stylesheet\" \
         href=\"/css/app.css\"></head><body><main id=\"main\" class=\"report\"><h1>{0}</h1>",
        escape(&title)
    );
    let _ = write!(out, "<p>Made {} by node {}.</p>", escape(&r.generated_at.to_rfc3339()), escape(&r.node));
    let d = &r.deliveries;
    table(
        &mut out,
        "Sync",
        &[
            ("Sync success", format!("{:.3} %", d.sync_success * 100.0)),
            ("Deliveries", format!("{} of {} ({} dropped)", d.succeeded, d.attempted, d.dropped)),
            ("Latency p50 (typical)", ms(r.latency.p50_ms)),
            ("Latency p99 (typical)", ms(r.latency.p99_ms)),
            ("Latency p99 (worst interval)", ms(r.latency.p99_worst_ms)),
            ("Resyncs", r.resyncs.to_string()),
            ("Reconnects", r.reconnects.to_string()),
            ("Bytes sent", r.bytes_sent.to_string()),
            ("Internal errors", r.errors.to_string()),
        ],
    );
    out.push_str("<h2>Incidents</h2>");
    if r.incidents.is_empty() {
        out.push_str("<p>No alert fired.</p>");
    } else {
        out.push_str(
            "<table><thead><tr><th>Alert</th><th>Node</th><th>From</th><th>To</th><th>Minutes</th></tr></thead><tbody>",
        );
        for i in &r.incidents {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&i.alert),
                escape(&i.node),
                escape(&i.started_at.format("%H:%M").to_string()),
                escape(&i.ended_at.format("%H:%M").to_string()),
                i.minutes
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("<h2>Busiest stores</h2>");
    if r.busiest_stores.is_empty() {
        out.push_str("<p>No deliveries.</p>");
    } else {
        out.push_str("<table><thead><tr><th>Store</th><th>Deliveries</th><th>Dropped</th><th>Reconnects</th><th>Worst p99</th></tr></thead><tbody>");
        for s in &r.busiest_stores {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&s.store),
                s.deliveries,
                s.dropped,
                s.reconnects,
                escape(&ms(s.p99_worst_ms))
            );
        }
        out.push_str("</tbody></table>");
    }
    let c = &r.capacity;
    table(
        &mut out,
        "Capacity",
        &[
            ("Peak connections", c.peak_connections.to_string()),
            ("Peak queued frames", c.peak_outbox_frames.to_string()),
            ("Peak resident memory", mib(c.peak_resident_bytes)),
            ("Database size", mib(c.database_bytes)),
            (
                "Database growth",
                c.database_growth_bytes.map_or("–".into(), |g| format!("{:.1} MiB", g as f64 / 1048576.0)),
            ),
            ("Free disk space", mib(c.disk_free_bytes)),
            ("Days until the disk is full", c.disk_days_left.map_or("–".into(), |d| format!("{d:.0}"))),
        ],
    );
    let ch = &r.changes;
    let starts: Vec<String> =
        ch.node_starts.iter().map(|s| format!("{} at {}", s.node, s.at.format("%H:%M"))).collect();
    table(
        &mut out,
        "Changes",
        &[
            ("Node starts", if starts.is_empty() { "none".into() } else { starts.join(", ") }),
            ("Store restarts", ch.store_restarts.to_string()),
            ("Version", ch.version.clone()),
            ("Version the day before", ch.previous_version.clone().unwrap_or_else(|| "–".into())),
        ],
    );
    out.push_str("</main></body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(node: &str, metric: &str, minute: u32, value: f64) -> StatRow {
        let at = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap().and_hms_opt(10, minute, 0).unwrap();
        StatRow { node: node.into(), store: String::new(), metric: metric.into(), step_secs: 60, at, value }
    }

    #[test]
    fn a_report_sums_the_day_and_joins_an_alerts_minutes_into_incidents() {
        let rows = [
            row("a", "deliveries_attempted", 0, 100.0),
            row("a", "deliveries", 0, 99.0),
            row("b", "deliveries_attempted", 1, 100.0),
            row("b", "deliveries", 1, 100.0),
            row("a", "alert.delivery_latency_high", 5, 1.0),
            row("a", "alert.delivery_latency_high", 6, 1.0),
            row("a", "alert.delivery_latency_high", 9, 1.0),
            row("a", "connections", 0, 10.0),
            row("b", "connections", 0, 5.0),
            row("a", "connections", 1, 12.0),
            row("b", "starts", 1, 1.0),
        ];
        let stores = [
            ("s1".to_owned(), "deliveries".to_owned(), 10.0, 4.0),
            ("s2".to_owned(), "deliveries".to_owned(), 50.0, 20.0),
            ("s2".to_owned(), "latency_p99_ms".to_owned(), 30.0, 12.5),
        ];
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let now = Utc::now();
        let r = build(day, "a", now, &rows, &stores, Some("0.0.9".into()));
        assert!(!r.partial);
        assert_eq!((r.deliveries.attempted, r.deliveries.succeeded), (200, 199));
        assert!((r.deliveries.sync_success - 0.995).abs() < 1e-9);
        let incidents: Vec<(i64, u32)> =
            r.incidents.iter().map(|i| (i.minutes, i.started_at.format("%M").to_string().parse().unwrap())).collect();
        assert_eq!(incidents, [(2, 5), (1, 9)]);
        assert_eq!(r.capacity.peak_connections, 15, "both nodes at 10:00");
        assert_eq!(r.busiest_stores.iter().map(|s| s.store.as_str()).collect::<Vec<_>>(), ["s2", "s1"]);
        assert_eq!(r.busiest_stores[0].p99_worst_ms, Some(12.5));
        assert_eq!(r.changes.node_starts.len(), 1);
        assert_eq!(r.changes.previous_version.as_deref(), Some("0.0.9"));
    }

    #[test]
    fn the_page_escapes_what_it_shows() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let rows = [StatRow { store: String::new(), ..row("<script>alert(1)</script>", "starts", 0, 1.0) }];
        let page = html(&build(day, "n&'\"", Utc::now(), &rows, &[], None));
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("n&amp;&#39;&quot;"));
    }
}
