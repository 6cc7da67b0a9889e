//! Hostile WebSocket clients: each bad frame gets an `error` with a stable
//! code, repeated abuse closes the socket with a documented code, and the
//! server keeps serving everybody else.

mod common;

use futures_util::SinkExt;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

async fn error_for(app: &common::TestApp, frame: Message) -> serde_json::Value {
    let admin = app.login("admin").await;
    let mut ws = app.ws(&admin).await;
    ws.stream.send(frame).await.unwrap();
    ws.next_of("error").await
}

/// Reads server frames until a close frame (its code) or the end of the
/// connection (`None`).
async fn raw_close_code(read: &mut (impl AsyncRead + Unpin)) -> Option<u16> {
    loop {
        let mut head = [0u8; 2];
        read.read_exact(&mut head).await.ok()?;
        let len = match head[1] & 0x7F {
            126 => u64::from(read.read_u16().await.ok()?),
            127 => read.read_u64().await.ok()?,
            short => u64::from(short),
        };
        let mut payload = vec![0; len as usize];
        read.read_exact(&mut payload).await.ok()?;
        if head[0] & 0x0F == 8 {
            return payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
        }
    }
}

/// Waits until `done` holds, checking every 50 ms; panics after `FRAME_TIMEOUT`.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + common::FRAME_TIMEOUT;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn malformed_json_is_refused() {
    let app = common::spawn_app().await;
    let e = error_for(&app, Message::Text("{\"type\": subscribe".into())).await;
    assert_eq!(e["code"], "malformed_json");
}

#[actix_web::test]
async fn binary_frames_are_refused() {
    let app = common::spawn_app().await;
    let e = error_for(&app, Message::Binary(vec![1, 2, 3])).await;
    assert_eq!(e["code"], "bad_request");
}

#[actix_web::test]
async fn unknown_types_are_refused_with_their_ref() {
    let app = common::spawn_app().await;
    let e = error_for(&app, Message::Text(json!({"type": "drop_tables", "id": "x1"}).to_string())).await;
    assert_eq!((e["code"].as_str(), e["ref"].as_str()), (Some("unknown_type"), Some("x1")));
}

#[actix_web::test]
async fn wrong_field_types_are_refused() {
    let app = common::spawn_app().await;
    let e =
        error_for(&app, Message::Text(json!({"type": "subscribe", "store": "s1", "since": "yesterday"}).to_string()))
            .await;
    assert_eq!(e["code"], "invalid_field");
}

#[actix_web::test]
async fn oversized_frames_close_the_socket_with_1009() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let mut ws = app.ws(&admin).await;
    let huge = json!({"type": "ping", "pad": "x".repeat(100_000)}).to_string();
    ws.stream.send(Message::Text(huge)).await.unwrap();
    let e = ws.next_of("error").await;
    assert_eq!(e["code"], "limit_exceeded");
    assert_eq!(ws.close_code().await, Some(1009));
}

#[actix_web::test]
async fn a_frame_header_over_the_limit_closes_the_socket_before_its_payload_is_buffered() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let stream = common::raw_ws(&app.base, admin.token.as_deref().unwrap(), None).await;
    let (mut read, mut write) = stream.into_split();
    let closed = tokio::spawn(async move { raw_close_code(&mut read).await });
    // A binary frame declaring 1 GiB, then twice the 16 KiB limit of its
    // payload and nothing more for now: the server has to decide from the
    // header, since the rest of the frame is not coming.
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 30).to_be_bytes());
    header.extend_from_slice(&[7, 7, 7, 7]);
    write.write_all(&header).await.unwrap();
    let chunk = vec![0u8; 32 * 1024];
    write.write_all(&chunk).await.unwrap();
    let code =
        tokio::time::timeout(common::FRAME_TIMEOUT, closed).await.expect("the server kept waiting for the frame");
    assert_eq!(code.unwrap(), Some(1009));
    // A client that keeps streaming the payload is cut off: the server
    // stopped reading and ends the connection.
    let streaming = async { while write.write_all(&chunk).await.is_ok() {} };
    tokio::time::timeout(common::FRAME_TIMEOUT, streaming).await.expect("the server kept the connection open");
    // Everybody else is served as before.
    let mut ws = app.ws(&admin).await;
    ws.send(json!({"type": "ping", "id": "after"})).await;
    assert_eq!(ws.next_of("pong").await["ref"], "after");
}

