//! Who may do what, on every path: the role matrix over REST and WebSocket,
//! CSRF and cross-site WebSocket hijacking, brute force, revocation and
//! expiry (open WebSockets included), CORS, TLS, and secrets kept out of
//! the logs.

mod common;

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

/// A token scoped to another store (s2) with the editor role.
async fn foreign_token(app: &common::TestApp, admin: &common::Client) -> common::Client {
    let r =
        admin.post("/api/v1/admin/tokens", json!({"name": "s2-integration", "role": "editor", "stores": ["s2"]})).await;
    r.assert_status(201);
    common::Client { token: Some(r.json["token"].as_str().unwrap().to_owned()), ..app.anonymous() }
}

#[actix_web::test]
async fn every_role_gets_exactly_its_rights_on_every_route() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let principals = [
        ("none", app.anonymous()),
        ("viewer", app.login("viewer").await),
        ("editor", app.login("editor").await),
        ("admin", admin.clone()),
        ("token:s2", foreign_token(&app, &admin).await),
    ];
    let product = admin.first_product("s1").await["id"].as_i64().unwrap();
    let users = admin.get("/api/v1/admin/users").await.json;
    let viewer = users.as_array().unwrap().iter().find(|u| u["username"] == "viewer").unwrap()["id"].clone();
    let p = |path: &str| path.replace("{p}", &product.to_string()).replace("{viewer}", &viewer.to_string());
    let in_an_hour = (chrono::Utc::now() + chrono::TimeDelta::hours(1)).to_rfc3339();
    // (method, path, body, expected status for none, viewer, editor, admin, token scoped to s2)
    let read = [401, 200, 200, 200, 404];
    let write = |ok: u16| [401, 403, ok, ok, 404];
    let cases: Vec<(Method, String, Value, [u16; 5])> = vec![
        (Method::GET, p("/api/v1/stores/s1"), Value::Null, read),
        (Method::GET, p("/api/v1/stores/s1/snapshot"), Value::Null, read),
        (Method::GET, p("/api/v1/stores/s1/products"), Value::Null, read),
        (Method::GET, p("/api/v1/stores/s1/products/{p}"), Value::Null, read),
        (Method::GET, p("/api/v1/stores/s1/products/export"), Value::Null, read),
        (Method::GET, p("/api/v1/stores/s1/dashboard"), Value::Null, read),
        (Method::GET, p("/api/v1/stores/s1/sales/daily"), Value::Null, read),
        (Method::GET, p("/api/v1/stores/s1/sales/summary"), Value::Null, read),
        (Method::GET, p("/api/v1/stores/s1/events"), Value::Null, read),
        (Method::GET, p("/api/v1/stores/s1/views"), Value::Null, read),
        (Method::PUT, p("/api/v1/stores/s1/views/grants"), json!({"q": "x"}), write(200)),
        (Method::GET, p("/api/v1/stores/s1/schedule"), Value::Null, read),
        (
            Method::POST,
            p("/api/v1/stores/s1/schedule"),
            json!({"due_at": in_an_hour, "change": {"kind": "product", "id": product, "patch": {"stock": 4}}}),
            write(201),
        ),
        (Method::PATCH, p("/api/v1/stores/s1/products/{p}"), json!({"stock": 3}), write(200)),
        (Method::PATCH, p("/api/v1/stores/s1/dashboard"), json!({"notice": "n"}), write(200)),
        (
            Method::POST,
            p("/api/v1/stores/s1/sales"),
            json!({"lines": [{"product_id": product, "quantity": 1}]}),
            write(201),
        ),
        (
            Method::POST,
            p("/api/v1/stores/s1/products/import"),
            json!([{"sku": "M-1", "name": "m", "price": 1}]),
            write(200),
        ),
        (
            Method::POST,
            p("/api/v1/stores/s1/products/bulk"),
            json!({"ids": [product], "change": {"op": "add_to_stock", "amount": 1}}),
            write(200),
        ),
        // The audit trail is the store admins' (the editor is not one).
        (Method::GET, p("/api/v1/stores/s1/audit"), Value::Null, [401, 403, 403, 200, 404]),
        (Method::GET, p("/api/v1/stores/s1/analytics"), Value::Null, read),
        (Method::GET, p("/api/v1/stores/s1/export/sales?limit=1"), Value::Null, read),
        (Method::GET, p("/api/v1/stores/s1/export/products?limit=1"), Value::Null, read),
        (Method::GET, p("/api/v1/stores/s1/kpis"), Value::Null, read),
        // Events name who changed what; KPIs are defined by store admins.
        (Method::GET, p("/api/v1/stores/s1/export/events?limit=1"), Value::Null, [401, 403, 403, 200, 404]),
        (
            Method::PUT,
            p("/api/v1/stores/s1/kpis/grants"),
            json!({"metric": "orders_today", "op": "<", "threshold": 1}),
            [401, 403, 403, 200, 404],
        ),
        (Method::POST, p("/api/v1/admin/stores/s1/reload"), Value::Null, [401, 403, 403, 202, 404]),
        (Method::GET, p("/api/v1/admin/users"), Value::Null, [401, 403, 403, 200, 403]),
        (Method::GET, p("/api/v1/admin/tokens"), Value::Null, [401, 403, 403, 200, 403]),
        // Stores are managed by global admins only, whatever their grants.
        (Method::GET, p("/api/v1/admin/stores"), Value::Null, [401, 403, 403, 200, 403]),
        (
            Method::POST,
            p("/api/v1/admin/stores"),
            json!({"slug": "m1", "name": "M", "currency": "EUR", "time_zone": "UTC"}),
            [401, 403, 403, 201, 403],
        ),
        (Method::PATCH, p("/api/v1/admin/stores/s3"), json!({"name": "Kyoto Tea"}), [401, 403, 403, 200, 403]),
        (Method::POST, p("/api/v1/admin/stores/s3/archive"), Value::Null, [401, 403, 403, 200, 403]),
        (Method::POST, p("/api/v1/admin/stores/s3/restore"), Value::Null, [401, 403, 403, 200, 403]),
        (Method::DELETE, p("/api/v1/admin/stores/m1"), Value::Null, [401, 403, 403, 409, 403]),
        // People: users and the audit log are global admins'; a grant needs
        // the admin role on its store (the s2 token has no grant on s1).
        (Method::PATCH, p("/api/v1/admin/users/{viewer}"), json!({"disabled": false}), [401, 403, 403, 200, 403]),
        (Method::GET, p("/api/v1/admin/audit"), Value::Null, [401, 403, 403, 200, 403]),
        (
            Method::PUT,
            p("/api/v1/admin/users/{viewer}/grants/s1"),
            json!({"role": "viewer"}),
            [401, 403, 403, 200, 404],
        ),
        // Another store's product through that store's URL is never found.
        (Method::GET, p("/api/v1/stores/s2/products/{p}"), Value::Null, [401, 404, 404, 404, 404]),
        (Method::PATCH, p("/api/v1/stores/s2/products/{p}"), json!({"stock": 1}), [401, 403, 404, 404, 404]),
        (Method::GET, p("/api/v1/stores/s3/events"), Value::Null, [401, 404, 404, 200, 404]),
    ];
    for (method, path, body, expected) in &cases {
        for ((role, client), want) in principals.iter().zip(expected) {
            let mut req = client.request(method.clone(), path);
            if !body.is_null() {
                req = req.json(body);
            }
            let r = client.send(req).await;
            assert_eq!(r.status.as_u16(), *want, "{role} {method} {path}: {}", r.text);
        }
    }
    // The foreign token can write its own store.
    principals[4].1.patch("/api/v1/stores/s2/dashboard", json!({"notice": "ok"})).await.assert_status(200);

    // WebSocket messages: subscribe and publish_view on s1.
    for ((role, client), (sub_ok, publish_ok)) in
        principals[1..].iter().zip([(true, false), (true, true), (true, true), (false, false)])
    {
        let mut ws = app.ws(client).await;
        ws.send(json!({"type": "subscribe", "id": 1, "store": "s1"})).await;
        let reply = ws.next().await;
        assert_eq!(reply["type"] == "subscribed", sub_ok, "{role} subscribe: {reply}");
        ws.send(json!({"type": "publish_view", "id": 2, "store": "s1", "view": {"page": 2}})).await;
        let refused = loop {
            match ws.try_next(Duration::from_millis(500)).await {
                Some(f) if f["type"] == "error" && f["ref"] == 2 => break true,
                Some(_) => continue,
                None => break false,
            }
        };
        assert_eq!(!refused, publish_ok, "{role} publish_view");
    }
}

