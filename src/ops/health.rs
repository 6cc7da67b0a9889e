//! The sync-health history and the server's own alerting. Every
//! `--health-sample-secs` a sample of the last interval is taken from the
//! metrics (deliveries, sync success, p99 commit-to-socket latency,
//! connections, memory, resyncs, errors); the last 15 minutes are kept for
//! `GET /api/v1/admin/health`, and the thresholds of `docs/alerts.yml` are
//! evaluated on each sample: an alert that starts firing is logged as a
//! warning and listed at `GET /api/v1/admin/alerts` until it clears. Each
//! sample also feeds the early warnings (`predict`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::metrics::Metrics;
use super::predict::Predictor;
use crate::counted::lock;

/// How much history to keep.
pub const HISTORY: Duration = Duration::from_secs(15 * 60);

/// Below this many connections, memory per connection is mostly the
/// process's own (stores, caches, allocator slack), so it does not alert.
pub const MEMORY_ALERT_MIN_CONNECTIONS: i64 = 10;

/// Alert thresholds (the same as docs/alerts.yml).
#[derive(Debug, Clone)]
pub struct Thresholds {
    pub sync_success: f64,
    pub latency_p99_ms: f64,
    pub memory_per_client_bytes: f64,
    pub resyncs_per_min: f64,
    pub errors_per_min: f64,
    /// A cluster node: alert while the broker is down.
    pub expect_broker: bool,
    /// Frames a session may queue (`--outbox-capacity`), for the outbox
    /// occupancy trend.
    pub outbox_capacity: usize,
}

/// One interval's figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Sample {
    pub at: DateTime<Utc>,
    pub connections: i64,
    pub deliveries_attempted: u64,
    pub deliveries_succeeded: u64,
    pub deliveries_dropped: u64,
    /// Succeeded over attempted in the interval (1 when idle).
    pub sync_success: f64,
    /// p99 commit-to-socket latency in the interval, from histogram buckets.
    pub latency_p99_ms: Option<f64>,
    pub resyncs: u64,
    pub errors: u64,
    pub resident_bytes: Option<u64>,
    /// What the open connections cost: resident memory above the last
    /// sample with no connection (the process's own baseline), divided by
    /// the connections; null without a baseline or without connections.
    pub memory_per_connection_bytes: Option<u64>,
}

/// Resident memory per connection above the idle baseline.
fn memory_per_connection(resident: Option<u64>, idle: Option<u64>, connections: i64) -> Option<u64> {
    let connections = u64::try_from(connections).ok().filter(|c| *c > 0)?;
    Some(resident?.saturating_sub(idle?) / connections)
}

/// An alert that is firing.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Alert {
    pub name: &'static str,
    pub message: String,
    pub since: DateTime<Utc>,
}

#[derive(Default)]
struct Totals {
    attempted: u64,
    succeeded: u64,
    dropped: u64,
    resyncs: u64,
    errors: u64,
    buckets: Vec<(f64, u64)>,
    /// Resident memory at the last sample without connections.
    idle_resident: Option<u64>,
}

/// Samples and active alerts.
pub struct HealthMonitor {
    metrics: Arc<Metrics>,
    thresholds: Thresholds,
    interval: Duration,
    state: Mutex<(VecDeque<Sample>, Vec<Alert>, Totals)>,
    /// The early warnings fed by every sample.
    pub predictor: Predictor,
}

/// The p99 of the observations between two cumulative bucket snapshots.
pub fn interval_p99_ms(before: &[(f64, u64)], after: &[(f64, u64)]) -> Option<f64> {
    interval_quantile_ms(before, after, 0.99)
}

/// The `q` quantile (0-1) of the observations between two cumulative
/// bucket snapshots: the upper bound of the bucket it falls in.
pub fn interval_quantile_ms(before: &[(f64, u64)], after: &[(f64, u64)], q: f64) -> Option<f64> {
    let delta: Vec<(f64, u64)> = after
        .iter()
        .enumerate()
        .map(|(i, (bound, count))| (*bound, count - before.get(i).map_or(0, |b| b.1.min(*count))))
        .collect();
    let total = delta.last()?.1;
    if total == 0 {
        return None;
    }
    let rank = ((total as f64 * q).ceil() as u64).max(1);
    delta.iter().find(|(_, c)| *c >= rank).map(|(bound, _)| bound * 1000.0).or(Some(f64::INFINITY))
}

