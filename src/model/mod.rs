//! The domain types every layer shares: products, dashboard, sales, events,
//! and the product-table view. They are what REST bodies, WebSocket frames
//! and the store actor's live state are made of. Validation of client input
//! lives here too, next to the limits it enforces. What a write is and
//! what it produced (`change`) and what a client reads to start
//! (`snapshot`) are model vocabulary too: the database layer builds them
//! and both actors use them.

pub mod analytics;
pub mod bulk;
pub mod calendar;
pub mod change;
pub mod digest;
pub mod event;
pub mod feedback;
pub mod history;
pub mod kpi;
pub mod saved_view;
pub mod schedule;
pub mod snapshot;
pub mod store;

pub use event::{Event, EventKind};
pub use snapshot::{SalesSummary, Snapshot, Totals};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// A store's own, monotonically increasing change counter.
pub type Seq = i64;
/// Database id of a store (URLs use the slug).
pub type StoreId = i64;
/// Database id of a product (unique across stores).
pub type ProductId = i64;

/// Longest product name accepted.
pub const MAX_NAME_LEN: usize = 200;
/// Longest SKU accepted.
pub const MAX_SKU_LEN: usize = 64;
/// Largest price, stock or money figure accepted (10^12 minor units).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;
/// Largest product-table page.
pub const MAX_PAGE_SIZE: usize = 200;
/// Lines a single sale may carry.
pub const MAX_SALE_LINES: usize = 100;

/// Where a product is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    Active,
    Draft,
    Archived,
}

impl ProductStatus {
    /// The stored (and wire) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Draft => "draft",
            Self::Archived => "archived",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "draft" => Some(Self::Draft),
            "archived" => Some(Self::Archived),
            _ => None,
        }
    }
}

/// A product as clients see it. Money is integer minor units of the store's
/// currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Product {
    pub id: ProductId,
    pub sku: String,
    pub name: String,
    pub price: i64,
    pub stock: i64,
    pub status: ProductStatus,
    /// Content hash of the product image, if it has one.
    pub image: Option<String>,
    pub views: i64,
    pub units_sold: i64,
    pub revenue: i64,
    /// Bumped by every change; the ETag and `If-Match` value.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /products` and one row of an import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")]
    pub sku: String,
    #[schema(min_length = 1, max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub name: String,
    #[schema(minimum = 0, maximum = 1_000_000_000_000.0)]
    pub price: i64,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000_000_000.0)]
    pub stock: i64,
    #[serde(default = "default_status")]
    pub status: ProductStatus,
}

fn default_status() -> ProductStatus {
    ProductStatus::Draft
}

/// Body of `PATCH /products/{id}`: the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")]
    pub sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000.0)]
    pub price: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000.0)]
    pub stock: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ProductStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000.0)]
    pub views: Option<i64>,
}

fn check_sku(sku: &str) -> Result<(), ApiError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if sku.is_empty() || sku.len() > MAX_SKU_LEN || !sku.chars().all(ok_char) {
        return Err(ApiError::invalid("sku", format!("sku must be 1-{MAX_SKU_LEN} characters of A-Z a-z 0-9 - _ .")));
    }
    Ok(())
}

/// Unicode bidirectional embedding, override and isolate controls
/// (U+202A–U+202E, U+2066–U+2069). Invisible, they reorder how the text
/// around them is displayed ("Trojan Source"), so a name could show as
/// another one; `char::is_control` does not count them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether a one-line text other users will see (a name, an order
/// reference, a token name) has no control character, bidi controls
/// included.
pub fn is_printable_line(text: &str) -> bool {
    !text.chars().any(|c| c.is_control() || is_bidi_control(c))
}

/// Refuses a name that is empty, longer than `MAX_NAME_LEN` or not one
/// printable line.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    let len = name.chars().count();
    if name.trim().is_empty() || len > MAX_NAME_LEN || !is_printable_line(name) {
        return Err(ApiError::invalid("name", format!("name must be 1-{MAX_NAME_LEN} printable characters")));
    }
    Ok(())
}

