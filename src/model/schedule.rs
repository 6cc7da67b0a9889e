//! Scheduled changes: a write an editor asks the store to make at a later
//! time (a product's fields, the dashboard, a bulk change), kept in the
//! `scheduled_changes` table until then. Each node's scheduler
//! (`store::scheduler`) hands due ones to the store actor, whose group
//! commit applies the change and settles the row in one transaction, so a
//! change is applied once however many nodes or restarts saw it due. Its
//! lifecycle reaches subscribers as `schedule.updated` events.

use chrono::{DateTime, Months, SubsecRound, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::bulk::{BulkOp, BulkRequest, Selection};
use super::change::Change;
use super::{DashboardPatch, ProductId, ProductPatch, Seq};
use crate::error::ApiError;

/// How far ahead a change may be scheduled.
pub const MAX_AHEAD: Months = Months::new(12);
/// A change applied more than this after its time is marked `late` (the
/// scheduler promises a second; more means the store was down or busy).
pub const LATE_AFTER: TimeDelta = TimeDelta::seconds(1);
/// Pending changes one store keeps at most.
pub const MAX_PENDING: i64 = 1000;

/// What a scheduled change does when due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScheduledOp {
    /// Patches one product (price, status, stock, …); with `if_version`,
    /// only if the product is still at that version when due.
    Product {
        id: ProductId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        if_version: Option<i64>,
        patch: ProductPatch,
    },
    /// Patches the dashboard (revenue target, notice, …).
    Dashboard { patch: DashboardPatch },
    /// A bulk change to products by id (`POST /products/bulk`'s `change`);
    /// a `restore` takes no ids, it selects its own rows.
    Bulk {
        #[serde(default)]
        ids: Vec<ProductId>,
        change: BulkOp,
    },
}

impl ScheduledOp {
    /// Checks the fields as the immediate write would; a bulk change's
    /// selection, to be resolved against the store (`PlanBulk`).
    pub fn validate(&self) -> Result<Option<Selection>, ApiError> {
        match self {
            Self::Product { patch, .. } => patch.validate().map(|_| None),
            Self::Dashboard { patch } => patch.validate().map(|_| None),
            Self::Bulk { ids, change } => {
                let ids = (!ids.is_empty()).then(|| ids.clone());
                let request = BulkRequest { ids, filter: None, change: change.clone(), dry_run: false };
                request.into_parts().map(|(selection, _, _)| Some(selection))
            }
        }
    }

    /// The write it makes when due.
    pub fn to_change(&self) -> Change {
        match self.clone() {
            Self::Product { id, if_version, patch } => Change::PatchProduct { id, if_match: if_version, patch },
            Self::Dashboard { patch } => Change::PatchDashboard(patch),
            Self::Bulk { ids, change } => Change::BulkProducts { ids, change },
        }
    }
}

/// Where a scheduled change is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleStatus {
    /// Waiting for its time; may be edited or cancelled until then.
    Pending,
    Applied,
    /// Its time came and it changed nothing: `reason` says why.
    Failed,
    Cancelled,
}

impl ScheduleStatus {
    pub const ALL: [ScheduleStatus; 4] = [Self::Pending, Self::Applied, Self::Failed, Self::Cancelled];

    /// The stored (and wire) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Applied => "applied",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// A scheduled change as the API answers it and `schedule.updated` carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScheduledChange {
    pub id: i64,
    pub due_at: DateTime<Utc>,
    pub change: ScheduledOp,
    pub status: ScheduleStatus,
    /// Applied (or failed) more than a second after `due_at`, e.g. after a
    /// restart that spanned it.
    pub late: bool,
    /// Why it failed: the code the immediate write would have answered
    /// (`not_found`, `version_stale`, `invalid_field`, `store_archived`, …)
    /// or `access_revoked` when its author may no longer edit the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The failure in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The seq of the `schedule.updated` event that applied it (the
    /// change's own events come just before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_seq: Option<Seq>,
    /// Who scheduled it (`user:<name>` or `token:<name>`); the change is
    /// made in their name.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The last change of the row: when it was edited, applied, failed or
    /// cancelled.
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /stores/{store}/schedule`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSchedule {
    /// In the future, at most a year ahead.
    pub due_at: DateTime<Utc>,
    pub change: ScheduledOp,
}

/// Body of `PATCH /stores/{store}/schedule/{id}`: a new time, a new change,
/// or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleEdit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<ScheduledOp>,
}

/// The due time as stored (microseconds), if it lies in the future and at
/// most `MAX_AHEAD` after `now`.
pub fn check_due(due_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    if due_at <= now {
        return Err(ApiError::invalid("due_at", "due_at must be in the future".into()));
    }
    if now.checked_add_months(MAX_AHEAD).is_none_or(|last| due_at > last) {
        return Err(ApiError::invalid("due_at", "due_at must be at most a year ahead".into()));
    }
    Ok(due_at.trunc_subsecs(6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_times_lie_in_the_coming_year() {
        let now: DateTime<Utc> = "2026-11-30T12:00:00Z".parse().unwrap();
        assert!(check_due(now + TimeDelta::seconds(1), now).is_ok());
        assert!(check_due(now.checked_add_months(MAX_AHEAD).unwrap(), now).is_ok());
        for bad in [now, now - TimeDelta::days(1), now + TimeDelta::days(367), DateTime::<Utc>::MAX_UTC] {
            assert_eq!(check_due(bad, now).unwrap_err().code(), "invalid_field", "{bad}");
        }
    }

    #[test]
    fn ops_parse_their_kind_and_refuse_unknown_fields() {
        let op: ScheduledOp = serde_json::from_str(r#"{"kind":"product","id":7,"patch":{"price":990}}"#).unwrap();
        assert!(matches!(op.to_change(), Change::PatchProduct { id: 7, if_match: None, .. }));
        assert!(serde_json::from_str::<ScheduledOp>(r#"{"kind":"dashboard","patch":{},"x":1}"#).is_err());
        let empty = ScheduledOp::Dashboard { patch: DashboardPatch::default() };
        assert_eq!(empty.validate().unwrap_err().code(), "invalid_field");
        let bulk = ScheduledOp::Bulk { ids: vec![], change: BulkOp::SetStock { stock: 1 } };
        assert_eq!(bulk.validate().unwrap_err().code(), "invalid_field", "a bulk change needs ids");
    }
}
