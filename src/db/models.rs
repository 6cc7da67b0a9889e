//! Row structs as diesel reads and writes them, and their conversion to the
//! domain types of `crate::model`. Times are stored as UTC `TIMESTAMP`.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{daily_sales, dashboard, events, products, saved_views, stores};
use crate::error::ApiError;
use crate::model::saved_view::SavedView;
use crate::model::{DashboardSettings, Event, EventKind, Product, ProductStatus, StoreInfo};

/// A `stores` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = stores)]
pub struct StoreRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub currency: String,
    pub time_zone: String,
    pub public: bool,
    pub seq: i64,
    pub created_at: NaiveDateTime,
    pub archived: bool,
}

impl StoreRow {
    /// The client-facing view of the store.
    pub fn info(&self) -> StoreInfo {
        StoreInfo {
            slug: self.slug.clone(),
            name: self.name.clone(),
            currency: self.currency.clone(),
            time_zone: self.time_zone.clone(),
            public: self.public,
            archived: self.archived,
        }
    }
}

/// A `products` row. `treat_none_as_null`: saving a product without an
/// image clears the column.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = products, treat_none_as_null = true)]
pub struct ProductRow {
    pub id: i64,
    pub store_id: i64,
    pub sku: String,
    pub name: String,
    pub price: i64,
    pub stock: i64,
    pub status: String,
    pub image: Option<String>,
    pub views: i64,
    pub units_sold: i64,
    pub revenue: i64,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A product about to be inserted (the database assigns its id).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = products)]
pub struct NewProductRow<'a> {
    pub id: i64,
    pub store_id: i64,
    pub sku: &'a str,
    pub name: &'a str,
    pub price: i64,
    pub stock: i64,
    pub status: &'a str,
    pub views: i64,
    pub units_sold: i64,
    pub revenue: i64,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Reads a stored UTC timestamp.
pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

impl ProductRow {
    /// The domain product.
    pub fn into_product(self) -> Product {
        Product {
            id: self.id,
            sku: self.sku,
            name: self.name,
            price: self.price,
            stock: self.stock,
            // Only this crate writes the column, always from ProductStatus.
            status: ProductStatus::parse(&self.status).unwrap_or(ProductStatus::Draft),
            image: self.image,
            views: self.views,
            units_sold: self.units_sold,
            revenue: self.revenue,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }

    /// The row for a domain product of `store_id`.
    pub fn from_product(store_id: i64, p: &Product) -> Self {
        Self {
            id: p.id,
            store_id,
            sku: p.sku.clone(),
            name: p.name.clone(),
            price: p.price,
            stock: p.stock,
            status: p.status.as_str().to_owned(),
            image: p.image.clone(),
            views: p.views,
            units_sold: p.units_sold,
            revenue: p.revenue,
            version: p.version,
            created_at: p.created_at.naive_utc(),
            updated_at: p.updated_at.naive_utc(),
        }
    }
}

/// A `dashboard` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = dashboard)]
pub struct DashboardRow {
    pub store_id: i64,
    pub visitors_today: i64,
    pub refunds_today: i64,
    pub revenue_target: i64,
    pub notice: String,
    pub version: i64,
    pub updated_at: NaiveDateTime,
}

impl DashboardRow {
    /// The hand-set dashboard fields.
    pub fn into_settings(self) -> DashboardSettings {
        DashboardSettings {
            visitors_today: self.visitors_today,
            refunds_today: self.refunds_today,
            revenue_target: self.revenue_target,
            notice: self.notice,
            version: self.version,
            updated_at: utc(self.updated_at),
        }
    }
}

/// A `daily_sales` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = daily_sales)]
pub struct DailySalesRow {
    pub store_id: i64,
    pub day: String,
    pub orders: i64,
    pub units: i64,
    pub revenue: i64,
}

/// A `saved_views` row: the view as JSON.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = saved_views)]
pub struct SavedViewRow {
    pub store_id: i64,
    pub name: String,
    pub view: String,
    pub saved_by: String,
    pub saved_at: NaiveDateTime,
}

impl SavedViewRow {
    /// The row of a saved view.
    pub fn new(store_id: i64, saved: &SavedView) -> Result<Self, ApiError> {
        let view = serde_json::to_string(&saved.view).map_err(|e| ApiError::Internal(format!("view json: {e}")))?;
        let (name, saved_by) = (saved.name.clone(), saved.saved_by.clone());
        Ok(Self { store_id, name, view, saved_by, saved_at: saved.saved_at.naive_utc() })
    }

    /// The saved view; `None` for a view that no longer parses (never
    /// written by us).
    pub fn into_saved_view(self) -> Option<SavedView> {
        let view = serde_json::from_str(&self.view).ok()?;
        Some(SavedView { name: self.name, view, saved_by: self.saved_by, saved_at: self.saved_at.and_utc() })
    }
}

/// An `events` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub store_id: i64,
    pub seq: i64,
    pub kind: String,
    pub entity_id: Option<i64>,
    pub data: String,
    pub actor: String,
    pub at: NaiveDateTime,
}

impl EventRow {
    /// The domain event; data that fails to parse (never written by us)
    /// comes through as JSON null rather than failing the read. A kind this
    /// build does not know is refused: a newer build wrote it.
    pub fn into_event(self) -> Result<Event, ApiError> {
        let kind = EventKind::parse(&self.kind)
            .ok_or_else(|| ApiError::Internal(format!("event {} has unknown kind {}", self.seq, self.kind)))?;
        Ok(Event {
            seq: self.seq,
            kind,
            entity_id: self.entity_id,
            at: utc(self.at),
            by: self.actor,
            data: serde_json::from_str(&self.data).unwrap_or(serde_json::Value::Null),
        })
    }

    /// The row for an event of `store_id`.
    pub fn from_event(store_id: i64, e: &Event) -> Self {
        Self {
            store_id,
            seq: e.seq,
            kind: e.kind.as_str().to_owned(),
            entity_id: e.entity_id,
            data: e.data.to_string(),
            actor: e.by.clone(),
            at: e.at.naive_utc(),
        }
    }
}