/// Checks that a count or money figure is within `0..=MAX_AMOUNT`.
pub fn check_amount(field: &'static str, value: i64) -> Result<(), ApiError> {
    if !(0..=MAX_AMOUNT).contains(&value) {
        return Err(ApiError::invalid(field, format!("{field} must be between 0 and {MAX_AMOUNT}")));
    }
    Ok(())
}

impl NewProduct {
    /// Checks lengths, characters and ranges.
    pub fn validate(&self) -> Result<(), ApiError> {
        check_sku(&self.sku)?;
        check_name(&self.name)?;
        check_amount("price", self.price)?;
        check_amount("stock", self.stock)
    }
}

impl ProductPatch {
    /// Checks each present field; an empty patch is refused.
    pub fn validate(&self) -> Result<(), ApiError> {
        if *self == Self::default() {
            return Err(ApiError::invalid("body", "the patch changes no field".into()));
        }
        if let Some(sku) = &self.sku {
            check_sku(sku)?;
        }
        if let Some(name) = &self.name {
            check_name(name)?;
        }
        for (field, value) in [("price", self.price), ("stock", self.stock), ("views", self.views)] {
            if let Some(v) = value {
                check_amount(field, v)?;
            }
        }
        Ok(())
    }
}

/// A store's headline figures. Sales figures are computed from the day's
/// sales in the store's time zone; the rest are set by admins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Dashboard {
    /// Local calendar day the `*_today` figures belong to.
    pub day: NaiveDate,
    pub revenue_today: i64,
    pub orders_today: i64,
    pub units_today: i64,
    pub visitors_today: i64,
    /// Orders per visitor, in basis points (1 % = 100).
    pub conversion_bp: i64,
    pub average_order_value: i64,
    pub refunds_today: i64,
    pub revenue_target: i64,
    pub notice: String,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl Dashboard {
    /// The `dashboard.updated` event's data for a change from `before` (the
    /// dashboard as subscribers last had it, on the same day): only the
    /// fields that differ, and `version`. `updated_at` is left out: it is
    /// the event's `at`. With `before` of another day (`None`: the first
    /// change of a local day), the whole dashboard.
    pub fn changes_from(&self, before: Option<&Dashboard>) -> serde_json::Value {
        // Serializing our own struct cannot fail.
        let now = serde_json::to_value(self).unwrap_or_default();
        let (Some(before), serde_json::Value::Object(fields)) = (before.filter(|b| b.day == self.day), &now) else {
            return now;
        };
        let before = serde_json::to_value(before).unwrap_or_default();
        let changed = fields
            .iter()
            .filter(|(name, value)| {
                *name == "version" || (*name != "updated_at" && before.get(name.as_str()) != Some(*value))
            })
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        serde_json::Value::Object(changed)
    }
}

/// The hand-set part of the dashboard, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardSettings {
    pub visitors_today: i64,
    pub refunds_today: i64,
    pub revenue_target: i64,
    pub notice: String,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl DashboardSettings {
    /// The settings of a store that never set any.
    pub fn empty() -> Self {
        Self {
            visitors_today: 0,
            refunds_today: 0,
            revenue_target: 0,
            notice: String::new(),
            version: 1,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    /// The full dashboard, given today's sales.
    pub fn dashboard(&self, today: DailyPoint) -> Dashboard {
        let ratio = |num: i64, den: i64| if den > 0 { num / den } else { 0 };
        Dashboard {
            day: today.day,
            revenue_today: today.revenue,
            orders_today: today.orders,
            units_today: today.units,
            visitors_today: self.visitors_today,
            conversion_bp: ratio(today.orders.saturating_mul(10_000), self.visitors_today),
            average_order_value: ratio(today.revenue, today.orders),
            refunds_today: self.refunds_today,
            revenue_target: self.revenue_target,
            notice: self.notice.clone(),
            version: self.version,
            updated_at: self.updated_at,
        }
    }
}

impl DailyPoint {
    /// A day without sales.
    pub fn empty(day: NaiveDate) -> Self {
        Self { day, orders: 0, units: 0, revenue: 0 }
    }
}

/// Longest dashboard notice.
pub const MAX_NOTICE_LEN: usize = 500;

/// Body of `PATCH /dashboard`. Sales figures are computed and cannot be set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DashboardPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000.0)]
    pub visitors_today: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000.0)]
    pub refunds_today: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000.0)]
    pub revenue_target: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub notice: Option<String>,
}

