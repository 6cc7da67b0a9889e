//! Live business analytics of one store (`GET /stores/{store}/analytics`):
//! today against the same weekday last week by local hour, today and the
//! same weekday last week against yesterday up to the same local time, the
//! products whose revenue rank moved most since yesterday, and how many
//! days of stock the active products have left at the last 7 days' pace.
//!
//! Computed by `Analytics::compute` from the sales of the last eight local
//! days (one indexed range read, `db/queries/analytics.rs`) and the
//! products sold in them; pure, so it is tested with known sales.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Timelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Dashboard, ProductId, ProductStatus, SaleLine, Totals};

/// How many top movers are listed.
pub const MOVERS: usize = 5;
/// How many low-stock forecasts are listed.
pub const LOW_STOCK_ROWS: usize = 10;
/// Products with fewer days of stock left than this are listed.
pub const LOW_STOCK_HORIZON_DAYS: f64 = 14.0;

/// A sale as analytics reads it.
#[derive(Debug, Clone)]
pub struct SaleFact {
    pub at: DateTime<Utc>,
    pub amount: i64,
    pub lines: Vec<SaleLine>,
}

/// What analytics needs of a product.
#[derive(Debug, Clone)]
pub struct ProductFact {
    pub id: ProductId,
    pub name: String,
    pub price: i64,
    pub stock: i64,
    pub status: ProductStatus,
}

/// Revenue, orders and units per local hour (index 0 = 00:00-00:59).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Hourly {
    pub revenue: Vec<i64>,
    pub orders: Vec<i64>,
    pub units: Vec<i64>,
}

impl Hourly {
    fn empty() -> Self {
        Self { revenue: vec![0; 24], orders: vec![0; 24], units: vec![0; 24] }
    }

    fn add(&mut self, hour: usize, amount: i64, units: i64) {
        self.revenue[hour] += amount;
        self.orders[hour] += 1;
        self.units[hour] += units;
    }
}

/// A product whose revenue rank changed between yesterday and today.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Mover {
    pub id: ProductId,
    pub name: String,
    /// Rank by revenue today (1 = best); products that sold nothing rank
    /// after those that did.
    pub rank_today: usize,
    pub rank_yesterday: usize,
    /// Places gained since yesterday (negative: lost).
    pub change: i64,
    pub revenue_today: i64,
    pub revenue_yesterday: i64,
}

/// An active product's stock at the last 7 days' pace of sales.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StockForecast {
    pub id: ProductId,
    pub name: String,
    pub stock: i64,
    /// Units sold in the last 7 x 24 hours.
    pub units_7d: i64,
    /// Stock over the daily pace, to one decimal.
    pub days_left: f64,
}

/// The analytics of one store now.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Analytics {
    /// The store's local day.
    pub day: NaiveDate,
    /// The same weekday last week.
    pub compare_day: NaiveDate,
    /// The local time the "so far" figures run to (HH:MM).
    pub as_of: String,
    pub today: Hourly,
    pub last_week: Hourly,
    pub today_so_far: Totals,
    /// Yesterday up to the same local time.
    pub yesterday_so_far: Totals,
    /// The same weekday last week up to the same local time.
    pub last_week_so_far: Totals,
    /// The dashboard's visitors today and orders per visitor (basis
    /// points; null without visitors).
    pub visitors_today: i64,
    pub conversion_bp: Option<i64>,
    pub top_movers: Vec<Mover>,
    pub low_stock: Vec<StockForecast>,
}

/// Per-product revenue of one day.
type Revenue = HashMap<ProductId, i64>;

