//! The WebSocket protocol, v1: client frames as parsed, server frames as
//! sent. `docs/protocol.md` documents every frame here, with examples, and
//! changes with this file.
//!
//! Parsing is two-step: first the envelope (`type`, `id`), so that even a
//! frame with bad fields gets an error that echoes its `id` as `ref`; then
//! the body for that type, refusing unknown fields.

use std::borrow::Cow;

use bytestring::ByteString;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::GrantedStore;
use crate::error::ApiError;
use crate::model::digest::StoreDigest;
use crate::model::Snapshot;
use crate::model::{Event, EventKind, ProductPage, Seq, View};

/// Protocol version announced in `hello`.
pub const VERSION: u32 = 1;

/// What a subscriber wants to receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Dashboard,
    Products,
    Sales,
    Presence,
    History,
}

/// A set of topics as a bit mask (frames are cached per distinct mask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Topics(pub u8);

impl Topics {
    /// Every topic.
    pub const ALL: Topics = Topics(0b1_1111);

    /// The set of the given topics; all when none are given.
    pub fn of(topics: Option<&[Topic]>) -> Self {
        match topics {
            None | Some([]) => Self::ALL,
            Some(list) => Topics(list.iter().fold(0, |m, t| m | Self::bit(*t))),
        }
    }

    fn bit(t: Topic) -> u8 {
        1 << (t as u8)
    }

    /// The topics in the set, in a fixed order.
    pub fn list(self) -> Vec<Topic> {
        [Topic::Dashboard, Topic::Products, Topic::Sales, Topic::Presence, Topic::History]
            .into_iter()
            .filter(|t| self.has(*t))
            .collect()
    }

    /// Whether the set holds `t`.
    pub fn has(self, t: Topic) -> bool {
        self.0 & Self::bit(t) != 0
    }

    /// The topic an event kind belongs to.
    pub fn topic_of(kind: EventKind) -> Topic {
        match kind {
            // Store events reach every subscriber (`wants`); their nominal
            // topic is the store's headline.
            EventKind::DashboardUpdated
            | EventKind::StoreUpdated
            | EventKind::StoreArchived
            | EventKind::StoreRestored
            | EventKind::KpiSaved
            | EventKind::KpiDeleted => Topic::Dashboard,
            EventKind::SalesUpdated => Topic::Sales,
            EventKind::ProductCreated
            | EventKind::ProductUpdated
            | EventKind::ProductDeleted
            | EventKind::ProductImageChanged
            | EventKind::ViewPublished
            | EventKind::ViewSaved
            | EventKind::ViewDeleted
            | EventKind::ScheduleUpdated => Topic::Products,
        }
    }

    /// Whether a subscriber with these topics receives events of `kind`.
    /// `history` receives every event, and every subscriber the store's own
    /// events (`store.*`).
    pub fn wants(self, kind: EventKind) -> bool {
        kind.is_store() || self.has(Topic::History) || self.has(Self::topic_of(kind))
    }

    /// Whether `sales.updated` carries the sold products' figures, and
    /// events their `by`: only to subscribers with product rows to put them
    /// in (`products`; editors see who changed a row) and to `history`,
    /// which gets every event as recorded.
    pub fn wants_product_figures(self) -> bool {
        self.has(Topic::Products) || self.has(Topic::History)
    }

    /// The events of `events` these topics receive, as sent to them: where
    /// `wants_product_figures` says no (a dashboard), events without `by`
    /// (left empty, which `WireEvent` leaves out) and a `sales.updated` in
    /// its short form (`short_sale`). The live fan-out and every replay send
    /// through here, so a resumed subscriber gets the frames a live one got.
    pub fn select<'e>(self, events: impl IntoIterator<Item = &'e Event>) -> Vec<Cow<'e, Event>> {
        let figures = self.wants_product_figures();
        events
            .into_iter()
            .filter(|e| self.wants(e.kind))
            .map(|e| match e.kind {
                _ if figures => Cow::Borrowed(e),
                EventKind::SalesUpdated => Cow::Owned(short_sale(e)),
                _ => Cow::Owned(Event { by: String::new(), ..e.clone() }),
            })
            .collect()
    }
}

