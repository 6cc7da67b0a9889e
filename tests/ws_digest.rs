//! Consistency digests over real WebSockets: the digest in snapshots, in
//! page frames and on request agrees with the store's state (read back over
//! REST) after writes of every kind; an older seq is answered from the
//! store's recent digests and an unknown one with none; a client-reported
//! `digest_mismatch` resync shows in /metrics; `storesync load` checks its
//! subscribers' state against the digests and finds no mismatch.

mod common;

use common::{apply_batch, Client, Ws};
use serde_json::{json, Value};
use storesync::model::digest::{page_digest, row_hash};
use storesync::model::Product;

/// Every product of `store`, over REST.
async fn all_products(admin: &Client, store: &str) -> Vec<Product> {
    let mut all = Vec::new();
    for page in 1.. {
        let r = admin.get(&format!("/api/v1/stores/{store}/products?page_size=200&page={page}")).await;
        let rows: Vec<Product> = serde_json::from_value(r.json["rows"].clone()).unwrap();
        if rows.is_empty() {
            return all;
        }
        all.extend(rows);
    }
    unreachable!()
}

/// The store's digest as computed from its state read over REST.
async fn expected(admin: &Client, store: &str) -> Value {
    let products = all_products(admin, store).await;
    let sum = products.iter().fold(0u32, |s, p| s.wrapping_add(row_hash(p.id, p.version)));
    let dashboard = admin.get(&format!("/api/v1/stores/{store}/dashboard")).await.json["version"].clone();
    json!({"products": sum, "count": products.len(), "dashboard": dashboard})
}

fn parts(digest: &Value) -> Value {
    json!({"products": digest["products"], "count": digest["count"], "dashboard": digest["dashboard"]})
}

/// A page frame's (or a snapshot's page's) digest, recomputed from its rows.
fn recomputed(page: &Value) -> Value {
    let rows: Vec<Product> = serde_json::from_value(page["rows"].clone()).unwrap();
    json!(page_digest(page["total"].as_u64().unwrap() as usize, &rows))
}

#[actix_web::test]
async fn digests_in_snapshots_pages_and_answers_agree_with_the_state() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let mut ws = app.ws(&admin).await;
    let view = json!({"page_size": 10, "sort": "price", "dir": "desc"});
    ws.subscribe(json!({"type": "subscribe", "store": "s1", "view": view})).await;
    let snapshot = ws.next_of("snapshot").await;
    let mut applied = snapshot["seq"].as_i64().unwrap();
    assert_eq!(snapshot["digest"]["seq"], snapshot["seq"]);
    assert_eq!(snapshot["digest"]["dashboard"], snapshot["dashboard"]["version"]);
    assert_eq!(parts(&snapshot["digest"]), expected(&admin, "s1").await);
    assert_eq!(snapshot["page"]["digest"], recomputed(&snapshot["page"]));

    // Writes of every kind: an edit, a new product that tops the page, a
    // sale, a dashboard change, a delete.
    let first = admin.first_product("s1").await;
    admin.patch(&format!("/api/v1/stores/s1/products/{}", first["id"]), json!({"stock": 7})).await.assert_status(200);
    let created = admin.create_product("s1", "DIGEST-1", 9_999_999).await;
    let sale = json!({"lines": [{"product_id": created["id"], "quantity": 2}]});
    admin.post("/api/v1/stores/s1/sales", sale).await.assert_status(201);
    admin.patch("/api/v1/stores/s1/dashboard", json!({"notice": "checked"})).await.assert_status(200);
    let last = admin.delete(&format!("/api/v1/stores/s1/products/{}", first["id"])).await;
    let goal = last.json["seq"].as_i64().unwrap_or_else(|| panic!("delete answered {}", last.json));
    let mut page = Value::Null;
    while applied < goal {
        let frame = ws.next().await;
        match frame["type"].as_str() {
            Some("batch") => {
                apply_batch(&mut applied, &frame);
            }
            Some("page") => {
                assert_eq!(frame["digest"], recomputed(&frame), "a page frame's digest is its rows'");
                page = frame;
            }
            _ => {}
        }
    }
    assert_eq!(page["rows"][0]["id"], created["id"], "the new product tops the page");

    ws.send(json!({"type": "digest", "id": "d1", "store": "s1", "seq": applied})).await;
    let answer = ws.next_of("digest").await;
    assert_eq!(
        (&answer["ref"], &answer["seq"], &answer["digest"]["seq"]),
        (&json!("d1"), &json!(applied), &json!(applied))
    );
    assert_eq!(parts(&answer["digest"]), expected(&admin, "s1").await);
    let now = admin.get("/api/v1/stores/s1/products?page_size=10&sort=price&dir=desc").await.json;
    assert_eq!(answer["page"], recomputed(&now), "the page digest is the subscriber's view now");

    // An older seq comes from the store's recent digests, without a page;
    // a seq the store never had gets none.
    ws.send(json!({"type": "digest", "store": "s1", "seq": snapshot["seq"]})).await;
    let older = ws.next_of("digest").await;
    assert_eq!(older["digest"], snapshot["digest"]);
    assert!(older.get("page").is_none(), "{older}");
    ws.send(json!({"type": "digest", "store": "s1", "seq": applied + 1000})).await;
    assert_eq!(ws.next_of("digest").await["digest"], Value::Null);

    // Without a subscription the request is refused.
    ws.send(json!({"type": "digest", "id": 9, "store": "s2", "seq": 1})).await;
    let refused = ws.next_of("error").await;
    assert_eq!((&refused["code"], &refused["ref"]), (&json!("not_found"), &json!(9)));
}

#[actix_web::test]
async fn a_client_reported_digest_mismatch_is_counted_by_reason() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let mut ws = Ws::open(&admin).await;
    let sub = ws.subscribe(json!({"type": "subscribe", "store": "s1", "resync": "digest_mismatch"})).await;
    assert_eq!(sub["mode"], "snapshot");
    let metrics = app.anonymous().get("/metrics").await.text;
    assert!(metrics.contains("storesync_resyncs_total{reason=\"digest_mismatch\"} 1"), "{metrics}");
    ws.send(json!({"type": "subscribe", "id": 2, "store": "s1", "resync": "bored"})).await;
    assert_eq!(ws.next_of("error").await["code"], "invalid_field");
}

#[test]
fn the_load_generator_checks_its_state_against_the_digests_and_finds_no_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _) = common::start_server(dir.path(), &[]);
    let _db = common::TestDatabase::of(dir.path());
    let (out, report) = common::run_load(&[&base], "10");
    let _ = child.kill();
    let _ = child.wait();
    assert!(out.status.success(), "run failed: {}\n{report}", String::from_utf8_lossy(&out.stderr));
    assert_eq!((&report["lost"], &report["digest_mismatches"]), (&json!(0), &json!(0)), "{report}");
    // A check a second during the 2 s run, and one at its end.
    assert!(report["digest_checks"].as_u64().unwrap() >= 2, "{report}");
}
