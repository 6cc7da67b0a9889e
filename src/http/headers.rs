//! The security headers every answer carries (pages, static files, the
//! API, media, errors): a strict Content-Security-Policy, no framing, no
//! MIME sniffing, a referrer policy, and HSTS when browsers reach the
//! server over https (`Config::serves_https`). Wrapped around the whole app in `lib.rs` `serve()`, so no
//! route can forget them. Guarded by `tests/headers.rs` and the browser
//! suite (the pages must work under the policy).

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;

/// The pages load only their own modules, styles and images (plus `data:`
/// and `blob:` images for upload previews), talk only to this origin over
/// fetch and WebSocket, never run inline script or style, and may not be
/// framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; \
     script-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Not `no-referrer`: with it, browsers send `Origin: null` on same-origin
/// POST/PATCH/DELETE, and the CSRF check (`auth::extract`) would refuse
/// the pages' own cookie writes. This one sends no path cross-origin and
/// nothing at all from https to http.
pub const REFERRER_POLICY: &str = "strict-origin-when-cross-origin";

/// HSTS for a server reached over https (its own TLS or a proxy's): one
/// year, this host only. Never sent over plain http, where browsers ignore
/// it and a test server on localhost would poison other local ports.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// The headers, added to every answer that does not set its own; HSTS too
/// when `https`.
pub fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, REFERRER_POLICY));
    if https {
        headers.add((header::STRICT_TRANSPORT_SECURITY, STRICT_TRANSPORT_SECURITY))
    } else {
        headers
    }
}