impl Topics {
    /// What a subscriber that had `old` topics and now has these misses of
    /// `events`: the events only the new topics want, and `sales.updated`
    /// again in full when product figures are newly wanted (the short form
    /// it had lacks them). A client applies these over its state without
    /// harm: product and dashboard events carry versions, day totals are
    /// absolute, and the sales come in seq order, the latest last.
    pub fn select_added<'e>(self, old: Topics, events: impl IntoIterator<Item = &'e Event>) -> Vec<Cow<'e, Event>> {
        let figures = self.wants_product_figures() && !old.wants_product_figures();
        let missed = |e: &&Event| !old.wants(e.kind) || (figures && e.kind == EventKind::SalesUpdated);
        self.select(events.into_iter().filter(missed))
    }
}

/// A `sales.updated` for a subscriber without product rows: the sale's
/// `amount` and its local `day`'s totals, without what it cannot use or
/// already has: `products` (figures for rows it does not hold), the sale's
/// id (`sale_id` and the event's `entity_id`: a dashboard keeps no list of
/// sales), `by`, `at` when it is the event's own `at`, and a null
/// `order_ref`. What a dashboard shows from a sale, at about half of the
/// recorded event's bytes.
fn short_sale(e: &Event) -> Event {
    let Value::Object(recorded) = &e.data else {
        return e.clone();
    };
    let at = serde_json::to_value(e.at).unwrap_or_default();
    let data = recorded
        .iter()
        .filter(|(name, value)| match name.as_str() {
            "products" | "sale_id" => false,
            "order_ref" => !value.is_null(),
            "at" => **value != at,
            _ => true,
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    Event { data: Value::Object(data), entity_id: None, by: String::new(), ..e.clone() }
}

/// An event as `batch` frames carry it: `at` in Unix milliseconds (the
/// events table and REST keep RFC 3339), `by` left out where `select`
/// emptied it.
#[derive(Debug, Serialize)]
pub struct WireEvent<'a> {
    seq: Seq,
    kind: EventKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    entity_id: Option<i64>,
    #[serde(serialize_with = "chrono::serde::ts_milliseconds::serialize")]
    at: DateTime<Utc>,
    #[serde(skip_serializing_if = "str::is_empty")]
    by: &'a str,
    data: &'a Value,
}

impl<'a> From<&'a Event> for WireEvent<'a> {
    fn from(e: &'a Event) -> Self {
        Self { seq: e.seq, kind: e.kind, entity_id: e.entity_id, at: e.at, by: &e.by, data: &e.data }
    }
}

/// A `batch` frame's seq range and events. A batch of one event (what a
/// quiet store sends) carries the event's fields inline, with `from` and
/// `to` only where they differ from its `seq`; any other batch (several
/// events, or none) has `from`, `to` and `events`. Half of a one-event batch's bytes were this envelope
/// (docs/benchmarks.md, "Dashboard bytes").
#[derive(Debug, Serialize)]
pub struct BatchBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<Seq>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<Seq>,
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<Vec<WireEvent<'a>>>,
    #[serde(flatten)]
    event: Option<WireEvent<'a>>,
}

impl<'a> BatchBody<'a> {
    /// The batch covering `from..=to` with `events` (in seq order).
    pub fn new(from: Seq, to: Seq, events: &'a [Cow<'a, Event>]) -> Self {
        match events {
            [one] => Self {
                from: (from != one.seq).then_some(from),
                to: (to != one.seq).then_some(to),
                events: None,
                event: Some(WireEvent::from(&**one)),
            },
            _ => Self {
                from: Some(from),
                to: Some(to),
                events: Some(events.iter().map(|e| WireEvent::from(&**e)).collect()),
                event: None,
            },
        }
    }
}

/// `subscribe` and `switch_store` bodies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeBody {
    pub store: String,
    /// The last seq the client applied; absent for a fresh snapshot.
    #[serde(default)]
    pub since: Option<Seq>,
    #[serde(default)]
    pub topics: Option<Vec<Topic>>,
    #[serde(default)]
    pub view: Option<View>,
    /// Move with the pages editors publish.
    #[serde(default)]
    pub follow: bool,
    /// Why the client starts over, when it found its state wrong itself;
    /// counted in the `resyncs_total` metric.
    #[serde(default)]
    pub resync: Option<ClientResync>,
}

