//! Hostile WebSocket clients: each bad frame gets an `error` with a stable
//! code, repeated abuse closes the socket with a documented code, and the
//! server keeps serving everybody else.

mod common;

use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

async fn error_for(app: &common::TestApp, frame: Message) -> serde_json::Value {
    let admin = app.login("admin").await;
    let mut ws = app.ws(&admin).await;
    ws.stream.send(frame).await.unwrap();
    ws.next_of("error").await
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
