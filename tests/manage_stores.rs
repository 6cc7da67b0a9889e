//! Managing stores from the admin: a global admin creates a store (it
//! appears in the store list of connected clients that may use it),
//! changes its name, visibility and time zone (the daily buckets move to
//! the new local days, and subscribers get the new series), archives it
//! (read-only, hidden from non-admins, subscriptions end with `resync
//! store_archived`), restores and deletes it. Bad input gets a stable 4xx
//! and changes nothing.

mod common;

use std::time::Duration;

use chrono::{Days, Utc};
use reqwest::Method;
use serde_json::{json, Value};

fn new_store(slug: &str) -> Value {
    json!({"slug": slug, "name": format!("Store {slug}"), "currency": "USD", "time_zone": "UTC", "public": false})
}

/// The slugs in a store list.
fn slugs(stores: &Value) -> Vec<String> {
    stores.as_array().unwrap().iter().map(|s| s["slug"].as_str().unwrap().to_owned()).collect()
}

/// The store-list frame that follows a change of the catalog.
async fn next_stores(ws: &mut common::Ws) -> Vec<String> {
    slugs(&ws.next_of("stores").await["stores"])
}

/// The first frame of each of `kinds`, in whichever order they come (the
/// store sends `batch` and `resync`, the session `stores`).
async fn first_of(ws: &mut common::Ws, kinds: &[&str]) -> std::collections::HashMap<String, Value> {
    let mut found = std::collections::HashMap::new();
    while found.len() < kinds.len() {
        let frame = ws.next().await;
        let kind = frame["type"].as_str().unwrap_or_default().to_owned();
        if kinds.contains(&kind.as_str()) {
            found.entry(kind).or_insert(frame);
        }
    }
    found
}

async fn patch_store(admin: &common::Client, slug: &str, body: Value) -> common::Resp {
    admin.patch(&format!("/api/v1/admin/stores/{slug}"), body).await
}

#[actix_web::test]
async fn a_store_created_while_clients_are_connected_appears_in_their_store_list() {
    let app = common::spawn_app_with(|c| c.revalidate_secs = 1).await;
    let admin = app.login("admin").await;
    let viewer = app.login("viewer").await;
    let mut admin_ws = app.ws(&admin).await;
    let mut viewer_ws = app.ws(&viewer).await;

    let r = admin.post("/api/v1/admin/stores", new_store("outlet")).await;
    r.assert_status(201);
    assert_eq!((r.json["slug"].as_str(), r.json["archived"].as_bool()), (Some("outlet"), Some(false)));

    assert_eq!(next_stores(&mut admin_ws).await, ["s1", "s2", "s3", "outlet"], "the creator administers it");
    viewer_ws.assert_none_of("stores", Duration::from_millis(1500)).await;
    assert_eq!(slugs(&admin.get("/api/v1/stores").await.json), ["s1", "s2", "s3", "outlet"]);
    assert_eq!(slugs(&viewer.get("/api/v1/stores").await.json), ["s1", "s2"]);

    // It is a store like the others: products, live subscriptions, a seq.
    admin_ws.subscribe(json!({"type": "subscribe", "store": "outlet"})).await;
    let product = admin.create_product("outlet", "OUT-1", 990).await;
    let batch = admin_ws.next_of("batch").await;
    assert_eq!(batch["events"][0]["entity_id"], product["id"]);

    // A grant makes it appear for the viewer, within the revalidate interval.
    let users = admin.get("/api/v1/admin/users").await.json;
    let viewer_id = users.as_array().unwrap().iter().find(|u| u["username"] == "viewer").unwrap()["id"].clone();
    let grant = admin.request(Method::PUT, &format!("/api/v1/admin/users/{viewer_id}/grants/outlet"));
    admin.send(grant.json(&json!({"role": "viewer"}))).await.assert_status(200);
    assert_eq!(next_stores(&mut viewer_ws).await, ["s1", "s2", "outlet"]);
}