#[actix_web::test]
async fn cookie_writes_from_another_origin_are_refused() {
    let app = common::spawn_app().await;
    let login =
        app.anonymous().post("/api/v1/auth/login", json!({"username": "editor", "password": common::PASSWORD})).await;
    let cookie = format!("storesync_session={}", login.json["token"].as_str().unwrap());
    let anon = app.anonymous();
    let patch = |origin: Option<&str>| {
        let mut r = anon
            .request(Method::PATCH, "/api/v1/stores/s1/dashboard")
            .header("cookie", &cookie)
            .json(&json!({"notice": "x"}));
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r
    };
    anon.send(patch(Some("https://evil.example"))).await.assert_error(403, "forbidden");
    anon.send(patch(None)).await.assert_error(403, "forbidden");
    anon.send(patch(Some(&app.base))).await.assert_status(200);
    // Reads with the cookie need no Origin.
    anon.send(anon.request(Method::GET, "/api/v1/me").header("cookie", &cookie)).await.assert_status(200);
}

/// The editor's session cookie.
async fn editor_cookie(app: &common::TestApp) -> String {
    let login =
        app.anonymous().post("/api/v1/auth/login", json!({"username": "editor", "password": common::PASSWORD})).await;
    format!("storesync_session={}", login.json["token"].as_str().unwrap())
}