impl HealthMonitor {
    /// A monitor sampling every `interval`.
    pub fn new(metrics: Arc<Metrics>, thresholds: Thresholds, interval: Duration) -> Arc<Self> {
        let predictor = Predictor::new(thresholds.clone(), interval.as_secs_f64());
        Arc::new(Self { metrics, thresholds, interval, state: Mutex::default(), predictor })
    }

    /// Samples forever (spawn it).
    pub async fn run(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.interval);
        loop {
            tick.tick().await;
            self.sample();
        }
    }

    /// Takes one sample and re-evaluates the alerts.
    pub fn sample(&self) {
        let (attempted, succeeded, dropped) = self.metrics.delivery_totals();
        let connections = self.metrics.ws_connections.get();
        let resident = self.metrics.resident_bytes();
        let mut guard = lock(&self.state);
        let (samples, alerts, last) = &mut *guard;
        let now = Totals {
            attempted,
            succeeded,
            dropped,
            resyncs: self.metrics.resync_total(),
            errors: self.metrics.internal_errors(),
            buckets: self.metrics.delivery_buckets(),
            idle_resident: if connections == 0 { resident } else { last.idle_resident },
        };
        let tried = now.attempted.saturating_sub(last.attempted);
        let ok = now.succeeded.saturating_sub(last.succeeded);
        let sample = Sample {
            at: Utc::now(),
            connections,
            deliveries_attempted: tried,
            deliveries_succeeded: ok,
            deliveries_dropped: now.dropped.saturating_sub(last.dropped),
            sync_success: if tried == 0 { 1.0 } else { (ok as f64 / tried as f64).min(1.0) },
            latency_p99_ms: interval_p99_ms(&last.buckets, &now.buckets),
            resyncs: now.resyncs.saturating_sub(last.resyncs),
            errors: now.errors.saturating_sub(last.errors),
            resident_bytes: resident,
            memory_per_connection_bytes: memory_per_connection(resident, now.idle_resident, connections),
        };
        *last = now;
        let keep = (HISTORY.as_secs_f64() / self.interval.as_secs_f64()).ceil() as usize;
        while samples.len() >= keep.max(1) {
            samples.pop_front();
        }
        let firing = self.evaluate(&sample);
        for alert in &firing {
            if !alerts.iter().any(|a| a.name == alert.name) {
                log::warn!(alert = alert.name, message = alert.message.as_str(); "alert firing");
            }
        }
        for old in alerts.iter() {
            if !firing.iter().any(|a| a.name == old.name) {
                log::info!(alert = old.name; "alert cleared");
            }
        }
        let kept: Vec<Alert> = firing
            .into_iter()
            .map(|a| {
                alerts.iter().find(|old| old.name == a.name).map_or(a.clone(), |old| Alert { since: old.since, ..a })
            })
            .collect();
        *alerts = kept;
        self.predictor.observe_sample(&sample, self.metrics.outbox_frames.get());
        samples.push_back(sample);
    }

    fn evaluate(&self, s: &Sample) -> Vec<Alert> {
        let t = &self.thresholds;
        let per_min = 60.0 / self.interval.as_secs_f64();
        let mut firing = Vec::new();
        let mut fire = |name: &'static str, message: String| firing.push(Alert { name, message, since: s.at });
        if s.deliveries_attempted > 0 && s.sync_success < t.sync_success {
            fire("sync_success_low", format!("sync success {:.4} below {}", s.sync_success, t.sync_success));
        }
        if let Some(p99) = s.latency_p99_ms.filter(|p| *p > t.latency_p99_ms) {
            fire(
                "delivery_latency_high",
                format!("p99 commit-to-socket latency {p99:.1} ms above {} ms", t.latency_p99_ms),
            );
        }
        if let Some(per_client) =
            s.memory_per_connection_bytes.filter(|_| s.connections >= MEMORY_ALERT_MIN_CONNECTIONS)
        {
            if per_client as f64 > t.memory_per_client_bytes {
                fire(
                    "memory_per_client_high",
                    format!(
                        "{:.1} MiB per connection above {:.1} MiB ({} connections)",
                        per_client as f64 / MIB,
                        t.memory_per_client_bytes / MIB,
                        s.connections
                    ),
                );
            }
        }
        if s.resyncs as f64 * per_min > t.resyncs_per_min {
            fire(
                "resync_rate_high",
                format!("{:.1} resyncs per minute above {}", s.resyncs as f64 * per_min, t.resyncs_per_min),
            );
        }
        if s.errors as f64 * per_min > t.errors_per_min {
            fire(
                "error_rate_high",
                format!("{:.1} internal errors per minute above {}", s.errors as f64 * per_min, t.errors_per_min),
            );
        }
        if t.expect_broker && self.metrics.broker_up.get() == 0 {
            fire(
                "broker_down",
                "the cluster broker is unreachable: other nodes' writes arrive by reading the database".into(),
            );
        }
        firing
    }

    /// The kept samples, oldest first.
    pub fn samples(&self) -> Vec<Sample> {
        lock(&self.state).0.iter().cloned().collect()
    }

    /// Alerts firing now.
    pub fn alerts(&self) -> Vec<Alert> {
        lock(&self.state).1.clone()
    }
}

