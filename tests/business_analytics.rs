//! Live business analytics and custom KPIs, against sales the test writes
//! into a fresh store: the hourly comparison with the same weekday last
//! week, yesterday so far, conversion, top movers and the low-stock
//! forecast; KPI definitions written by store admins (kpi.saved reaches
//! subscribers), refused with a 422 naming the field when they do not
//! parse, evaluated live, and raised and cleared as alerts.

mod common;

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Timelike, Utc};
use reqwest::Method;
use serde_json::{json, Value};

/// Creates a store in UTC administered by `admin`, with products.
async fn store_with(admin: &common::Client, slug: &str, products: &[(&str, i64, i64)]) -> Vec<i64> {
    let body = json!({"slug": slug, "name": format!("Shop {slug}"), "currency": "USD", "time_zone": "UTC"});
    admin.post("/api/v1/admin/stores", body).await.assert_status(201);
    let mut ids = Vec::new();
    for (sku, price, stock) in products {
        let body =
            json!({"sku": sku, "name": format!("Item {sku}"), "price": price, "stock": stock, "status": "active"});
        let r = admin.post(&format!("/api/v1/stores/{slug}/products"), body).await;
        r.assert_status(201);
        ids.push(r.json["product"]["id"].as_i64().unwrap());
    }
    ids
}

/// Records a sale; answers when it was recorded.
async fn sell(
    admin: &common::Client,
    store: &str,
    product: i64,
    quantity: i64,
    at: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let mut body = json!({"lines": [{"product_id": product, "quantity": quantity}]});
    if let Some(at) = at {
        body["at"] = json!(at);
    }
    let r = admin.post(&format!("/api/v1/stores/{store}/sales"), body).await;
    r.assert_status(201);
    r.json["sale"]["at"].as_str().unwrap().parse().unwrap()
}

fn totals(orders: i64, units: i64, revenue: i64) -> Value {
    json!({"orders": orders, "units": units, "revenue": revenue})
}

#[actix_web::test]
async fn analytics_match_the_sales_written() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let ids = store_with(&admin, "biz", &[("A", 1000, 10), ("B", 500, 100), ("C", 200, 3)]).await;
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    let now = Utc::now();
    let today = sell(&admin, "biz", a, 2, None).await;
    sell(&admin, "biz", b, 3, Some(now - Duration::days(1))).await;
    let last_week = sell(&admin, "biz", c, 1, Some(now - Duration::days(7))).await;
    sell(&admin, "biz", c, 2, Some(now - Duration::days(2))).await;
    let dashboard = admin.request(Method::PATCH, "/api/v1/stores/biz/dashboard").json(&json!({"visitors_today": 4}));
    admin.send(dashboard).await.assert_status(200);

    let r = admin.get("/api/v1/stores/biz/analytics").await;
    r.assert_status(200);
    let an = &r.json;
    assert_eq!(an["day"], json!(today.date_naive()), "{an}");
    assert_eq!(an["compare_day"], json!(today.date_naive() - Duration::days(7)));
    assert_eq!(an["today"]["revenue"][today.hour() as usize], 2000);
    assert_eq!(an["today"]["units"].as_array().unwrap().iter().map(|u| u.as_i64().unwrap()).sum::<i64>(), 2);
    assert_eq!(an["today_so_far"], totals(1, 2, 2000));
    assert_eq!(an["yesterday_so_far"], totals(1, 3, 1500));
    assert_eq!(an["last_week"]["revenue"][last_week.hour() as usize], 200);
    assert_eq!(an["last_week_so_far"], totals(1, 1, 200));
    assert_eq!((&an["visitors_today"], &an["conversion_bp"]), (&json!(4), &json!(2500)));
    // A leads today, B led yesterday: each moved one place.
    let movers: Vec<(i64, i64)> = an["top_movers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_i64().unwrap(), m["change"].as_i64().unwrap()))
        .collect();
    assert_eq!(movers, [(a, 1), (b, -1)]);
    // C sold 2 in the last 7 days and has none left; A has 8 at 2 a week.
    let low: Vec<(i64, f64)> = an["low_stock"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_i64().unwrap(), f["days_left"].as_f64().unwrap()))
        .collect();
    assert_eq!(low, [(c, 0.0)]);

    // The next sale is in the next answer.
    sell(&admin, "biz", b, 1, None).await;
    let r = admin.get("/api/v1/stores/biz/analytics").await;
    assert_eq!(r.json["today_so_far"], totals(2, 3, 2500));

    // Readers of a store only.
    let viewer = app.login("viewer").await;
    viewer.get("/api/v1/stores/s1/analytics").await.assert_status(200);
    viewer.get("/api/v1/stores/biz/analytics").await.assert_error(404, "not_found");
    app.anonymous().get("/api/v1/stores/biz/analytics").await.assert_status(401);
}

