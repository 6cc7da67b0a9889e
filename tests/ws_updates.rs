//! Smaller updates for dashboard users, over real WebSockets: a
//! `dashboard.updated` carries only what changed (a new local day whole), a
//! `sales.updated` carries product figures only to subscribers of
//! `products` (and `history`), a batch of one event carries it inline, and
//! a resume, from the history ring or from the events table, sends the very
//! events the live stream sent.

mod common;

use std::collections::BTreeSet;

use common::Ws;
use serde_json::{json, Value};

/// The `data` keys of an event.
fn keys(event: &Value) -> BTreeSet<&str> {
    event["data"].as_object().unwrap().keys().map(String::as_str).collect()
}

/// The events of the next batch of `ws`.
async fn next_events(ws: &mut Ws) -> Vec<Value> {
    ws.next_of("batch").await["events"].as_array().unwrap().clone()
}

/// Subscribes again with `since` and collects the replayed events up to `to`.
async fn replayed(ws: &mut Ws, topics: &[&str], since: i64, to: i64) -> Vec<Value> {
    let sub = ws.subscribe(json!({"type": "subscribe", "store": "s1", "since": since, "topics": topics})).await;
    assert_eq!((sub["mode"].as_str(), sub["seq"].as_i64()), (Some("replay"), Some(to)));
    let mut events = Vec::new();
    let mut applied = since;
    while applied < to {
        events.extend(common::apply_batch(&mut applied, &ws.next_of("batch").await));
    }
    events
}

/// Dashboard patches, each flushed on its own (the client waits for it), as
/// received live, and the seq before the first.
async fn patch_each(admin: &common::Client, ws: &mut Ws, patches: &[Value]) -> (i64, Vec<Value>) {
    let mut first = None;
    let mut events = Vec::new();
    for patch in patches {
        let r = admin.patch("/api/v1/stores/s1/dashboard", patch.clone()).await;
        r.assert_status(200);
        first.get_or_insert(r.json["seq"].as_i64().unwrap() - 1);
        events.extend(next_events(ws).await);
    }
    (first.unwrap(), events)
}

async fn dashboard_changes_are_partial_and_replayed_as_sent(history_size: usize) {
    let app = common::spawn_app_with(|c| c.history_size = history_size).await;
    let admin = app.login("admin").await;
    let mut ws = app.ws(&admin).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["dashboard", "sales"]})).await;
    // Whatever day the seeded settings were last changed on, this one is today.
    patch_each(&admin, &mut ws, &[json!({"revenue_target": 900_000})]).await;

    let (since, live) = patch_each(
        &admin,
        &mut ws,
        &[json!({"visitors_today": 4321}), json!({"notice": "Inventory on Friday"}), json!({"refunds_today": 0})],
    )
    .await;
    let full = admin.get("/api/v1/stores/s1/dashboard").await.json;
    assert_eq!(live.len(), 3);
    for e in &live {
        assert_eq!(e["kind"], "dashboard.updated");
        assert!(!keys(e).contains("day") && !keys(e).contains("updated_at"), "{e}");
    }
    // The changed fields and the version; conversion moves with visitors.
    let visitors = keys(&live[0]);
    assert!(visitors.is_subset(&BTreeSet::from(["visitors_today", "conversion_bp", "version"])), "{visitors:?}");
    assert_eq!(live[0]["data"]["visitors_today"], 4321);
    assert_eq!(keys(&live[1]), BTreeSet::from(["notice", "version"]));
    assert_eq!(live[1]["data"]["notice"], "Inventory on Friday");
    // A patch that sets a value to what it already was changes only the version.
    let unchanged = keys(&live[2]);
    assert!(unchanged == BTreeSet::from(["version"]) || unchanged.contains("refunds_today"), "{unchanged:?}");
    assert_eq!(live[2]["data"]["version"], full["version"]);
    // The client's rule (merge, `updated_at` from `at`, which batches send
    // in Unix milliseconds) rebuilds the dashboard.
    let updated_at: chrono::DateTime<chrono::Utc> = full["updated_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(live[2]["at"].as_i64(), Some(updated_at.timestamp_millis()));

    // A store whose dashboard last changed yesterday gets the new day whole.
    app.db.execute(app.dir.path(), "UPDATE dashboard SET updated_at = '2020-01-01 00:00:00'").unwrap();
    let (_, rolled) = patch_each(&admin, &mut ws, &[json!({"notice": "A new day"})]).await;
    let whole = admin.get("/api/v1/stores/s1/dashboard").await.json;
    assert_eq!(rolled[0]["data"], whole, "a new day comes whole");

    // A resume from before the changes replays the events as they were sent
    // live (from the history ring, or with a ring of 1 from the events table).
    let to = rolled[0]["seq"].as_i64().unwrap();
    let mut again = app.ws(&admin).await;
    let replay = replayed(&mut again, &["dashboard", "sales"], since, to).await;
    assert_eq!(replay, [live, rolled].concat());
}

