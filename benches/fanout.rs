//! The store actor's flush: 10 product updates fanned out to 1,000 and
//! 10,000 subscribers, serializing each distinct frame once and sharing it
//! (what `Fanout::flush` does) versus serializing per session; and a
//! 25-row `page` frame written to 1,000 sockets without compression,
//! compressed once and shared (what `outbox::Frame` does), and compressed per
//! session.
//!
//! `cargo bench --bench fanout`

use std::borrow::Cow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use actix::prelude::*;
use actix_web::body::MessageBody;
use chrono::Utc;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use futures_util::task::noop_waker_ref;
use serde_json::json;
use storesync::auth::Role;
use storesync::model::{Event, EventKind, View};
use storesync::ops::metrics::Metrics;
use storesync::store::fanout::{Fanout, Subscriber};
use storesync::store::state::StoreState;
use storesync::testkit::{self, EvictionSink};
use storesync::wire::deflate;
use storesync::wire::outbox::{Evicted, Frame, Outbox, OutboxBody};
use storesync::wire::protocol::{BatchBody, ServerFrame, Topics};

fn state() -> StoreState {
    testkit::store_state(chrono_tz::UTC, (1..=1000).map(testkit::product).collect(), 4096)
}

fn events() -> Vec<Event> {
    (1..=10)
        .map(|seq| Event {
            seq,
            kind: EventKind::ProductUpdated,
            entity_id: Some(seq * 7),
            at: Utc::now(),
            by: "user:bench".into(),
            data: json!({"stock": seq, "version": 2, "updated_at": Utc::now()}),
        })
        .collect()
}

fn subscribers(n: usize, sink: &Recipient<Evicted>, deflate: bool) -> (Fanout, Vec<Outbox>, Vec<OutboxBody>) {
    let metrics = Metrics::new();
    let counters = Arc::new(metrics.store("s1"));
    let mut fanout = Fanout::new(counters, None);
    let mut bodies = Vec::with_capacity(n);
    let mut outboxes = Vec::with_capacity(n);
    for id in 0..n as u64 {
        let body = OutboxBody::new(64, metrics.clone()).deflate(deflate);
        let outbox = Outbox::new(id, body.queue(), sink.clone());
        bodies.push(body);
        outboxes.push(outbox.clone());
        let sub = Subscriber {
            outbox,
            role: Role::Viewer,
            topics: Topics::ALL,
            view: View::default(),
            follow: false,
            sent_to: 0,
        };
        fanout.add(sub);
    }
    (fanout, outboxes, bodies)
}

/// Writes out what each outbox holds, as the HTTP dispatcher would.
fn drain(bodies: &mut [OutboxBody]) {
    let mut cx = std::task::Context::from_waker(noop_waker_ref());
    for body in bodies {
        while let Poll::Ready(Some(_)) = Pin::new(&mut *body).poll_next(&mut cx) {}
    }
}

fn bench(c: &mut Criterion) {
    let system = System::new();
    let sink = system.block_on(async { EvictionSink.start().recipient() });
    let state = state();
    let mut group = c.benchmark_group("flush_10_events");
    for n in [1_000usize, 10_000] {
        group.throughput(Throughput::Elements(n as u64));
        let (mut fanout, outboxes, mut bodies) = subscribers(n, &sink, false);
        group.bench_function(format!("serialize_once/{n}"), |b| {
            b.iter_batched(
                || drain(&mut bodies),
                |_| {
                    fanout.flushed_seq = 0;
                    fanout.push(events());
                    fanout.flush(&state)
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("per_session/{n}"), |b| {
            b.iter_batched(
                || drain(&mut bodies),
                |_| {
                    let events = events();
                    let refs: Vec<Cow<Event>> = events.iter().map(Cow::Borrowed).collect();
                    for outbox in &outboxes {
                        let frame = ServerFrame::Batch { store: "s1", body: BatchBody::new(1, 10, &refs) }.encode();
                        outbox.push(frame, "s1");
                    }
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
    compression(c, &sink, &state);
}

/// One page frame to 1,000 sockets, pushed and written out: compression's
/// cost on a flush.
fn compression(c: &mut Criterion, sink: &Recipient<Evicted>, state: &StoreState) {
    let view = View { page_size: 25, ..View::default() };
    let page = state.page(&view);
    let text = ServerFrame::Page { reference: None, store: "s1", page: &page }.encode();
    let compressed = Frame::from(text.clone()).deflated().map_or(0, |d| d.len());
    eprintln!("25-row page frame: {} bytes, {compressed} compressed", text.len());
    let n = 1_000;
    let mut group = c.benchmark_group("page_to_1000_sockets");
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(20);
    for (name, deflate, shared) in
        [("uncompressed", false, true), ("compress_once", true, true), ("compress_per_session", true, false)]
    {
        let (_, outboxes, mut bodies) = subscribers(n, sink, deflate);
        group.bench_function(name, |b| {
            b.iter(|| {
                // A new frame per flush, as the fan-out makes one.
                let frame = Frame::from(text.clone());
                for outbox in &outboxes {
                    match shared {
                        true => outbox.push(frame.clone(), "s1"),
                        false => outbox.push(text.clone(), "s1"),
                    };
                }
                drain(&mut bodies);
            })
        });
    }
    group.finish();
    // What one compression costs, by frame size.
    let mut group = c.benchmark_group("deflate_frame");
    let events = events();
    let refs: Vec<Cow<Event>> = events.iter().take(1).map(Cow::Borrowed).collect();
    let batch = ServerFrame::Batch { store: "s1", body: BatchBody::new(1, 1, &refs) }.encode();
    for (name, text) in [("one_event_batch", &batch), ("page_25_rows", &text)] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("{name}/{}", text.len()), |b| b.iter(|| deflate::compress(text.as_bytes())));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
