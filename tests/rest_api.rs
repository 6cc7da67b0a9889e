//! Every REST route against the real server: its success and its error
//! cases, and isolation of stores by id.

mod common;

use reqwest::Method;
use serde_json::json;

#[actix_web::test]
async fn health_and_openapi_describe_every_route() {
    let app = common::spawn_app().await;
    let anon = app.anonymous();
    anon.get("/healthz").await.assert_status(200);
    anon.get("/readyz").await.assert_status(200);
    let spec = anon.get("/api/v1/openapi.json").await;
    spec.assert_status(200);
    let paths = spec.json["paths"].as_object().unwrap();
    for path in [
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/stores/{store}/snapshot",
        "/api/v1/stores/{store}/products/{id}",
        "/api/v1/stores/{store}/products/import",
        "/api/v1/stores/{store}/products/export",
        "/api/v1/stores/{store}/dashboard",
        "/api/v1/stores/{store}/sales/daily",
        "/api/v1/stores/{store}/sales/summary",
        "/api/v1/stores/{store}/events",
    ] {
        assert!(paths.contains_key(path), "openapi lacks {path}");
    }
    assert!(spec.json["components"]["schemas"]["ErrorBody"].is_object());
    anon.get("/api/v1/nope").await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn login_me_logout() {
    let app = common::spawn_app().await;
    let anon = app.anonymous();
    anon.get("/api/v1/me").await.assert_error(401, "unauthenticated");
    anon.post("/api/v1/auth/login", json!({"username": "admin", "password": "wrong"}))
        .await
        .assert_error(401, "bad_credentials");
    anon.post("/api/v1/auth/login", json!({"username": "nobody", "password": "x"}))
        .await
        .assert_error(401, "bad_credentials");
    anon.post("/api/v1/auth/login", json!({"username": "admin"})).await.assert_error(422, "invalid_field");

    let login = anon.post("/api/v1/auth/login", json!({"username": "viewer", "password": common::PASSWORD})).await;
    login.assert_status(200);
    let cookie = login.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let slugs: Vec<&str> =
        login.json["stores"].as_array().unwrap().iter().map(|s| s["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["s1", "s2"]);

    let viewer = app.login("viewer").await;
    let me = viewer.get("/api/v1/me").await;
    me.assert_status(200);
    assert_eq!(me.json["user"]["username"], "viewer");
    viewer.post("/api/v1/auth/logout", json!({})).await.assert_status(204);
    viewer.get("/api/v1/me").await.assert_error(401, "unauthenticated");
}

#[actix_web::test]
async fn stores_and_snapshot() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let stores = admin.get("/api/v1/stores").await;
    stores.assert_status(200);
    let currencies: Vec<&str> =
        stores.json.as_array().unwrap().iter().map(|s| s["currency"].as_str().unwrap()).collect();
    assert_eq!(currencies, ["USD", "EUR", "JPY"]);
    admin.get("/api/v1/stores/s2").await.assert_status(200);
    admin.get("/api/v1/stores/zz").await.assert_error(404, "not_found");

    let snap = admin.get("/api/v1/stores/s1/snapshot?page_size=5&sort=revenue&dir=desc").await;
    snap.assert_status(200);
    assert!(snap.json["page"]["total"].as_u64().unwrap() >= 1000);
    assert_eq!(snap.json["page"]["rows"].as_array().unwrap().len(), 5);
    assert_eq!(snap.json["sales"].as_array().unwrap().len(), 30);
    assert!(snap.json["dashboard"]["revenue_target"].as_i64().unwrap() > 0);
    admin.get("/api/v1/stores/s1/snapshot?page_size=1000").await.assert_error(422, "invalid_field");
}

#[actix_web::test]
async fn product_list_sorts_filters_and_pages() {
    let app = common::spawn_app().await;
    let viewer = app.login("viewer").await;
    let r = viewer.get("/api/v1/stores/s1/products?page=2&page_size=10&sort=price&dir=desc&status=active").await;
    r.assert_status(200);
    let rows = r.json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 10);
    let prices: Vec<i64> = rows.iter().map(|p| p["price"].as_i64().unwrap()).collect();
    assert!(prices.windows(2).all(|w| w[0] >= w[1]), "{prices:?}");
    assert!(rows.iter().all(|p| p["status"] == "active"));

    let q = viewer.get("/api/v1/stores/s1/products?q=s1-00042").await;
    assert_eq!(q.json["total"], 1);
    assert_eq!(q.json["rows"][0]["sku"], "S1-00042");

    viewer.get("/api/v1/stores/s1/products?sort=colour").await.assert_error(400, "bad_request");
    viewer.get("/api/v1/stores/s1/products?page=0").await.assert_error(422, "invalid_field");
    viewer.get("/api/v1/stores/s1/products?page=x").await.assert_error(400, "bad_request");
    viewer.get("/api/v1/stores/s3/products").await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn product_search_answers_any_term_within_its_limits() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let list = |q: &str| format!("/api/v1/stores/s1/products?q={q}&page_size=5");
    // Every seeded SKU of s1 starts with S1-: the search matches all of them.
    let all = editor.get("/api/v1/stores/s1/products?page_size=1").await.json["total"].clone();
    let everything = editor.get(&list("s1-")).await;
    everything.assert_status(200);
    assert_eq!((&everything.json["total"], everything.json["rows"].as_array().unwrap().len()), (&all, 5));
    let one_letter = editor.get(&list("S")).await;
    assert_eq!(one_letter.json["total"], all, "a one-letter search checks every product");

    let nothing = editor.get(&list("no-such-product-anywhere")).await;
    nothing.assert_status(200);
    assert_eq!((&nothing.json["total"], nothing.json["rows"].as_array().unwrap().len()), (&json!(0), 0));

    // Non-ASCII names are found by a substring in any case.
    let created = editor
        .post("/api/v1/stores/s1/products", json!({"sku": "CB-1", "name": "Crème brûlée à l'orange", "price": 5}))
        .await;
    created.assert_status(201);
    for q in ["BRÛLÉE", "crème", "e br", "%C3%A0%20L'OR"] {
        let found = editor.get(&list(q)).await;
        found.assert_status(200);
        assert_eq!((&found.json["total"], &found.json["rows"][0]["sku"]), (&json!(1), &json!("CB-1")), "{q}");
    }
    // A page past the matches is empty, its total still counted.
    let past = editor.get("/api/v1/stores/s1/products?q=brûlée&page=9").await;
    assert_eq!((&past.json["total"], past.json["rows"].as_array().unwrap().len()), (&json!(1), 0));

    // 100 characters is the limit, counted in characters, not bytes.
    let longest = "日".repeat(100);
    let at_limit = editor.get(&list(&longest)).await;
    at_limit.assert_status(200);
    assert_eq!(at_limit.json["total"], 0);
    editor.get(&list(&format!("{longest}日"))).await.assert_error(422, "invalid_field");
}

#[actix_web::test]
async fn product_create_patch_delete_with_etags() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let created =
        editor.post("/api/v1/stores/s1/products", json!({"sku": "NEW-1", "name": "New thing", "price": 1999})).await;
    created.assert_status(201);
    let id = created.json["product"]["id"].as_i64().unwrap();
    assert_eq!(created.json["product"]["status"], "draft");
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert!(created.json["seq"].as_i64().unwrap() >= 1);

    let path = format!("/api/v1/stores/s1/products/{id}");
    let got = editor.get(&path).await;
    got.assert_status(200);
    assert_eq!(got.header("etag"), Some("\"1\""));

    let patched =
        editor.send(editor.request(Method::PATCH, &path).header("if-match", "\"1\"").json(&json!({"price": 10}))).await;
    patched.assert_status(200);
    assert_eq!(patched.json["product"]["version"], 2);
    let stale =
        editor.send(editor.request(Method::PATCH, &path).header("if-match", "\"1\"").json(&json!({"price": 20}))).await;
    stale.assert_error(412, "version_stale");
    assert_eq!(stale.json["error"]["details"]["current"]["price"], 10);
    // Without If-Match the last writer wins.
    editor.patch(&path, json!({"name": "Renamed"})).await.assert_status(200);

    editor
        .post("/api/v1/stores/s1/products", json!({"sku": "NEW-1", "name": "dup", "price": 1}))
        .await
        .assert_error(409, "conflict");
    editor
        .post("/api/v1/stores/s1/products", json!({"sku": "bad sku!", "name": "x", "price": 1}))
        .await
        .assert_error(422, "invalid_field");
    editor
        .post("/api/v1/stores/s1/products", json!({"sku": "A", "name": "x", "price": -1}))
        .await
        .assert_error(422, "invalid_field");
    editor
        .post("/api/v1/stores/s1/products", json!({"sku": "A", "name": "x", "price": 1.5}))
        .await
        .assert_error(422, "invalid_field");
    editor
        .post("/api/v1/stores/s1/products", json!({"sku": "A", "name": "x", "price": 1, "colour": "red"}))
        .await
        .assert_error(422, "invalid_field");
    editor.patch(&path, json!({})).await.assert_error(422, "invalid_field");
    editor.patch(&path, json!({"version": 9})).await.assert_error(422, "invalid_field");
    editor.patch(&path, json!({"status": "gone"})).await.assert_error(422, "invalid_field");
    let malformed = editor
        .request(Method::POST, "/api/v1/stores/s1/products")
        .header("content-type", "application/json")
        .body("{\"sku\":");
    editor.send(malformed).await.assert_error(400, "malformed_json");
    let wrong_type =
        editor.request(Method::POST, "/api/v1/stores/s1/products").header("content-type", "text/plain").body("hi");
    editor.send(wrong_type).await.assert_error(415, "unsupported_media_type");
    let huge = json!({"sku": "BIG", "name": "x".repeat(100_000), "price": 1});
    editor.post("/api/v1/stores/s1/products", huge).await.assert_error(413, "payload_too_large");
    editor.get("/api/v1/stores/s1/products/abc").await.assert_error(400, "bad_request");

    let del = editor.send(editor.request(Method::DELETE, &path).header("if-match", "\"1\"")).await;
    del.assert_error(412, "version_stale");
    editor.delete(&path).await.assert_status(200);
    editor.get(&path).await.assert_error(404, "not_found");
    editor.delete(&path).await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn roles_limit_writes() {
    let app = common::spawn_app().await;
    let viewer = app.login("viewer").await;
    viewer
        .post("/api/v1/stores/s1/products", json!({"sku": "V", "name": "v", "price": 1}))
        .await
        .assert_error(403, "forbidden");
    viewer.patch("/api/v1/stores/s1/dashboard", json!({"notice": "hi"})).await.assert_error(403, "forbidden");
    let editor = app.login("editor").await;
    editor
        .post("/api/v1/stores/s2/products", json!({"sku": "V", "name": "v", "price": 1}))
        .await
        .assert_error(404, "not_found");
    editor.post("/api/v1/admin/stores/s1/reload", json!({})).await.assert_error(403, "forbidden");
}

#[actix_web::test]
async fn a_product_of_one_store_is_invisible_through_another() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let product = admin.first_product("s1").await;
    let id = product["id"].as_i64().unwrap();
    let other = format!("/api/v1/stores/s2/products/{id}");
    admin.get(&other).await.assert_error(404, "not_found");
    admin.patch(&other, json!({"price": 1})).await.assert_error(404, "not_found");
    admin.delete(&other).await.assert_error(404, "not_found");
    let sale = json!({"lines": [{"product_id": id, "quantity": 1}]});
    admin.post("/api/v1/stores/s2/sales", sale).await.assert_error(422, "invalid_field");
    let unchanged = admin.get(&format!("/api/v1/stores/s1/products/{id}")).await;
    assert_eq!(unchanged.json, product);
}

