//! Bulk changes: one change applied to many products of a store in one
//! write (one transaction, one contiguous range of seqs, one batch for
//! subscribers). `plan` decides what each selected product becomes, all or
//! nothing: the store commits it only when no product fails, and a dry run
//! answers the same plan without writing.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::model::{check_amount, Product, ProductId, ProductPatch, ProductStatus, Seq, View, MAX_AMOUNT};

/// Products one bulk change may select.
pub const MAX_BULK_PRODUCTS: usize = 10_000;

/// What a bulk change does to each selected product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum BulkOp {
    /// Sets the status (`archived` archives, `active` restores).
    SetStatus { status: ProductStatus },
    /// Adds `amount` minor units (negative lowers) to the price.
    AddToPrice { amount: i64 },
    /// Changes the price by `percent` (two decimals at most, -100 to 1000),
    /// rounded to minor units.
    ScalePrice {
        percent: f64,
        #[serde(default)]
        rounding: Rounding,
    },
    /// Sets the stock.
    SetStock { stock: i64 },
    /// Adds `amount` (negative removes) to the stock.
    AddToStock { amount: i64 },
    /// Deletes the products.
    Delete,
    /// Puts price, stock and status back as a report's `before` had them:
    /// the undo of a bulk change (not of a delete). Selects its own rows.
    Restore { rows: Vec<BulkRow> },
}

/// How a scaled price is rounded to minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Half away from zero.
    #[default]
    Nearest,
    Up,
    Down,
}

/// A product's price, stock and status: what a bulk change may move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRow {
    pub id: ProductId,
    pub price: i64,
    pub stock: i64,
    pub status: ProductStatus,
}

impl BulkRow {
    fn of(p: &Product) -> Self {
        Self { id: p.id, price: p.price, stock: p.stock, status: p.status }
    }
}

/// Body of `POST /products/bulk`: which products (`ids` or `filter`, one of
/// them; neither with `restore`) and the change.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    /// Products by id, 1 to 10,000.
    #[serde(default)]
    pub ids: Option<Vec<ProductId>>,
    /// Products matching a view's filters (`q`, `status`); its paging and
    /// sorting fields are ignored. At most 10,000 may match.
    #[serde(default)]
    pub filter: Option<View>,
    pub change: BulkOp,
    /// Answer the plan (counts, the rows that would fail) without writing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Which products a bulk change selects.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    Ids(Vec<ProductId>),
    /// The products matching the view's filters, now.
    Filter(View),
}

impl BulkRequest {
    /// The checked selection, change and dry-run flag.
    pub fn into_parts(self) -> Result<(Selection, BulkOp, bool), ApiError> {
        self.change.validate()?;
        let selection = match (self.ids, self.filter, self.change.own_selection()) {
            (None, None, Some(ids)) => Selection::Ids(ids),
            (_, _, Some(_)) => return Err(ApiError::invalid("ids", "a restore selects its own rows".into())),
            (Some(ids), None, None) => {
                check_count(ids.len(), "ids")?;
                Selection::Ids(ids)
            }
            (None, Some(filter), None) => {
                filter.validate()?;
                Selection::Filter(filter)
            }
            _ => return Err(ApiError::invalid("ids", "give either ids or filter".into())),
        };
        Ok((selection, self.change, self.dry_run))
    }
}

/// What a bulk change did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BulkReport {
    /// Products selected.
    pub matched: usize,
    /// Products changed or deleted (the others already were as asked).
    pub changed: usize,
    /// The seq of the change's first event, if it wrote any.
    pub first_seq: Option<Seq>,
    /// The store's seq after the change (before it, in a dry run).
    pub seq: Seq,
    /// The changed products as they were: send them back as a `restore`
    /// change to undo (deleted products cannot be restored).
    pub before: Vec<BulkRow>,
    /// In a dry run, the same products as the change would leave them (a
    /// preview); left out otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<BulkRow>,
    pub dry_run: bool,
}

/// One selected product that the change cannot apply to.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RowError {
    pub id: ProductId,
    pub message: String,
}

