//! Dates and times at the calendar's edges: every date or time input is
//! checked against its window and refused with `422 invalid_field`, and a
//! bad write never takes the other writes of its group commit down with it
//! (no `503`, no `resync store_restart`).

mod common;

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::{json, Value};

fn sale(product: i64, at: &str) -> Value {
    json!({"lines": [{"product_id": product, "quantity": 1}], "at": at})
}

#[actix_web::test]
async fn sales_dated_outside_2000_to_tomorrow_are_refused_with_invalid_field() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let product = editor.first_product("s1").await["id"].as_i64().unwrap();
    let day_after_tomorrow = (Utc::now() + TimeDelta::days(2)).to_rfc3339();
    for at in [
        "-262143-01-01T00:00:00Z",
        "+262142-12-31T23:59:59Z",
        "1900-01-01T00:00:00Z",
        "1999-12-31T23:59:59Z",
        day_after_tomorrow.as_str(),
    ] {
        let r = editor.post("/api/v1/stores/s1/sales", sale(product, at)).await;
        r.assert_error(422, "invalid_field");
        assert_eq!(r.json["error"]["details"]["field"], "at", "{at}");
    }
    // Beyond chrono's range the JSON itself does not parse: still a 422.
    editor.post("/api/v1/stores/s1/sales", sale(product, "+262143-01-01T00:00:00Z")).await.assert_status(422);
    for at in ["2000-01-01T00:00:00Z", &Utc::now().to_rfc3339()] {
        editor.post("/api/v1/stores/s1/sales", sale(product, at)).await.assert_status(201);
    }
    // Every store, whatever its zone, still answers.
    editor.get("/api/v1/stores/s1/sales/summary").await.assert_status(200);
}

#[actix_web::test]
async fn daily_sales_days_outside_2000_to_2100_are_refused_with_invalid_field() {
    let app = common::spawn_app().await;
    let viewer = app.login("viewer").await;
    for (query, field) in [
        ("from=-262143-01-01&to=-262143-01-07", "to"),
        ("from=%2B262142-12-01&to=%2B262142-12-31", "to"),
        ("from=1999-12-31&to=2000-01-05", "from"),
        ("from=2101-01-01&to=2101-01-02", "to"),
        ("to=2000-01-10", "from"),
        // 367 days, and from after to.
        ("from=2020-01-01&to=2021-01-01", "from"),
        ("from=2020-02-02&to=2020-02-01", "from"),
    ] {
        let r = viewer.get(&format!("/api/v1/stores/s1/sales/daily?{query}")).await;
        r.assert_error(422, "invalid_field");
        assert_eq!(r.json["error"]["details"]["field"], field, "{query}");
    }
    let r = viewer.get("/api/v1/stores/s1/sales/daily?from=2100-12-01&to=2100-12-31").await;
    assert_eq!(r.assert_status(200).json.as_array().unwrap().len(), 31);
    let r = viewer.get("/api/v1/stores/s1/sales/daily?from=2020-01-01&to=2020-12-31").await;
    assert_eq!(r.assert_status(200).json.as_array().unwrap().len(), 366);
}

#[actix_web::test]
async fn token_lifetimes_outside_0_to_3650_days_are_refused_with_invalid_field() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    for days in [json!(3651), json!(u32::MAX), json!(u64::MAX), json!(-1)] {
        let body = json!({"name": "edge", "role": "viewer", "stores": ["s1"], "expires_in_days": days});
        admin.post("/api/v1/admin/tokens", body).await.assert_error(422, "invalid_field");
    }
    let body = json!({"name": "edge", "role": "viewer", "stores": ["s1"], "expires_in_days": 3650});
    admin.post("/api/v1/admin/tokens", body).await.assert_status(201);
}

#[actix_web::test]
async fn a_bad_sale_amid_concurrent_writes_fails_alone_without_a_store_restart() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let product = editor.first_product("s1").await["id"].as_i64().unwrap();
    let mut ws = app.ws(&editor).await;
    let subscribed = ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["dashboard"]})).await;
    let mut seen = subscribed["seq"].as_i64().unwrap();

    // Twenty good writes and one bad sale in flight together, so that the
    // store actor groups them into the same commits.
    let good = (0..20).map(|i| {
        let editor = editor.clone();
        async move { editor.patch("/api/v1/stores/s1/dashboard", json!({"notice": format!("n{i}")})).await }
    });
    let bad = editor.post("/api/v1/stores/s1/sales", sale(product, "-262143-01-01T00:00:00Z"));
    let (good, bad) = futures_util::join!(futures_util::future::join_all(good), bad);
    bad.assert_error(422, "invalid_field");
    let mut last = 0;
    for r in &good {
        last = last.max(r.assert_status(200).json["seq"].as_i64().unwrap());
    }

    // Every good write reaches the subscriber, and nothing restarts.
    while seen < last {
        let frame = ws.next().await;
        assert_ne!(frame["type"], "resync", "{frame}");
        if frame["type"] == "batch" {
            seen = frame["to"].as_i64().unwrap();
        }
    }
    ws.assert_none_of("resync", Duration::from_secs(1)).await;
    let restarts = app.anonymous().get("/metrics").await.text;
    assert!(
        !restarts.lines().any(|l| l.starts_with("storesync_store_restarts_total") && !l.ends_with(" 0")),
        "{restarts}"
    );
}