#[actix_web::test]
async fn dashboard_read_and_patch() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let before = editor.get("/api/v1/stores/s1/dashboard").await;
    before.assert_status(200);
    let r = editor
        .patch("/api/v1/stores/s1/dashboard", json!({"notice": "Sale ends Friday", "visitors_today": 1000}))
        .await;
    r.assert_status(200);
    assert_eq!(r.json["dashboard"]["notice"], "Sale ends Friday");
    assert_eq!(r.json["dashboard"]["version"], before.json["version"].as_i64().unwrap() + 1);
    let expected_bp = r.json["dashboard"]["orders_today"].as_i64().unwrap() * 10_000 / 1000;
    assert_eq!(r.json["dashboard"]["conversion_bp"], expected_bp);
    editor.patch("/api/v1/stores/s1/dashboard", json!({"revenue_today": 5})).await.assert_error(422, "invalid_field");
    editor
        .patch("/api/v1/stores/s1/dashboard", json!({"notice": "x".repeat(501)}))
        .await
        .assert_error(422, "invalid_field");
    editor
        .patch("/api/v1/stores/s1/dashboard", json!({"visitors_today": "many"}))
        .await
        .assert_error(422, "invalid_field");
}

#[actix_web::test]
async fn sales_update_products_days_and_summary() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let product = editor.create_product("s1", "SALE-1", 500).await;
    let id = product["id"].as_i64().unwrap();
    let before = editor.get("/api/v1/stores/s1/sales/summary").await;
    before.assert_status(200);

    let sale = json!({"order_ref": "ORD-1", "lines": [{"product_id": id, "quantity": 3}]});
    let r = editor.post("/api/v1/stores/s1/sales", sale.clone()).await;
    r.assert_status(201);
    assert_eq!(r.json["sale"]["amount"], 1500);
    assert_eq!(r.json["sale"]["products"][0]["units_sold"], 3);
    assert_eq!(r.json["sale"]["products"][0]["stock"], 7);
    editor.post("/api/v1/stores/s1/sales", sale).await.assert_error(409, "conflict");

    let after = editor.get("/api/v1/stores/s1/sales/summary").await;
    assert_eq!(
        after.json["today"]["revenue"].as_i64().unwrap(),
        before.json["today"]["revenue"].as_i64().unwrap() + 1500
    );
    let p = editor.get(&format!("/api/v1/stores/s1/products/{id}")).await;
    assert_eq!(p.json["revenue"], 1500);

    let daily = editor.get("/api/v1/stores/s1/sales/daily").await;
    daily.assert_status(200);
    assert_eq!(daily.json.as_array().unwrap().len(), 30);
    assert_eq!(daily.json[29], after.json["today"]);
    let ranged = editor.get("/api/v1/stores/s1/sales/daily?from=2026-01-01&to=2026-01-07").await;
    assert_eq!(ranged.json.as_array().unwrap().len(), 7);
    editor.get("/api/v1/stores/s1/sales/daily?from=2026-02-01&to=2026-01-01").await.assert_error(422, "invalid_field");
    editor.get("/api/v1/stores/s1/sales/daily?from=yesterday").await.assert_error(400, "bad_request");
    // The default 30-day window of a date at the edge of the calendar.
    editor.get("/api/v1/stores/s1/sales/daily?to=-262143-01-01").await.assert_error(422, "invalid_field");

    editor.post("/api/v1/stores/s1/sales", json!({"lines": []})).await.assert_error(422, "invalid_field");
    editor
        .post("/api/v1/stores/s1/sales", json!({"lines": [{"product_id": id, "quantity": 0}]}))
        .await
        .assert_error(422, "invalid_field");
    editor
        .post("/api/v1/stores/s1/sales", json!({"lines": [{"product_id": 999999999, "quantity": 1}]}))
        .await
        .assert_error(422, "invalid_field");
}