/// What the change does to each product: a patch, or a delete.
#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    Patch(Product, ProductPatch),
    Delete(Product),
}

impl BulkOp {
    /// Checks the change itself, before any product is looked at.
    pub fn validate(&self) -> Result<(), ApiError> {
        match self {
            Self::AddToPrice { amount } | Self::AddToStock { amount } if amount.unsigned_abs() > MAX_AMOUNT as u64 => {
                Err(ApiError::invalid("amount", format!("amount must be between -{MAX_AMOUNT} and {MAX_AMOUNT}")))
            }
            Self::ScalePrice { percent, .. } => basis_points(*percent).map(drop),
            Self::SetStock { stock } => check_amount("stock", *stock),
            Self::Restore { rows } => {
                check_count(rows.len(), "rows")?;
                rows.iter().try_for_each(|r| check_amount("price", r.price).and(check_amount("stock", r.stock)))
            }
            _ => Ok(()),
        }
    }

    /// The ids a `restore` selects.
    pub fn own_selection(&self) -> Option<Vec<ProductId>> {
        match self {
            Self::Restore { rows } => Some(rows.iter().map(|r| r.id).collect()),
            _ => None,
        }
    }

    /// What one product becomes, or why it cannot.
    fn plan_one(&self, p: &Product) -> Result<Planned, String> {
        let patch = |patch: ProductPatch| Ok(Planned::Patch(p.clone(), patch));
        match self {
            Self::SetStatus { status } => patch(ProductPatch { status: Some(*status), ..Default::default() }),
            Self::AddToPrice { amount } => patch(price(in_range("price", p.price.checked_add(*amount))?)),
            Self::ScalePrice { percent, rounding } => {
                let bp = basis_points(*percent).map_err(|e| e.to_string())?;
                patch(price(in_range("price", scale(p.price, bp, *rounding))?))
            }
            Self::SetStock { stock } => patch(stock_patch(*stock)),
            Self::AddToStock { amount } => patch(stock_patch(in_range("stock", p.stock.checked_add(*amount))?)),
            Self::Delete => Ok(Planned::Delete(p.clone())),
            Self::Restore { rows } => {
                let row = rows.iter().find(|r| r.id == p.id).ok_or("not in the restore rows")?;
                patch(ProductPatch {
                    price: Some(row.price),
                    stock: Some(row.stock),
                    status: Some(row.status),
                    ..Default::default()
                })
            }
        }
    }
}

fn price(price: i64) -> ProductPatch {
    ProductPatch { price: Some(price), ..Default::default() }
}

fn stock_patch(stock: i64) -> ProductPatch {
    ProductPatch { stock: Some(stock), ..Default::default() }
}

fn in_range(field: &str, value: Option<i64>) -> Result<i64, String> {
    value.filter(|v| (0..=MAX_AMOUNT).contains(v)).ok_or_else(|| format!("{field} would leave 0..={MAX_AMOUNT}"))
}

/// `percent` in hundredths of a percent, if it has at most two decimals
/// and lies within -100 to 1000.
fn basis_points(percent: f64) -> Result<i64, ApiError> {
    let bp = (percent * 100.0).round();
    if !(-10_000.0..=100_000.0).contains(&bp) || ((percent * 100.0) - bp).abs() > 1e-6 {
        return Err(ApiError::invalid("percent", "percent must be -100 to 1000 with at most two decimals".into()));
    }
    Ok(bp as i64)
}

/// `price` changed by `bp` hundredths of a percent, rounded as asked.
fn scale(price: i64, bp: i64, rounding: Rounding) -> Option<i64> {
    let num = i128::from(price) * i128::from(10_000 + bp);
    let (q, r) = (num / 10_000, num % 10_000);
    let rounded = match rounding {
        Rounding::Down => q - i128::from(r < 0),
        Rounding::Up => q + i128::from(r > 0),
        Rounding::Nearest if r.abs() * 2 >= 10_000 => q + r.signum(),
        Rounding::Nearest => q,
    };
    i64::try_from(rounded).ok()
}

