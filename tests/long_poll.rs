//! A long-poll answers only while its credential and grant still hold: one
//! that outlived a revoked token or a removed grant answers `401` / `404`,
//! never the events written after.

mod common;

use std::time::Duration;

use serde_json::json;

/// The store's seq now, read by `client`.
async fn seq_of(client: &common::Client, store: &str) -> i64 {
    let r = client.get(&format!("/api/v1/stores/{store}/events?limit=1")).await;
    r.assert_status(200).json["last_seq"].as_i64().unwrap()
}

/// Starts `GET /events?since=<now>&wait=30` as `client`, and gives it time
/// to reach its wait (nothing observable says it has; if it has not, it
/// starts after the change below and must be refused all the same).
async fn start_long_poll(client: &common::Client, store: &str) -> actix_web::rt::task::JoinHandle<common::Resp> {
    let since = seq_of(client, store).await;
    let (client, path) = (client.clone(), format!("/api/v1/stores/{store}/events?since={since}&wait=30"));
    let poll = actix_web::rt::spawn(async move { client.get(&path).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    poll
}

#[actix_web::test]
async fn a_long_poll_that_outlives_its_revoked_token_answers_401_not_the_event() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let created =
        admin.post("/api/v1/admin/tokens", json!({"name": "poller", "role": "viewer", "stores": ["s2"]})).await;
    let token = common::Client { token: Some(created.json["token"].as_str().unwrap().to_owned()), ..app.anonymous() };
    let poll = start_long_poll(&token, "s2").await;
    let id = created.json["id"].as_i64().unwrap();
    admin.delete(&format!("/api/v1/admin/tokens/{id}")).await.assert_status(204);
    admin.patch("/api/v1/stores/s2/dashboard", json!({"notice": "after the revocation"})).await.assert_status(200);
    let answer = poll.await.unwrap();
    answer.assert_error(401, "unauthenticated");
    assert!(!answer.text.contains("after the revocation"), "{}", answer.text);
}

#[actix_web::test]
async fn a_long_poll_that_outlives_its_grant_answers_404_not_the_event() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let viewer = app.login("viewer").await;
    let poll = start_long_poll(&viewer, "s2").await;
    let users = admin.get("/api/v1/admin/users").await.json;
    let id = users.as_array().unwrap().iter().find(|u| u["username"] == "viewer").unwrap()["id"].as_i64().unwrap();
    admin.delete(&format!("/api/v1/admin/users/{id}/grants/s2")).await.assert_status(204);
    admin.patch("/api/v1/stores/s2/dashboard", json!({"notice": "after the grant ended"})).await.assert_status(200);
    let answer = poll.await.unwrap();
    answer.assert_error(404, "not_found");
    assert!(!answer.text.contains("after the grant ended"), "{}", answer.text);
}

#[actix_web::test]
async fn a_long_poll_that_outlives_its_logout_answers_401() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let viewer = app.login("viewer").await;
    let poll = start_long_poll(&viewer, "s1").await;
    viewer.post("/api/v1/auth/logout", json!({})).await.assert_status(204);
    admin.patch("/api/v1/stores/s1/dashboard", json!({"notice": "after the logout"})).await.assert_status(200);
    poll.await.unwrap().assert_error(401, "unauthenticated");
}