#[actix_web::test]
async fn dashboard_updates_carry_what_changed_and_a_resume_from_the_ring_replays_them() {
    dashboard_changes_are_partial_and_replayed_as_sent(1024).await;
}

#[actix_web::test]
async fn a_resume_from_the_events_table_replays_partial_dashboard_updates_too() {
    dashboard_changes_are_partial_and_replayed_as_sent(1).await;
}

#[actix_web::test]
async fn dashboard_changes_in_one_flush_merge_their_fields() {
    let app = common::spawn_app_with(|c| c.flush_window_ms = 300).await;
    let admin = app.login("admin").await;
    let mut ws = app.ws(&admin).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["dashboard"]})).await;
    admin.patch("/api/v1/stores/s1/dashboard", json!({"revenue_target": 1})).await.assert_status(200);
    next_events(&mut ws).await;
    // Within the 300 ms window after that flush: both land in the next one.
    admin.patch("/api/v1/stores/s1/dashboard", json!({"notice": "one"})).await.assert_status(200);
    admin.patch("/api/v1/stores/s1/dashboard", json!({"revenue_target": 2})).await.assert_status(200);
    let events = next_events(&mut ws).await;
    let full = admin.get("/api/v1/stores/s1/dashboard").await.json;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"], json!({"notice": "one", "revenue_target": 2, "version": full["version"]}));
}

#[actix_web::test]
async fn sale_figures_go_only_to_product_subscribers_live_and_on_resume() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let product = admin.first_product("s1").await;
    let subscriptions: [&[&str]; 4] = [&["dashboard", "sales"], &["sales"], &["sales", "products"], &["history"]];
    let mut sockets = Vec::new();
    let mut since = 0;
    for topics in subscriptions {
        let mut ws = app.ws(&admin).await;
        since =
            ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": topics})).await["seq"].as_i64().unwrap();
        sockets.push(ws);
    }
    let sale = json!({"lines": [{"product_id": product["id"], "quantity": 2}]});
    let r = admin.post("/api/v1/stores/s1/sales", sale).await;
    r.assert_status(201);
    let to = r.json["seq"].as_i64().unwrap();
    for (topics, ws) in subscriptions.iter().zip(&mut sockets) {
        let live = next_events(ws).await;
        let sold = live.iter().find(|e| e["kind"] == "sales.updated").expect("the sale");
        let figures = topics.contains(&"products") || topics.contains(&"history");
        assert_eq!(sold["data"].get("products").is_some(), figures, "{topics:?}: {sold}");
        assert!(sold["data"]["day"].is_object() && sold["data"]["amount"].is_i64(), "{sold}");
        // The short form: no sale id, no `by`, its time the event's.
        assert_eq!(sold["data"].get("sale_id").is_some(), figures, "{sold}");
        assert_eq!(sold["data"].get("at").is_some(), figures, "{sold}");
        assert_eq!(sold.get("entity_id").is_some(), figures, "{sold}");
        assert_eq!(sold.get("by").is_some(), figures, "{sold}");
        if figures {
            assert_eq!(sold["data"]["products"][0]["id"], product["id"]);
        }
        let replay = replayed(ws, topics, since, to).await;
        assert_eq!(&replay, &live, "{topics:?}: a resume sends what the live stream sent");
    }
    // The events table and GET /events keep the sale as recorded.
    let events = admin.get(&format!("/api/v1/stores/s1/events?since={since}")).await.json;
    let sold = events["events"].as_array().unwrap().iter().find(|e| e["kind"] == "sales.updated").cloned();
    assert!(sold.expect("the sale in GET /events")["data"]["products"].is_array());
}

/// The next `batch` of `ws` as the server sent it.
async fn next_batch_as_sent(ws: &mut Ws) -> Value {
    loop {
        let frame = ws.try_next_as_sent(common::FRAME_TIMEOUT).await.expect("a batch");
        if frame["type"] == "batch" {
            return frame;
        }
    }
}

