//! Logout ends login sessions only: an API token cannot log out (it would
//! answer a success and stay valid); an admin revokes it instead.

mod common;

use serde_json::json;

#[actix_web::test]
async fn logging_out_with_an_api_token_is_refused_and_the_token_keeps_working() {
    let app = common::spawn_app().await;
    let admin = app.login("admin").await;
    let created = admin.post("/api/v1/admin/tokens", json!({"name": "ci", "role": "viewer", "stores": ["s1"]})).await;
    let token = common::Client { token: Some(created.json["token"].as_str().unwrap().to_owned()), ..app.anonymous() };
    let r = token.post("/api/v1/auth/logout", json!({})).await;
    r.assert_error(400, "bad_request");
    assert!(r.json["error"]["message"].as_str().unwrap().contains("/api/v1/admin/tokens/"), "{}", r.text);
    assert!(r.header("set-cookie").is_none());
    // Nothing pretended to end it: it still works until revoked.
    token.get("/api/v1/stores/s1").await.assert_status(200);
    let id = created.json["id"].as_i64().unwrap();
    admin.delete(&format!("/api/v1/admin/tokens/{id}")).await.assert_status(204);
    token.get("/api/v1/stores/s1").await.assert_error(401, "unauthenticated");
    // A login session still logs out.
    admin.post("/api/v1/auth/logout", json!({})).await.assert_status(204);
    admin.get("/api/v1/me").await.assert_error(401, "unauthenticated");
}