impl Analytics {
    /// The analytics as of `now` from the sales of the last eight local days
    /// (older ones are ignored), the products they sold and the dashboard.
    pub fn compute(
        now: DateTime<Utc>,
        tz: Tz,
        sales: &[SaleFact],
        products: &HashMap<ProductId, ProductFact>,
        dashboard: &Dashboard,
    ) -> Self {
        let local_now = now.with_timezone(&tz).naive_local();
        let day = local_now.date();
        let (yesterday, compare_day) = (day - Duration::days(1), day - Duration::days(7));
        let so_far = |at: NaiveDateTime| at.time() <= local_now.time();
        let mut a = Self {
            day,
            compare_day,
            as_of: format!("{:02}:{:02}", local_now.hour(), local_now.minute()),
            today: Hourly::empty(),
            last_week: Hourly::empty(),
            today_so_far: Totals::default(),
            yesterday_so_far: Totals::default(),
            last_week_so_far: Totals::default(),
            visitors_today: dashboard.visitors_today,
            conversion_bp: (dashboard.visitors_today > 0).then_some(dashboard.conversion_bp),
            top_movers: Vec::new(),
            low_stock: Vec::new(),
        };
        let (mut revenue_today, mut revenue_yesterday) = (Revenue::new(), Revenue::new());
        let mut units_7d: HashMap<ProductId, i64> = HashMap::new();
        let week_ago = now - Duration::days(7);
        for sale in sales {
            let local = sale.at.with_timezone(&tz).naive_local();
            let units: i64 = sale.lines.iter().map(|l| l.quantity).sum();
            let hour = local.hour() as usize;
            let add = |t: &mut Totals| {
                t.orders += 1;
                t.units += units;
                t.revenue += sale.amount;
            };
            if local.date() == day {
                a.today.add(hour, sale.amount, units);
                add(&mut a.today_so_far);
                line_revenue(&mut revenue_today, sale, products);
            } else if local.date() == yesterday {
                if so_far(local) {
                    add(&mut a.yesterday_so_far);
                }
                line_revenue(&mut revenue_yesterday, sale, products);
            } else if local.date() == compare_day {
                a.last_week.add(hour, sale.amount, units);
                if so_far(local) {
                    add(&mut a.last_week_so_far);
                }
            }
            if sale.at > week_ago && sale.at <= now {
                for line in &sale.lines {
                    *units_7d.entry(line.product_id).or_default() += line.quantity;
                }
            }
        }
        a.top_movers = movers(&revenue_today, &revenue_yesterday, products);
        a.low_stock = low_stock(&units_7d, products);
        a
    }
}

/// Adds a sale's lines to the per-product revenue: the line's unit price,
/// or the product's current price when the sale gave none.
fn line_revenue(revenue: &mut Revenue, sale: &SaleFact, products: &HashMap<ProductId, ProductFact>) {
    for line in &sale.lines {
        let Some(product) = products.get(&line.product_id) else { continue };
        let price = line.unit_price.unwrap_or(product.price);
        *revenue.entry(line.product_id).or_default() += price.saturating_mul(line.quantity);
    }
}

/// Ranks by revenue (1 = best, ties by id); unsold products rank last.
fn ranks(revenue: &Revenue) -> (HashMap<ProductId, usize>, usize) {
    let mut order: Vec<(&ProductId, &i64)> = revenue.iter().filter(|(_, r)| **r > 0).collect();
    order.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let last = order.len() + 1;
    (order.into_iter().enumerate().map(|(i, (id, _))| (*id, i + 1)).collect(), last)
}

fn movers(today: &Revenue, yesterday: &Revenue, products: &HashMap<ProductId, ProductFact>) -> Vec<Mover> {
    let ((rank_now, last_now), (rank_before, last_before)) = (ranks(today), ranks(yesterday));
    let sold: BTreeSet<&ProductId> = rank_now.keys().chain(rank_before.keys()).collect();
    let mut movers: Vec<Mover> = sold
        .into_iter()
        .filter_map(|id| products.get(id))
        .map(|p| {
            let rank_today = rank_now.get(&p.id).copied().unwrap_or(last_now);
            let rank_yesterday = rank_before.get(&p.id).copied().unwrap_or(last_before);
            Mover {
                id: p.id,
                name: p.name.clone(),
                rank_today,
                rank_yesterday,
                change: rank_yesterday as i64 - rank_today as i64,
                revenue_today: today.get(&p.id).copied().unwrap_or(0),
                revenue_yesterday: yesterday.get(&p.id).copied().unwrap_or(0),
            }
        })
        .filter(|m| m.change != 0)
        .collect();
    movers.sort_by(|a, b| {
        b.change.abs().cmp(&a.change.abs()).then(b.revenue_today.cmp(&a.revenue_today)).then(a.id.cmp(&b.id))
    });
    movers.truncate(MOVERS);
    movers
}

fn low_stock(units_7d: &HashMap<ProductId, i64>, products: &HashMap<ProductId, ProductFact>) -> Vec<StockForecast> {
    let mut rows: Vec<StockForecast> = units_7d
        .iter()
        .filter(|(_, units)| **units > 0)
        .filter_map(|(id, units)| Some((products.get(id)?, *units)))
        .filter(|(p, _)| p.status == ProductStatus::Active)
        .map(|(p, units)| {
            let days_left = (p.stock as f64 * 7.0 / units as f64 * 10.0).floor() / 10.0;
            StockForecast { id: p.id, name: p.name.clone(), stock: p.stock, units_7d: units, days_left }
        })
        .filter(|f| f.days_left < LOW_STOCK_HORIZON_DAYS)
        .collect();
    rows.sort_by(|a, b| a.days_left.total_cmp(&b.days_left).then(a.id.cmp(&b.id)));
    rows.truncate(LOW_STOCK_ROWS);
    rows
}