#[actix_web::test]
async fn a_name_change_reaches_subscribers_as_store_updated_with_a_seq() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let viewer = app.login("viewer").await;
    let mut ws = app.ws(&viewer).await;
    let sub = ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["sales"]})).await;

    let r = patch_store(&admin, "s1", json!({"name": "Northwind Outlet", "public": false})).await;
    r.assert_status(200);
    let seq = r.json["seq"].as_i64().unwrap();
    assert_eq!(seq, sub["seq"].as_i64().unwrap() + 1);
    assert_eq!(r.header("x-storesync-seq"), Some(seq.to_string().as_str()));

    let frames = first_of(&mut ws, &["batch", "stores"]).await;
    let (event, stores) = (&frames["batch"]["events"][0], slugs(&frames["stores"]["stores"]));
    assert_eq!((event["kind"].as_str(), event["seq"].as_i64()), (Some("store.updated"), Some(seq)));
    assert_eq!(event["data"]["store"]["name"], "Northwind Outlet");
    assert_eq!(event["data"]["changed"], json!(["name", "public"]));
    assert_eq!(stores, ["s1", "s2"], "the renamed store is listed again");
    assert_eq!(viewer.get("/api/v1/stores/s1").await.json["name"], "Northwind Outlet");
    let snapshot = viewer.get("/api/v1/stores/s1/snapshot").await;
    assert_eq!(snapshot.json["info"]["name"], "Northwind Outlet");
    assert_eq!(snapshot.json["info"]["public"], false);
}

#[actix_web::test]
async fn a_time_zone_change_moves_the_daily_buckets_exactly_and_subscribers_get_the_new_series() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    admin.post("/api/v1/admin/stores", new_store("tz")).await.assert_status(201);
    let product = admin.create_product("tz", "TZ-1", 1000).await["id"].as_i64().unwrap();
    let today = Utc::now().date_naive();
    let yesterday = today - Days::new(1);
    // In Tokyo (UTC+9) 12:00 UTC stays on the same day (21:00); 23:30 UTC
    // is the next day's 08:30.
    for (time, quantity) in [("12:00:00", 1), ("23:30:00", 2)] {
        let sale =
            json!({"lines": [{"product_id": product, "quantity": quantity}], "at": format!("{yesterday}T{time}Z")});
        admin.post("/api/v1/stores/tz/sales", sale).await.assert_status(201);
    }
    let daily = |admin: common::Client| async move {
        let r = admin.get(&format!("/api/v1/stores/tz/sales/daily?from={yesterday}&to={today}")).await;
        r.assert_status(200);
        let points = r.json.as_array().unwrap().iter();
        points.map(|d| (d["orders"].as_i64().unwrap(), d["revenue"].as_i64().unwrap())).collect::<Vec<_>>()
    };
    assert_eq!(daily(admin.clone()).await, [(2, 3000), (0, 0)]);

    let mut ws = app.ws(&admin).await;
    ws.subscribe(json!({"type": "subscribe", "store": "tz"})).await;
    let r = patch_store(&admin, "tz", json!({"time_zone": "Asia/Tokyo"})).await;
    r.assert_status(200);
    assert_eq!(r.json["store"]["time_zone"], "Asia/Tokyo");

    assert_eq!(daily(admin.clone()).await, [(1, 1000), (1, 2000)], "the 23:30 UTC sale moved to the next day");
    let event = ws.next_of("batch").await["events"][0].clone();
    assert_eq!(event["kind"], "store.updated");
    assert_eq!(event["data"]["changed"], json!(["time_zone"]));
    let series = event["data"]["sales"].as_array().unwrap();
    assert_eq!(series.len(), 30);
    let orders_on = |day: chrono::NaiveDate| {
        series.iter().find(|d| d["day"] == day.to_string()).map(|d| (d["orders"].as_i64(), d["revenue"].as_i64()))
    };
    assert_eq!(orders_on(yesterday), Some((Some(1), Some(1000))));
    assert_eq!(orders_on(today), Some((Some(1), Some(2000))));
    assert_eq!(event["data"]["dashboard"]["revenue_today"], series[29]["revenue"]);
    assert_eq!(event["data"]["dashboard"]["day"], series[29]["day"]);

    // Later sales are bucketed in the new zone too.
    let sale = json!({"lines": [{"product_id": product, "quantity": 1}], "at": format!("{yesterday}T23:30:00Z")});
    admin.post("/api/v1/stores/tz/sales", sale).await.assert_status(201);
    assert_eq!(daily(admin.clone()).await, [(1, 1000), (2, 3000)]);
}

