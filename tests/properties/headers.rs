//! `If-Match` and `Idempotency-Key` (`http::if_match`,
//! `http::idempotency_key`): any header value is accepted or refused with
//! 400 `bad_request`, never a panic; the documented forms are accepted.

use std::collections::HashMap;

use actix_web::http::header::{HeaderValue, IF_MATCH};
use actix_web::test::TestRequest;
use actix_web::{HttpRequest, ResponseError};
use proptest::prelude::*;
use storesync::auth::{Principal, PrincipalKind};
use storesync::error::ApiError;
use storesync::http::{idempotency_key, if_match};
use storesync::model::change::Change;
use storesync::model::View;

use super::budget;

/// Bytes a header value may hold: tab, visible ASCII, space, and the
/// obs-text bytes (0x80-0xFF) that are not UTF-8 on their own.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![Just(b'\t'), 0x20u8..=0x7e, 0x80u8..=0xff];
    prop_oneof![
        prop::collection::vec(byte, 0..240),
        "[!-~]{1,210}".prop_map(String::into_bytes),
        prop::sample::select(vec!["*", " * ", "\"\"", "W/", "W/\"\"", "\"-0\"", "W/W/\"1\""]).prop_map(Vec::from),
    ]
}

fn request(name: &str, value: &[u8]) -> HttpRequest {
    let value = HeaderValue::from_bytes(value).expect("the strategy makes only valid header values");
    TestRequest::default().insert_header((name, value)).to_http_request()
}

fn check_bad_request(e: &ApiError) -> Result<(), TestCaseError> {
    prop_assert_eq!(e.code(), "bad_request");
    prop_assert_eq!(e.status_code().as_u16(), 400);
    Ok(())
}

fn principal() -> Principal {
    Principal {
        user_id: 1,
        name: "user:admin".into(),
        username: "admin".into(),
        is_admin: true,
        grants: HashMap::new(),
        token_hash: String::new(),
        kind: PrincipalKind::Session,
    }
}

#[test]
fn absent_headers_mean_no_precondition_and_no_key() {
    let req = TestRequest::default().to_http_request();
    assert_eq!(if_match(&req).unwrap(), None);
    let change = Change::PublishView { view: View::default() };
    assert!(idempotency_key(&req, &principal(), &change).unwrap().is_none());
}

proptest! {
    #![proptest_config(budget(256))]

    #[test]
    fn any_if_match_is_a_version_a_wildcard_or_bad_request(value in header_value()) {
        match if_match(&request(IF_MATCH.as_str(), &value)) {
            Ok(None) => prop_assert_eq!(std::str::from_utf8(&value).map(str::trim), Ok("*")),
            Ok(Some(version)) => {
                let text = String::from_utf8_lossy(&value);
                prop_assert!(text.contains(&version.unsigned_abs().to_string()), "{version} from {text:?}");
            }
            Err(e) => check_bad_request(&e)?,
        }
    }

    #[test]
    fn every_etag_form_of_a_version_is_accepted(
        version in any::<i64>(),
        form in 0..3u8,
        pad in prop::sample::select(vec!["", " ", "\t", "  "]),
    ) {
        let tag = match form {
            0 => format!("\"{version}\""),
            1 => format!("W/\"{version}\""),
            _ => version.to_string(),
        };
        let req = request(IF_MATCH.as_str(), format!("{pad}{tag}{pad}").as_bytes());
        prop_assert_eq!(if_match(&req).ok(), Some(Some(version)));
    }

    #[test]
    fn an_idempotency_key_is_1_to_200_visible_ascii_or_bad_request(value in header_value()) {
        let who = principal();
        let change = Change::PublishView { view: View::default() };
        let valid = (1..=200).contains(&value.len()) && value.iter().all(u8::is_ascii_graphic);
        match idempotency_key(&request("idempotency-key", &value), &who, &change) {
            Ok(Some(key)) => {
                prop_assert!(valid, "{value:?} accepted");
                prop_assert_eq!(key.key.as_bytes(), &value[..]);
                prop_assert_eq!(&key.principal, &who.name);
                prop_assert_eq!(key.fingerprint, change.fingerprint());
            }
            Ok(None) => return Err(TestCaseError::fail("a sent key was ignored")),
            Err(e) => {
                prop_assert!(!valid, "{value:?} refused");
                check_bad_request(&e)?;
            }
        }
    }
}
