//! Product writes inside a group commit: each returns the new product and
//! leaves event drafting to the caller. Reads are served from the store
//! actor's live state, not from here.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::ids::{self, IdKind};
use crate::db::models::{NewProductRow, ProductRow};
use crate::db::schema::products;
use crate::db::Conn;
use crate::each_backend;
use crate::error::ApiError;
use crate::model::{NewProduct, Product, ProductId, ProductPatch};

fn sku_taken(e: DieselError, sku: &str) -> ApiError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            ApiError::Conflict(format!("sku {sku} is already used in this store"))
        }
        other => other.into(),
    }
}

/// A product of this store, or `NotFound`: another store's id is never found.
pub fn get(conn: &mut Conn, store_id: i64, id: ProductId) -> Result<Product, ApiError> {
    products::table
        .filter(products::store_id.eq(store_id).and(products::id.eq(id)))
        .select(ProductRow::as_select())
        .first(conn)
        .optional()?
        .map(ProductRow::into_product)
        .ok_or_else(|| ApiError::NotFound(format!("product {id}")))
}

/// The products of this store among `ids`.
pub fn get_many(conn: &mut Conn, store_id: i64, ids: &[ProductId]) -> QueryResult<Vec<Product>> {
    let mut found = Vec::with_capacity(ids.len());
    // SQLite caps bound parameters per statement.
    for chunk in ids.chunks(1000) {
        let rows = products::table
            .filter(products::store_id.eq(store_id).and(products::id.eq_any(chunk)))
            .select(ProductRow::as_select())
            .load(conn)?;
        found.extend(rows.into_iter().map(ProductRow::into_product));
    }
    Ok(found)
}

/// A product of this store by SKU.
pub fn by_sku(conn: &mut Conn, store_id: i64, sku: &str) -> Result<Option<Product>, ApiError> {
    Ok(products::table
        .filter(products::store_id.eq(store_id).and(products::sku.eq(sku)))
        .select(ProductRow::as_select())
        .first(conn)
        .optional()?
        .map(ProductRow::into_product))
}

/// Inserts a product under the store's next product id; a taken SKU is a
/// conflict.
pub fn create(conn: &mut Conn, store_id: i64, new: &NewProduct, now: NaiveDateTime) -> Result<Product, ApiError> {
    let row = NewProductRow {
        id: ids::next(conn, store_id, IdKind::Product)?,
        store_id,
        sku: &new.sku,
        name: &new.name,
        price: new.price,
        stock: new.stock,
        status: new.status.as_str(),
        views: 0,
        units_sold: 0,
        revenue: 0,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let insert = diesel::insert_into(products::table).values(&row);
    let created: QueryResult<ProductRow> =
        each_backend!(conn, |c| insert.returning(ProductRow::as_returning()).get_result(c));
    created.map(ProductRow::into_product).map_err(|e| sku_taken(e, &new.sku))
}

/// Writes a product's new state (the caller bumped its version).
pub fn save(conn: &mut Conn, store_id: i64, product: &Product) -> Result<(), ApiError> {
    let row = ProductRow::from_product(store_id, product);
    diesel::update(products::table.find(product.id)).set(&row).execute(conn).map_err(|e| sku_taken(e, &product.sku))?;
    Ok(())
}

/// Writes the new state of products that exist (the caller bumped their
/// versions); on PostgreSQL many per statement, as an upsert on the id whose
/// insert never happens.
pub fn save_many(conn: &mut Conn, store_id: i64, saved: &[Product]) -> Result<(), ApiError> {
    use diesel::upsert::excluded;
    let Conn::Pg(pg) = conn else {
        // SQLite's statements are function calls, not round trips (and
        // diesel cannot batch an upsert there): one each.
        return saved.iter().try_for_each(|p| save(conn, store_id, p));
    };
    let rows: Vec<ProductRow> = saved.iter().map(|p| ProductRow::from_product(store_id, p)).collect();
    // 14 columns a row: within SQLite's cap on bound parameters.
    for chunk in rows.chunks(500) {
        let upsert = diesel::insert_into(products::table).values(chunk).on_conflict(products::id).do_update().set((
            products::sku.eq(excluded(products::sku)),
            products::name.eq(excluded(products::name)),
            products::price.eq(excluded(products::price)),
            products::stock.eq(excluded(products::stock)),
            products::status.eq(excluded(products::status)),
            products::image.eq(excluded(products::image)),
            products::views.eq(excluded(products::views)),
            products::units_sold.eq(excluded(products::units_sold)),
            products::revenue.eq(excluded(products::revenue)),
            products::version.eq(excluded(products::version)),
            products::updated_at.eq(excluded(products::updated_at)),
        ));
        upsert.execute(pg)?;
    }
    Ok(())
}

/// Deletes a product of this store.
pub fn delete(conn: &mut Conn, store_id: i64, id: ProductId) -> Result<(), ApiError> {
    diesel::delete(products::table.filter(products::store_id.eq(store_id).and(products::id.eq(id)))).execute(conn)?;
    Ok(())
}

/// Applies a patch in memory; returns the changed fields as JSON (empty when
/// nothing changed).
pub fn apply_patch(product: &mut Product, patch: &ProductPatch) -> serde_json::Map<String, serde_json::Value> {
    let mut changed = serde_json::Map::new();
    macro_rules! set {
        ($field:ident) => {
            if let Some(v) = &patch.$field {
                if product.$field != *v {
                    product.$field = v.clone();
                    changed.insert(stringify!($field).into(), serde_json::json!(v));
                }
            }
        };
    }
    set!(sku);
    set!(name);
    set!(price);
    set!(stock);
    set!(status);
    set!(views);
    changed
}

/// The patch that turns `current` into an imported row.
pub fn import_patch(new: &NewProduct) -> ProductPatch {
    ProductPatch {
        sku: None,
        name: Some(new.name.clone()),
        price: Some(new.price),
        stock: Some(new.stock),
        status: Some(new.status),
        views: None,
    }
}

/// Whether any product (of any store) uses the image `hash`.
pub fn image_referenced(conn: &mut Conn, hash: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(products::table.filter(products::image.eq(hash)))).get_result(conn)
}

/// Whether a product of `store_id` uses the image `hash`.
pub fn store_uses_image(conn: &mut Conn, store_id: i64, hash: &str) -> QueryResult<bool> {
    let used = products::table.filter(products::store_id.eq(store_id).and(products::image.eq(hash)));
    diesel::select(diesel::dsl::exists(used)).get_result(conn)
}
