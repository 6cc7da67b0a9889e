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
    // A time range from the second change on: the seqs it spans, no fewer.
    let second = all.json["events"][1]["at"].as_str().unwrap();
    let since = admin.get(&format!("{AUDIT}?from={}&to=2999-01-01T00:00:00Z", second.replace('+', "%2B"))).await;
    assert_eq!(seqs(&since.json), seqs(&all.json)[1..], "{}", since.json);

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

fn history(id: i64) -> String {
    format!("/api/v1/stores/s1/products/{id}/history")
}

/// `(field, before, after)` of each change of a history entry.
fn changes(entry: &Value) -> Vec<(String, Option<Value>, Value)> {
    entry["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["field"].as_str().unwrap().to_owned(), c.get("before").cloned(), c["after"].clone()))
        .collect()
}

#[actix_web::test]
async fn a_products_history_names_each_changed_field_before_and_after() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let editor = app.login("editor").await;
    let id = editor.create_product("s1", "HIST-1", 100).await["id"].as_i64().unwrap();
    let path = format!("/api/v1/stores/s1/products/{id}");
    editor.patch(&path, json!({"price": 250})).await.assert_status(200);
    // Another product's change in between is no part of this history.
    admin.create_product("s1", "HIST-2", 1).await;
    let bulk = json!({"ids": [id], "change": {"op": "add_to_stock", "amount": 5}});
    admin.post("/api/v1/stores/s1/products/bulk", bulk).await.assert_status(200);
    admin.patch(&path, json!({"price": 300, "status": "draft"})).await.assert_status(200);

    let h = admin.get(&history(id)).await;
    h.assert_status(200);
    let entries = h.json["entries"].as_array().unwrap();
    let kinds: Vec<&str> = entries.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["product.created", "product.updated", "product.updated", "product.updated"]);
    assert!(changes(&entries[0]).iter().all(|(_, before, _)| before.is_none()), "nothing before creation");
    assert!(changes(&entries[0]).contains(&("price".into(), None, json!(100))));
    assert_eq!(entries[1]["by"], "user:editor");
    assert_eq!(changes(&entries[1]), [("price".into(), Some(json!(100)), json!(250))]);
    assert_eq!(changes(&entries[2]), [("stock".into(), Some(json!(10)), json!(15))]);
    assert_eq!(entries[3]["by"], "user:admin");
    assert_eq!(
        changes(&entries[3]),
        [("price".into(), Some(json!(250)), json!(300)), ("status".into(), Some(json!("active")), json!("draft"))]
    );
    assert!(h.json["next_after"].is_null());

    // Paged by cursor: the before of a later page still comes from the earlier ones.
    let first = admin.get(&format!("{}?limit=2", history(id))).await;
    let cursor = first.json["next_after"].as_i64().unwrap();
    let rest = admin.get(&format!("{}?after={cursor}", history(id))).await;
    assert_eq!(rest.json["entries"].as_array().unwrap().as_slice(), &entries[2..]);

    // A deleted product's history stays readable.
    admin.delete(&path).await.assert_status(200);
    let h = admin.get(&history(id)).await;
    assert_eq!(h.json["entries"].as_array().unwrap().last().unwrap()["kind"], "product.deleted");
}

#[actix_web::test]
async fn product_histories_are_for_store_admins_and_unknown_products_are_not_found() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let seeded = admin.first_product("s1").await["id"].as_i64().unwrap();
    // A product never changed since it was seeded has an empty history.
    let h = admin.get(&history(seeded)).await;
    h.assert_status(200);
    assert_eq!(h.json["entries"], json!([]));
    // Its first change has no before: the trail does not reach its creation.
    admin.patch(&format!("/api/v1/stores/s1/products/{seeded}"), json!({"stock": 4321})).await.assert_status(200);
    let h = admin.get(&history(seeded)).await;
    assert_eq!(changes(&h.json["entries"][0]), [("stock".into(), None, json!(4321))]);

    app.login("editor").await.get(&history(seeded)).await.assert_error(403, "forbidden");
    admin.get(&history(999_999)).await.assert_error(404, "not_found");
    let foreign = admin.create_product("s2", "HIST-S2", 100).await["id"].as_i64().unwrap();
    admin.get(&history(foreign)).await.assert_error(404, "not_found");
    for query in ["limit=0", "limit=1001", "after=-1"] {
        admin.get(&format!("{}?{query}", history(seeded))).await.assert_error(422, "invalid_field");
    }
    for query in ["limit=many", "before=1"] {
        admin.get(&format!("{}?{query}", history(seeded))).await.assert_error(400, "bad_request");
    }
    admin.get("/api/v1/stores/s1/products/one/history").await.assert_error(400, "bad_request");
}
