//! The figures custom KPIs are evaluated on (`model::kpi::KpiInputs`), read
//! from a store's live state: today's dashboard, the last 7 days' totals
//! and the lowest stock of an active product (one step of the stock sort
//! index). A handful of numbers per request, so asking never holds up the
//! actor's commits.

use actix::prelude::*;
use chrono::{DateTime, Duration, Utc};

use super::actor::StoreActor;
use super::state::StoreState;
use crate::error::ApiError;
use crate::model::kpi::KpiInputs;
use crate::model::{ProductStatus, SortDir, SortField, View};

/// The KPI figures now; refused (`unavailable`) while the store has no live
/// state (loading or hibernating), which this message does not wake.
#[derive(Message)]
#[rtype(result = "Result<KpiInputs, ApiError>")]
pub struct GetKpiInputs;

impl StoreState {
    /// The KPI figures as of `now`.
    pub fn kpi_inputs(&self, now: DateTime<Utc>) -> KpiInputs {
        let today = self.today(now);
        let last_7_days = self.totals(today - Duration::days(6), today);
        let lowest = View {
            page_size: 1,
            sort: SortField::Stock,
            dir: SortDir::Asc,
            status: Some(ProductStatus::Active),
            ..View::default()
        };
        KpiInputs {
            dashboard: self.dashboard(now),
            last_7_days,
            min_active_stock: self.products.page(&lowest).1.first().map(|p| p.stock),
            local_time: now.with_timezone(&self.meta.tz).time(),
        }
    }
}

impl Handler<GetKpiInputs> for StoreActor {
    type Result = Result<KpiInputs, ApiError>;

    fn handle(&mut self, _: GetKpiInputs, _: &mut Context<Self>) -> Self::Result {
        Ok(self.state.as_ref().ok_or(ApiError::Unavailable)?.kpi_inputs(Utc::now()))
    }
}
