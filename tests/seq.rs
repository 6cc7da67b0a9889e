//! Seq and idempotency: concurrent writers get distinct, gap-free seqs that
//! `/events` returns in order; a retried write with the same key changes
//! nothing; a store actor restarted by its supervisor loses nothing.

mod common;

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::json;

#[actix_web::test]
async fn concurrent_writers_get_distinct_gap_free_seqs() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let product = editor.first_product("s1").await;
    let id = product["id"].as_i64().unwrap();
    let writers = 100;
    let tasks: Vec<_> = (0..writers)
        .map(|i| {
            let c = editor.clone();
            actix_web::rt::spawn(async move {
                let r = c.patch(&format!("/api/v1/stores/s1/products/{id}"), json!({"stock": i})).await;
                r.assert_status(200);
                r.json["seq"].as_i64().unwrap()
            })
        })
        .collect();
    let mut seqs = BTreeSet::new();
    for t in tasks {
        seqs.insert(t.await.unwrap());
    }
    // Some patches may set the stock it already had and produce no event;
    // every other one has its own seq.
    assert!(seqs.len() >= writers - 1, "distinct seqs: {}", seqs.len());
    let events = editor.get("/api/v1/stores/s1/events?since=0&limit=1000").await;
    let got: Vec<i64> = events.json["events"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    let expected: Vec<i64> = (1..=got.len() as i64).collect();
    assert_eq!(got, expected, "events are gap-free and ordered");
    assert_eq!(*seqs.last().unwrap(), got.len() as i64);
}

#[actix_web::test]
async fn a_retried_write_with_the_same_key_changes_nothing() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let product = editor.create_product("s1", "IDEM-1", 100).await;
    let id = product["id"].as_i64().unwrap();
    let sale = json!({"lines": [{"product_id": id, "quantity": 2}]});
    let send =
        || editor.request(Method::POST, "/api/v1/stores/s1/sales").header("idempotency-key", "order-42").json(&sale);
    let first = editor.send(send()).await;
    first.assert_status(201);
    let second = editor.send(send()).await;
    second.assert_status(201);
    assert_eq!(first.json, second.json, "the retry answers the first result");
    let p = editor.get(&format!("/api/v1/stores/s1/products/{id}")).await;
    assert_eq!(p.json["units_sold"], 2, "the sale counted once");
    let events = editor.get(&format!("/api/v1/stores/s1/events?since={}", product_seq(&first) - 1)).await;
    assert_eq!(events.json["events"].as_array().unwrap().len(), 1);

    let other = json!({"lines": [{"product_id": id, "quantity": 5}]});
    let reused = editor
        .send(
            editor.request(Method::POST, "/api/v1/stores/s1/sales").header("idempotency-key", "order-42").json(&other),
        )
        .await;
    reused.assert_error(422, "idempotency_key_reused");
    let bad_key = editor
        .send(editor.request(Method::POST, "/api/v1/stores/s1/sales").header("idempotency-key", "").json(&other))
        .await;
    bad_key.assert_error(400, "bad_request");
}

fn product_seq(r: &common::Resp) -> i64 {
    r.json["seq"].as_i64().unwrap()
}

#[actix_web::test]
async fn a_restarted_store_actor_reloads_everything_from_the_database() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let created = admin.create_product("s1", "RESTART-1", 700).await;
    let before = admin.get("/api/v1/stores/s1/snapshot").await;
    let mut ws = app.ws(&admin).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["dashboard"]})).await;
    admin.post("/api/v1/admin/stores/s1/reload", json!({})).await.assert_status(202);
    // Reads during and after the restart see the same committed state.
    let after = admin.get("/api/v1/stores/s1/snapshot").await;
    after.assert_status(200);
    assert_eq!(after.json["seq"], before.json["seq"]);
    assert_eq!(after.json["page"]["total"], before.json["page"]["total"]);
    let p = admin.get(&format!("/api/v1/stores/s1/products/{}", created["id"])).await;
    assert_eq!(p.json, created);
    let next = admin.create_product("s1", "RESTART-2", 1).await;
    let events = admin.get(&format!("/api/v1/stores/s1/events?since={}", before.json["seq"])).await;
    assert_eq!(events.json["events"][0]["entity_id"], next["id"]);
    // And it did reload: its subscriber is told to resync, and it counts.
    assert_eq!(ws.next_of("resync").await["reason"], "store_restart");
    assert_eq!(app.state.metrics.store("s1").restarts.get(), 1);
}
