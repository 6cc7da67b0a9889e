//! `wire::protocol::parse`: no text makes it panic, every refusal carries a
//! code from the documented set and echoes the frame's `id`, and a valid
//! frame comes back with its `id` and every field it was sent with.

use actix_web::ResponseError;
use proptest::prelude::*;
use serde_json::{json, Value};
use storesync::model::View;
use storesync::wire::protocol::{parse, ClientFrame, Topic};

use super::{any_view, budget, json_value};

/// The codes a refused client frame may carry (docs/protocol.md).
const CODES: [&str; 3] = ["malformed_json", "invalid_field", "unknown_type"];
const TYPES: [&str; 7] = ["subscribe", "unsubscribe", "switch_store", "set_view", "publish_view", "ping", "pong"];
const FIELDS: [&str; 13] =
    ["type", "id", "store", "since", "topics", "view", "follow", "page", "page_size", "sort", "dir", "q", "status"];
const TOPICS: [Topic; 5] = [Topic::Dashboard, Topic::Products, Topic::Sales, Topic::Presence, Topic::History];

/// The `id` a reply must echo: a string or number `id` of a JSON object.
fn echoed_id(text: &str) -> Option<Value> {
    serde_json::from_str::<Value>(text).ok()?.get("id").filter(|id| id.is_string() || id.is_number()).cloned()
}

/// What every parse must satisfy, whatever the text.
fn check_any(text: &str) -> Result<(), TestCaseError> {
    let id = echoed_id(text);
    match parse(text) {
        Ok(incoming) => prop_assert_eq!(incoming.id, id),
        Err(refused) => {
            let code = refused.error.code();
            prop_assert!(CODES.contains(&code), "unexpected code {code} for {text:?}");
            prop_assert!(refused.error.status_code().is_client_error());
            prop_assert_eq!(refused.id, id);
        }
    }
    Ok(())
}

/// An object shaped like a frame: a known (or any) type, any id, and
/// fields the frames use (or others) with values of any shape.
fn frame_like() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![3 => prop::sample::select(TYPES.to_vec()).prop_map(Value::from), 1 => json_value()];
    let name = prop_oneof![3 => prop::sample::select(FIELDS.to_vec()).prop_map(String::from), 1 => ".{0,8}"];
    let topics = prop::collection::vec(prop::sample::select(vec!["products", "sales", "history", "nope"]), 0..4);
    let value = prop_oneof![
        3 => json_value(),
        1 => prop::sample::select(vec!["s1", "asc", "price", "active"]).prop_map(Value::from),
        1 => topics.prop_map(|t| json!(t)),
        1 => any_view().prop_map(|v| json!(v)),
    ];
    (prop::option::of(kind), prop::option::of(json_value()), prop::collection::vec((name, value), 0..6)).prop_map(
        |(kind, id, fields)| {
            let mut map: serde_json::Map<String, Value> = fields.into_iter().collect();
            if let Some(kind) = kind {
                map.insert("type".into(), kind);
            }
            if let Some(id) = id {
                map.insert("id".into(), id);
            }
            Value::Object(map)
        },
    )
}

/// A frame-like object's text, cut short, with a character inserted or
/// with one removed: mostly malformed JSON near valid frames.
fn damaged_text() -> impl Strategy<Value = String> {
    (frame_like(), any::<prop::sample::Index>(), any::<char>(), 0..3u8).prop_map(|(frame, at, c, how)| {
        let mut chars: Vec<char> = frame.to_string().chars().collect();
        let at = at.index(chars.len() + 1);
        match how {
            0 => chars.truncate(at),
            1 => chars.insert(at, c),
            _ if at < chars.len() => {
                chars.remove(at);
            }
            _ => {}
        }
        chars.into_iter().collect()
    })
}

/// A frame the server accepts, as the client means it.
#[derive(Debug, Clone)]
enum Valid {
    Subscribe {
        switch: bool,
        store: String,
        since: Option<i64>,
        topics: Option<Vec<Topic>>,
        view: Option<View>,
        follow: Option<bool>,
    },
    Unsubscribe {
        store: String,
    },
    View {
        publish: bool,
        store: String,
        view: View,
    },
    Ping,
}

/// A valid frame with a body (every type but `ping`).
fn valid_with_body() -> impl Strategy<Value = Valid> {
    let topics = prop::option::of(prop::collection::vec(prop::sample::select(TOPICS.to_vec()), 0..6));
    prop_oneof![
        (
            any::<bool>(),
            any::<String>(),
            prop::option::of(any::<i64>()),
            topics,
            prop::option::of(any_view()),
            prop::option::of(any::<bool>())
        )
            .prop_map(|(switch, store, since, topics, view, follow)| Valid::Subscribe {
                switch,
                store,
                since,
                topics,
                view,
                follow
            }),
        any::<String>().prop_map(|store| Valid::Unsubscribe { store }),
        (any::<bool>(), any::<String>(), any_view()).prop_map(|(publish, store, view)| Valid::View {
            publish,
            store,
            view
        }),
    ]
}

