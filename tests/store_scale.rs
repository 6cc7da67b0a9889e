//! A store under scale: `storesync load` growing a store and holding
//! filtered views, a reload that keeps answering while it reads, and views
//! given terms that match everything, nothing, too much or other scripts,
//! over the WebSocket as over REST (`tests/rest_api.rs`).

mod common;

use std::collections::HashSet;

use serde_json::{json, Value};

/// Sends a frame and reads frames until the one answering it (its `ref`).
async fn answer(ws: &mut common::Ws, frame: Value) -> Value {
    let id = frame["id"].clone();
    ws.send(frame).await;
    loop {
        let got = ws.next().await;
        if got["ref"] == id {
            return got;
        }
    }
}

#[actix_web::test]
async fn a_reload_keeps_answering_and_loses_no_write_made_during_it() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let product = admin.first_product("s1").await["id"].as_i64().unwrap();
    let mut ws = app.ws(&admin).await;
    let subscribed = ws.subscribe(json!({"type": "subscribe", "store": "s1", "topics": ["products"]})).await;
    let mut applied = subscribed["seq"].as_i64().unwrap();
    let writer = {
        let admin = admin.clone();
        actix_web::rt::spawn(async move {
            let mut seqs = Vec::new();
            for stock in 0..60 {
                let r = admin.patch(&format!("/api/v1/stores/s1/products/{product}"), json!({"stock": stock})).await;
                // Never a 503: the store does not stop for a reload.
                r.assert_status(200);
                seqs.push(r.json["seq"].as_i64().unwrap());
            }
            seqs
        })
    };
    for _ in 0..3 {
        admin.post("/api/v1/admin/stores/s1/reload", json!({})).await.assert_status(202);
        let page = admin.get("/api/v1/stores/s1/products?q=s1-&page_size=5&sort=stock").await;
        page.assert_status(200);
        assert_eq!(page.json["rows"].as_array().unwrap().len(), 5);
    }
    let acked = writer.await.unwrap();
    let last = *acked.last().unwrap();
    // The subscriber sees every write once, in order, resyncing (and
    // resuming from where it was) after each reload.
    let (mut seen, mut resyncs) = (HashSet::new(), 0);
    while applied < last {
        let frame = ws.next().await;
        match frame["type"].as_str() {
            Some("batch") => {
                for event in common::apply_batch(&mut applied, &frame) {
                    assert!(seen.insert(event["seq"].as_i64().unwrap()), "{event} twice");
                }
            }
            Some("resync") => {
                assert_eq!(frame["reason"], "store_restart");
                resyncs += 1;
                let since = json!({"type": "subscribe", "store": "s1", "topics": ["products"], "since": applied});
                assert_eq!(ws.subscribe(since).await["mode"], "replay");
            }
            _ => {}
        }
    }
    assert!(resyncs >= 1, "the subscriber was told of the reload");
    assert!(acked.iter().all(|seq| seen.contains(seq)), "acked {acked:?}, seen {seen:?}");
    assert!(app.state.metrics.store("s1").restarts.get() >= 1);
    let now = admin.get(&format!("/api/v1/stores/s1/products/{product}")).await;
    assert_eq!(now.json["stock"], 59);
}

#[actix_web::test]
async fn a_view_asked_for_while_the_store_reloads_is_answered() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let mut ws = app.ws(&admin).await;
    admin.post("/api/v1/admin/stores/s1/reload", json!({})).await.assert_status(202);
    let view = json!({"q": "s1-0001", "status": "active", "sort": "price", "dir": "desc", "page_size": 3});
    let rest = admin.get("/api/v1/stores/s1/products?q=s1-0001&status=active&sort=price&dir=desc&page_size=3").await;
    rest.assert_status(200);
    let frame = json!({"id": 1, "type": "subscribe", "store": "s1", "view": view});
    let subscribed = answer(&mut ws, frame).await;
    assert_eq!(subscribed["type"], "subscribed", "{subscribed}");
    let snapshot = ws.next_of("snapshot").await;
    assert_eq!(snapshot["page"]["total"], rest.json["total"]);
    assert_eq!(snapshot["page"]["rows"], rest.json["rows"]);
}

