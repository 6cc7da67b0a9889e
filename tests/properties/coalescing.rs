//! Coalescing and the `batch` ranges fan-out sends.
//!
//! `coalesce` keeps seq order, keeps exactly one event per entity (its
//! last, with the last one's fields) and never touches sales events.
//! A `Fanout` with subscribers of different topics, joining and leaving
//! between commits and flushes, sends each one `batch` frames whose
//! `from..to` ranges follow each other with no gap and no overlap, starting
//! right after the seq it joined at, holding only events it wants, and
//! together the last event of every entity it wants.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use actix::prelude::*;
use actix_http::ws::{OpCode, Parser};
use actix_web::body::MessageBody;
use bytes::BytesMut;
use chrono::Utc;
use futures_util::task::noop_waker_ref;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};
use storesync::auth::Role;
use storesync::model::{Event, EventKind, Seq, View};
use storesync::ops::metrics::Metrics;
use storesync::store::fanout::{coalesce, Fanout, Subscriber};
use storesync::store::state::StoreState;
use storesync::testkit::{self, EvictionSink};
use storesync::wire::outbox::{Evicted, Outbox, OutboxBody};
use storesync::wire::protocol::{Topic, Topics};

use super::{budget, valid_view};

const TOPICS: [Topic; 5] = [Topic::Dashboard, Topic::Products, Topic::Sales, Topic::Presence, Topic::History];

/// One committed change, before it gets its seq.
#[derive(Debug, Clone)]
struct Commit {
    kind: EventKind,
    entity_id: Option<i64>,
    data: Value,
}

fn commit() -> impl Strategy<Value = Commit> {
    use EventKind::*;
    let kind = prop_oneof![
        3 => Just(ProductUpdated),
        1 => Just(ProductCreated),
        1 => Just(ProductDeleted),
        1 => Just(ProductImageChanged),
        1 => Just(DashboardUpdated),
        1 => Just(SalesUpdated),
        1 => Just(ViewPublished),
    ];
    let fields =
        prop::collection::btree_map(prop::sample::select(vec!["price", "stock", "name", "version"]), 0..9i64, 0..4);
    (kind, 1..5i64, fields, valid_view()).prop_map(|(kind, id, fields, view)| match kind {
        DashboardUpdated => Commit { kind, entity_id: None, data: json!(fields) },
        // Published views passed validation: followers page them.
        ViewPublished => Commit { kind, entity_id: None, data: json!({ "view": view }) },
        _ => Commit { kind, entity_id: Some(id), data: json!(fields) },
    })
}

fn event(seq: Seq, c: Commit) -> Event {
    Event { seq, kind: c.kind, entity_id: c.entity_id, at: Utc::now(), by: format!("user:{seq}"), data: c.data }
}

/// What events merge by: a product, the dashboard, the published view;
/// sales never merge.
fn entity(e: &Event) -> Option<(u8, i64)> {
    match e.kind {
        kind if kind.is_product() => Some((0, e.entity_id.unwrap_or_default())),
        EventKind::DashboardUpdated => Some((1, 0)),
        EventKind::ViewPublished => Some((2, 0)),
        _ => None,
    }
}

