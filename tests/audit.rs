//! The audit trail: a store's events filtered by entity, kind, principal and
//! time, paged by cursor, exported as CSV and JSON Lines, for store admins.

mod common;

use serde_json::{json, Value};

const AUDIT: &str = "/api/v1/stores/s1/audit";

fn seqs(page: &Value) -> Vec<i64> {
    page["events"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect()
}

#[actix_web::test]
async fn the_audit_trail_filters_pages_and_exports_the_stores_changes() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let editor = app.login("editor").await;
    let start = admin.get(AUDIT).await;
    start.assert_status(200);
    let product = editor.create_product("s1", "AUDIT-1", 100).await;
    let id = product["id"].as_i64().unwrap();
    editor.patch(&format!("/api/v1/stores/s1/products/{id}"), json!({"price": 200})).await.assert_status(200);
    admin.patch("/api/v1/stores/s1/dashboard", json!({"notice": "audited"})).await.assert_status(200);
    admin.create_product("s2", "AUDIT-S2", 100).await;

    let after = start.json["events"].as_array().unwrap().last().map_or(0, |e| e["seq"].as_i64().unwrap());
    let all = admin.get(&format!("{AUDIT}?after={after}")).await;
    assert_eq!(seqs(&all.json).len(), 3, "only this store's changes: {}", all.json);

    let by_editor = admin.get(&format!("{AUDIT}?after={after}&principal=user:editor")).await;
    let kinds: Vec<&str> =
        by_editor.json["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["product.created", "product.updated"]);
    let of_product = admin.get(&format!("{AUDIT}?entity={id}&kind=product.updated")).await;
    assert_eq!(of_product.json["events"][0]["data"]["price"], 200);
    assert_eq!(of_product.json["events"].as_array().unwrap().len(), 1);
    let future = admin.get(&format!("{AUDIT}?after={after}&from=2999-01-01T00:00:00Z")).await;
    assert_eq!(seqs(&future.json).len(), 0);
    let past = admin.get(&format!("{AUDIT}?after={after}&to=2001-01-01T00:00:00Z")).await;
    assert_eq!(seqs(&past.json).len(), 0);

    // One event a page, by cursor, gives the same events.
    let mut paged = Vec::new();
    let mut cursor = Some(after);
    while let Some(c) = cursor {
        let page = admin.get(&format!("{AUDIT}?after={c}&limit=1")).await;
        paged.extend(seqs(&page.json));
        cursor = page.json["next_after"].as_i64();
        assert!(paged.len() <= 3, "the cursor must end");
    }
    assert_eq!(paged, seqs(&all.json));

    let csv = admin.get(&format!("{AUDIT}?after={after}&format=csv")).await;
    csv.assert_status(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), ["seq", "at", "kind", "entity_id", "by", "data"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[1][2], "product.updated");
    assert_eq!(serde_json::from_str::<Value>(&rows[1][5]).unwrap()["price"], 200);

    let lines = admin.get(&format!("{AUDIT}?after={after}&format=ndjson&limit=2")).await;
    lines.assert_status(200);
    let events: Vec<Value> = lines.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 2);
    assert_eq!(lines.header("x-storesync-next-after"), Some(events[1]["seq"].to_string().as_str()));
}

#[actix_web::test]
async fn only_store_admins_read_the_audit_trail_and_bad_queries_are_refused() {
    let app = common::spawn_app().await;
    app.login("editor").await.get(AUDIT).await.assert_error(403, "forbidden");
    app.login("viewer").await.get(AUDIT).await.assert_error(403, "forbidden");
    let admin = app.login("admin").await;
    for query in [
        "kind=product.melted",
        "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
        "limit=0",
        "limit=5001",
        "after=-1",
    ] {
        admin.get(&format!("{AUDIT}?{query}")).await.assert_error(422, "invalid_field");
    }
    for query in ["from=yesterday", "format=xml", "everything=1", "entity=one"] {
        admin.get(&format!("{AUDIT}?{query}")).await.assert_error(400, "bad_request");
    }
    admin.get("/api/v1/stores/s9/audit").await.assert_error(404, "not_found");
}
