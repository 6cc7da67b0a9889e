//! Operations: Prometheus metrics (closed to all but loopback without a
//! token), readiness, request ids, the server's own
//! alerts, and the load generator against a real server (clean, and with
//! frames dropped on purpose).

mod common;

use std::time::Duration;

use serde_json::json;

/// Parses Prometheus text: every sample line is `name{labels} value`.
fn samples(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (name, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("bad sample line {line}"));
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in {line}"));
            assert!(name.chars().next().unwrap().is_ascii_alphabetic(), "bad name in {line}");
            (name.to_owned(), value)
        })
        .collect()
}

fn value(samples: &[(String, f64)], name: &str) -> f64 {
    samples.iter().filter(|(n, _)| n == name).map(|(_, v)| v).sum()
}

#[actix_web::test]
async fn metrics_parse_and_move_when_a_write_is_delivered() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let mut ws = app.ws(&admin).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    let before = samples(&admin.get("/metrics").await.text);
    let product = admin.first_product("s1").await;
    admin.patch(&format!("/api/v1/stores/s1/products/{}", product["id"]), json!({"stock": 9})).await.assert_status(200);
    ws.next_of("batch").await;
    let text = admin.get("/metrics").await.text;
    for family in [
        "storesync_ws_connections",
        "storesync_subscriptions",
        "storesync_stores_loaded",
        "storesync_outbox_frames",
        "storesync_frames_sent_total",
        "storesync_bytes_sent_total",
        "storesync_flush_events_bucket",
        "storesync_commit_seconds_bucket",
        "storesync_group_commit_writes_bucket",
        "storesync_delivery_seconds_bucket",
        "storesync_deliveries_attempted_total",
        "storesync_deliveries_succeeded_total",
        "storesync_sync_success_ratio",
        "storesync_process_resident_memory_bytes",
    ] {
        assert!(text.contains(family), "missing {family}");
    }
    let after = samples(&text);
    let succeeded = r#"storesync_deliveries_succeeded_total{store="s1"}"#;
    assert_eq!(value(&after, succeeded), value(&before, succeeded) + 1.0);
    assert_eq!(
        value(&after, "storesync_writes_committed_total"),
        value(&before, "storesync_writes_committed_total") + 1.0
    );
    assert_eq!(value(&after, "storesync_ws_connections"), 1.0);
    assert_eq!(value(&after, r#"storesync_sync_success_ratio{store="all"}"#), 1.0);
}

#[actix_web::test]
async fn metrics_can_require_a_token() {
    let app = common::spawn_app_with(|c| c.metrics_token = Some("scrape-secret".into())).await;
    let anon = app.anonymous();
    anon.get("/metrics").await.assert_error(401, "unauthenticated");
    let scraper = common::Client { token: Some("scrape-secret".into()), ..anon };
    scraper.get("/metrics").await.assert_status(200);
}

/// This host's address on a non-loopback interface, if it has one.
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    // A UDP connect sends nothing: it only picks the route's source address.
    probe.connect("192.0.2.1:9").ok()?;
    Some(probe.local_addr().ok()?.ip()).filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
}

/// A server listening on every interface; its port.
async fn spawn_on_all_interfaces(tweak: impl FnOnce(&mut storesync::config::Config)) -> (tempfile::TempDir, u16) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(dir.path());
    tweak(&mut config);
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let running = storesync::run(listener, config).await.unwrap();
    actix_web::rt::spawn(running.server);
    (dir, running.addr.port())
}

#[actix_web::test]
async fn metrics_are_served_only_to_loopback_clients_without_a_token() {
    let app = common::spawn_app().await;
    let anon = app.anonymous();
    anon.get("/metrics").await.assert_status(200);
    for header in ["x-forwarded-for", "forwarded", "x-real-ip"] {
        // A reverse proxy on this host: its clients are not local.
        let proxied = anon.request(reqwest::Method::GET, "/metrics").header(header, "203.0.113.9");
        anon.send(proxied).await.assert_error(403, "forbidden");
    }
    let Some(ip) = non_loopback_ip() else {
        eprintln!("no non-loopback interface: the remote-client half of this test is skipped");
        return;
    };
    let (_dir, port) = spawn_on_all_interfaces(|_| {}).await;
    let remote = common::Client { base: format!("http://{ip}:{port}"), ..app.anonymous() };
    remote.get("/healthz").await.assert_status(200);
    let r = remote.get("/metrics").await;
    r.assert_error(403, "forbidden");
    assert!(!r.text.contains("s1"), "{}", r.text);
    // With a token, a remote scraper that has it may read.
    let (_dir, port) = spawn_on_all_interfaces(|c| c.metrics_token = Some("scrape-secret".into())).await;
    let remote = common::Client { base: format!("http://{ip}:{port}"), ..app.anonymous() };
    remote.get("/metrics").await.assert_error(401, "unauthenticated");
    common::Client { token: Some("scrape-secret".into()), ..remote }.get("/metrics").await.assert_status(200);
}