/// Resyncs a client decides on, and reports in `subscribe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientResync {
    /// Its state's digest differed from the server's.
    DigestMismatch,
}

impl ClientResync {
    /// The metric's `reason` label.
    pub fn reason(self) -> &'static str {
        match self {
            ClientResync::DigestMismatch => "digest_mismatch",
        }
    }
}

/// `digest` body: the store, and the seq the client's state is at.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestBody {
    pub store: String,
    pub seq: Seq,
}

/// `set_topics` body: the topics that stay live from now on; `since`, the
/// seq at which the topics being added were paused, to catch them up.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetTopicsBody {
    pub store: String,
    pub topics: Vec<Topic>,
    #[serde(default)]
    pub since: Option<Seq>,
}

/// `unsubscribe` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreBody {
    pub store: String,
}

/// `set_view` and `publish_view` bodies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewBody {
    pub store: String,
    pub view: View,
}

/// `publish_view` body: a view, or the name of one of the store's saved views.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    pub store: String,
    #[serde(default)]
    pub view: Option<View>,
    #[serde(default)]
    pub name: Option<String>,
}

/// A parsed client frame.
#[derive(Debug, Clone)]
pub enum ClientFrame {
    Subscribe(SubscribeBody),
    Unsubscribe(StoreBody),
    SwitchStore(SubscribeBody),
    SetView(ViewBody),
    PublishView(PublishBody),
    Digest(DigestBody),
    SetTopics(SetTopicsBody),
    Ping,
}

/// A client frame with its `id` (echoed as `ref`).
#[derive(Debug, Clone)]
pub struct Incoming {
    pub id: Option<Value>,
    pub frame: ClientFrame,
}

/// A frame the server refused, with the `ref` to echo.
#[derive(Debug)]
pub struct Refused {
    pub id: Option<Value>,
    pub error: ApiError,
}

fn body<T: DeserializeOwned>(mut v: Value) -> Result<T, ApiError> {
    if let Some(map) = v.as_object_mut() {
        map.remove("type");
        map.remove("id");
    }
    serde_json::from_value(v).map_err(|e| ApiError::invalid("frame", e.to_string()))
}

/// Parses a text frame.
pub fn parse(text: &str) -> Result<Incoming, Refused> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| Refused { id: None, error: ApiError::MalformedJson(e.to_string()) })?;
    let id = value.get("id").filter(|id| id.is_string() || id.is_number()).cloned();
    let refuse = |error| Refused { id: id.clone(), error };
    let Some(kind) = value.get("type").and_then(Value::as_str) else {
        return Err(refuse(ApiError::invalid("type", "a frame needs a string type".into())));
    };
    let frame = match kind {
        "subscribe" => body(value.clone()).map(ClientFrame::Subscribe),
        "unsubscribe" => body(value.clone()).map(ClientFrame::Unsubscribe),
        "switch_store" => body(value.clone()).map(ClientFrame::SwitchStore),
        "set_view" => body(value.clone()).map(ClientFrame::SetView),
        "publish_view" => body(value.clone()).map(ClientFrame::PublishView),
        "digest" => body(value.clone()).map(ClientFrame::Digest),
        "set_topics" => body(value.clone()).map(ClientFrame::SetTopics),
        "ping" => Ok(ClientFrame::Ping),
        other => Err(ApiError::UnknownFrame(other.chars().take(40).collect())),
    };
    frame.map(|frame| Incoming { id: id.clone(), frame }).map_err(refuse)
}

/// How a subscription starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Replay,
    Snapshot,
    /// `topics` only: nothing to catch up, the new topics are live as of `seq`.
    Live,
}

/// Presence counts of a store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub admins: usize,
    pub editors: usize,
    pub viewers: usize,
    /// Subscribers following published views (any role); absent from
    /// reports of nodes that predate it.
    #[serde(default)]
    pub followers: usize,
}

impl std::ops::Add for Presence {
    type Output = Presence;

    fn add(self, other: Presence) -> Presence {
        Presence {
            admins: self.admins + other.admins,
            editors: self.editors + other.editors,
            viewers: self.viewers + other.viewers,
            followers: self.followers + other.followers,
        }
    }
}