/// The status of a cookie-authenticated write and of a cookie WebSocket
/// upgrade, both sent with `headers`.
async fn cookie_write_and_upgrade(app: &common::TestApp, cookie: &str, headers: &[(&str, &str)]) -> (u16, u16) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let anon = app.anonymous();
    let mut patch = anon
        .request(Method::PATCH, "/api/v1/stores/s1/dashboard")
        .header("cookie", cookie)
        .json(&json!({"notice": "x"}));
    let mut upgrade = format!("{}/ws", app.base.replacen("http", "ws", 1)).into_client_request().unwrap();
    upgrade.headers_mut().insert("cookie", cookie.parse().unwrap());
    for (name, value) in headers {
        patch = patch.header(*name, *value);
        let name = tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        upgrade.headers_mut().insert(name, value.parse().unwrap());
    }
    let write = anon.send(patch).await.status.as_u16();
    let upgraded = match tokio_tungstenite::connect_async(upgrade).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("upgrade failed: {e}"),
    };
    (write, upgraded)
}

#[actix_web::test]
async fn a_forged_forwarded_host_does_not_pass_the_origin_check() {
    let app = common::spawn_app().await;
    let cookie = editor_cookie(&app).await;
    let evil = "http://evil.example";
    for forged in [("x-forwarded-host", "evil.example"), ("forwarded", "host=evil.example")] {
        let statuses = cookie_write_and_upgrade(&app, &cookie, &[("origin", evil), forged]).await;
        assert_eq!(statuses, (403, 403), "{forged:?}");
    }
    // The server's own origin still passes.
    assert_eq!(cookie_write_and_upgrade(&app, &cookie, &[("origin", &app.base)]).await, (200, 101));

    // Behind a trusted proxy, the host it forwards is the server's own.
    let proxied = common::spawn_app_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let cookie = editor_cookie(&proxied).await;
    let public = [("origin", "https://shop.example"), ("x-forwarded-host", "shop.example")];
    assert_eq!(cookie_write_and_upgrade(&proxied, &cookie, &public).await, (200, 101));
}