/// A selection's size must be 1 to `MAX_BULK_PRODUCTS`.
pub fn check_count(n: usize, field: &str) -> Result<(), ApiError> {
    match n {
        0 => Err(ApiError::invalid(field, "the selection is empty".into())),
        n if n > MAX_BULK_PRODUCTS => Err(ApiError::Limit(format!(
            "a bulk change selects at most {MAX_BULK_PRODUCTS} products; this one selects {n}"
        ))),
        _ => Ok(()),
    }
}

/// What the change does to each of `ids` (the store's `products`, found by
/// `get`), all or nothing: the failing products named, unknown ids first.
pub fn plan<'a>(
    op: &BulkOp,
    ids: &[ProductId],
    mut get: impl FnMut(ProductId) -> Option<&'a Product>,
) -> Result<Vec<Planned>, ApiError> {
    let mut planned = Vec::with_capacity(ids.len());
    let mut failed = Vec::new();
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    for &id in ids.iter().filter(|id| seen.insert(**id)) {
        match get(id).ok_or_else(|| "no such product in this store".to_owned()).and_then(|p| op.plan_one(p)) {
            Ok(p) => planned.push(p),
            Err(message) => failed.push(RowError { id, message }),
        }
    }
    if failed.is_empty() {
        Ok(planned)
    } else {
        Err(ApiError::InvalidRows(failed))
    }
}

/// The report of a plan: what it matched and which products it changes.
pub fn report(planned: &[Planned], first_seq: Option<Seq>, seq: Seq, dry_run: bool) -> BulkReport {
    let changes = |p: &&Planned| match p {
        Planned::Patch(product, patch) => {
            patch.price.is_some_and(|v| v != product.price)
                || patch.stock.is_some_and(|v| v != product.stock)
                || patch.status.is_some_and(|v| v != product.status)
        }
        Planned::Delete(_) => true,
    };
    let patched = || {
        planned.iter().filter(changes).filter_map(|p| match p {
            Planned::Patch(product, patch) => Some((product, patch)),
            Planned::Delete(_) => None,
        })
    };
    let after = |(p, patch): (&Product, &ProductPatch)| BulkRow {
        id: p.id,
        price: patch.price.unwrap_or(p.price),
        stock: patch.stock.unwrap_or(p.stock),
        status: patch.status.unwrap_or(p.status),
    };
    BulkReport {
        matched: planned.len(),
        changed: planned.iter().filter(changes).count(),
        first_seq,
        seq,
        before: patched().map(|(p, _)| BulkRow::of(p)).collect(),
        after: if dry_run { patched().map(after).collect() } else { Vec::new() },
        dry_run,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_prices_round_as_asked() {
        assert_eq!(scale(999, 1_000, Rounding::Nearest), Some(1099)); // 1098.9
        assert_eq!(scale(999, 1_000, Rounding::Down), Some(1098));
        assert_eq!(scale(1000, 1_000, Rounding::Up), Some(1100));
        assert_eq!(scale(999, -1_000, Rounding::Nearest), Some(899)); // 899.1
        assert_eq!(scale(999, -1_000, Rounding::Up), Some(900));
        assert_eq!(scale(5, -5_000, Rounding::Nearest), Some(3)); // 2.5
        assert_eq!(scale(5, -5_000, Rounding::Down), Some(2));
        assert_eq!(scale(MAX_AMOUNT, 100_000, Rounding::Nearest), Some(MAX_AMOUNT * 11));
    }

    #[test]
    fn percents_take_two_decimals_within_bounds() {
        assert_eq!(basis_points(12.5).unwrap(), 1250);
        assert_eq!(basis_points(-100.0).unwrap(), -10_000);
        assert!(basis_points(0.001).is_err());
        assert!(basis_points(-100.01).is_err());
        assert!(basis_points(1000.01).is_err());
        assert!(basis_points(f64::NAN).is_err());
        assert!(basis_points(f64::INFINITY).is_err());
    }
}