/// Bytes in a MiB, for alert messages.
const MIB: f64 = 1024.0 * 1024.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_per_connection_counts_only_what_connections_added() {
        let mib = 1024 * 1024;
        // 200 MiB resident of which 180 MiB were there with no connection.
        assert_eq!(memory_per_connection(Some(200 * mib), Some(180 * mib), 1000), Some(20 * mib / 1000));
        assert_eq!(memory_per_connection(Some(200 * mib), Some(180 * mib), 0), None);
        assert_eq!(memory_per_connection(Some(200 * mib), None, 5), None, "no baseline yet");
        assert_eq!(memory_per_connection(Some(100 * mib), Some(180 * mib), 5), Some(0), "memory was returned");
    }

    #[test]
    fn interval_p99_uses_only_new_observations() {
        let before = [(0.001, 100), (0.01, 100), (1.0, 100)];
        let after = [(0.001, 100), (0.01, 190), (1.0, 200)];
        // 100 new: 90 at <=10 ms, 10 at <=1 s: the 99th is in the 1 s bucket.
        assert_eq!(interval_p99_ms(&before, &after), Some(1000.0));
        assert_eq!(interval_p99_ms(&after, &after), None);
    }

    #[test]
    fn thresholds_fire_and_clear() {
        let metrics = Metrics::new();
        let thresholds = Thresholds {
            sync_success: 0.999,
            latency_p99_ms: 500.0,
            memory_per_client_bytes: 1e12,
            resyncs_per_min: 0.0,
            errors_per_min: 1e9,
            expect_broker: false,
            outbox_capacity: 256,
        };
        let monitor = HealthMonitor::new(metrics.clone(), thresholds, Duration::from_secs(10));
        metrics.resyncs.with_label_values(&["slow_consumer"]).inc();
        monitor.sample();
        assert_eq!(monitor.alerts().iter().map(|a| a.name).collect::<Vec<_>>(), ["resync_rate_high"]);
        monitor.sample();
        assert!(monitor.alerts().is_empty());
        assert_eq!(monitor.samples().len(), 2);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn one_connection_does_not_carry_the_whole_process_memory() {
        let metrics = Metrics::new();
        let thresholds = Thresholds {
            sync_success: 0.0,
            latency_p99_ms: 1e9,
            memory_per_client_bytes: MIB,
            resyncs_per_min: 1e9,
            errors_per_min: 1e9,
            expect_broker: false,
            outbox_capacity: 256,
        };
        let monitor = HealthMonitor::new(metrics.clone(), thresholds, Duration::from_secs(10));
        // The test process holds well over 1 MiB: RSS / 1 connection would fire.
        metrics.ws_connections.set(1);
        monitor.sample();
        assert!(monitor.alerts().is_empty(), "{:?}", monitor.alerts());
        assert_eq!(monitor.samples()[0].memory_per_connection_bytes, None, "no idle baseline yet");
        metrics.ws_connections.set(0);
        monitor.sample();
        metrics.ws_connections.set(20);
        monitor.sample();
        let last = monitor.samples().pop().unwrap();
        assert!(last.memory_per_connection_bytes.unwrap() < MIB as u64, "{last:?}");
        assert!(monitor.alerts().is_empty(), "{:?}", monitor.alerts());
    }
}