#[actix_web::test]
async fn forwarded_client_addresses_count_only_from_trusted_proxies() {
    // Two attempts per minute per address; each attempt uses its own
    // username, so only the per-address limit can refuse.
    let attempts = |app: &common::TestApp, users: &'static [&'static str], from: &'static str| {
        let anon = app.anonymous();
        async move {
            let mut statuses = Vec::new();
            for user in users {
                let body = json!({"username": user, "password": "guess"});
                let r = anon
                    .send(anon.request(Method::POST, "/api/v1/auth/login").header("x-forwarded-for", from).json(&body))
                    .await;
                statuses.push(r.status.as_u16());
            }
            statuses
        }
    };
    let direct = common::spawn_app_with(|c| c.login_attempts_per_minute = 2).await;
    assert_eq!(attempts(&direct, &["u1", "u2", "u3"], "203.0.113.1").await, [401, 401, 429]);
    assert_eq!(attempts(&direct, &["u4"], "203.0.113.2").await, [429], "a forged address is not a new client");

    let proxied = common::spawn_app_with(|c| {
        c.login_attempts_per_minute = 2;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    assert_eq!(attempts(&proxied, &["u1", "u2", "u3"], "203.0.113.1").await, [401, 401, 429]);
    assert_eq!(attempts(&proxied, &["u4"], "203.0.113.2").await, [401], "another client behind the proxy");
}

#[actix_web::test]
async fn brute_force_login_is_rate_limited() {
    let app = common::spawn_app().await;
    let anon = app.anonymous();
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let r = anon.post("/api/v1/auth/login", json!({"username": "admin", "password": "guess"})).await;
        statuses.push(r.status.as_u16());
        if r.status == 429 {
            assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
            assert_eq!(r.json["error"]["code"], "rate_limited");
        }
    }
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(&statuses[10..], &[429, 429]);
}