/// A frame the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    Hello {
        v: u32,
        session: u64,
        user: &'a str,
        stores: &'a [GrantedStore],
        heartbeat_ms: u64,
    },
    Subscribed {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a Value>,
        store: &'a str,
        seq: Seq,
        mode: Mode,
    },
    Unsubscribed {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a Value>,
        store: &'a str,
    },
    /// The stores the session may use, with its role in each, again: sent
    /// when that list changed (a store created, renamed, archived or
    /// restored, a grant given, changed or taken).
    Stores {
        stores: &'a [GrantedStore],
    },
    Snapshot {
        store: &'a str,
        #[serde(flatten)]
        snapshot: &'a Snapshot,
    },
    Batch {
        store: &'a str,
        #[serde(flatten)]
        body: BatchBody<'a>,
    },
    Page {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a Value>,
        store: &'a str,
        #[serde(flatten)]
        page: &'a ProductPage,
    },
    Presence {
        store: &'a str,
        #[serde(flatten)]
        counts: Presence,
    },
    Resync {
        store: &'a str,
        reason: &'a str,
    },
    Pong {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a Value>,
    },
    /// The answer to `digest`: the store's digest at `seq` (null when that
    /// seq is not one of the recent ones: ask again later) and, when `seq`
    /// is the store's current one, the digest of the subscriber's page.
    Digest {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a Value>,
        store: &'a str,
        seq: Seq,
        digest: Option<StoreDigest>,
        #[serde(skip_serializing_if = "Option::is_none")]
        page: Option<u32>,
    },
    /// The answer to `set_topics`: the topics now live, as of `seq`, and how
    /// the added ones catch up from `since`.
    Topics {
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a Value>,
        store: &'a str,
        topics: &'a [Topic],
        seq: Seq,
        mode: Mode,
        #[serde(skip_serializing_if = "Option::is_none")]
        since: Option<Seq>,
    },
    Error {
        code: &'a str,
        message: String,
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<&'a Value>,
    },
}

impl ServerFrame<'_> {
    /// Serializes the frame once, into a cheaply clonable shared string.
    pub fn encode(&self) -> ByteString {
        // Serializing our own frame types to a String cannot fail.
        ByteString::from(serde_json::to_string(self).unwrap_or_default())
    }
}

