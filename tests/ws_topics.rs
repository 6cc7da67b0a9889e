//! Selective sync over real WebSockets: `set_topics` pauses a topic on a
//! live subscription and resumes it from the seq where it was paused, by
//! replay from the history ring or the events table, and with a snapshot
//! past `--max-replay`.

mod common;

use common::{apply_batch, Client, Ws};
use serde_json::{json, Value};

/// Subscribes to s1 with every topic; the snapshot's seq.
async fn subscribed(ws: &mut Ws) -> i64 {
    ws.subscribe(json!({"type": "subscribe", "store": "s1", "view": {"page_size": 5}})).await;
    ws.next_of("snapshot").await["seq"].as_i64().unwrap()
}

/// An edit, a sale and a dashboard change of the first product; the last seq.
async fn write_each_kind(admin: &Client, product: &Value, stock: i64) -> i64 {
    let id = &product["id"];
    admin.patch(&format!("/api/v1/stores/s1/products/{id}"), json!({"stock": stock})).await.assert_status(200);
    let sale = json!({"lines": [{"product_id": id, "quantity": 1}]});
    admin.post("/api/v1/stores/s1/sales", sale).await.assert_status(201);
    let r = admin.patch("/api/v1/stores/s1/dashboard", json!({"visitors_today": 5000 + stock})).await;
    r.assert_status(200);
    r.json["seq"].as_i64().unwrap()
}

/// Applies batches until `goal`; the events and the other frames seen.
async fn until(ws: &mut Ws, applied: &mut i64, goal: i64) -> (Vec<Value>, Vec<Value>) {
    let (mut events, mut others) = (Vec::new(), Vec::new());
    while *applied < goal {
        let frame = ws.next().await;
        if frame["type"] == "batch" {
            events.extend(apply_batch(applied, &frame));
        } else {
            others.push(frame);
        }
    }
    (events, others)
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

#[actix_web::test]
async fn a_paused_topic_resumes_by_replay_without_a_snapshot() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let product = admin.first_product("s1").await;
    let mut ws = app.ws(&admin).await;
    let mut applied = subscribed(&mut ws).await;

    ws.send(json!({"type": "set_topics", "id": 1, "store": "s1", "topics": ["dashboard", "sales"]})).await;
    let paused = ws.next_of("topics").await;
    assert_eq!(
        (&paused["ref"], &paused["mode"], &paused["topics"]),
        (&json!(1), &json!("live"), &json!(["dashboard", "sales"]))
    );
    let paused_at = paused["seq"].as_i64().unwrap();
    assert_eq!(paused_at, applied);

    let goal = write_each_kind(&admin, &product, 4321).await;
    let (events, others) = until(&mut ws, &mut applied, goal).await;
    assert_eq!(kinds(&events), ["sales.updated", "dashboard.updated"], "no product events while paused");
    assert!(events[0]["data"].get("products").is_none(), "the short sale while products are paused");
    assert!(others.iter().all(|f| f["type"] != "page"), "no pages while paused: {others:?}");

    ws.send(json!({"type": "set_topics", "id": 2, "store": "s1", "topics": ["dashboard", "sales", "products", "presence"], "since": paused_at})).await;
    let resumed = ws.next_of("topics").await;
    assert_eq!(
        (&resumed["mode"], &resumed["since"], &resumed["seq"]),
        (&json!("replay"), &json!(paused_at), &json!(goal))
    );
    // The client goes back to where it paused and takes what it missed.
    let mut caught_up = paused_at;
    let (missed, others) = until(&mut ws, &mut caught_up, goal).await;
    assert_eq!(kinds(&missed), ["product.updated", "sales.updated"]);
    assert_eq!(missed[0]["data"]["stock"], 4321);
    assert!(missed[1]["data"]["products"].is_array(), "the sale again, with the product figures");
    assert!(others.iter().all(|f| f["type"] != "snapshot"), "{others:?}");
    let page = ws.next_of("page").await;
    assert_eq!(page["seq"], goal);
    assert_eq!(ws.next_of("presence").await["admins"], 1);

    // Live again: the next product edit arrives.
    let r = admin.patch(&format!("/api/v1/stores/s1/products/{}", product["id"]), json!({"stock": 9})).await;
    let (events, _) = until(&mut ws, &mut caught_up, r.json["seq"].as_i64().unwrap()).await;
    assert_eq!(kinds(&events), ["product.updated"]);

    ws.send(json!({"type": "set_topics", "id": 3, "store": "s1", "topics": []})).await;
    assert_eq!(ws.next_of("error").await["code"], "invalid_field");
}

/// Pauses products with a history ring of two events and `max_replay`,
/// makes three writes, resumes; the server, the `topics` answer, the
/// socket and the seq products were paused at.
async fn resume_past_the_ring(max_replay: i64) -> (common::TestApp, Value, Ws, i64) {
    let app = common::spawn_app_with(|c| {
        c.history_size = 2;
        c.max_replay = max_replay;
    })
    .await;
    let admin = app.login("admin").await;
    let product = admin.first_product("s1").await;
    let mut ws = app.ws(&admin).await;
    let mut applied = subscribed(&mut ws).await;
    ws.send(json!({"type": "set_topics", "store": "s1", "topics": ["dashboard"]})).await;
    let paused_at = ws.next_of("topics").await["seq"].as_i64().unwrap();
    let goal = write_each_kind(&admin, &product, 77).await;
    let (events, _) = until(&mut ws, &mut applied, goal).await;
    assert_eq!(kinds(&events), ["dashboard.updated"]);
    ws.send(json!({"type": "set_topics", "store": "s1", "topics": ["dashboard", "products"], "since": paused_at}))
        .await;
    let resumed = ws.next_of("topics").await;
    assert_eq!(resumed["seq"], goal);
    (app, resumed, ws, paused_at)
}

#[actix_web::test]
async fn a_pause_longer_than_the_history_ring_resumes_from_the_events_table() {
    let (_app, resumed, mut ws, paused_at) = resume_past_the_ring(10_000).await;
    assert_eq!(resumed["mode"], "replay");
    let mut caught_up = paused_at;
    let (missed, others) = until(&mut ws, &mut caught_up, resumed["seq"].as_i64().unwrap()).await;
    // Sales stay off: only what `products` wants comes back.
    assert_eq!(kinds(&missed), ["product.updated"]);
    assert_eq!(missed[0]["data"]["stock"], 77);
    assert!(others.iter().all(|f| f["type"] != "snapshot"), "{others:?}");
}

#[actix_web::test]
async fn a_pause_longer_than_max_replay_resumes_with_a_snapshot() {
    let (_app, resumed, mut ws, _) = resume_past_the_ring(2).await;
    assert_eq!(resumed["mode"], "snapshot");
    let snapshot = ws.next_of("snapshot").await;
    assert_eq!(snapshot["seq"], resumed["seq"]);
    assert_eq!(snapshot["page"]["rows"][0]["stock"], 76, "the edit, then the sale of one");
}