/// `got` is what a subscriber holds for `last`, the last event of its
/// entity: same seq, its fields (later wins), its kind (a created product
/// stays created), its `by` where the subscriber gets it (`with_by`).
fn check_last(got: Option<&Event>, last: &Event, with_by: bool) -> Result<(), TestCaseError> {
    let Some(got) = got else {
        return Err(TestCaseError::fail(format!("the last event of an entity was dropped: {last:?}")));
    };
    prop_assert_eq!(got.seq, last.seq);
    prop_assert_eq!(got.by.as_str(), if with_by { last.by.as_str() } else { "" });
    let created = got.kind == EventKind::ProductCreated
        && matches!(last.kind, EventKind::ProductUpdated | EventKind::ProductImageChanged);
    prop_assert!(got.kind == last.kind || created, "{:?} became {:?}", last.kind, got.kind);
    if let Value::Object(fields) = &last.data {
        for (k, v) in fields {
            prop_assert_eq!(got.data.get(k), Some(v), "field {} of {:?}", k, last);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(budget(256))]

    #[test]
    fn coalescing_keeps_order_and_the_last_event_of_every_entity(
        commits in prop::collection::vec(commit(), 0..40),
    ) {
        let events: Vec<Event> = commits.into_iter().zip(1..).map(|(c, seq)| event(seq, c)).collect();
        let out = coalesce(events.clone());
        for pair in out.windows(2) {
            prop_assert!(pair[0].seq < pair[1].seq, "seq order lost");
        }
        let by_seq: HashMap<Seq, &Event> = out.iter().map(|e| (e.seq, e)).collect();
        let mut last: HashMap<(u8, i64), &Event> = HashMap::new();
        for e in &events {
            match entity(e) {
                Some(key) => {
                    last.insert(key, e);
                }
                None => prop_assert_eq!(by_seq.get(&e.seq), Some(&e), "a sales event was changed or dropped"),
            }
        }
        for e in &out {
            prop_assert!(events.iter().any(|i| i.seq == e.seq), "seq {} was invented", e.seq);
            if let Some(key) = entity(e) {
                prop_assert_eq!(last[&key].seq, e.seq, "an entity kept an event besides its last");
            }
        }
        for l in last.values() {
            check_last(by_seq.get(&l.seq).copied(), l, true)?;
        }
    }
}

/// A step of the store actor, as its fan-out sees it.
#[derive(Debug, Clone)]
enum Step {
    /// A group commit: its events get the next seqs.
    Commit(Vec<Commit>),
    Flush,
    /// A session subscribes (the actor flushes first, then adds it at
    /// the store's seq).
    Join {
        topics: Vec<Topic>,
        follow: bool,
    },
    Leave(prop::sample::Index),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let join = (prop::collection::vec(prop::sample::select(TOPICS.to_vec()), 0..3), any::<bool>())
        .prop_map(|(topics, follow)| Step::Join { topics, follow });
    let step = prop_oneof![
        4 => prop::collection::vec(commit(), 0..5).prop_map(Step::Commit),
        2 => Just(Step::Flush),
        1 => join.clone(),
        1 => any::<prop::sample::Index>().prop_map(Step::Leave),
    ];
    (prop::collection::vec(join, 1..5), prop::collection::vec(step, 0..40)).prop_map(|(mut joins, steps)| {
        joins.extend(steps);
        joins
    })
}

/// A `batch` frame as a subscriber received it.
#[derive(Debug)]
struct Batch {
    from: Seq,
    to: Seq,
    events: Vec<Event>,
}

impl Batch {
    /// A `batch` frame as sent: one event inline (`from` and `to` left out
    /// where they are its seq) or `events`; `at` in Unix milliseconds, `by`
    /// left out for subscribers of neither products nor history.
    fn of(frame: &Value) -> Self {
        let inline = [frame.clone()];
        let sent = frame["events"].as_array().map_or(&inline[..], Vec::as_slice);
        let events: Vec<Event> = sent
            .iter()
            .map(|e| Event {
                seq: e["seq"].as_i64().unwrap(),
                kind: serde_json::from_value(e["kind"].clone()).unwrap(),
                entity_id: e["entity_id"].as_i64(),
                at: chrono::DateTime::from_timestamp_millis(e["at"].as_i64().unwrap()).unwrap(),
                by: e["by"].as_str().unwrap_or_default().to_owned(),
                data: e["data"].clone(),
            })
            .collect();
        let or_seq = |key: &str, e: Option<&Event>| frame[key].as_i64().or(e.map(|e| e.seq)).unwrap();
        Self { from: or_seq("from", events.first()), to: or_seq("to", events.last()), events }
    }
}

struct Session {
    id: u64,
    body: OutboxBody,
    topics: Topics,
    joined_at: Seq,
    left: bool,
    batches: Vec<Batch>,
}

impl Session {
    /// Reads what the outbox wrote to the "socket", keeping batch frames.
    fn drain(&mut self) {
        let mut cx = std::task::Context::from_waker(noop_waker_ref());
        while let Poll::Ready(Some(Ok(chunk))) = Pin::new(&mut self.body).poll_next(&mut cx) {
            let mut buf = BytesMut::from(&chunk[..]);
            while let Some((_, opcode, payload)) = Parser::parse(&mut buf, false, usize::MAX).unwrap() {
                let frame: Value = match (opcode, payload) {
                    (OpCode::Text, Some(payload)) => serde_json::from_slice(&payload).unwrap(),
                    _ => continue,
                };
                if frame["type"] == "batch" {
                    self.batches.push(Batch::of(&frame));
                }
            }
        }
    }
}

/// Flushes like the actor does and reads every subscriber's socket;
/// answers the sessions that overflowed.
fn flush(fanout: &mut Fanout, state: &StoreState, sessions: &mut [Session]) -> Vec<u64> {
    let gone = fanout.flush(state);
    sessions.iter_mut().filter(|s| !s.left).for_each(Session::drain);
    gone
}

fn run(sink: &Recipient<Evicted>, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let metrics = Metrics::new();
    let mut fanout = Fanout::new(Arc::new(metrics.store("s1")), None);
    let mut state = testkit::store_state(chrono_tz::UTC, (1..=6).map(testkit::product).collect(), 64);
    fanout.flushed_seq = state.seq;
    let mut sessions: Vec<Session> = Vec::new();
    let mut committed: Vec<Event> = Vec::new();
    for step in steps.into_iter().chain([Step::Flush]) {
        match step {
            Step::Commit(commits) => {
                let events: Vec<Event> = commits
                    .into_iter()
                    .map(|c| {
                        state.seq += 1;
                        event(state.seq, c)
                    })
                    .collect();
                committed.extend(events.iter().cloned());
                fanout.push(events);
            }
            Step::Flush => prop_assert!(flush(&mut fanout, &state, &mut sessions).is_empty(), "nobody overflows"),
            Step::Join { topics, follow } => {
                prop_assert!(flush(&mut fanout, &state, &mut sessions).is_empty(), "nobody overflows");
                let id = sessions.len() as u64;
                let body = OutboxBody::new(1024, metrics.clone());
                let topics = Topics::of(Some(&topics));
                let outbox = Outbox::new(id, body.queue(), sink.clone());
                let view = View::default();
                fanout.add(Subscriber { outbox, role: Role::Viewer, topics, view, follow, sent_to: state.seq });
                sessions.push(Session { id, body, topics, joined_at: state.seq, left: false, batches: Vec::new() });
            }
            Step::Leave(which) => {
                let present: Vec<usize> = (0..sessions.len()).filter(|i| !sessions[*i].left).collect();
                if !present.is_empty() {
                    let s = &mut sessions[present[which.index(present.len())]];
                    prop_assert!(fanout.remove(s.id).is_some());
                    s.left = true;
                }
            }
        }
    }
    for s in &sessions {
        check_session(s, &committed, state.seq)?;
    }
    Ok(())
}

fn check_session(s: &Session, committed: &[Event], seq: Seq) -> Result<(), TestCaseError> {
    let mut next = s.joined_at + 1;
    let mut received: HashMap<Seq, &Event> = HashMap::new();
    for b in &s.batches {
        prop_assert_eq!(b.from, next, "session {}: gap or overlap before {:?}", s.id, b);
        prop_assert!(b.from <= b.to && b.to <= seq, "session {}: range {}..{}", s.id, b.from, b.to);
        let mut after = b.from - 1;
        for e in &b.events {
            prop_assert!(after < e.seq && e.seq <= b.to, "session {}: seq {} out of order or range", s.id, e.seq);
            prop_assert!(s.topics.wants(e.kind), "session {}: unwanted {:?}", s.id, e.kind);
            after = e.seq;
            received.insert(e.seq, e);
        }
        next = b.to + 1;
    }
    if s.left {
        // It may have left with events pending; what it got is checked above.
        return Ok(());
    }
    let mut last: HashMap<(u8, i64), &Event> = HashMap::new();
    for e in committed.iter().filter(|e| e.seq > s.joined_at && s.topics.wants(e.kind)) {
        match entity(e) {
            Some(key) => {
                last.insert(key, e);
            }
            None => prop_assert!(received.contains_key(&e.seq), "session {}: sales event {} dropped", s.id, e.seq),
        }
    }
    for l in last.values() {
        check_last(received.get(&l.seq).copied(), l, s.topics.wants_product_figures())?;
    }
    Ok(())
}

#[test]
fn fanout_ranges_are_contiguous_per_subscriber_and_keep_every_entitys_last_event() {
    let system = System::new();
    let sink = system.block_on(async { EvictionSink.start().recipient() });
    let mut runner = TestRunner::new(budget(256));
    if let Err(e) = runner.run(&steps(), |steps| run(&sink, steps)) {
        panic!("{e}");
    }
}
