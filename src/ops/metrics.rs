//! Prometheus metrics (the `prometheus` crate renders the text format). One
//! `Metrics` per server, passed down; store and session code hold the
//! handles they update. Delivery is counted where it happens: attempted and
//! dropped at fan-out (`store/fanout.rs`), succeeded when the session's
//! response body hands the frame to the socket (`wire/outbox.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use prometheus::core::{Collector, Metric};

use prometheus::{
    exponential_buckets, Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Delivery counters of one store, shared by its fan-out and the sessions' bodies.
#[derive(Clone)]
pub struct StoreCounters {
    pub attempted: IntCounter,
    pub succeeded: IntCounter,
    pub dropped: IntCounter,
    pub subscriptions: IntGauge,
    pub restarts: IntCounter,
    pub gap_repairs: IntCounter,
    pub flush_events: Histogram,
    /// Commit to socket write of this store's frames (not exported: the
    /// analytics recorder reads it for per-store latency).
    pub delivery_seconds: Histogram,
    /// Subscriptions that resumed from a seq: a client reconnecting.
    pub resumed: IntCounter,
}

/// One store's cumulative figures, for the analytics recorder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreTotals {
    pub attempted: u64,
    pub succeeded: u64,
    pub dropped: u64,
    pub restarts: u64,
    pub resumed: u64,
    /// Cumulative delivery latency buckets: (upper bound, count).
    pub delivery_buckets: Vec<(f64, u64)>,
}

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    pub ws_connections: IntGauge,
    pub outbox_frames: IntGauge,
    pub stores_loaded: IntGauge,
    pub frames_sent: IntCounter,
    pub bytes_sent: IntCounter,
    pub flush_events: Histogram,
    pub commit_seconds: Histogram,
    pub group_commit_writes: Histogram,
    pub delivery_seconds: Histogram,
    pub writes_committed: IntCounter,
    pub resyncs: IntCounterVec,
    pub rate_limited: IntCounterVec,
    pub auth_failures: IntCounter,
    pub errors: IntCounterVec,
    pub http_requests: HistogramVec,
    /// 1 while this node receives the cluster broker's messages.
    pub broker_up: IntGauge,
    pub broker_messages: IntCounterVec,
    attempted: IntCounterVec,
    succeeded: IntCounterVec,
    dropped: IntCounterVec,
    subscriptions: IntGaugeVec,
    restarts: IntCounterVec,
    gap_repairs: IntCounterVec,
    resumed: IntCounterVec,
    /// Per-store delivery latency, kept out of the registry: one histogram
    /// per store would multiply the exposition.
    store_delivery_seconds: HistogramVec,
}

/// Where a per-store counter goes in `StoreTotals`.
type TotalsField = fn(&mut StoreTotals) -> &mut u64;

/// A counter family's value per label value.
fn by_label(vec: &IntCounterVec) -> HashMap<String, u64> {
    vec.collect()
        .iter()
        .flat_map(|f| f.get_metric())
        .map(|m| {
            let label = m.get_label().first().map(|l| l.get_value().to_owned()).unwrap_or_default();
            (label, m.get_counter().get_value() as u64)
        })
        .collect()
}

fn must<T>(result: prometheus::Result<T>) -> T {
    // Metric definitions are static and registered once per fresh registry;
    // an error here is a programming mistake caught by every test run.
    result.unwrap_or_else(|e| panic!("metric definition: {e}"))
}