#[actix_web::test]
async fn import_and_export_round_trip() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let csv = "sku,name,price,stock,status\nIMP-1,Imported one,100,5,active\nIMP-2,Imported two,200,0,draft\n";
    let r = editor
        .send(
            editor
                .request(Method::POST, "/api/v1/stores/s1/products/import")
                .header("content-type", "text/csv")
                .body(csv),
        )
        .await;
    r.assert_status(200);
    assert_eq!((r.json["created"].as_u64(), r.json["updated"].as_u64()), (Some(2), Some(0)));

    let json_rows = json!([{"sku": "IMP-1", "name": "Imported one", "price": 150}, {"sku": "IMP-3", "name": "Three", "price": 300}]);
    let r = editor.post("/api/v1/stores/s1/products/import", json_rows).await;
    r.assert_status(200);
    assert_eq!((r.json["created"].as_u64(), r.json["updated"].as_u64()), (Some(1), Some(1)));

    let export = editor.get("/api/v1/stores/s1/products/export?format=csv").await;
    export.assert_status(200);
    assert!(export.header("content-type").unwrap().starts_with("text/csv"));
    assert!(export.text.lines().any(|l| l.contains("IMP-1,Imported one,150")), "csv export");
    let json_export = editor.get("/api/v1/stores/s1/products/export").await;
    let rows = json_export.json.as_array().unwrap();
    assert!(rows.len() >= 1203);
    // An export imports back without changing anything.
    let again = editor.post("/api/v1/stores/s1/products/import", json_export.json.clone()).await;
    again.assert_status(200);
    assert_eq!(again.json["unchanged"].as_u64().unwrap() as usize, rows.len());

    let bad = editor
        .send(
            editor
                .request(Method::POST, "/api/v1/stores/s1/products/import")
                .header("content-type", "text/csv")
                .body("sku,name,price\nX,y,notanumber\n"),
        )
        .await;
    bad.assert_error(422, "invalid_field");
    let xml = editor
        .send(
            editor
                .request(Method::POST, "/api/v1/stores/s1/products/import")
                .header("content-type", "application/xml")
                .body("<a/>"),
        )
        .await;
    xml.assert_error(415, "unsupported_media_type");
    editor.post("/api/v1/stores/s1/products/import", json!([])).await.assert_error(422, "invalid_field");
    let big = "x".repeat(9 * 1024 * 1024);
    let r = editor
        .send(
            editor
                .request(Method::POST, "/api/v1/stores/s1/products/import")
                .header("content-type", "text/csv")
                .body(big),
        )
        .await;
    r.assert_error(413, "payload_too_large");
    editor.get("/api/v1/stores/s1/products/export?format=xml").await.assert_error(400, "bad_request");
}