fn valid() -> impl Strategy<Value = Valid> {
    prop_oneof![3 => valid_with_body(), 1 => Just(Valid::Ping)]
}

/// An id of any kind the protocol echoes, or none.
fn id() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ])
}

/// The frame's JSON, leaving out what the client left out.
fn encode(frame: &Valid, id: &Option<Value>) -> Value {
    let mut v = match frame {
        Valid::Subscribe { switch, store, since, topics, view, follow } => {
            let mut v = json!({"type": if *switch { "switch_store" } else { "subscribe" }, "store": store});
            for (key, field) in [
                ("since", since.map(Value::from)),
                ("topics", topics.as_ref().map(|t| json!(t))),
                ("view", view.as_ref().map(|view| json!(view))),
                ("follow", follow.map(Value::from)),
            ] {
                if let Some(field) = field {
                    v[key] = field;
                }
            }
            v
        }
        Valid::Unsubscribe { store } => json!({"type": "unsubscribe", "store": store}),
        Valid::View { publish, store, view } => {
            json!({"type": if *publish { "publish_view" } else { "set_view" }, "store": store, "view": view})
        }
        Valid::Ping => json!({"type": "ping"}),
    };
    if let Some(id) = id {
        v["id"] = id.clone();
    }
    v
}

proptest! {
    #![proptest_config(budget(256))]

    #[test]
    fn any_text_is_parsed_or_refused_with_a_known_code(text in any::<String>()) {
        check_any(&text)?;
    }

    #[test]
    fn any_json_value_is_parsed_or_refused_with_a_known_code(value in json_value()) {
        check_any(&value.to_string())?;
    }

    #[test]
    fn frame_like_objects_are_parsed_or_refused_with_their_id(value in frame_like()) {
        check_any(&value.to_string())?;
    }

    #[test]
    fn damaged_frames_are_parsed_or_refused_with_a_known_code(text in damaged_text()) {
        check_any(&text)?;
    }

    #[test]
    fn valid_frames_round_trip_with_their_id_and_fields(frame in valid(), id in id()) {
        let text = encode(&frame, &id).to_string();
        let incoming = match parse(&text) {
            Ok(incoming) => incoming,
            Err(refused) => return Err(TestCaseError::fail(format!("{text} refused: {:?}", refused.error))),
        };
        prop_assert_eq!(&incoming.id, &id);
        match (frame, incoming.frame) {
            (Valid::Subscribe { switch, store, since, topics, view, follow }, parsed) => {
                let body = match (switch, parsed) {
                    (false, ClientFrame::Subscribe(body)) | (true, ClientFrame::SwitchStore(body)) => body,
                    (_, other) => return Err(TestCaseError::fail(format!("{text} parsed as {other:?}"))),
                };
                prop_assert_eq!(body.store, store);
                prop_assert_eq!(body.since, since);
                prop_assert_eq!(body.topics, topics);
                prop_assert_eq!(body.view, view);
                prop_assert_eq!(body.follow, follow.unwrap_or(false));
            }
            (Valid::Unsubscribe { store }, ClientFrame::Unsubscribe(body)) => prop_assert_eq!(body.store, store),
            (Valid::View { publish: false, store, view }, ClientFrame::SetView(body)) => {
                prop_assert_eq!(body.store, store);
                prop_assert_eq!(body.view, view);
            }
            (Valid::View { publish: true, store, view }, ClientFrame::PublishView(body)) => {
                prop_assert_eq!(body.store, store);
                prop_assert_eq!(body.view, Some(view));
                prop_assert_eq!(body.name, None);
            }
            (Valid::Ping, ClientFrame::Ping) => {}
            (_, other) => return Err(TestCaseError::fail(format!("{text} parsed as {other:?}"))),
        }
    }

    #[test]
    fn an_unknown_field_in_a_valid_frame_is_refused_with_its_id(
        frame in valid_with_body(),
        id in id(),
        field in "[a-z_]{1,12}".prop_filter("not a frame field", |f| !FIELDS.contains(&f.as_str())),
        value in json_value(),
    ) {
        let mut v = encode(&frame, &id);
        v[field.as_str()] = value;
        let refused = parse(&v.to_string()).map(|i| i.frame);
        let refused = match refused {
            Err(refused) => refused,
            Ok(frame) => return Err(TestCaseError::fail(format!("{v} accepted as {frame:?}"))),
        };
        prop_assert_eq!(refused.error.code(), "invalid_field");
        prop_assert_eq!(refused.id, id);
    }
}
