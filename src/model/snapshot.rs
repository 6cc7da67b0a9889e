//! What a client reads to start or to compare: the `Snapshot` (REST
//! `GET /snapshot` and the WebSocket `snapshot` frame) and the sales
//! `SalesSummary`. Built by the store's live state, sent by both actors.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::digest::StoreDigest;
use super::{DailyPoint, Dashboard, Product, ProductPage, Seq, StoreInfo};

/// Totals over a span of days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Totals {
    pub orders: i64,
    pub units: i64,
    pub revenue: i64,
}

/// `GET /sales/summary`: today against yesterday, this week against last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SalesSummary {
    pub today: DailyPoint,
    pub yesterday: DailyPoint,
    pub last_7_days: Totals,
    pub previous_7_days: Totals,
    /// Revenue of the last 7 days over the 7 before, in basis points of
    /// change (+1234 = +12.34 %); null when the earlier week sold nothing.
    pub trend_bp: Option<i64>,
    pub last_30_days: Totals,
    /// Best sellers by revenue.
    pub top_products: Vec<Product>,
}

/// Everything a client needs to start: `GET /snapshot` and the WebSocket
/// `snapshot` frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Snapshot {
    /// The store's name, currency and time zone.
    pub info: StoreInfo,
    pub seq: Seq,
    pub dashboard: Dashboard,
    /// The last 30 local days, oldest first.
    pub sales: Vec<DailyPoint>,
    pub page: ProductPage,
    /// The store's digest at `seq` (`docs/protocol.md`, consistency).
    #[serde(default)]
    pub digest: StoreDigest,
}
