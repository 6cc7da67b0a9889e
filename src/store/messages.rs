//! Messages a store actor answers. Owned data, one line each.

use actix::Message;
use chrono::NaiveDate;
use tokio::sync::watch;

use super::change::{Applied, PendingChange};
use super::state::{SalesSummary, Snapshot};
use crate::error::ApiError;
use crate::model::{DailyPoint, Dashboard, Product, ProductId, ProductPage, Seq, View};

/// Commit one write with the next group commit; replies once durable.
#[derive(Message)]
#[rtype(result = "Result<Applied, ApiError>")]
pub struct Write(pub PendingChange);

/// One page of the product table.
#[derive(Message)]
#[rtype(result = "Result<ProductPage, ApiError>")]
pub struct GetPage(pub View);

/// One product of this store.
#[derive(Message)]
#[rtype(result = "Result<Product, ApiError>")]
pub struct GetProduct(pub ProductId);

/// Every product, by id (export).
#[derive(Message)]
#[rtype(result = "Result<Vec<Product>, ApiError>")]
pub struct GetAllProducts;

/// Dashboard, recent sales and a page, at one seq.
#[derive(Message)]
#[rtype(result = "Result<Snapshot, ApiError>")]
pub struct GetSnapshot(pub View);

/// The dashboard now.
#[derive(Message)]
#[rtype(result = "Result<Dashboard, ApiError>")]
pub struct GetDashboard;

/// Daily sales between two local days, inclusive.
#[derive(Message)]
#[rtype(result = "Result<Vec<DailyPoint>, ApiError>")]
pub struct GetDaily {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The sales summary now.
#[derive(Message)]
#[rtype(result = "Result<SalesSummary, ApiError>")]
pub struct GetSummary;

/// A receiver that sees the store's seq advance (long-poll).
#[derive(Message)]
#[rtype(result = "Result<watch::Receiver<Seq>, ApiError>")]
pub struct WatchSeq;

/// Drop the live state and reload it from the database (supervised
/// restart), once no commit is in flight.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Reload;
