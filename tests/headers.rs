//! Response headers that protect browsers: the security headers on every
//! kind of answer.

mod common;

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