impl Metrics {
    /// A registry with every metric, and the process collector.
    pub fn new() -> Arc<Self> {
        let registry = Registry::new_custom(Some("storesync".into()), None).unwrap_or_default();
        let counter = |name: &str, help: &str| {
            let c = must(IntCounter::new(name, help));
            must(registry.register(Box::new(c.clone())));
            c
        };
        let counter_vec = |name: &str, help: &str, label: &str| {
            let c = must(IntCounterVec::new(Opts::new(name, help), &[label]));
            must(registry.register(Box::new(c.clone())));
            c
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            let h = must(Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets)));
            must(registry.register(Box::new(h.clone())));
            h
        };
        let seconds = must(exponential_buckets(0.0001, 2.0, 18));
        let sizes = must(exponential_buckets(1.0, 2.0, 14));
        let ws_connections = must(IntGauge::new("ws_connections", "Open WebSocket sessions"));
        must(registry.register(Box::new(ws_connections.clone())));
        let outbox_frames =
            must(IntGauge::new("outbox_frames", "Frames queued in session outboxes, not yet handed to a socket"));
        must(registry.register(Box::new(outbox_frames.clone())));
        let stores_loaded = must(IntGauge::new("stores_loaded", "Stores whose live state is in memory"));
        must(registry.register(Box::new(stores_loaded.clone())));
        let broker_up = must(IntGauge::new("broker_up", "1 while the cluster broker delivers to this node"));
        must(registry.register(Box::new(broker_up.clone())));
        let subscriptions =
            must(IntGaugeVec::new(Opts::new("subscriptions", "Subscribed sessions per store"), &["store"]));
        must(registry.register(Box::new(subscriptions.clone())));
        let store_delivery_seconds = must(HistogramVec::new(
            HistogramOpts::new("store_delivery_seconds", "Commit to socket write, by store").buckets(seconds.clone()),
            &["store"],
        ));
        let http_requests = must(HistogramVec::new(
            HistogramOpts::new("http_request_seconds", "HTTP request duration by status class")
                .buckets(seconds.clone()),
            &["status"],
        ));
        must(registry.register(Box::new(http_requests.clone())));
        #[cfg(target_os = "linux")]
        must(registry.register(Box::new(prometheus::process_collector::ProcessCollector::for_self())));
        Arc::new(Self {
            ws_connections,
            outbox_frames,
            stores_loaded,
            frames_sent: counter("frames_sent_total", "WebSocket frames written to sockets"),
            bytes_sent: counter("bytes_sent_total", "WebSocket payload bytes written to sockets"),
            flush_events: histogram("flush_events", "Events per fan-out flush, after coalescing", sizes.clone()),
            commit_seconds: histogram("commit_seconds", "Group commit transaction time", seconds.clone()),
            group_commit_writes: histogram("group_commit_writes", "Writes per group commit", sizes),
            delivery_seconds: histogram("delivery_seconds", "Commit to socket write, per delivered frame", seconds),
            writes_committed: counter("writes_committed_total", "Writes committed"),
            resyncs: counter_vec(
                "resyncs_total",
                "resyncs by reason: resync frames sent, and resyncs clients report (digest_mismatch)",
                "reason",
            ),
            rate_limited: counter_vec(
                "rate_limited_total",
                "Requests or frames refused by a rate limit, by kind",
                "kind",
            ),
            auth_failures: counter(
                "auth_failures_total",
                "Refused credentials (bad password, unknown or revoked token)",
            ),
            errors: counter_vec("errors_total", "Error answers and error frames, by code", "code"),
            http_requests,
            broker_up,
            broker_messages: counter_vec(
                "broker_messages_total",
                "Cluster broker messages: published, received, unparsable, dropped (queue full or broker down)",
                "outcome",
            ),
            attempted: counter_vec("deliveries_attempted_total", "Frames queued for a subscriber, by store", "store"),
            succeeded: counter_vec(
                "deliveries_succeeded_total",
                "Frames written to a subscriber's socket, by store",
                "store",
            ),
            dropped: counter_vec("deliveries_dropped_total", "Frames dropped (slow consumer, gone), by store", "store"),
            subscriptions,
            restarts: counter_vec("store_restarts_total", "Store actor restarts, by store", "store"),
            gap_repairs: counter_vec(
                "gap_repairs_total",
                "Gaps in a store's stream repaired from the database (cluster), by store",
                "store",
            ),
            resumed: counter_vec(
                "subscriptions_resumed_total",
                "Subscriptions that resumed from a seq (clients reconnecting), by store",
                "store",
            ),
            store_delivery_seconds,
            registry,
        })
    }

    /// The counters of one store.
    pub fn store(&self, slug: &str) -> StoreCounters {
        StoreCounters {
            attempted: self.attempted.with_label_values(&[slug]),
            succeeded: self.succeeded.with_label_values(&[slug]),
            dropped: self.dropped.with_label_values(&[slug]),
            subscriptions: self.subscriptions.with_label_values(&[slug]),
            restarts: self.restarts.with_label_values(&[slug]),
            gap_repairs: self.gap_repairs.with_label_values(&[slug]),
            flush_events: self.flush_events.clone(),
            delivery_seconds: self.store_delivery_seconds.with_label_values(&[slug]),
            resumed: self.resumed.with_label_values(&[slug]),
        }
    }

    /// Totals over all stores: (attempted, succeeded, dropped).
    pub fn delivery_totals(&self) -> (u64, u64, u64) {
        let sum = |vec: &IntCounterVec| {
            vec.collect().iter().flat_map(|f| f.get_metric()).map(|m| m.get_counter().get_value() as u64).sum()
        };
        (sum(&self.attempted), sum(&self.succeeded), sum(&self.dropped))
    }

    /// Total resyncs.
    pub fn resync_total(&self) -> u64 {
        self.resyncs.collect().iter().flat_map(|f| f.get_metric()).map(|m| m.get_counter().get_value() as u64).sum()
    }

    /// Errors with a 5xx-class code.
    pub fn internal_errors(&self) -> u64 {
        ["internal", "unavailable"].iter().map(|c| self.errors.with_label_values(&[c]).get()).sum()
    }

    /// The delivery histogram's cumulative buckets: (upper bound, count).
    pub fn delivery_buckets(&self) -> Vec<(f64, u64)> {
        let metric = self.delivery_seconds.metric();
        metric.get_histogram().get_bucket().iter().map(|b| (b.get_upper_bound(), b.get_cumulative_count())).collect()
    }

    /// Process resident memory in bytes (Linux), if known.
    pub fn resident_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let kib: u64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// The Prometheus text exposition of every metric, with the computed
    /// sync-success ratios.
    pub fn render(&self) -> String {
        let mut families = self.registry.gather();
        families.extend(self.success_ratios());
        let mut out = Vec::new();
        // Encoding gathered families into a Vec cannot fail.
        let _ = TextEncoder::new().encode(&families, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// `storesync_sync_success_ratio{store}`: succeeded over attempted.
    fn success_ratios(&self) -> Vec<prometheus::proto::MetricFamily> {
        let ratio = must(prometheus::GaugeVec::new(
            Opts::new(
                "storesync_sync_success_ratio",
                "Deliveries that reached a socket over deliveries attempted (all: every store)",
            ),
            &["store"],
        ));
        let (attempted, succeeded) = (by_label(&self.attempted), by_label(&self.succeeded));
        for (store, tried) in &attempted {
            let ok = succeeded.get(store).copied().unwrap_or(0);
            ratio.with_label_values(&[store]).set(if *tried > 0 { ok as f64 / *tried as f64 } else { 1.0 });
        }
        let (tried, ok, _) = self.delivery_totals();
        ratio.with_label_values(&["all"]).set(if tried > 0 { ok as f64 / tried as f64 } else { 1.0 });
        ratio.collect()
    }

    /// Resyncs sent since start, by reason.
    pub fn resyncs_by_reason(&self) -> HashMap<String, u64> {
        by_label(&self.resyncs)
    }

    /// Every store's cumulative delivery figures since start.
    pub fn store_totals(&self) -> HashMap<String, StoreTotals> {
        let mut totals: HashMap<String, StoreTotals> = HashMap::new();
        let fields: [(&IntCounterVec, TotalsField); 5] = [
            (&self.attempted, |t| &mut t.attempted),
            (&self.succeeded, |t| &mut t.succeeded),
            (&self.dropped, |t| &mut t.dropped),
            (&self.restarts, |t| &mut t.restarts),
            (&self.resumed, |t| &mut t.resumed),
        ];
        for (vec, field) in fields {
            for (store, value) in by_label(vec) {
                *field(totals.entry(store).or_default()) = value;
            }
        }
        for m in self.store_delivery_seconds.collect().iter().flat_map(|f| f.get_metric()) {
            let store = m.get_label().first().map(|l| l.get_value().to_owned()).unwrap_or_default();
            let buckets = m.get_histogram().get_bucket();
            totals.entry(store).or_default().delivery_buckets =
                buckets.iter().map(|b| (b.get_upper_bound(), b.get_cumulative_count())).collect();
        }
        totals
    }
}
