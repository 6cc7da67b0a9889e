//! `GET /api/v1/openapi.json`: the OpenAPI document, generated from the
//! handlers' `#[utoipa::path]` annotations and the types' `ToSchema`, plus
//! the answers the shared extractor error handlers give on every route
//! (`SharedParsing`). Checked by `tests/openapi.rs` and fuzzed against
//! the server by `scripts/schemathesis`.

use actix_web::web;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, Schema};
use utoipa::{Modify, OpenApi};

use super::{
    admin, analytics, audit, auth, dashboard, events, feedback, health, images, manage_stores, products, sales,
    saved_views, scheduled, stores, transfer, users, ws,
};

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

/// Documents what the shared parsing answers on every route, so no
/// annotation has to repeat it: the extractor error handlers of
/// `http::routes` (400 for a body that is not JSON or a path or query that
/// does not parse, 413 for a body over the limit, 415 for a body that is not
/// `application/json`), and the forms of `If-Match` and `Idempotency-Key`.
struct SharedParsing;

impl SharedParsing {
    fn document(op: &mut Operation) {
        let params = op.parameters.as_deref().unwrap_or_default();
        let parsed_path = params.iter().any(|p| {
            p.parameter_in == ParameterIn::Path
                && matches!(&p.schema, Some(RefOr::T(Schema::Object(o))) if o.schema_type != SchemaType::Type(Type::String))
        });
        let query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
        let json_body = op.request_body.as_ref().is_some_and(|b| b.content.contains_key("application/json"));
        for p in op.parameters.iter_mut().flatten().filter(|p| p.parameter_in == ParameterIn::Header) {
            // The forms `http::if_match` and `http::idempotency_key` accept.
            let (pattern, max) = match p.name.to_ascii_lowercase().as_str() {
                "if-match" => (r#"^[ \t]*(\*|(W/)*"*[+-]?[0-9]+"*)[ \t]*$"#, None),
                "idempotency-key" => ("^[!-~]+$", Some(200)),
                _ => continue,
            };
            let schema = ObjectBuilder::new().schema_type(Type::String).pattern(Some(pattern)).max_length(max);
            p.schema = Some(RefOr::T(Schema::Object(schema.build())));
        }
        let mut add = |status: &str, description: &str| {
            let body = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
            let response = ResponseBuilder::new().description(description).content("application/json", body).build();
            op.responses.responses.entry(status.to_owned()).or_insert(RefOr::T(response));
        };
        if parsed_path || query || json_body {
            add("400", "a path, query or body that does not parse (`bad_request`, `malformed_json`)");
        }
        if json_body {
            add("413", "a body over the size limit (`payload_too_large`)");
            add("415", "a body that is not application/json (`unsupported_media_type`)");
        }
    }
}

impl Modify for SharedParsing {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for item in doc.paths.paths.values_mut() {
            let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            ops.into_iter().flatten().for_each(Self::document);
        }
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
        products::list, products::create, products::get, products::patch, products::delete, products::bulk,
        transfer::import, transfer::export,
        saved_views::list, saved_views::save, saved_views::delete,
        dashboard::get, dashboard::patch,
        sales::record, sales::daily, sales::summary,
        events::list, audit::list, audit::product_history,
        feedback::send, feedback::list,
        admin::reload,
        manage_stores::list, manage_stores::create, manage_stores::patch, manage_stores::delete, manage_stores::archive, manage_stores::restore,
        users::list_users, users::create_user, users::delete_user, users::set_password, users::put_grant, users::delete_grant,
        users::list_tokens, users::create_token, users::revoke_token, users::update_user, users::audit,
        ws::upgrade,
        images::put, images::delete, images::serve, images::collect,
        scheduled::list, scheduled::get, scheduled::create, scheduled::edit, scheduled::cancel,
        analytics::sync, analytics::list, analytics::get, analytics::page,
        super::bi_export::sales, super::bi_export::products, super::bi_export::events,
        super::sales_analytics::get, super::kpis::list, super::kpis::save, super::kpis::delete,
    ),
    // Named in no body: schemas of query parameters are not collected.
    components(schemas(transfer::ExportFormat, super::bi_export::BiFormat)),
    modifiers(&Security, &SharedParsing),
    security(("bearer" = []), ("session_cookie" = [])),
    tags((name = "auth"), (name = "stores"), (name = "products"), (name = "dashboard"), (name = "sales"), (name = "events"), (name = "feedback"), (name = "admin"), (name = "sync"), (name = "ops")),
)]
pub struct ApiDoc;

/// Serves the document.
pub async fn spec() -> web::Json<utoipa::openapi::OpenApi> {
    web::Json(ApiDoc::openapi())
}