/// The KPI alerts firing now, as `admin` sees them.
async fn kpi_alerts(admin: &common::Client) -> Vec<String> {
    let r = admin.get("/api/v1/admin/alerts").await;
    r.assert_status(200);
    r.json
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["name"] == "kpi_breached")
        .map(|a| a["message"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls the alerts until `done` holds (the watcher runs every second here).
async fn wait_for_alerts(admin: &common::Client, done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = std::time::Instant::now() + StdDuration::from_secs(30);
    loop {
        let alerts = kpi_alerts(admin).await;
        if done(&alerts) || std::time::Instant::now() > deadline {
            return alerts;
        }
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
}

#[actix_web::test]
async fn a_stock_kpi_fires_and_clears_as_an_alert() {
    let app = common::spawn_app_with(|c| c.health_sample_secs = 1).await;
    let admin = app.login("admin").await;
    let ids = store_with(&admin, "kp", &[("A", 1000, 10), ("B", 500, 100)]).await;
    let mut ws = app.ws(&admin).await;
    let subscribed = ws.subscribe(json!({"type": "subscribe", "store": "kp", "topics": ["dashboard"]})).await;
    let mut applied = subscribed["seq"].as_i64().unwrap();

    let put = admin
        .request(Method::PUT, "/api/v1/stores/kp/kpis/Low%20stock")
        .json(&json!({"metric": "min_active_stock", "op": "<", "threshold": 5}));
    let saved = admin.send(put).await;
    saved.assert_status(200);
    assert_eq!(saved.json["definition"]["metric"], "min_active_stock");
    let batch = ws.next_of("batch").await;
    let events = common::apply_batch(&mut applied, &batch);
    assert_eq!((&events[0]["kind"], &events[0]["data"]["name"]), (&json!("kpi.saved"), &json!("Low stock")));

    let kpis = admin.get("/api/v1/stores/kp/kpis").await;
    assert_eq!((&kpis.json[0]["status"], &kpis.json[0]["value"]), (&json!("ok"), &json!(10.0)), "{}", kpis.text);

    // A sale takes A's stock to 3: breached now, and an alert soon.
    sell(&admin, "kp", ids[0], 7, None).await;
    let kpis = admin.get("/api/v1/stores/kp/kpis").await;
    assert_eq!((&kpis.json[0]["status"], &kpis.json[0]["value"]), (&json!("breached"), &json!(3.0)));
    let alerts = wait_for_alerts(&admin, |a| !a.is_empty()).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].contains("store kp: KPI \"Low stock\": min_active_stock is 3"), "{alerts:?}");
    // Only readers of the store see it.
    let editor = app.login("editor").await;
    let editor_alerts = editor.get("/api/v1/admin/alerts").await;
    assert_eq!(editor_alerts.status.as_u16(), 403, "{}", editor_alerts.text);

    // Restocked: the KPI is ok again and the alert clears.
    let restock =
        admin.request(Method::PATCH, &format!("/api/v1/stores/kp/products/{}", ids[0])).json(&json!({"stock": 50}));
    admin.send(restock).await.assert_status(200);
    assert_eq!(admin.get("/api/v1/stores/kp/kpis").await.json[0]["status"], "ok");
    assert!(wait_for_alerts(&admin, |a| a.is_empty()).await.is_empty(), "the alert clears");

    // Deleting the KPI is a write subscribers hear of.
    admin.delete("/api/v1/stores/kp/kpis/Low%20stock").await.assert_status(200);
    let batch = ws.next_of("batch").await;
    let events = common::apply_batch(&mut applied, &batch);
    assert!(events.iter().any(|e| e["kind"] == "kpi.deleted"), "{batch}");
    assert_eq!(admin.get("/api/v1/stores/kp/kpis").await.json, json!([]));
}

#[actix_web::test]
async fn kpi_definitions_that_do_not_parse_and_roles_are_refused() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let editor = app.login("editor").await;
    let viewer = app.login("viewer").await;
    let put = |client: &common::Client, name: &str, body: Value| {
        client.request(Method::PUT, &format!("/api/v1/stores/s1/kpis/{name}")).json(&body)
    };
    let bad = [
        (json!({"metric": "profit", "op": "<", "threshold": 5}), "metric"),
        (json!({"metric": "revenue_today", "op": "=<", "threshold": 5}), "op"),
        (json!({"metric": "revenue_today", "op": "<", "threshold": "60%"}), "threshold"),
        (json!({"metric": "revenue_today", "op": "<", "threshold": 5, "after": "6pm"}), "after"),
        (json!({"metric": "revenue_today", "op": "<", "threshold": 5, "window": "day"}), "window"),
        (json!(["revenue_today"]), "body"),
    ];
    for (body, field) in bad {
        let r = admin.send(put(&admin, "k", body.clone())).await;
        r.assert_error(422, "invalid_field");
        assert_eq!(r.json["error"]["details"]["field"], field, "{body}: {}", r.text);
    }
    let target = json!({"metric": "target_percent", "op": "<", "threshold": 60, "after": "18:00"});
    admin.send(put(&admin, "a%2Fb", target.clone())).await.assert_error(422, "invalid_field");
    let not_json =
        admin.request(Method::PUT, "/api/v1/stores/s1/kpis/k").header("content-type", "application/json").body("{");
    admin.send(not_json).await.assert_status(400);

    // Store admins define; editors and viewers see.
    editor.send(put(&editor, "Target", target.clone())).await.assert_error(403, "forbidden");
    admin.send(put(&admin, "Target", target)).await.assert_status(200);
    let listed = viewer.get("/api/v1/stores/s1/kpis").await;
    listed.assert_status(200);
    assert_eq!(listed.json[0]["name"], "Target");
    assert_eq!(listed.json[0]["definition"]["after"], "18:00");
    viewer.delete("/api/v1/stores/s1/kpis/Target").await.assert_error(403, "forbidden");
    admin.delete("/api/v1/stores/s1/kpis/Nope").await.assert_error(404, "not_found");
    viewer.get("/api/v1/stores/s3/kpis").await.assert_error(404, "not_found");
}
