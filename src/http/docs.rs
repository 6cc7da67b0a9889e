//! `/docs`: the documentation book that `mdbook build` writes from `docs/`
//! (`book.toml`), served as static files from `--docs-dir` when it exists.
//! mdBook's pages set their theme and sidebar with inline scripts and
//! styles, which the pages' policy (`headers::CONTENT_SECURITY_POLICY`)
//! forbids, so the book gets a policy of its own. Guarded by `tests/docs.rs`.

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::web;

/// The book's policy: like the pages', plus inline scripts and styles. The
/// book is generated from our own Markdown at build time and shows no user
/// data, so there is nothing for an attacker to inject into it; it talks
/// only to its own origin (the search index is a local file).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Mounts the book at `/docs` (`/docs` redirects to `/docs/`, the index)
/// when `docs_dir` exists; otherwise nothing, and `/docs` is a 404.
pub fn book(cfg: &mut web::ServiceConfig, docs_dir: &std::path::Path) {
    if !docs_dir.is_dir() {
        return;
    }
    cfg.service(
        web::scope("/docs")
            .wrap(DefaultHeaders::new().add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)))
            .service(actix_files::Files::new("", docs_dir).index_file("index.html").redirect_to_slash_directory()),
    );
}