#[actix_web::test]
async fn search_views_over_a_websocket_answer_any_term_within_their_limits() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let all = editor.get("/api/v1/stores/s1/products?page_size=1").await.json["total"].clone();
    let mut ws = app.ws(&editor).await;
    // Every seeded SKU of s1 starts with S1-: the view holds them all.
    let frame = json!({"id": 1, "type": "subscribe", "store": "s1", "view": {"q": "S1-", "page_size": 5}});
    assert_eq!(answer(&mut ws, frame).await["type"], "subscribed");
    let snapshot = ws.next_of("snapshot").await;
    assert_eq!(snapshot["page"]["total"], all);

    let set_view = |id: i64, view: Value| json!({"id": id, "type": "set_view", "store": "s1", "view": view});
    let nothing = answer(&mut ws, set_view(2, json!({"q": "no-such-product-anywhere"}))).await;
    assert_eq!((&nothing["type"], &nothing["total"]), (&json!("page"), &json!(0)));
    assert_eq!(nothing["rows"], json!([]));

    // 100 characters is the limit, counted in characters; past it the
    // view is refused and the one held stays.
    let longest = "日".repeat(100);
    let at_limit = answer(&mut ws, set_view(3, json!({"q": longest}))).await;
    assert_eq!((&at_limit["type"], &at_limit["total"]), (&json!("page"), &json!(0)));
    let refused = answer(&mut ws, set_view(4, json!({"q": format!("{longest}日")}))).await;
    assert_eq!((&refused["type"], &refused["code"]), (&json!("error"), &json!("invalid_field")), "{refused}");
    let refused = answer(&mut ws, set_view(5, json!({"q": "x", "colour": "red"}))).await;
    assert_eq!(refused["type"], "error", "{refused}");

    // A view of other scripts and cases stays live: a product renamed into
    // it enters the page.
    let waiting = answer(&mut ws, set_view(6, json!({"q": "İSTANBUL STRAßE"}))).await;
    assert_eq!(waiting["total"], 0);
    let p = editor.first_product("s1").await;
    let renamed =
        editor.patch(&format!("/api/v1/stores/s1/products/{}", p["id"]), json!({"name": "İstanbul Straße lamp"})).await;
    renamed.assert_status(200);
    let page = loop {
        let frame = ws.next_of("page").await;
        if frame["total"] == 1 {
            break frame;
        }
    };
    assert_eq!(page["rows"][0]["id"], p["id"]);
}

#[actix_web::test]
async fn the_load_generator_grows_a_store_and_holds_distinct_filtered_views() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, base, _) = common::start_server(dir.path(), &[]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_storesync"))
        .args(["load", "--url", &base, "--grow-to", "3000", "--views", "10"])
        .args(["--subscribers", "20", "--writers", "2", "--rate", "50", "--duration", "2s"])
        .args(["--mix", "product=100", "--settle-secs", "10", "--json"])
        .env("STORESYNC_DEMO_PASSWORD", common::PASSWORD)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(out.status.success(), "run failed: {} {report}", String::from_utf8_lossy(&out.stderr));
    assert_eq!((&report["lost"], &report["duplicated"]), (&json!(0), &json!(0)), "{report}");
    assert_eq!(report["deliveries"], report["deliveries_expected"]);
    let admin = common::login_at(&base, "admin").await;
    assert_eq!(admin.get("/api/v1/stores/s1/products?page_size=1").await.json["total"], 3000);
    let grown = admin.get("/api/v1/stores/s1/products?q=grow-&status=active&page_size=1").await;
    assert!(grown.json["total"].as_u64().unwrap() > 1000, "{}", grown.json);
    server.kill().unwrap();
    server.wait().unwrap();
}
