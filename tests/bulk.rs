//! Bulk changes: one change to many products in one write, all or nothing,
//! seen by subscribers as one batch, undone by a restore.

mod common;

use std::time::Duration;

use serde_json::{json, Value};

const BULK: &str = "/api/v1/stores/s1/products/bulk";

/// Three new products of s1 priced 999, 1000 and 5; their ids.
async fn three_products(admin: &common::Client) -> Vec<i64> {
    let mut ids = Vec::new();
    for (sku, price) in [("BULK-A", 999), ("BULK-B", 1000), ("BULK-C", 5)] {
        ids.push(admin.create_product("s1", sku, price).await["id"].as_i64().unwrap());
    }
    ids
}

async fn product(admin: &common::Client, id: i64) -> Value {
    let r = admin.get(&format!("/api/v1/stores/s1/products/{id}")).await;
    r.assert_status(200);
    r.json
}

async fn seq(admin: &common::Client) -> i64 {
    admin.get("/api/v1/stores/s1/products?page_size=1").await.json["seq"].as_i64().unwrap()
}

#[actix_web::test]
async fn a_bulk_change_is_one_write_one_seq_range_and_one_batch_and_a_restore_undoes_it() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let ids = three_products(&admin).await;
    let mut ws = app.ws(&admin).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["products"]})).await;
    let mut applied = ws.next_of("snapshot").await["seq"].as_i64().unwrap();

    let change = json!({"op": "scale_price", "percent": 10, "rounding": "nearest"});
    let preview = admin.post(BULK, json!({"ids": ids, "change": change, "dry_run": true})).await;
    preview.assert_status(200);
    assert_eq!((preview.json["matched"].as_u64(), preview.json["changed"].as_u64()), (Some(3), Some(3)));
    assert_eq!(seq(&admin).await, applied, "a dry run writes nothing");
    let previewed: Vec<i64> =
        preview.json["after"].as_array().unwrap().iter().map(|r| r["price"].as_i64().unwrap()).collect();
    assert_eq!(previewed, [1099, 1100, 6], "the preview shows the products as the change leaves them");

    let r = admin.post(BULK, json!({"ids": ids, "change": change})).await;
    r.assert_status(200);
    assert!(r.json.get("after").is_none(), "only a dry run previews");
    let (first, last) = (r.json["first_seq"].as_i64().unwrap(), r.json["seq"].as_i64().unwrap());
    assert_eq!((first, last), (applied + 1, applied + 3), "one contiguous range: {}", r.json);
    let prices: Vec<Value> = futures_util::future::join_all(ids.iter().map(|id| product(&admin, *id))).await;
    let prices: Vec<i64> = prices.iter().map(|p| p["price"].as_i64().unwrap()).collect();
    assert_eq!(prices, [1099, 1100, 6]); // 1098.9, 1100, 5.5 rounded half away from zero

    let batch = ws.next_of("batch").await;
    let events = common::apply_batch(&mut applied, &batch);
    assert_eq!(events.len(), 3, "one batch carries the whole change: {batch}");
    assert!(events.iter().all(|e| e["kind"] == "product.updated"));
    assert_eq!(applied, last);

    let undo = admin.post(BULK, json!({"change": {"op": "restore", "rows": r.json["before"]}})).await;
    undo.assert_status(200);
    assert_eq!(undo.json["changed"], 3);
    for (id, price) in ids.iter().zip([999, 1000, 5]) {
        assert_eq!(product(&admin, *id).await["price"], price);
    }
}

#[actix_web::test]
async fn a_filter_selects_and_one_failing_product_refuses_the_whole_change() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let ids = three_products(&admin).await;

    let archive = json!({"filter": {"q": "BULK-"}, "change": {"op": "set_status", "status": "archived"}});
    let r = admin.post(BULK, archive).await;
    r.assert_status(200);
    assert_eq!(r.json["matched"], 3);
    for id in &ids {
        assert_eq!(product(&admin, *id).await["status"], "archived");
    }

    // 5 - 6 is below zero: nothing changes, and the product is named.
    let before = seq(&admin).await;
    let r = admin.post(BULK, json!({"ids": ids, "change": {"op": "add_to_price", "amount": -6}})).await;
    r.assert_error(422, "invalid_field");
    assert_eq!(r.json["error"]["details"]["rows"][0]["id"], ids[2]);
    assert_eq!(r.json["error"]["details"]["rows"].as_array().unwrap().len(), 1);
    assert_eq!(seq(&admin).await, before);
    assert_eq!(product(&admin, ids[0]).await["price"], 999);

    // Another store's product is no product of this one.
    let foreign = admin.create_product("s2", "BULK-S2", 100).await["id"].as_i64().unwrap();
    let r = admin.post(BULK, json!({"ids": [ids[0], foreign], "change": {"op": "set_stock", "stock": 1}})).await;
    r.assert_error(422, "invalid_field");
    assert_eq!(r.json["error"]["details"]["rows"][0]["id"], foreign);
    assert_eq!(product(&admin, ids[0]).await["stock"], 10);

    let r = admin.post(BULK, json!({"ids": ids, "change": {"op": "delete"}})).await;
    r.assert_status(200);
    assert_eq!(r.json["changed"], 3);
    admin.get(&format!("/api/v1/stores/s1/products/{}", ids[0])).await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn bad_bulk_requests_get_clear_errors_and_change_nothing() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let ids = three_products(&admin).await;
    let before = seq(&admin).await;
    let stock = json!({"op": "add_to_stock", "amount": 1});
    let too_many: Vec<i64> = (1..=10_001).collect();
    let cases = [
        (json!({"ids": [], "change": stock}), 422, "invalid_field"),
        (json!({"change": stock}), 422, "invalid_field"),
        (json!({"ids": ids, "filter": {"q": "BULK"}, "change": stock}), 422, "invalid_field"),
        (json!({"ids": too_many, "change": stock}), 422, "limit_exceeded"),
        (json!({"filter": {"q": "no such product anywhere"}, "change": stock}), 422, "invalid_field"),
        (json!({"filter": {"q": "x".repeat(101)}, "change": stock}), 422, "invalid_field"),
        (json!({"ids": ids, "change": {"op": "scale_price", "percent": 1.005}}), 422, "invalid_field"),
        (json!({"ids": ids, "change": {"op": "scale_price", "percent": -101}}), 422, "invalid_field"),
        (json!({"ids": ids, "change": {"op": "add_to_price", "amount": i64::MIN}}), 422, "invalid_field"),
        (json!({"ids": ids, "change": {"op": "set_stock", "stock": -1}}), 422, "invalid_field"),
        (json!({"ids": ids, "change": {"op": "restore", "rows": []}}), 422, "invalid_field"),
        (json!({"ids": ids, "change": {"op": "melt"}}), 422, "invalid_field"),
        (json!({"ids": ids, "change": {"op": "delete"}, "everything": true}), 422, "invalid_field"),
        (json!({"ids": ["one"], "change": stock}), 422, "invalid_field"),
    ];
    for (body, status, code) in cases {
        let r = admin.post(BULK, body.clone()).await;
        assert_eq!((r.status.as_u16(), r.json["error"]["code"].as_str()), (status, Some(code)), "{body}: {}", r.json);
    }
    assert_eq!(seq(&admin).await, before);

    let viewer = app.login("viewer").await;
    viewer.post(BULK, json!({"ids": ids, "change": stock})).await.assert_error(403, "forbidden");
    let mut ws = app.ws(&admin).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["products"]})).await;
    ws.next_of("snapshot").await;
    ws.assert_none_of("batch", Duration::from_millis(300)).await;
}
