//! Response headers that protect browsers: the security headers on every
//! kind of answer; over https (own TLS or a declared https proxy) a
//! `Secure` session cookie and HSTS, over plain http neither.

mod common;

use serde_json::json;

/// A server with a fresh self-signed certificate for `localhost`, and an
/// https client that trusts it.
async fn spawn_tls_app() -> (common::TestApp, common::Client) {
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
    let port = app.base.rsplit(':').next().unwrap().to_owned();
    let root = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap();
    let http = reqwest::Client::builder().add_root_certificate(root).use_rustls_tls().build().unwrap();
    (app, common::Client { http, base: format!("https://localhost:{port}"), token: None })
}

/// The session cookie's `Set-Cookie` of a login, and of a logout with it.
async fn session_cookies(client: &common::Client) -> (common::Resp, String, String) {
    let login = client.post("/api/v1/auth/login", json!({"username": "viewer", "password": common::PASSWORD})).await;
    login.assert_status(200);
    let set = login.header("set-cookie").unwrap().to_owned();
    let token = login.json["token"].as_str().unwrap().to_owned();
    let viewer = common::Client { token: Some(token), ..client.clone() };
    let logout = viewer.post("/api/v1/auth/logout", json!({})).await;
    let gone = logout.header("set-cookie").unwrap().to_owned();
    (login, set, gone)
}

fn is_secure(set_cookie: &str) -> bool {
    set_cookie.split(';').any(|attr| attr.trim().eq_ignore_ascii_case("secure"))
}

#[actix_web::test]
async fn under_tls_the_session_cookie_is_secure_and_hsts_is_sent() {
    let (_app, client) = spawn_tls_app().await;
    let (login, set, gone) = session_cookies(&client).await;
    assert!(set.starts_with("storesync_session=") && is_secure(&set), "{set}");
    assert!(is_secure(&gone), "the removal cookie too: {gone}");
    assert_eq!(login.header("strict-transport-security"), Some("max-age=31536000"));
    for path in ["/healthz", "/admin", "/api/v1/stores"] {
        let r = client.get(path).await;
        assert_eq!(r.header("strict-transport-security"), Some("max-age=31536000"), "{path}");
    }
}

#[actix_web::test]
async fn behind_a_declared_https_proxy_the_session_cookie_is_secure_and_hsts_is_sent() {
    let app = common::spawn_app_with(|c| c.behind_https_proxy = true).await;
    let (login, set, gone) = session_cookies(&app.anonymous()).await;
    assert!(is_secure(&set) && is_secure(&gone), "{set} / {gone}");
    assert_eq!(login.header("strict-transport-security"), Some("max-age=31536000"));
}

#[actix_web::test]
async fn over_plain_http_the_session_cookie_is_not_secure_and_no_hsts_is_sent() {
    let app = common::spawn_app().await;
    let (login, set, gone) = session_cookies(&app.anonymous()).await;
    assert!(!is_secure(&set) && !is_secure(&gone), "{set} / {gone}");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    assert_eq!(login.header("strict-transport-security"), None);
    assert_eq!(app.anonymous().get("/admin").await.header("strict-transport-security"), None);
}

#[actix_web::test]
async fn pages_static_files_api_answers_and_errors_carry_the_security_headers() {
    let app = common::spawn_app().await;
    let anon = app.anonymous();
    let viewer = app.login("viewer").await;
    let answers = [
        ("page", anon.get("/admin").await),
        ("storefront page", anon.get("/").await),
        ("module", anon.get("/js/admin.js").await),
        ("stylesheet", anon.get("/css/app.css").await),
        ("api", viewer.get("/api/v1/stores").await),
        ("api error", anon.get("/api/v1/stores").await),
        ("unknown route", anon.get("/api/v1/nothing").await),
        ("media", anon.get("/media/s1/00/thumb").await),
        ("health", anon.get("/healthz").await),
    ];
    for (what, r) in &answers {
        assert_eq!(
            r.header("content-security-policy"),
            Some(
                "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; \
                 connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
            ),
            "{what}"
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{what}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{what}");
        assert_eq!(r.header("referrer-policy"), Some("strict-origin-when-cross-origin"), "{what}");
        assert_eq!(r.headers.get_all("x-content-type-options").iter().count(), 1, "{what}: one value");
    }
    assert_eq!(answers[0].1.status, 200);
    assert_eq!(answers[2].1.status, 200);
    assert_eq!(answers[4].1.status, 200);
}