/// The `error` frame for an error, echoing `reference`.
pub fn error_frame(error: &ApiError, reference: Option<&Value>) -> ByteString {
    ServerFrame::Error { code: error.code(), message: error.public_message(), reference }.encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_frames_and_keeps_the_id() {
        let ok = parse(r#"{"type":"subscribe","id":7,"store":"s1","since":3,"topics":["products"]}"#).unwrap();
        assert_eq!(ok.id, Some(Value::from(7)));
        let ClientFrame::Subscribe(s) = ok.frame else { panic!("not subscribe") };
        assert_eq!((s.store.as_str(), s.since), ("s1", Some(3)));
        assert!(Topics::of(s.topics.as_deref()).has(Topic::Products));
        assert!(!Topics::of(s.topics.as_deref()).has(Topic::Dashboard));
    }

    #[test]
    fn refusals_have_stable_codes_and_echo_the_id() {
        let code = |text: &str| parse(text).unwrap_err().error.code();
        assert_eq!(code("{nope"), "malformed_json");
        assert_eq!(code(r#"{"type":"dance","id":"a"}"#), "unknown_type");
        assert_eq!(code(r#"{"id":1}"#), "invalid_field");
        assert_eq!(code(r#"{"type":"subscribe","store":"s1","colour":1}"#), "invalid_field");
        assert_eq!(code(r#"{"type":"subscribe","store":5}"#), "invalid_field");
        assert_eq!(parse(r#"{"type":"dance","id":"a"}"#).unwrap_err().id, Some(Value::from("a")));
    }

    #[test]
    fn parses_digest_and_set_topics() {
        let ok = parse(r#"{"type":"digest","id":1,"store":"s1","seq":9}"#).unwrap();
        assert!(matches!(ok.frame, ClientFrame::Digest(DigestBody { seq: 9, .. })));
        let ok = parse(r#"{"type":"set_topics","store":"s1","topics":["dashboard"],"since":4}"#).unwrap();
        let ClientFrame::SetTopics(t) = ok.frame else { panic!("not set_topics") };
        assert_eq!((Topics::of(Some(&t.topics)).list(), t.since), (vec![Topic::Dashboard], Some(4)));
        let code = |text: &str| parse(text).unwrap_err().error.code();
        assert_eq!(code(r#"{"type":"digest","store":"s1"}"#), "invalid_field");
        assert_eq!(code(r#"{"type":"set_topics","store":"s1","topics":["weather"]}"#), "invalid_field");
        assert_eq!(code(r#"{"type":"subscribe","store":"s1","resync":"bored"}"#), "invalid_field");
    }

    #[test]
    fn history_topic_receives_every_kind() {
        let t = Topics::of(Some(&[Topic::History]));
        assert!(EventKind::ALL.into_iter().all(|kind| t.wants(kind)));
        let d = Topics::of(Some(&[Topic::Dashboard]));
        assert!(d.wants(EventKind::DashboardUpdated) && !d.wants(EventKind::ProductUpdated));
        let p = Topics::of(Some(&[Topic::Products]));
        assert!(p.wants(EventKind::StoreUpdated) && p.wants(EventKind::StoreArchived));
    }

    #[test]
    fn a_resumed_topic_gets_what_it_missed_and_sales_again_with_figures() {
        let event = |seq, kind| Event {
            seq,
            kind,
            entity_id: Some(1),
            at: chrono::Utc::now(),
            by: "t".into(),
            data: match kind {
                EventKind::SalesUpdated => serde_json::json!({"products": [], "amount": 1}),
                _ => serde_json::json!({}),
            },
        };
        let events = [
            event(1, EventKind::DashboardUpdated),
            event(2, EventKind::ProductUpdated),
            event(3, EventKind::SalesUpdated),
        ];
        let paused = Topics::of(Some(&[Topic::Dashboard, Topic::Sales]));
        let kinds =
            |v: Vec<Cow<Event>>| v.iter().map(|e| (e.seq, e.data.get("products").is_some())).collect::<Vec<_>>();
        assert_eq!(kinds(Topics::ALL.select_added(paused, &events)), vec![(2, false), (3, true)]);
        let dashboard = Topics::of(Some(&[Topic::Dashboard]));
        let sales = Topics::of(Some(&[Topic::Dashboard, Topic::Sales]));
        assert_eq!(kinds(sales.select_added(dashboard, &events)), vec![(3, false)]);
        assert!(paused.select_added(Topics::ALL, &events).is_empty());
    }

    #[test]
    fn a_one_event_batch_is_inline_and_a_dashboard_gets_events_without_by() {
        let at = chrono::DateTime::from_timestamp_millis(1_795_568_820_123).unwrap();
        let event = |seq| Event {
            seq,
            kind: EventKind::DashboardUpdated,
            entity_id: None,
            at,
            by: "user:a".into(),
            data: serde_json::json!({"version": seq}),
        };
        let events = [event(5), event(7)];
        let encode = |from, to, sent: &[Cow<Event>]| {
            ServerFrame::Batch { store: "s1", body: BatchBody::new(from, to, sent) }.encode()
        };
        let all = Topics::ALL.select(&events[..1]);
        assert_eq!(
            &*encode(5, 5, &all),
            r#"{"type":"batch","store":"s1","seq":5,"kind":"dashboard.updated","at":1795568820123,"by":"user:a","data":{"version":5}}"#
        );
        let dashboard = Topics::of(Some(&[Topic::Dashboard])).select(&events[1..]);
        assert_eq!(
            &*encode(6, 8, &dashboard),
            r#"{"type":"batch","store":"s1","from":6,"to":8,"seq":7,"kind":"dashboard.updated","at":1795568820123,"data":{"version":7}}"#
        );
        let both = Topics::ALL.select(&events);
        let text = encode(5, 7, &both);
        assert!(text.starts_with(r#"{"type":"batch","store":"s1","from":5,"to":7,"events":[{"seq":5,"#), "{text}");
    }

    #[test]
    fn frames_encode_with_their_type_and_ref() {
        let r = Value::from(3);
        let text = ServerFrame::Pong { reference: Some(&r) }.encode();
        assert_eq!(&*text, r#"{"type":"pong","ref":3}"#);
        let e = error_frame(&ApiError::UnknownFrame("x".into()), None);
        assert!(e.starts_with(r#"{"type":"error","code":"unknown_type""#));
    }
}