#[actix_web::test]
async fn failed_logins_of_a_stranger_do_not_lock_out_the_right_password() {
    // Behind a trusted proxy, so that the stranger and the owner have
    // different addresses.
    let app = common::spawn_app_with(|c| {
        c.login_attempts_per_minute = 3;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let anon = app.anonymous();
    let login = |from: &str, password: &str| {
        let body = json!({"username": "admin", "password": password});
        anon.request(Method::POST, "/api/v1/auth/login").header("x-forwarded-for", from).json(&body)
    };
    let (stranger, owner) = ("198.51.100.9", "203.0.113.5");
    for _ in 0..3 {
        anon.send(login(stranger, "guess")).await.assert_error(401, "bad_credentials");
    }
    // The stranger is turned away now, whatever it sends.
    let r = anon.send(login(stranger, common::PASSWORD)).await;
    r.assert_error(429, "rate_limited");
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    // The owner, from elsewhere, still logs in with the right password.
    anon.send(login(owner, common::PASSWORD)).await.assert_status(200);
}

#[actix_web::test]
async fn concurrent_logins_beyond_the_password_gate_get_503_and_the_right_password_still_logs_in() {
    let app = common::spawn_app_with(|c| {
        c.password_concurrency = Some(1);
        c.login_attempts_per_minute = 1000;
    })
    .await;
    let anon = app.anonymous();
    let burst = |n: usize| {
        futures_util::future::join_all((0..n).map(|i| {
            let user = ["admin", "editor", "viewer"][i % 3];
            anon.post("/api/v1/auth/login", json!({"username": user, "password": common::PASSWORD}))
        }))
    };
    // While the only place is taken (as by a login in flight), logins are
    // turned away after a short wait instead of piling up argon2 work.
    let held = app.state.password_gate.enter().await.unwrap();
    for r in burst(8).await {
        r.assert_error(503, "unavailable");
        assert_eq!(r.header("retry-after"), Some("1"));
    }
    drop(held);
    // A burst through the one place: each answer is a session or a 503.
    for r in burst(30).await {
        assert!(matches!(r.status.as_u16(), 200 | 503), "{} {}", r.status, r.text);
        if r.status == 503 {
            assert_eq!(r.header("retry-after"), Some("1"));
        }
    }
    // Afterwards, the right password logs in.
    app.login("admin").await;
}

#[actix_web::test]
async fn logout_revocation_and_expiry_end_access_including_open_websockets() {
    let app = common::spawn_app_with(|c| c.revalidate_secs = 1).await;
    let admin = app.login("admin").await;

    let viewer = app.login("viewer").await;
    let mut ws = app.ws(&viewer).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    viewer.post("/api/v1/auth/logout", json!({})).await.assert_status(204);
    assert_eq!(ws.close_code().await, Some(4001), "logged-out session closed");

    let token = foreign_token(&app, &admin).await;
    let mut ws = app.ws(&token).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s2"})).await;
    let id = admin.get("/api/v1/admin/tokens").await.json[0]["id"].as_i64().unwrap();
    admin.delete(&format!("/api/v1/admin/tokens/{id}")).await.assert_status(204);
    token.get("/api/v1/stores/s2").await.assert_error(401, "unauthenticated");
    assert_eq!(ws.close_code().await, Some(4001), "revoked token closed");

    let r = admin
        .post(
            "/api/v1/admin/tokens",
            json!({"name": "expired", "role": "viewer", "stores": ["s1"], "expires_in_days": 0}),
        )
        .await;
    let expired = common::Client { token: Some(r.json["token"].as_str().unwrap().to_owned()), ..app.anonymous() };
    expired.get("/api/v1/stores/s1").await.assert_error(401, "unauthenticated");
    let forever = json!({"name": "x", "role": "viewer", "stores": ["s1"], "expires_in_days": 100_000_000});
    admin.post("/api/v1/admin/tokens", forever).await.assert_error(422, "invalid_field");

    // A removed grant ends the subscription to that store.
    let editor = app.login("editor").await;
    let mut ws = app.ws(&editor).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    let users = admin.get("/api/v1/admin/users").await.json;
    let editor_id =
        users.as_array().unwrap().iter().find(|u| u["username"] == "editor").unwrap()["id"].as_i64().unwrap();
    admin.delete(&format!("/api/v1/admin/users/{editor_id}/grants/s1")).await.assert_status(204);
    let resync = ws.next_of("resync").await;
    assert_eq!((resync["store"].as_str(), resync["reason"].as_str()), (Some("s1"), Some("access_revoked")));
    editor.get("/api/v1/stores/s1").await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn admins_manage_users_and_grants() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let r = admin.post("/api/v1/admin/users", json!({"username": "clerk", "password": "long enough"})).await;
    r.assert_status(201);
    let id = r.json["id"].as_i64().unwrap();
    admin
        .post("/api/v1/admin/users", json!({"username": "clerk", "password": "long enough"}))
        .await
        .assert_error(409, "conflict");
    admin
        .post("/api/v1/admin/users", json!({"username": "x", "password": "short"}))
        .await
        .assert_error(422, "invalid_field");
    admin
        .send(
            admin.request(Method::PUT, &format!("/api/v1/admin/users/{id}/grants/s3")).json(&json!({"role": "viewer"})),
        )
        .await
        .assert_status(200);
    let clerk =
        app.anonymous().post("/api/v1/auth/login", json!({"username": "clerk", "password": "long enough"})).await;
    let stores: Vec<&str> =
        clerk.json["stores"].as_array().unwrap().iter().map(|s| s["slug"].as_str().unwrap()).collect();
    assert_eq!(stores, ["s3"]);
    admin.delete(&format!("/api/v1/admin/users/{id}")).await.assert_status(204);
    admin.delete(&format!("/api/v1/admin/users/{id}")).await.assert_error(404, "not_found");
}

#[actix_web::test]
async fn cors_is_off_by_default_and_allows_configured_origins() {
    let preflight = |app: &common::TestApp| {
        let c = app.anonymous();
        c.request(Method::OPTIONS, "/api/v1/stores")
            .header("origin", "https://shop.example")
            .header("access-control-request-method", "GET")
    };
    let app = common::spawn_app().await;
    let r = app.anonymous().send(preflight(&app)).await;
    assert!(r.header("access-control-allow-origin").is_none());
    let app = common::spawn_app_with(|c| c.cors_origins = vec!["https://shop.example".into()]).await;
    let r = app.anonymous().send(preflight(&app)).await;
    assert_eq!(r.header("access-control-allow-origin"), Some("https://shop.example"));
}

#[actix_web::test]
async fn tls_serves_https_and_wss() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let app = common::spawn_app_with(|c| {
        c.tls_cert = Some(cert_path.clone());
        c.tls_key = Some(key_path.clone());
    })
    .await;
    let port = app.base.rsplit(':').next().unwrap();
    let root = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap();
    let http = reqwest::Client::builder().add_root_certificate(root).use_rustls_tls().build().unwrap();
    let base = format!("https://localhost:{port}");
    let client = common::Client { http, base: base.clone(), token: None };
    client.get("/healthz").await.assert_status(200);
    let login = client.post("/api/v1/auth/login", json!({"username": "admin", "password": common::PASSWORD})).await;
    login.assert_status(200);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let url = format!("wss://localhost:{port}/ws?token={}", login.json["token"].as_str().unwrap());
    let connector = tokio_tungstenite::Connector::Rustls(std::sync::Arc::new(tls));
    let (stream, _) =
        tokio_tungstenite::connect_async_tls_with_config(url, None, false, Some(connector)).await.unwrap();
    let mut ws = common::Ws { stream };
    assert_eq!(ws.next().await["type"], "hello");
}

#[actix_web::test]
async fn no_secret_reaches_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, logs) = common::start_server(dir.path(), &[]);
    let anon = common::Client { http: reqwest::Client::new(), base: base.clone(), token: None };
    let login = anon.post("/api/v1/auth/login", json!({"username": "admin", "password": common::PASSWORD})).await;
    let session = login.json["token"].as_str().unwrap().to_owned();
    let admin = common::Client { token: Some(session.clone()), ..anon.clone() };
    let created = admin.post("/api/v1/admin/tokens", json!({"name": "ci", "role": "viewer", "stores": ["s1"]})).await;
    let api_token = created.json["token"].as_str().unwrap().to_owned();
    let integration = common::Client { token: Some(api_token.clone()), ..anon.clone() };
    integration.get("/api/v1/stores/s1/products?page_size=1").await.assert_status(200);
    let url = format!("{}/ws?token={api_token}", base.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    use futures_util::StreamExt;
    ws.next().await.unwrap().unwrap();
    drop(ws);
    anon.post("/api/v1/auth/login", json!({"username": "admin", "password": "a-wrong-password"}))
        .await
        .assert_status(401);
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let logs = logs.lock().unwrap().join("\n");
    assert!(logs.contains("/ws"), "requests are logged");
    for secret in [common::PASSWORD, "a-wrong-password", &session, &api_token] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}

