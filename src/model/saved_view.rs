//! Saved views: named product-table views an editor keeps for a store,
//! shared with everyone who may read the store, written through the store
//! actor like every other change (`view.saved`, `view.deleted`), and
//! published to following subscribers by name (`publish_view`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{is_printable_line, View};
use crate::error::ApiError;

/// Longest saved view name, in characters.
pub const MAX_VIEW_NAME_LEN: usize = 60;
/// Most saved views one store keeps.
pub const MAX_SAVED_VIEWS: usize = 100;

/// A named view of a store's product table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SavedView {
    #[schema(min_length = 1, max_length = 60)]
    pub name: String,
    pub view: View,
    /// Who saved it last.
    pub saved_by: String,
    pub saved_at: DateTime<Utc>,
}

/// Checks a saved view's name: 1-60 printable characters, not blank, no `/`
/// (it is a path segment).
pub fn check_view_name(name: &str) -> Result<(), ApiError> {
    let printable = is_printable_line(name) && !name.contains('/');
    if name.trim().is_empty() || name.chars().count() > MAX_VIEW_NAME_LEN || !printable {
        let message = format!("name must be 1-{MAX_VIEW_NAME_LEN} printable characters, without /");
        return Err(ApiError::invalid("name", message));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_printable_path_segments() {
        for ok in ["Low stock", "Ausverkauf bald", "在庫少", &"x".repeat(MAX_VIEW_NAME_LEN)] {
            assert!(check_view_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "   ", "a/b", "tab\there", "\u{202E}evil", &"x".repeat(MAX_VIEW_NAME_LEN + 1)] {
            assert_eq!(check_view_name(bad).unwrap_err().code(), "invalid_field", "{bad:?}");
        }
    }
}