#[actix_web::test]
async fn archiving_ends_subscriptions_with_store_archived_and_leaves_the_store_read_only() {
    let app = common::spawn_app_with(|c| c.revalidate_secs = 1).await;
    let admin = app.login("admin").await;
    let editor = app.login("editor").await;
    let product = editor.first_product("s1").await["id"].as_i64().unwrap();
    let mut ws = app.ws(&editor).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["dashboard"]})).await;

    let r = admin.post("/api/v1/admin/stores/s1/archive", json!({})).await;
    r.assert_status(200);
    assert_eq!(r.json["store"]["archived"], true);
    let frames = first_of(&mut ws, &["batch", "resync", "stores"]).await;
    assert_eq!(frames["batch"]["events"][0]["kind"], "store.archived");
    assert!(slugs(&frames["stores"]["stores"]).is_empty(), "the editor no longer lists it");
    let resync = &frames["resync"];
    assert_eq!((resync["store"].as_str(), resync["reason"].as_str()), (Some("s1"), Some("store_archived")));
    ws.send(json!({"type": "subscribe", "id": 9, "store": "s1"})).await;
    let refused = ws.next_of("error").await;
    assert_eq!((refused["code"].as_str(), refused["ref"].as_i64()), (Some("store_archived"), Some(9)));

    editor.get("/api/v1/stores/s1").await.assert_error(409, "store_archived");
    assert!(slugs(&editor.get("/api/v1/stores").await.json).is_empty());
    let path = format!("/api/v1/stores/s1/products/{product}");
    editor.patch(&path, json!({"stock": 1})).await.assert_error(409, "store_archived");
    // Its admins still read it, and nobody writes it.
    assert_eq!(admin.get("/api/v1/stores/s1").await.assert_status(200).json["archived"], true);
    admin.get("/api/v1/stores/s1/products/export").await.assert_status(200);
    admin.patch(&path, json!({"stock": 1})).await.assert_error(409, "store_archived");
    patch_store(&admin, "s1", json!({"name": "x"})).await.assert_error(409, "store_archived");
    admin.post("/api/v1/admin/stores/s1/archive", json!({})).await.assert_error(409, "store_archived");

    admin.post("/api/v1/admin/stores/s1/restore", json!({})).await.assert_status(200);
    editor.patch(&path, json!({"stock": 1})).await.assert_status(200);
    assert_eq!(slugs(&editor.get("/api/v1/stores").await.json), ["s1"]);
    admin.post("/api/v1/admin/stores/s1/restore", json!({})).await.assert_error(409, "store_not_archived");
}

#[actix_web::test]
async fn a_store_is_deleted_only_once_archived_and_takes_its_data_with_it() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    admin.post("/api/v1/admin/stores", new_store("gone")).await.assert_status(201);
    admin.create_product("gone", "G-1", 100).await;
    let r =
        admin.post("/api/v1/admin/tokens", json!({"name": "gone-sync", "role": "viewer", "stores": ["gone"]})).await;
    let token = common::Client { token: Some(r.json["token"].as_str().unwrap().to_owned()), ..app.anonymous() };
    token.get("/api/v1/stores/gone").await.assert_status(200);

    admin.delete("/api/v1/admin/stores/gone").await.assert_error(409, "store_not_archived");
    admin.get("/api/v1/stores/gone/products").await.assert_status(200);
    admin.post("/api/v1/admin/stores/gone/archive", json!({})).await.assert_status(200);
    admin.delete("/api/v1/admin/stores/gone").await.assert_status(204);

    assert!(!slugs(&admin.get("/api/v1/admin/stores").await.json).contains(&"gone".to_owned()));
    admin.get("/api/v1/stores/gone").await.assert_error(404, "not_found");
    token.get("/api/v1/stores/gone").await.assert_error(401, "unauthenticated");
    admin.delete("/api/v1/admin/stores/gone").await.assert_error(404, "not_found");
    // The slug is free again, for a store without the old data.
    admin.post("/api/v1/admin/stores", new_store("gone")).await.assert_status(201);
    assert_eq!(admin.get("/api/v1/stores/gone/products").await.json["total"], 0);
}