impl DashboardPatch {
    /// Checks ranges and the notice length; an empty patch is refused.
    pub fn validate(&self) -> Result<(), ApiError> {
        if *self == Self::default() {
            return Err(ApiError::invalid("body", "the patch changes no field".into()));
        }
        for (field, value) in [
            ("visitors_today", self.visitors_today),
            ("refunds_today", self.refunds_today),
            ("revenue_target", self.revenue_target),
        ] {
            if let Some(v) = value {
                check_amount(field, v)?;
            }
        }
        if let Some(notice) = &self.notice {
            if notice.chars().count() > MAX_NOTICE_LEN {
                return Err(ApiError::invalid("notice", format!("notice must be at most {MAX_NOTICE_LEN} characters")));
            }
            // Line breaks stay allowed (the admin edits it in a textarea).
            if notice.chars().any(is_bidi_control) {
                return Err(ApiError::invalid(
                    "notice",
                    "notice must not contain bidirectional control characters".into(),
                ));
            }
        }
        Ok(())
    }
}

/// One line of a sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleLine {
    pub product_id: ProductId,
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub quantity: i64,
    /// Price per unit; the product's current price when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000.0)]
    pub unit_price: Option<i64>,
}

/// Body of `POST /sales`: an order as ingested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSale {
    /// The order's id in the shop system; unique per store when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub order_ref: Option<String>,
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<SaleLine>,
    /// When the order was placed, from 2000-01-01T00:00:00Z to one day
    /// from now; now when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

impl NewSale {
    /// Checks line count, quantities, prices, the order reference and that
    /// `at` lies in the sale window as of `now` (`calendar::check_sale_time`).
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), ApiError> {
        if self.lines.is_empty() || self.lines.len() > MAX_SALE_LINES {
            return Err(ApiError::invalid("lines", format!("a sale has 1-{MAX_SALE_LINES} lines")));
        }
        for line in &self.lines {
            if !(1..=1_000_000).contains(&line.quantity) {
                return Err(ApiError::invalid("quantity", "quantity must be 1-1000000".into()));
            }
            if let Some(price) = line.unit_price {
                check_amount("unit_price", price)?;
            }
        }
        if let Some(r) = &self.order_ref {
            if r.is_empty() || r.len() > 100 || !is_printable_line(r) {
                return Err(ApiError::invalid("order_ref", "order_ref must be 1-100 characters".into()));
            }
        }
        if let Some(at) = self.at {
            calendar::check_sale_time(at, now)?;
        }
        Ok(())
    }
}

/// Orders, units and revenue of one local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DailyPoint {
    pub day: NaiveDate,
    pub orders: i64,
    pub units: i64,
    pub revenue: i64,
}

/// A product's figures after a sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProductFigures {
    pub id: ProductId,
    pub units_sold: i64,
    pub revenue: i64,
    pub stock: i64,
    pub version: i64,
}

/// What recording a sale produced: the sale, its day and the products' new
/// figures. It is also the `sales.updated` event's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SaleReceipt {
    pub sale_id: i64,
    pub order_ref: Option<String>,
    pub amount: i64,
    pub at: DateTime<Utc>,
    pub day: DailyPoint,
    pub products: Vec<ProductFigures>,
}

/// A store as its users see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StoreInfo {
    /// The id used in URLs.
    pub slug: String,
    pub name: String,
    /// ISO 4217 code; money fields are in its minor units.
    pub currency: String,
    /// IANA time zone of the daily sales buckets.
    pub time_zone: String,
    /// Whether product images are served without a grant.
    pub public: bool,
    /// Read-only, and listed only to its admins.
    #[serde(default)]
    pub archived: bool,
}

/// Columns the product table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortField {
    #[default]
    Id,
    Sku,
    Name,
    Price,
    Stock,
    Status,
    Views,
    UnitsSold,
    Revenue,
    UpdatedAt,
}

