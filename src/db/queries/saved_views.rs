//! Saved views (`saved_views`): read with a store's live state, written by
//! group commit (`queries/commit.rs`), one row per store and name.

use diesel::prelude::*;

use crate::db::models::SavedViewRow;
use crate::db::schema::saved_views;
use crate::db::Conn;
use crate::error::ApiError;
use crate::model::saved_view::{SavedView, MAX_SAVED_VIEWS};

/// A store's saved views, by name.
pub fn all(conn: &mut Conn, store_id: i64) -> Result<Vec<SavedView>, ApiError> {
    let rows = saved_views::table
        .filter(saved_views::store_id.eq(store_id))
        .order(saved_views::name)
        .select(SavedViewRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().filter_map(SavedViewRow::into_saved_view).collect())
}

/// A store's saved view by name.
pub fn get(conn: &mut Conn, store_id: i64, name: &str) -> Result<SavedView, ApiError> {
    saved_views::table
        .find((store_id, name))
        .select(SavedViewRow::as_select())
        .first(conn)
        .optional()?
        .and_then(SavedViewRow::into_saved_view)
        .ok_or_else(|| ApiError::NotFound(format!("saved view {name}")))
}

/// Saves a view under its name, replacing one of that name; refuses a new
/// name past `MAX_SAVED_VIEWS`.
pub fn save(conn: &mut Conn, store_id: i64, saved: &SavedView) -> Result<(), ApiError> {
    let replaced = delete(conn, store_id, &saved.name)?;
    let count: i64 = saved_views::table.filter(saved_views::store_id.eq(store_id)).count().get_result(conn)?;
    if !replaced && count >= MAX_SAVED_VIEWS as i64 {
        return Err(ApiError::Limit(format!("a store keeps at most {MAX_SAVED_VIEWS} saved views")));
    }
    let row = SavedViewRow::new(store_id, saved)?;
    diesel::insert_into(saved_views::table).values(&row).execute(conn)?;
    Ok(())
}

/// Deletes a saved view; whether there was one.
pub fn delete(conn: &mut Conn, store_id: i64, name: &str) -> Result<bool, ApiError> {
    Ok(diesel::delete(saved_views::table.find((store_id, name))).execute(conn)? > 0)
}
