//! `ApiError`: the one error type of the REST API and the WebSocket protocol.
//! Each variant has a stable snake_case `code` that never changes once
//! shipped, and a status. Internal causes answer 500 with a generic message
//! and are logged with their detail; bad input is never a 500.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::model::bulk::RowError;
use crate::model::Product;

/// Every error a client can see.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    /// Products a bulk change cannot apply to, each with its reason.
    #[error("{} of the selected products cannot take this change", .0.len())]
    InvalidRows(Vec<RowError>),
    #[error("authentication required")]
    Unauthenticated,
    #[error("username or password is wrong")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the store is archived: it is read-only until an administrator restores it")]
    StoreArchived,
    #[error("the store is not archived; archive it first")]
    StoreNotArchived,
    #[error("the currency cannot change: the store has products or sales, whose amounts are in its currency")]
    CurrencyLocked,
    #[error("{0} would leave no active global administrator")]
    LastAdmin(String),
    #[error("version {expected} is stale; the product is at version {}", current.version)]
    Stale { expected: i64, current: Box<Product> },
    #[error("request body exceeds {limit} bytes")]
    TooLarge { limit: usize },
    #[error("unsupported content type; send {expected}")]
    UnsupportedMediaType { expected: &'static str },
    #[error("Idempotency-Key was used for a different request")]
    IdempotencyKeyReused,
    #[error("unknown frame type {0}")]
    UnknownFrame(String),
    #[error("{0}")]
    Limit(String),
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("the request body did not arrive within {secs} seconds")]
    RequestTimeout { secs: u64 },
    #[error("store is temporarily unavailable")]
    Unavailable,
    /// Every place for some memory-hungry work is taken (`counted::Gate`);
    /// same code as `Unavailable`, and the same `Retry-After`.
    #[error("the server is busy {0}; retry shortly")]
    Busy(&'static str),
    #[error("internal error")]
    Internal(String),
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            // The database went away (restarted, unreachable): the client
            // may retry, and nothing is wrong with the request or the code.
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                log::warn!(error = info.message(); "database connection lost");
                Self::Unavailable
            }
            e => Self::Internal(format!("database: {e}")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    /// No connection within the pool's timeout: the database is away or
    /// saturated, which a retry may outlast.
    fn from(e: diesel::r2d2::PoolError) -> Self {
        log::warn!(error:% = e; "no database connection");
        Self::Unavailable
    }
}

/// The stable code of an error answer, left in the response extensions for
/// the request metrics.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

/// The JSON body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// `error` member of an error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code.
    pub code: &'static str,
    pub message: String,
    /// Extra data: the offending field, or the current product on a 412.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    /// A field failed validation (422).
    pub fn invalid(field: &str, message: String) -> Self {
        Self::Invalid { field: field.to_owned(), message }
    }

    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::MalformedJson(_) => "malformed_json",
            Self::Invalid { .. } | Self::InvalidRows(_) => "invalid_field",
            Self::Unauthenticated => "unauthenticated",
            Self::BadCredentials => "bad_credentials",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::StoreArchived => "store_archived",
            Self::StoreNotArchived => "store_not_archived",
            Self::CurrencyLocked => "currency_locked",
            Self::LastAdmin(_) => "last_admin",
            Self::Stale { .. } => "version_stale",
            Self::TooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::UnknownFrame(_) => "unknown_type",
            Self::Limit(_) => "limit_exceeded",
            Self::RateLimited { .. } => "rate_limited",
            Self::RequestTimeout { .. } => "request_timeout",
            Self::Unavailable | Self::Busy(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// What the log says: the internal detail (the database's own words, say)
    /// that the client-facing message leaves out.
    pub fn detail(&self) -> String {
        match self {
            Self::Internal(detail) => detail.clone(),
            other => other.to_string(),
        }
    }

    /// The client-facing message; internal detail stays in the log.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }

    /// The `{error:{code,message,details?}}` body.
    pub fn body(&self) -> ErrorBody {
        let details = match self {
            Self::Invalid { field, .. } => Some(serde_json::json!({ "field": field })),
            Self::InvalidRows(rows) => Some(serde_json::json!({ "field": "rows", "rows": rows })),
            Self::Stale { current, .. } => Some(serde_json::json!({ "current": current })),
            _ => None,
        };
        ErrorBody { error: ErrorDetail { code: self.code(), message: self.public_message(), details } }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::Invalid { .. }
            | Self::InvalidRows(_)
            | Self::IdempotencyKeyReused
            | Self::UnknownFrame(_)
            | Self::Limit(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthenticated | Self::BadCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_)
            | Self::StoreArchived
            | Self::StoreNotArchived
            | Self::CurrencyLocked
            | Self::LastAdmin(_) => StatusCode::CONFLICT,
            Self::Stale { .. } => StatusCode::PRECONDITION_FAILED,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::Unavailable | Self::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(detail) = self {
            log::error!(detail = detail.as_str(); "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        match self {
            Self::RateLimited { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::Unavailable | Self::Busy(_) => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            _ => {}
        }
        let mut response = res.json(self.body());
        response.extensions_mut().insert(ErrorCode(self.code()));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_of(e: &ApiError) -> serde_json::Value {
        serde_json::to_value(e.body()).unwrap()
    }

    #[test]
    fn codes_and_statuses_are_pinned() {
        let cases: Vec<(ApiError, &str, u16)> = vec![
            (ApiError::MalformedJson("x".into()), "malformed_json", 400),
            (ApiError::invalid("price", "bad".into()), "invalid_field", 422),
            (ApiError::Unauthenticated, "unauthenticated", 401),
            (ApiError::Forbidden("no".into()), "forbidden", 403),
            (ApiError::NotFound("product 1".into()), "not_found", 404),
            (ApiError::Conflict("sku".into()), "conflict", 409),
            (ApiError::StoreArchived, "store_archived", 409),
            (ApiError::StoreNotArchived, "store_not_archived", 409),
            (ApiError::CurrencyLocked, "currency_locked", 409),
            (ApiError::LastAdmin("demoting admin".into()), "last_admin", 409),
            (ApiError::TooLarge { limit: 1 }, "payload_too_large", 413),
            (ApiError::UnsupportedMediaType { expected: "json" }, "unsupported_media_type", 415),
            (ApiError::IdempotencyKeyReused, "idempotency_key_reused", 422),
            (ApiError::RateLimited { retry_after_secs: 1 }, "rate_limited", 429),
            (ApiError::RequestTimeout { secs: 30 }, "request_timeout", 408),
            (ApiError::Unavailable, "unavailable", 503),
            (ApiError::Busy("checking passwords"), "unavailable", 503),
        ];
        for (err, code, status) in cases {
            assert_eq!(json_of(&err)["error"]["code"], code);
            assert_eq!(err.status_code().as_u16(), status, "{code}");
        }
    }

    #[test]
    fn internal_detail_never_reaches_the_client() {
        let body = json_of(&ApiError::Internal("disk /var/secret full".into()));
        assert_eq!(body, serde_json::json!({"error": {"code": "internal", "message": "internal error"}}));
    }

    #[test]
    fn invalid_names_the_field() {
        let body = json_of(&ApiError::invalid("price", "price must be positive".into()));
        assert_eq!(body["error"]["details"]["field"], "price");
        assert_eq!(body["error"]["message"], "invalid price: price must be positive");
    }
}