/// The earliest instant whose sales `compute` may use: a little more than
/// eight days before `now`, whatever the zone's offset changes.
pub fn earliest_sale(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DailyPoint, DashboardSettings};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn sale(when: &str, lines: &[(ProductId, i64, i64)]) -> SaleFact {
        let lines: Vec<SaleLine> = lines
            .iter()
            .map(|&(product_id, quantity, price)| SaleLine { product_id, quantity, unit_price: Some(price) })
            .collect();
        SaleFact { at: at(when), amount: lines.iter().map(|l| l.quantity * l.unit_price.unwrap()).sum(), lines }
    }

    fn product(id: ProductId, stock: i64, status: ProductStatus) -> (ProductId, ProductFact) {
        (id, ProductFact { id, name: format!("P{id}"), price: 100, stock, status })
    }

    #[test]
    fn hours_days_and_so_far_are_local() {
        // Tokyo is UTC+9: 2026-03-11T03:30Z is 12:30 on Wednesday the 11th.
        let now = at("2026-03-11T03:30:00Z");
        let sales = [
            sale("2026-03-11T01:10:00Z", &[(1, 2, 500)]), // today 10:10
            sale("2026-03-10T02:00:00Z", &[(1, 1, 500)]), // yesterday 11:00, before 12:30
            sale("2026-03-10T05:00:00Z", &[(2, 1, 900)]), // yesterday 14:00, after
            sale("2026-03-04T03:00:00Z", &[(2, 3, 100)]), // last Wednesday 12:00
            sale("2026-03-03T20:00:00Z", &[(2, 1, 100)]), // last Wednesday 05:00
            sale("2026-03-02T20:00:00Z", &[(2, 1, 100)]), // eight days ago: ignored
        ];
        let products = HashMap::from([product(1, 7, ProductStatus::Active), product(2, 50, ProductStatus::Active)]);
        let day = NaiveDate::from_ymd_opt(2026, 3, 11).unwrap();
        let mut settings = DashboardSettings::empty();
        settings.visitors_today = 4;
        let dashboard = settings.dashboard(DailyPoint { day, orders: 1, units: 2, revenue: 1000 });
        let a = Analytics::compute(now, chrono_tz::Asia::Tokyo, &sales, &products, &dashboard);
        assert_eq!((a.day, a.compare_day, a.as_of.as_str()), (day, day - Duration::days(7), "12:30"));
        assert_eq!((a.today.revenue[10], a.today.orders[10], a.today.units[10]), (1000, 1, 2));
        assert_eq!(a.today.revenue.iter().sum::<i64>(), 1000);
        assert_eq!(a.today_so_far, Totals { orders: 1, units: 2, revenue: 1000 });
        assert_eq!(a.yesterday_so_far, Totals { orders: 1, units: 1, revenue: 500 });
        assert_eq!((a.last_week.revenue[12], a.last_week.revenue[5]), (300, 100));
        assert_eq!(a.last_week_so_far, Totals { orders: 2, units: 4, revenue: 400 });
        assert_eq!((a.visitors_today, a.conversion_bp), (4, Some(2500)));
        // Product 1 was second yesterday (500 against 900) and is first today.
        assert_eq!(a.top_movers.len(), 2);
        assert_eq!((a.top_movers[0].id, a.top_movers[0].rank_today, a.top_movers[0].rank_yesterday), (1, 1, 2));
        assert_eq!(a.top_movers[0].change, 1);
        // Product 1: 3 units in the last 7 x 24 hours, 7 in stock: 16.3
        // days, past the horizon; product 2: 1 unit, 50 in stock.
        assert!(a.low_stock.is_empty(), "{:?}", a.low_stock);
    }

    #[test]
    fn stock_forecast_lists_active_products_running_out() {
        let now = at("2026-03-11T12:00:00Z");
        let sales = [
            sale("2026-03-10T12:00:00Z", &[(1, 14, 100), (2, 7, 100), (3, 70, 100)]),
            sale("2026-03-01T12:00:00Z", &[(4, 70, 100)]),
        ];
        let products = HashMap::from([
            product(1, 10, ProductStatus::Active),
            product(2, 0, ProductStatus::Active),
            product(3, 10, ProductStatus::Archived),
            product(4, 1, ProductStatus::Active),
        ]);
        let dashboard = DashboardSettings::empty().dashboard(DailyPoint::empty(now.date_naive()));
        let a = Analytics::compute(now, chrono_tz::UTC, &sales, &products, &dashboard);
        let rows: Vec<(ProductId, f64)> = a.low_stock.iter().map(|f| (f.id, f.days_left)).collect();
        assert_eq!(rows, [(2, 0.0), (1, 5.0)], "archived and slow products are left out");
        assert_eq!(a.conversion_bp, None, "no visitors");
    }
}
