//! A store's own settings as a global admin writes them: `NewStore` (the
//! body of `POST /admin/stores`) and `StorePatch` (`PATCH
//! /admin/stores/{store}`), with their rules. A slug is 2-32 characters of
//! `a-z 0-9 -`, starting with a letter and not ending with `-` (it is the
//! store's id in every URL and never changes); a currency is an ISO 4217
//! code (`iso_currency`), a time zone an IANA name (`chrono-tz`). Guarded by
//! the unit tests below and `tests/manage_stores.rs`.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::check_name;
use crate::error::ApiError;

/// Longest store slug.
pub const MAX_SLUG_LEN: usize = 32;

/// Body of `POST /admin/stores`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStore {
    /// The store's id in URLs: 2-32 characters of a-z 0-9 -, starting with
    /// a letter, not ending with -.
    #[schema(min_length = 2, max_length = 32, pattern = "^[a-z][a-z0-9-]*[a-z0-9]$")]
    pub slug: String,
    #[schema(min_length = 1, max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub name: String,
    /// ISO 4217 code (`EUR`); money fields are in its minor units.
    #[schema(min_length = 3, max_length = 3, pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// IANA time zone (`Europe/Berlin`) of the daily sales buckets.
    #[schema(min_length = 1, max_length = 64)]
    pub time_zone: String,
    /// Whether product images are served without a grant.
    #[serde(default)]
    pub public: bool,
}

/// Body of `PATCH /admin/stores/{store}`: the settings to change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StorePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    /// A new time zone moves every sale to its local day in that zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 64)]
    pub time_zone: Option<String>,
    /// Refused (`currency_locked`) once the store has products or sales.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 3, max_length = 3, pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

/// Refuses a slug that breaks the rules above.
pub fn check_slug(slug: &str) -> Result<(), ApiError> {
    let bytes = slug.as_bytes();
    let valid = (2..=MAX_SLUG_LEN).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes[bytes.len() - 1] != b'-'
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "slug",
            format!(
                "a slug has 2-{MAX_SLUG_LEN} characters of a-z 0-9 -, starts with a letter and does not end with -"
            ),
        ))
    }
}

/// Refuses a code that is not an ISO 4217 currency.
pub fn check_currency(code: &str) -> Result<(), ApiError> {
    match iso_currency::Currency::from_code(code) {
        Some(_) => Ok(()),
        None => Err(ApiError::invalid("currency", format!("{code:.8} is not an ISO 4217 currency code"))),
    }
}

/// The IANA time zone named `name`.
pub fn parse_time_zone(name: &str) -> Result<Tz, ApiError> {
    name.parse().map_err(|_| ApiError::invalid("time_zone", format!("{name:.64} is not an IANA time zone")))
}

impl NewStore {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), ApiError> {
        check_slug(&self.slug)?;
        check_name(&self.name)?;
        check_currency(&self.currency)?;
        parse_time_zone(&self.time_zone).map(drop)
    }
}

impl StorePatch {
    /// Checks each present field; an empty patch is refused.
    pub fn validate(&self) -> Result<(), ApiError> {
        if *self == Self::default() {
            return Err(ApiError::invalid("body", "the patch changes no field".into()));
        }
        if let Some(name) = &self.name {
            check_name(name)?;
        }
        if let Some(currency) = &self.currency {
            check_currency(currency)?;
        }
        if let Some(tz) = &self.time_zone {
            parse_time_zone(tz)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(err: ApiError) -> String {
        err.body().error.details.unwrap()["field"].as_str().unwrap().to_owned()
    }

    #[test]
    fn slugs_follow_the_documented_rules() {
        for ok in ["s1", "north-2", "ab", &"a".repeat(MAX_SLUG_LEN)] {
            assert!(check_slug(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "1store", "-a", "a-", "Shop", "ünï", "a b", "a_b", "a/b", &"a".repeat(MAX_SLUG_LEN + 1)]
        {
            assert_eq!(field(check_slug(bad).unwrap_err()), "slug", "{bad}");
        }
    }

    #[test]
    fn currencies_and_time_zones_are_checked_against_iso_4217_and_iana() {
        for ok in ["USD", "EUR", "JPY", "CHF"] {
            assert!(check_currency(ok).is_ok(), "{ok}");
        }
        for bad in ["usd", "XYZ", "EURO", ""] {
            assert_eq!(field(check_currency(bad).unwrap_err()), "currency", "{bad}");
        }
        assert_eq!(parse_time_zone("Asia/Tokyo").unwrap(), chrono_tz::Asia::Tokyo);
        for bad in ["Mars/Olympus", "", "UTC+25"] {
            assert_eq!(field(parse_time_zone(bad).unwrap_err()), "time_zone", "{bad}");
        }
    }

    #[test]
    fn an_empty_patch_is_refused() {
        assert_eq!(field(StorePatch::default().validate().unwrap_err()), "body");
        assert!(StorePatch { public: Some(true), ..Default::default() }.validate().is_ok());
    }
}
