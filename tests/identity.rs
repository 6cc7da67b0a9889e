//! Password resets: `PUT /api/v1/admin/users/{id}/password` (global admins
//! only) sets a new password and ends every login session of that user,
//! bearer, cookie and open WebSocket alike; a demo password changed at
//! start does the same. Bad requests answer stable codes.

mod common;

use reqwest::Method;
use serde_json::{json, Value};

/// The id of a user, as admins list them.
async fn user_id(admin: &common::Client, username: &str) -> i64 {
    let users = admin.get("/api/v1/admin/users").await.json;
    users.as_array().unwrap().iter().find(|u| u["username"] == username).unwrap()["id"].as_i64().unwrap()
}

/// `PUT /api/v1/admin/users/{id}/password` with a JSON body.
async fn reset(client: &common::Client, id: impl std::fmt::Display, body: Value) -> common::Resp {
    client.send(client.request(Method::PUT, &format!("/api/v1/admin/users/{id}/password")).json(&body)).await
}

async fn login_status(app: &common::TestApp, username: &str, password: &str) -> u16 {
    let r = app.anonymous().post("/api/v1/auth/login", json!({"username": username, "password": password})).await;
    r.status.as_u16()
}

#[actix_web::test]
async fn a_password_reset_ends_the_users_sessions_and_only_the_new_password_logs_in() {
    let app = common::spawn_app_with(|c| c.revalidate_secs = 1).await;
    let admin = app.login("admin").await;
    let editor = app.login("editor").await;
    let cookie_login =
        app.anonymous().post("/api/v1/auth/login", json!({"username": "editor", "password": common::PASSWORD})).await;
    let cookie = format!("storesync_session={}", cookie_login.json["token"].as_str().unwrap());
    let anon = app.anonymous();
    let me_by_cookie = || anon.request(Method::GET, "/api/v1/me").header("cookie", &cookie);
    anon.send(me_by_cookie()).await.assert_status(200);
    let mut ws = app.ws(&editor).await;
    ws.subscribe(json!({"type": "subscribe", "store": "s1"})).await;

    let id = user_id(&admin, "editor").await;
    reset(&admin, id, json!({"password": "a brand new one"})).await.assert_status(204);

    editor.get("/api/v1/me").await.assert_error(401, "unauthenticated");
    anon.send(me_by_cookie()).await.assert_error(401, "unauthenticated");
    assert_eq!(ws.close_code().await, Some(4001), "the open WebSocket of the ended session closed");
    assert_eq!(login_status(&app, "editor", common::PASSWORD).await, 401, "the old password is refused");
    assert_eq!(login_status(&app, "editor", "a brand new one").await, 200, "the new password logs in");
    admin.get("/api/v1/me").await.assert_status(200);
}

#[actix_web::test]
async fn an_admin_resetting_their_own_password_is_logged_out_but_their_api_tokens_keep_working() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let r = admin.post("/api/v1/admin/tokens", json!({"name": "shop-sync", "role": "viewer", "stores": ["s1"]})).await;
    r.assert_status(201);
    let integration = common::Client { token: Some(r.json["token"].as_str().unwrap().to_owned()), ..app.anonymous() };

    let id = user_id(&admin, "admin").await;
    reset(&admin, id, json!({"password": "rotated password"})).await.assert_status(204);

    admin.get("/api/v1/me").await.assert_error(401, "unauthenticated");
    integration.get("/api/v1/stores/s1").await.assert_status(200);
}

#[actix_web::test]
async fn only_global_admins_may_reset_passwords() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let editor = app.login("editor").await;
    let viewer = app.login("viewer").await;
    let r =
        admin.post("/api/v1/admin/tokens", json!({"name": "admin-scoped", "role": "admin", "stores": ["s1"]})).await;
    let token = common::Client { token: Some(r.json["token"].as_str().unwrap().to_owned()), ..app.anonymous() };
    let id = user_id(&admin, "editor").await;
    let body = json!({"password": "taken over!"});

    reset(&app.anonymous(), id, body.clone()).await.assert_error(401, "unauthenticated");
    reset(&editor, id, body.clone()).await.assert_error(403, "forbidden");
    reset(&viewer, id, body.clone()).await.assert_error(403, "forbidden");
    reset(&token, id, body).await.assert_error(403, "forbidden");

    editor.get("/api/v1/me").await.assert_status(200);
    assert_eq!(login_status(&app, "editor", common::PASSWORD).await, 200, "the password did not change");
}

#[actix_web::test]
async fn bad_password_resets_get_stable_codes_and_change_nothing() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let editor = app.login("editor").await;
    let id = user_id(&admin, "editor").await;

    let short = reset(&admin, id, json!({"password": "short"})).await;
    short.assert_error(422, "invalid_field");
    assert_eq!(short.json["error"]["details"]["field"], "password");
    reset(&admin, id, json!({"password": "x".repeat(1001)})).await.assert_error(422, "invalid_field");
    reset(&admin, id, json!({"password": "long enough", "is_admin": true})).await.assert_error(422, "invalid_field");
    reset(&admin, id, json!({})).await.assert_error(422, "invalid_field");
    reset(&admin, id, json!({"password": 12345678})).await.assert_error(422, "invalid_field");
    let path = format!("/api/v1/admin/users/{id}/password");
    let malformed = admin.request(Method::PUT, &path).header("content-type", "application/json").body("{\"password\":");
    admin.send(malformed).await.assert_error(400, "malformed_json");
    let text = admin.request(Method::PUT, &path).header("content-type", "text/plain").body("long enough");
    admin.send(text).await.assert_error(415, "unsupported_media_type");
    reset(&admin, "abc", json!({"password": "long enough"})).await.assert_error(400, "bad_request");
    reset(&admin, 999_999, json!({"password": "long enough"})).await.assert_error(404, "not_found");

    editor.get("/api/v1/me").await.assert_status(200);
    assert_eq!(login_status(&app, "editor", common::PASSWORD).await, 200);
}

#[actix_web::test]
async fn the_openapi_document_describes_the_password_reset() {
    let app = common::spawn_app().await;
    let spec = app.anonymous().get("/api/v1/openapi.json").await;
    let reset = &spec.json["paths"]["/api/v1/admin/users/{id}/password"]["put"];
    assert!(reset.is_object(), "openapi lacks PUT /admin/users/{{id}}/password");
    assert!(reset["responses"]["204"].is_object());
    assert!(spec.json["components"]["schemas"]["NewPassword"].is_object());
}

#[actix_web::test]
async fn a_restart_keeps_sessions_unless_it_changes_the_demo_password() {
    let app = common::spawn_app().await;
    let editor = app.login("editor").await;
    let restart_with = |password: &str| {
        let mut config = common::test_config(app.dir.path());
        config.demo_password = Some(password.to_owned());
        // The seed runs again on the live server's database, as at a restart.
        actix_web::rt::task::spawn_blocking(move || storesync::prepare_database(&config).map(drop))
    };

    restart_with(common::PASSWORD).await.unwrap().unwrap();
    editor.get("/api/v1/me").await.assert_status(200);

    restart_with("the new demo password").await.unwrap().unwrap();
    editor.get("/api/v1/me").await.assert_error(401, "unauthenticated");
    assert_eq!(login_status(&app, "editor", "the new demo password").await, 200);
}