impl SortField {
    /// Every sortable column, in index order.
    pub const ALL: [SortField; 10] = [
        Self::Id,
        Self::Sku,
        Self::Name,
        Self::Price,
        Self::Stock,
        Self::Status,
        Self::Views,
        Self::UnitsSold,
        Self::Revenue,
        Self::UpdatedAt,
    ];
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

fn default_page() -> usize {
    1
}
fn default_page_size() -> usize {
    25
}

/// A product-table view: which page of which filtered, sorted list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct View {
    /// 1-based page number.
    #[serde(default = "default_page")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: usize,
    /// Rows per page, 1-200.
    #[serde(default = "default_page_size")]
    #[schema(minimum = 1, maximum = 200)]
    #[param(minimum = 1, maximum = 200)]
    pub page_size: usize,
    #[serde(default)]
    pub sort: SortField,
    #[serde(default)]
    pub dir: SortDir,
    /// Case-insensitive substring of name or SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 100)]
    #[param(max_length = 100)]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ProductStatus>,
    /// Lowest price shown, inclusive, in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000.0)]
    #[param(minimum = 0, maximum = 1_000_000_000_000.0)]
    pub price_min: Option<i64>,
    /// Highest price shown, inclusive, in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000.0)]
    #[param(minimum = 0, maximum = 1_000_000_000_000.0)]
    pub price_max: Option<i64>,
    /// Only products with less stock than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000.0)]
    #[param(minimum = 0, maximum = 1_000_000_000_000.0)]
    pub stock_below: Option<i64>,
    /// Only products changed at or after this time (2000-01-01 to 2100-12-31).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_since: Option<DateTime<Utc>>,
    /// Only products with (`true`) or without (`false`) an image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_image: Option<bool>,
}

impl Default for View {
    fn default() -> Self {
        Self {
            page: 1,
            page_size: default_page_size(),
            sort: SortField::Id,
            dir: SortDir::Asc,
            q: None,
            status: None,
            price_min: None,
            price_max: None,
            stock_below: None,
            updated_since: None,
            has_image: None,
        }
    }
}

impl View {
    /// Checks page bounds, the search length and the filters' ranges.
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.page == 0 || self.page > 1_000_000 {
            return Err(ApiError::invalid("page", "page must be 1 or more".into()));
        }
        if self.page_size == 0 || self.page_size > MAX_PAGE_SIZE {
            return Err(ApiError::invalid("page_size", format!("page_size must be 1-{MAX_PAGE_SIZE}")));
        }
        if self.q.as_ref().is_some_and(|q| q.chars().count() > 100) {
            return Err(ApiError::invalid("q", "q must be at most 100 characters".into()));
        }
        let amounts = [("price_min", self.price_min), ("price_max", self.price_max), ("stock_below", self.stock_below)];
        for (field, value) in amounts {
            value.map_or(Ok(()), |v| check_amount(field, v))?;
        }
        if self.price_min.zip(self.price_max).is_some_and(|(min, max)| min > max) {
            return Err(ApiError::invalid("price_max", "price_max must not be below price_min".into()));
        }
        if let Some(since) = self.updated_since {
            calendar::check_query_day("updated_since", since.date_naive())?;
        }
        Ok(())
    }
}

/// One page of the product table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProductPage {
    pub seq: Seq,
    pub view: View,
    /// Products matching the filter, over all pages.
    pub total: usize,
    pub rows: Vec<Product>,
    /// `digest::page_digest` of `total` and the rows' ids and versions.
    #[serde(default)]
    #[schema(format = Int64, minimum = 0, maximum = 4294967295_u32)]
    pub digest: u32,
}

impl ProductPage {
    /// A page at `seq`, with its digest.
    pub fn new(seq: Seq, view: View, total: usize, rows: Vec<Product>) -> Self {
        let digest = digest::page_digest(total, &rows);
        Self { seq, view, total, rows, digest }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_controls_are_not_printable_but_other_scripts_are() {
        for c in
            ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}']
        {
            assert!(is_bidi_control(c) && !is_printable_line(&format!("a{c}b")), "U+{:04X}", c as u32);
        }
        for ok in ["Café au lait", "שלום", "مرحبا", "日本語", "emoji 🎉"] {
            assert!(is_printable_line(ok), "{ok}");
        }
        assert!(!is_printable_line("tab\there"));
    }
}
