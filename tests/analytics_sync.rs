//! Sync performance analytics and daily health reports against a real
//! server: rows appear after real deliveries (node totals and per store),
//! the rollup into hours and the retention on rows put in the database,
//! reports made on demand and at the day boundary (JSON and HTML), early
//! warnings listed with the alerts, the 4xx answers to bad queries and
//! missing grants, and `--analytics off` recording nothing.

mod common;

use std::time::{Duration, Instant};

use chrono::{Duration as Span, NaiveDate, Utc};
use serde_json::{json, Value};
use storesync::db::queries::sync_stats::{self as stats, ReportRow, StatRow};
use storesync::ops::{analytics, report};

/// Polls `path` until `done` accepts its JSON (generous: a loaded machine).
async fn poll(client: &common::Client, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = client.get(path).await;
        r.assert_status(200);
        if done(&r.json) {
            return r.json;
        }
        assert!(Instant::now() < deadline, "{path} never matched: {}", r.text);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn total(series: &Value) -> f64 {
    series["points"].as_array().unwrap().iter().filter_map(|p| p["value"].as_f64()).sum()
}

fn row(store: &str, metric: &str, at: chrono::DateTime<Utc>, value: f64) -> StatRow {
    StatRow { node: "n1".into(), store: store.into(), metric: metric.into(), step_secs: 60, at: at.naive_utc(), value }
}

fn insert(app: &common::TestApp, rows: &[StatRow]) {
    stats::insert(&mut app.state.pool.get().unwrap(), rows).unwrap();
}

#[actix_web::test]
async fn deliveries_become_rows_per_node_and_per_store() {
    let app = common::spawn_app_with(|c| {
        c.analytics_interval_secs = 1;
        c.node_name = Some("node-a".into());
    })
    .await;
    let admin = app.login("admin").await;
    let mut ws = app.ws(&admin).await;
    let subscribed = ws.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    // A second client resumes from a seq: a reconnect.
    let mut again = app.ws(&admin).await;
    again.subscribe(json!({"type": "subscribe", "store": "s1", "since": subscribed["seq"]})).await;
    common::write_n(&admin, 3).await;
    ws.next_of("batch").await;
    let delivered = |s: &Value| total(s) >= 3.0;
    let node = poll(&admin, "/api/v1/admin/analytics/sync?metric=deliveries", delivered).await;
    assert_eq!(node["nodes"], json!(["node-a"]));
    assert_eq!((node["step"].as_i64(), node["kind"].as_str()), (Some(60), Some("count")));
    poll(&admin, "/api/v1/admin/analytics/sync?metric=deliveries&store=s1&node=node-a", delivered).await;
    poll(&admin, "/api/v1/admin/analytics/sync?metric=reconnects&store=s1", |s| total(s) >= 1.0).await;
    let p99 = poll(&admin, "/api/v1/admin/analytics/sync?metric=latency_p99_ms&store=s1", |s| total(s) > 0.0).await;
    assert_eq!(p99["kind"], "peak");
    poll(&admin, "/api/v1/admin/analytics/sync?metric=bytes_sent", |s| total(s) > 0.0).await;
    let other = admin.get("/api/v1/admin/analytics/sync?metric=deliveries&node=node-b").await;
    assert_eq!(total(&other.json), 0.0, "another node recorded nothing");
    // The early warnings are listed beside the alerts.
    let health = admin.get("/api/v1/admin/health").await;
    assert!(health.json["warnings"].is_array(), "{}", health.text);
}

#[actix_web::test]
async fn bad_queries_and_missing_grants_are_refused() {
    let app = common::spawn_app_with(|c| {
        c.analytics = storesync::config::Switch::Off;
        c.analytics_interval_secs = 1;
    })
    .await;
    let admin = app.login("admin").await;
    let editor = app.login("editor").await;
    let base = "/api/v1/admin/analytics/sync";
    admin.get(&format!("{base}?metric=deliveries&store=s1")).await.assert_status(200);
    editor.get(&format!("{base}?metric=deliveries")).await.assert_error(403, "forbidden");
    editor.get(&format!("{base}?metric=deliveries&store=s1")).await.assert_error(403, "forbidden");
    admin.get(&format!("{base}?metric=deliveries&store=nope")).await.assert_error(404, "not_found");
    // A store's own administrator reads that store's series, and only that.
    let r = admin.post("/api/v1/admin/users", json!({"username": "owner", "password": "long enough"})).await;
    let id = r.assert_status(201).json["id"].as_i64().unwrap();
    let grant = admin.request(reqwest::Method::PUT, &format!("/api/v1/admin/users/{id}/grants/s1"));
    admin.send(grant.json(&json!({"role": "admin"}))).await.assert_status(200);
    let login =
        app.anonymous().post("/api/v1/auth/login", json!({"username": "owner", "password": "long enough"})).await;
    let token = login.assert_status(200).json["token"].as_str().unwrap().to_owned();
    let owner = common::Client { token: Some(token), ..app.anonymous() };
    owner.get(&format!("{base}?metric=deliveries&store=s1")).await.assert_status(200);
    owner.get(&format!("{base}?metric=deliveries")).await.assert_error(403, "forbidden");
    owner.get(&format!("{base}?metric=deliveries&store=s2")).await.assert_error(404, "not_found");
    owner.get("/api/v1/admin/reports/today").await.assert_error(403, "forbidden");
    let now = Utc::now();
    let at = |d: Span| (now - d).to_rfc3339_opts(chrono::SecondsFormat::Secs, true).replace('+', "%2B");
    for (query, field) in [
        ("metric=nope".to_owned(), "metric"),
        ("metric=bytes_sent&store=s1".to_owned(), "store"),
        (format!("metric=deliveries&from={}&to={}", at(Span::hours(1)), at(Span::hours(2))), "from"),
        (format!("metric=deliveries&from={}", at(Span::days(40))), "to"),
        ("metric=deliveries&step=7".to_owned(), "step"),
        (format!("metric=deliveries&from={}&step=60", at(Span::days(7))), "step"),
    ] {
        let r = admin.get(&format!("{base}?{query}")).await;
        r.assert_error(422, "invalid_field");
        assert_eq!(r.json["error"]["details"]["field"], field, "{query}: {}", r.text);
    }
    admin.get(&format!("{base}?metric=deliveries&from=yesterday")).await.assert_error(400, "bad_request");
    admin.get(&format!("{base}?metric=deliveries&colour=red")).await.assert_error(400, "bad_request");
    admin.get(base).await.assert_error(400, "bad_request");
    admin.get("/api/v1/admin/reports/2026-13-40").await.assert_error(422, "invalid_field");
    admin.get("/api/v1/admin/reports/2020-01-01").await.assert_error(404, "not_found");
    editor.get("/api/v1/admin/reports").await.assert_error(403, "forbidden");
    editor.get("/api/v1/admin/reports/today/html").await.assert_error(403, "forbidden");
    // `--analytics off` records nothing, however long the server runs.
    let mut ws = app.ws(&admin).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    common::write_n(&admin, 1).await;
    ws.next_of("batch").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let series = admin.get(&format!("{base}?metric=deliveries")).await;
    assert_eq!((total(&series.json), series.json["nodes"].clone()), (0.0, json!([])), "{}", series.text);
}

#[actix_web::test]
async fn old_minutes_roll_up_into_hours_and_expire() {
    let app = common::spawn_app_with(|c| c.analytics = storesync::config::Switch::Off).await;
    let admin = app.login("admin").await;
    let now = Utc::now();
    let hour = |d: Span| analytics::floor(now - d, 3600).and_utc();
    let (old, expired) = (hour(Span::days(3)), hour(Span::days(10)));
    insert(
        &app,
        &[
            row("", "deliveries", old + Span::minutes(5), 3.0),
            row("", "deliveries", old + Span::minutes(50), 4.0),
            row("", "latency_p99_ms", old + Span::minutes(5), 10.0),
            row("", "latency_p99_ms", old + Span::minutes(6), 80.0),
            row("s1", "deliveries", old + Span::minutes(7), 2.0),
            row("", "deliveries", expired, 100.0),
            row("", "deliveries", now - Span::hours(1), 5.0),
        ],
    );
    let (rolled, deleted) = analytics::maintain(&app.state.pool, now, Span::days(7)).await.unwrap();
    assert_eq!((rolled, deleted), (5, 1));
    // A late row of an hour already rolled up joins it.
    insert(&app, &[row("", "deliveries", old + Span::minutes(59), 1.0)]);
    analytics::maintain(&app.state.pool, now, Span::days(7)).await.unwrap();
    let rows = |metric: &str, store: &str| {
        let mut conn = app.state.pool.get().unwrap();
        stats::range(&mut conn, metric, store, None, (now - Span::days(30)).naive_utc(), now.naive_utc()).unwrap()
    };
    let steps = |rows: Vec<StatRow>| rows.into_iter().map(|r| (r.step_secs, r.value)).collect::<Vec<_>>();
    assert_eq!(steps(rows("deliveries", "")), [(3600, 8.0), (60, 5.0)]);
    assert_eq!(steps(rows("latency_p99_ms", "")), [(3600, 80.0)]);
    assert_eq!(steps(rows("deliveries", "s1")), [(3600, 2.0)]);
    let from = (now - Span::days(4)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true).replace('+', "%2B");
    let series = admin.get(&format!("/api/v1/admin/analytics/sync?metric=deliveries&from={from}&step=3600")).await;
    series.assert_status(200);
    assert_eq!(total(&series.json), 13.0, "{}", series.text);
    assert!(series.json["points"].as_array().unwrap().len() >= 96, "{}", series.text);
}

#[actix_web::test]
async fn reports_are_made_once_a_day_and_on_demand() {
    let app = common::spawn_app_with(|c| c.analytics = storesync::config::Switch::Off).await;
    let admin = app.login("admin").await;
    let now = Utc::now();
    let today = now.date_naive();
    let midnight = today.and_hms_opt(0, 0, 0).unwrap().and_utc();
    insert(
        &app,
        &[
            row("", "deliveries_attempted", midnight, 10.0),
            row("", "deliveries", midnight, 9.0),
            row("", "alert.delivery_latency_high", midnight + Span::minutes(1), 1.0),
            row("", "alert.delivery_latency_high", midnight + Span::minutes(2), 1.0),
            row("s2", "deliveries", midnight, 9.0),
        ],
    );
    let so_far = admin.get("/api/v1/admin/reports/today").await;
    so_far.assert_status(200);
    assert_eq!(so_far.json["partial"], true);
    assert_eq!(so_far.json["deliveries"]["succeeded"], 9);
    assert_eq!(so_far.json["incidents"][0]["alert"], "delivery_latency_high");
    assert_eq!(so_far.json["incidents"][0]["minutes"], 2);
    assert_eq!(so_far.json["busiest_stores"][0]["store"], "s2");
    let page = admin.get("/api/v1/admin/reports/today/html").await;
    page.assert_status(200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text.contains("delivery_latency_high") && page.text.contains("90.000 %"), "{}", page.text);
    // An old report goes when the next one is made.
    let expired = ReportRow {
        day: "2000-01-01".into(),
        generated_at: NaiveDate::from_ymd_opt(2000, 1, 2).unwrap().and_hms_opt(0, 10, 0).unwrap(),
        node: "n0".into(),
        report: "{}".into(),
    };
    stats::insert_report(&mut app.state.pool.get().unwrap(), &expired).unwrap();
    let after_midnight = midnight + Span::days(1) + Span::minutes(10);
    let nothing_recorded = midnight + Span::minutes(10);
    assert_eq!(report::make_due(&app.state.pool, "n1", nothing_recorded).await.unwrap(), None, "yesterday is empty");
    assert_eq!(report::make_due(&app.state.pool, "n1", after_midnight).await.unwrap(), Some(today));
    assert_eq!(report::make_due(&app.state.pool, "n2", after_midnight).await.unwrap(), None, "made once");
    let listed = admin.get("/api/v1/admin/reports").await;
    assert_eq!(
        listed.json.as_array().unwrap().iter().map(|r| r["day"].clone()).collect::<Vec<_>>(),
        [json!(today.to_string())]
    );
    let kept = admin.get(&format!("/api/v1/admin/reports/{today}")).await;
    kept.assert_status(200);
    assert_eq!((kept.json["partial"].clone(), kept.json["node"].clone()), (json!(false), json!("n1")));
    assert_eq!(kept.json["deliveries"]["attempted"], 10);
    admin.get(&format!("/api/v1/admin/reports/{today}/html")).await.assert_status(200);
}
