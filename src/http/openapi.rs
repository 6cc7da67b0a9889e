//! `GET /api/v1/openapi.json`: the OpenAPI document, generated from the
//! handlers' `#[utoipa::path]` annotations and the types' `ToSchema`.

use actix_web::web;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{admin, auth, dashboard, events, health, images, products, sales, stores, transfer, users, ws};

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::extract::SESSION_COOKIE))),
        );
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "storesync", description = "Real-time data synchronization for multi-store commerce back offices. \
        Errors are `{error:{code,message,details?}}`; writes answer the store's new `seq`. \
        Any route that takes a body answers `408 request_timeout` (and closes the connection) when the whole body \
        does not arrive within `--body-timeout-secs` (30 s) of the request's headers."),
    paths(
        health::healthz, health::readyz, health::metrics, health::admin_health, health::admin_alerts,
        auth::login, auth::logout, auth::me,
        stores::list, stores::get, stores::snapshot,
        products::list, products::create, products::get, products::patch, products::delete,
        transfer::import, transfer::export,
        dashboard::get, dashboard::patch,
        sales::record, sales::daily, sales::summary,
        events::list,
        admin::reload,
        users::list_users, users::create_user, users::delete_user, users::set_password, users::put_grant, users::delete_grant,
        users::list_tokens, users::create_token, users::revoke_token,
        ws::upgrade,
        images::put, images::delete, images::serve, images::collect,
    ),
    modifiers(&Security),
    security(("bearer" = []), ("session_cookie" = [])),
    tags((name = "auth"), (name = "stores"), (name = "products"), (name = "dashboard"), (name = "sales"), (name = "events"), (name = "admin"), (name = "sync"), (name = "ops")),
)]
pub struct ApiDoc;

/// Serves the document.
pub async fn spec() -> web::Json<utoipa::openapi::OpenApi> {
    web::Json(ApiDoc::openapi())
}