#[actix_web::test]
async fn a_socket_that_stops_reading_keeps_its_place_until_the_server_drops_it() {
    let app = common::spawn_app_with(|c| {
        c.max_connections_per_principal = 1;
        c.heartbeat_ms = 300;
        // Long enough that the checks below run well before it, however
        // loaded the machine.
        c.write_timeout_secs = 20;
        c.outbox_capacity = 8;
        c.ws_frames_per_sec = 1000;
        c.ws_max_strikes = 1000;
    })
    .await;
    let (viewer, admin) = (app.login("viewer").await, app.login("admin").await);
    let mut stalled = common::raw_ws(&app.base, viewer.token.as_deref().unwrap(), Some(4096)).await;
    // It asks for full pages again and again and never reads an answer, and
    // the store's writes push more: megabytes pile up on the way to it.
    let subscribe = json!({"type": "subscribe", "store": "s1", "view": {"page_size": 200}});
    for _ in 0..150 {
        stalled.write_all(&common::masked_text(&subscribe.to_string())).await.unwrap();
    }
    let product = admin.first_product("s1").await["id"].as_i64().unwrap();
    for stock in 0..5 {
        admin.patch(&format!("/api/v1/stores/s1/products/{product}"), json!({"stock": stock})).await.assert_status(200);
    }
    // Then it goes silent: it misses its heartbeats and its session ends.
    let metrics = app.state.metrics.clone();
    wait_until("the session ended", || metrics.ws_connections.get() == 0).await;
    // Its connection is still open, with its data stuck, and still takes
    // the viewer's one place.
    let url = format!("{}/ws?token={}", app.base.replacen("http", "ws", 1), viewer.token.as_deref().unwrap());
    let refused = tokio_tungstenite::connect_async(url.clone()).await.expect_err("a second socket was let in");
    assert!(refused.to_string().contains("429"), "{refused}");
    // Once nothing got through for --write-timeout-secs, the server drops
    // the connection, and the place comes back.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut replacement = loop {
        match tokio_tungstenite::connect_async(url.clone()).await {
            Ok((ws, _)) => break common::Ws { stream: ws },
            Err(e) => assert!(e.to_string().contains("429") && tokio::time::Instant::now() < deadline, "{e}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(replacement.next().await["type"], "hello");
    // The stalled client finds its connection gone.
    let _ = stalled.write_all(&common::masked_text(r#"{"type":"ping"}"#)).await;
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(common::FRAME_TIMEOUT, stalled.read_to_end(&mut rest)).await;
    assert!(ended.is_ok(), "the stalled connection is still open");
}

#[actix_web::test]
async fn open_websockets_are_capped_per_address() {
    let app = common::spawn_app_with(|c| c.max_connections_per_ip = 2).await;
    let (admin, editor, viewer) = (app.login("admin").await, app.login("editor").await, app.login("viewer").await);
    let first = app.ws(&admin).await;
    let _second = app.ws(&editor).await;
    let url = format!("{}/ws?token={}", app.base.replacen("http", "ws", 1), viewer.token.as_deref().unwrap());
    let refused = tokio_tungstenite::connect_async(url.clone()).await.expect_err("a third socket was let in");
    assert!(refused.to_string().contains("429"), "{refused}");
    // A closed socket gives its place back once its connection is gone.
    drop(first);
    let deadline = tokio::time::Instant::now() + common::FRAME_TIMEOUT;
    while let Err(e) = tokio_tungstenite::connect_async(url.clone()).await {
        assert!(e.to_string().contains("429") && tokio::time::Instant::now() < deadline, "{e}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn unknown_and_ungranted_stores_look_the_same() {
    let app = common::spawn_app().await;
    let viewer = app.login("viewer").await;
    let mut ws = app.ws(&viewer).await;
    ws.send(json!({"type": "subscribe", "id": 1, "store": "nope"})).await;
    let unknown = ws.next_of("error").await;
    ws.send(json!({"type": "subscribe", "id": 2, "store": "s3"})).await;
    let ungranted = ws.next_of("error").await;
    assert_eq!(unknown["code"], "not_found");
    assert_eq!(ungranted["code"], "not_found");
    assert_eq!(ungranted["ref"], 2);
    ws.send(json!({"type": "switch_store", "store": "s3"})).await;
    assert_eq!(ws.next_of("error").await["code"], "not_found");
}

#[actix_web::test]
async fn a_flood_is_cut_off_and_others_are_unaffected() {
    let app = common::spawn_app_with(|c| c.ws_frames_per_sec = 5).await;
    let admin = app.login("admin").await;
    let mut calm = app.ws(&admin).await;
    calm.subscribe(json!({"type": "subscribe", "store": "s1"})).await;
    let mut flood = app.ws(&admin).await;
    for i in 0..200 {
        if flood.stream.send(Message::Text(json!({"type": "ping", "id": i}).to_string())).await.is_err() {
            break;
        }
    }
    let limited = flood.next_of("error").await;
    assert_eq!(limited["code"], "rate_limited");
    assert_eq!(flood.close_code().await, Some(1008));
    calm.send(json!({"type": "ping", "id": "still here"})).await;
    assert_eq!(calm.next_of("pong").await["ref"], "still here");
}

#[actix_web::test]
async fn publish_view_floods_are_held_to_the_write_limit() {
    let app = common::spawn_app_with(|c| {
        c.writes_per_sec = 1;
        c.ws_max_strikes = 1000;
    })
    .await;
    let (editor, admin) = (app.login("editor").await, app.login("admin").await);
    let since = admin.get("/api/v1/stores/s1/snapshot").await.json["seq"].as_i64().unwrap();
    // Two sockets of one principal: the budget is the principal's, not the socket's.
    let mut sockets = [app.ws(&editor).await, app.ws(&editor).await];
    let started = std::time::Instant::now();
    for ws in &mut sockets {
        for id in 0..15 {
            ws.send(json!({"type": "publish_view", "id": id, "store": "s1", "view": {"page": 2}})).await;
        }
        ws.send(json!({"type": "ping", "id": "done"})).await;
    }
    // Refusals are answered in order, before the pong.
    let mut refused = 0;
    for ws in &mut sockets {
        loop {
            let frame = ws.next().await;
            if frame["type"] == "pong" {
                break;
            }
            if frame["type"] == "error" {
                assert_eq!(frame["code"], "rate_limited", "{frame}");
                assert!(frame["ref"].is_number(), "{frame}");
                refused += 1;
            }
        }
    }
    // One write a second, in bursts of two, over the time the flood took.
    let allowed = 3 + started.elapsed().as_secs() as usize;
    assert!(30 - refused <= allowed, "{} of 30 publishes passed a budget of {allowed}", 30 - refused);
    let events = admin.get(&format!("/api/v1/stores/s1/events?since={since}&limit=1000")).await.json;
    let published = events["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "view.published").count();
    assert!(published <= allowed, "{published} view.published events for a budget of {allowed}");
}

#[actix_web::test]
async fn upgrades_without_credentials_or_with_a_foreign_origin_are_refused() {
    let app = common::spawn_app().await;
    let url = format!("{}/ws", app.base.replacen("http", "ws", 1));
    let err = tokio_tungstenite::connect_async(url.clone()).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let err = tokio_tungstenite::connect_async(format!("{url}?token=forged")).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");

    let login =
        app.anonymous().post("/api/v1/auth/login", json!({"username": "admin", "password": common::PASSWORD})).await;
    let cookie = format!("storesync_session={}", login.json["token"].as_str().unwrap());
    let with = |origin: &str| {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = url.clone().into_client_request().unwrap();
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
        req.headers_mut().insert("origin", origin.parse().unwrap());
        req
    };
    let err = tokio_tungstenite::connect_async(with("https://evil.example")).await.unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    let own = app.base.clone();
    let (mut ws, _) = tokio_tungstenite::connect_async(with(&own)).await.unwrap();
    use futures_util::StreamExt;
    let hello = ws.next().await.unwrap().unwrap();
    assert!(hello.to_text().unwrap().contains("\"hello\""));
}