#[actix_web::test]
async fn bad_store_input_gets_stable_codes_and_changes_nothing() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let editor = app.login("editor").await;
    let before = admin.get("/api/v1/admin/stores").await.json;
    let invalid = |r: &common::Resp, field: &str| {
        r.assert_error(422, "invalid_field");
        assert_eq!(r.json["error"]["details"]["field"], field, "{}", r.text);
    };

    admin.post("/api/v1/admin/stores", new_store("s1")).await.assert_error(409, "conflict");
    for slug in ["", "a", "1st", "-x", "x-", "Shop", "a_b", "a b", "ünï", &"a".repeat(33)] {
        invalid(&admin.post("/api/v1/admin/stores", new_store(slug)).await, "slug");
    }
    for currency in ["XYZ", "usd", "EURO"] {
        let body = json!({"slug": "ok", "name": "ok", "currency": currency, "time_zone": "UTC"});
        invalid(&admin.post("/api/v1/admin/stores", body).await, "currency");
    }
    for zone in ["Mars/Olympus", "", "Europe/Atlantis"] {
        let body = json!({"slug": "ok", "name": "ok", "currency": "EUR", "time_zone": zone});
        invalid(&admin.post("/api/v1/admin/stores", body).await, "time_zone");
    }
    invalid(
        &admin
            .post("/api/v1/admin/stores", json!({"slug": "ok", "name": " ", "currency": "EUR", "time_zone": "UTC"}))
            .await,
        "name",
    );
    let extra = json!({"slug": "ok", "name": "ok", "currency": "EUR", "time_zone": "UTC", "seq": 5});
    admin.post("/api/v1/admin/stores", extra).await.assert_error(422, "invalid_field");
    editor.post("/api/v1/admin/stores", new_store("mine")).await.assert_error(403, "forbidden");
    app.anonymous().post("/api/v1/admin/stores", new_store("mine")).await.assert_error(401, "unauthenticated");

    let locked = patch_store(&admin, "s1", json!({"currency": "EUR"})).await;
    locked.assert_error(409, "currency_locked");
    invalid(&patch_store(&admin, "s1", json!({"time_zone": "Nowhere/Else"})).await, "time_zone");
    invalid(&patch_store(&admin, "s1", json!({})).await, "body");
    patch_store(&admin, "s9", json!({"name": "x"})).await.assert_error(404, "not_found");
    patch_store(&editor, "s1", json!({"name": "x"})).await.assert_error(403, "forbidden");
    admin.post("/api/v1/admin/stores/s2/restore", json!({})).await.assert_error(409, "store_not_archived");
    admin.delete("/api/v1/admin/stores/s2").await.assert_error(409, "store_not_archived");

    assert_eq!(admin.get("/api/v1/admin/stores").await.json, before, "nothing was half-applied");
    assert_eq!(admin.get("/api/v1/stores/s1").await.json["currency"], "USD");
    // An empty store may still change its currency.
    admin.post("/api/v1/admin/stores", new_store("fresh")).await.assert_status(201);
    assert_eq!(
        patch_store(&admin, "fresh", json!({"currency": "JPY"})).await.assert_status(200).json["store"]["currency"],
        "JPY"
    );
}

/// Runs `storesync seed` with `args` on the data dir's database.
fn seed(dir: &std::path::Path, args: &[&str]) -> std::process::ExitStatus {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_storesync"));
    match common::postgres_url(dir) {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
    command.arg("seed").args(args).arg("--data-dir").arg(dir).env("STORESYNC_DEMO_PASSWORD", common::PASSWORD);
    command.stderr(std::process::Stdio::null()).status().unwrap()
}

#[actix_web::test]
async fn seed_adds_load_test_stores_beside_the_demo_stores() {
    let dir = tempfile::tempdir().unwrap();
    assert!(seed(dir.path(), &["--stores", "2", "--products", "50"]).success());
    assert!(seed(dir.path(), &["--stores", "3", "--products", "20"]).success(), "a second run adds only load-3");
    assert!(!seed(dir.path(), &["--stores", "1", "--products", "0"]).success());

    let (mut child, base, _) = common::start_server(dir.path(), &[]);
    let admin = common::login_at(&base, "admin").await;
    assert_eq!(slugs(&admin.get("/api/v1/stores").await.json), ["s1", "s2", "s3", "load-1", "load-2", "load-3"]);
    for (store, products) in [("load-2", 50), ("load-3", 20), ("s3", 120)] {
        let page = admin.get(&format!("/api/v1/stores/{store}/products")).await;
        assert_eq!(page.assert_status(200).json["total"], products, "{store}");
    }
    let summary = admin.get("/api/v1/stores/load-1/sales/summary").await;
    assert!(summary.assert_status(200).json["last_30_days"]["orders"].as_i64().unwrap() > 0, "with sales history");
    child.kill().unwrap();
    child.wait().unwrap();
}