/// Finding 11: product and sale ids are numbered per store, so the gap
/// between two of a store's ids counts only that store's own creations.
#[actix_web::test]
async fn ids_tell_one_store_nothing_about_another() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let seeded = admin.first_product("s1").await["id"].as_i64().unwrap();
    let sale = |store_product: i64| json!({"lines": [{"product_id": store_product, "quantity": 1}]});
    let sale_id = |r: &common::Resp| r.json["sale"]["sale_id"].as_i64().unwrap();

    let first = admin.create_product("s1", "ID-1", 100).await["id"].as_i64().unwrap();
    let before = admin.post("/api/v1/stores/s1/sales", sale(first)).await;
    before.assert_status(201);
    // Another store creates and sells meanwhile.
    for n in 0..3 {
        let other = admin.create_product("s2", &format!("ID-OTHER-{n}"), 100).await["id"].as_i64().unwrap();
        admin.post("/api/v1/stores/s2/sales", sale(other)).await.assert_status(201);
    }
    admin.delete(&format!("/api/v1/stores/s1/products/{first}")).await.assert_status(200);
    let second = admin.create_product("s1", "ID-2", 100).await["id"].as_i64().unwrap();
    let after = admin.post("/api/v1/stores/s1/sales", sale(second)).await;
    after.assert_status(201);

    // Consecutive within the store, never reused after a delete, above the
    // ids issued before (which keep working), and exact in JavaScript.
    assert_eq!(second, first + 1);
    assert_eq!(sale_id(&after), sale_id(&before) + 1);
    assert!(first > seeded && second < 1 << 53);
    admin.get(&format!("/api/v1/stores/s1/products/{seeded}")).await.assert_status(200);
    admin.get(&format!("/api/v1/stores/s1/products/{second}")).await.assert_status(200);
    admin.get(&format!("/api/v1/stores/s2/products/{second}")).await.assert_error(404, "not_found");
}