#[actix_web::test]
async fn readyz_turns_503_when_the_database_is_unusable() {
    let app = common::spawn_app().await;
    let anon = app.anonymous();
    anon.get("/readyz").await.assert_status(200);
    app.db.execute(app.dir.path(), "ALTER TABLE stores RENAME TO stores_gone;").unwrap();
    let r = anon.get("/readyz").await;
    r.assert_status(503);
    assert!(r.json["reason"].as_str().unwrap().contains("stores"), "{}", r.text);
    app.db.execute(app.dir.path(), "ALTER TABLE stores_gone RENAME TO stores;").unwrap();
    anon.get("/readyz").await.assert_status(200);
}

#[actix_web::test]
async fn every_answer_carries_a_request_id() {
    let app = common::spawn_app().await;
    let anon = app.anonymous();
    let r = anon.get("/healthz").await;
    assert_eq!(r.header("x-request-id").map(str::len), Some(16));
    let echoed = anon.send(anon.request(reqwest::Method::GET, "/healthz").header("x-request-id", "trace-42")).await;
    assert_eq!(echoed.header("x-request-id"), Some("trace-42"));
}

#[actix_web::test]
async fn an_alert_fires_when_a_threshold_is_crossed_and_clears_after() {
    let app = common::spawn_app_with(|c| {
        c.health_sample_secs = 1;
        c.alert_latency_p99_ms = 0.0;
    })
    .await;
    let admin = app.login("admin").await;
    let mut ws = app.ws(&admin).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    let product = admin.first_product("s1").await;
    let path = format!("/api/v1/stores/s1/products/{}", product["id"]);
    let firing =
        |alerts: &serde_json::Value| alerts.as_array().unwrap().iter().any(|a| a["name"] == "delivery_latency_high");
    let mut fired = false;
    for i in 0..100 {
        admin.patch(&path, json!({"stock": i})).await.assert_status(200);
        ws.next_of("batch").await;
        if firing(&admin.get("/api/v1/admin/alerts").await.json) {
            fired = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(fired, "the latency alert fired");
    let health = admin.get("/api/v1/admin/health").await;
    assert!(!health.json["samples"].as_array().unwrap().is_empty());
    let mut cleared = false;
    for _ in 0..100 {
        if !firing(&admin.get("/api/v1/admin/alerts").await.json) {
            cleared = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(cleared, "the alert cleared once deliveries stopped");
    app.login("viewer").await.get("/api/v1/admin/alerts").await.assert_error(403, "forbidden");
}

#[actix_web::test]
async fn the_load_generator_verifies_delivery_and_catches_loss() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, base, _) = common::start_server(dir.path(), &[]);
    let (out, report) = common::run_load(&[&base], "10");
    assert!(out.status.success(), "clean run failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(report["lost"], 0);
    // Any number: how many writes a loaded machine acks in 2 s varies.
    assert!(report["writes_acked"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report["deliveries"], report["deliveries_expected"]);
    assert!(report["latency_ms"]["p99"].as_f64().unwrap() > 0.0);
    server.kill().unwrap();
    server.wait().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (mut lossy, base, _) = common::start_server(dir.path(), &["--debug-drop-batch-every", "7"]);
    let (out, report) = common::run_load(&[&base], "2");
    assert_eq!(out.status.code(), Some(3), "loss exits with 3: {report}");
    assert!(report["lost"].as_u64().unwrap() > 0, "{report}");
    lossy.kill().unwrap();
    lossy.wait().unwrap();
}

#[actix_web::test]
async fn the_load_generator_spreads_over_several_urls_and_verifies_across_them() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, base, _) = common::start_server(dir.path(), &[]);
    // Two URLs of one server stand in for two nodes: a write acknowledged
    // through one must reach the subscribers connected through the other.
    let other = base.replace("127.0.0.1", "localhost");
    let (out, report) = common::run_load(&[&base, &other], "10");
    assert!(out.status.success(), "run failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!((&report["lost"], &report["duplicated"], &report["out_of_order"]), (&json!(0), &json!(0), &json!(0)));
    let per_url = report["per_url"].as_array().unwrap();
    assert_eq!(per_url.iter().map(|n| n["url"].as_str().unwrap()).collect::<Vec<_>>(), [&base, &other]);
    for node in per_url {
        assert_eq!(node["subscribers"], 10, "{report}");
        assert!(node["writes_acked"].as_u64().unwrap() > 0, "{report}");
        assert!(node["deliveries"].as_u64().unwrap() > 0, "{report}");
        assert_eq!(node["deliveries"], node["deliveries_expected"], "{report}");
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

fn migrate_with_database(url: &str) -> (std::process::Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_storesync"))
        .current_dir(dir.path())
        .arg("migrate")
        .env("DATABASE_URL", url)
        .env("STORESYNC_LOG", "info")
        .output()
        .unwrap();
    (out, dir)
}

#[test]
fn an_unknown_database_scheme_is_refused_by_name_and_creates_nothing() {
    let (out, dir) = migrate_with_database("mysql://root@127.0.0.1/shop");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unsupported database URL scheme \"mysql\""), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing may be created");
}

#[test]
fn an_unreachable_postgres_url_fails_clearly_and_is_never_taken_for_a_file() {
    let (out, dir) = migrate_with_database("postgres://postgres:secret@127.0.0.1:1/shop");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot connect to database postgres://postgres:***@127.0.0.1:1/shop"), "{stderr}");
    assert!(!stderr.contains("secret"), "the password must not be logged: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(!dir.path().join("postgres:").exists());
}