#[actix_web::test]
async fn events_page_and_long_poll() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    editor.get("/api/v1/stores/s1/events?since=0&wait=61").await.assert_error(422, "invalid_field");
    let empty = editor.get("/api/v1/stores/s1/events?since=0").await;
    empty.assert_status(200);
    assert_eq!(empty.json["events"].as_array().unwrap().len(), 0);

    let waiter = editor.clone();
    let poll = actix_web::rt::spawn(async move { waiter.get("/api/v1/stores/s1/events?since=0&wait=30").await });
    // The poll is waiting before anything is written: only a held poll sees it.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    let product = editor.create_product("s1", "EV-1", 100).await;
    let polled = poll.await.unwrap();
    polled.assert_status(200);
    let event = &polled.json["events"][0];
    assert_eq!(event["kind"], "product.created");
    assert_eq!(event["entity_id"], product["id"]);
    assert_eq!(event["by"], "user:editor");
    assert_eq!(polled.json["next_since"], 1);

    editor.get("/api/v1/stores/s1/events?since=-1").await.assert_error(422, "invalid_field");
    editor.get("/api/v1/stores/s1/events?limit=5000").await.assert_error(422, "invalid_field");
    editor.get("/api/v1/stores/s3/events").await.assert_error(404, "not_found");
}