/// Asserts `at` is Unix milliseconds of about now.
fn assert_at_now(event: &Value) {
    let now = chrono::Utc::now().timestamp_millis();
    let at = event["at"].as_i64().unwrap_or_else(|| panic!("`at` in milliseconds: {event}"));
    assert!((now - 600_000..=now).contains(&at), "{event}");
}

#[actix_web::test]
async fn a_one_event_batch_is_sent_inline_and_a_longer_one_keeps_its_range_and_events() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let mut all = app.ws(&admin).await;
    all.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    let mut dash = app.ws(&admin).await;
    dash.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["dashboard", "sales"]})).await;

    // One event: its fields are the frame's, `from` and `to` are its seq.
    let r = admin.patch("/api/v1/stores/s1/dashboard", json!({"visitors_today": 1234})).await;
    r.assert_status(200);
    let seq = r.json["seq"].as_i64().unwrap();
    let one = next_batch_as_sent(&mut all).await;
    assert_eq!((one["store"].as_str(), one["seq"].as_i64()), (Some("s1"), Some(seq)), "{one}");
    assert_eq!(one["kind"], "dashboard.updated");
    assert_eq!((one["by"].as_str(), &one["data"]["visitors_today"]), (Some("user:admin"), &json!(1234)));
    assert!(["from", "to", "events"].iter().all(|k| one.get(k).is_none()), "{one}");
    assert_at_now(&one);
    // A dashboard subscriber gets it without `by`.
    let short = next_batch_as_sent(&mut dash).await;
    assert_eq!((short["seq"].as_i64(), short.get("by")), (Some(seq), None), "{short}");

    // A product change the dashboard subscriber skips: its next batch's
    // `from` covers it, and `to` is still the event's seq.
    let product = admin.first_product("s1").await;
    let path = format!("/api/v1/stores/s1/products/{}", product["id"]);
    admin.patch(&path, json!({"stock": 77})).await.assert_status(200);
    let r = admin.patch("/api/v1/stores/s1/dashboard", json!({"visitors_today": 4321})).await;
    let after = r.json["seq"].as_i64().unwrap();
    let skipped = next_batch_as_sent(&mut dash).await;
    assert_eq!((skipped["from"].as_i64(), skipped["seq"].as_i64()), (Some(seq + 1), Some(after)), "{skipped}");
    assert!(skipped.get("to").is_none(), "{skipped}");
    // The short sale: no id, no `by`.
    let sale = json!({"lines": [{"product_id": product["id"], "quantity": 1}]});
    let r = admin.post("/api/v1/stores/s1/sales", sale).await;
    r.assert_status(201);
    let sold_seq = r.json["seq"].as_i64().unwrap();
    let sold = next_batch_as_sent(&mut dash).await;
    assert_eq!(sold["kind"], "sales.updated");
    assert!(sold.get("entity_id").is_none() && sold.get("by").is_none(), "{sold}");
    assert!(sold["data"]["amount"].is_i64() && sold["data"]["day"]["orders"].is_i64(), "{sold}");

    // Several events (one bulk write): `from`, `to` and `events`, each
    // event with its seq, `at` and `by`.
    let mut applied = seq;
    while applied < sold_seq {
        applied = all.next_of("batch").await["to"].as_i64().unwrap();
    }
    let ids = vec![product["id"].clone(), admin.create_product("s1", "INLINE-2", 500).await["id"].clone()];
    applied = all.next_of("batch").await["to"].as_i64().unwrap();
    let change = json!({"ids": ids, "change": {"op": "scale_price", "percent": 10, "rounding": "nearest"}});
    let r = admin.post("/api/v1/stores/s1/products/bulk", change).await;
    r.assert_status(200);
    let longer = next_batch_as_sent(&mut all).await;
    assert_eq!((longer["from"].as_i64(), longer["to"].as_i64()), (Some(applied + 1), r.json["seq"].as_i64()));
    let events = longer["events"].as_array().unwrap_or_else(|| panic!("events: {longer}"));
    assert_eq!(events.len(), 2, "{longer}");
    for e in events {
        assert!(e["seq"].is_i64() && e["kind"] == "product.updated" && e["by"] == "user:admin", "{e}");
        assert_at_now(e);
    }
}
