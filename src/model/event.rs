//! A committed change as the `events` table stores it and batches carry it,
//! and `EventKind`, the closed set of kinds, serialized as the dotted
//! strings the protocol documents (`product.updated`, …).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Seq;

/// What an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventKind {
    #[serde(rename = "product.created")]
    ProductCreated,
    #[serde(rename = "product.updated")]
    ProductUpdated,
    #[serde(rename = "product.deleted")]
    ProductDeleted,
    #[serde(rename = "product.image_changed")]
    ProductImageChanged,
    #[serde(rename = "dashboard.updated")]
    DashboardUpdated,
    #[serde(rename = "sales.updated")]
    SalesUpdated,
    #[serde(rename = "view.published")]
    ViewPublished,
    #[serde(rename = "store.updated")]
    StoreUpdated,
    #[serde(rename = "store.archived")]
    StoreArchived,
    #[serde(rename = "store.restored")]
    StoreRestored,
    #[serde(rename = "view.saved")]
    ViewSaved,
    #[serde(rename = "view.deleted")]
    ViewDeleted,
    /// A scheduled change was created, edited, applied, failed or cancelled.
    #[serde(rename = "schedule.updated")]
    ScheduleUpdated,
    #[serde(rename = "kpi.saved")]
    KpiSaved,
    #[serde(rename = "kpi.deleted")]
    KpiDeleted,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 15] = [
        Self::ProductCreated,
        Self::ProductUpdated,
        Self::ProductDeleted,
        Self::ProductImageChanged,
        Self::DashboardUpdated,
        Self::SalesUpdated,
        Self::ViewPublished,
        Self::StoreUpdated,
        Self::StoreArchived,
        Self::StoreRestored,
        Self::ViewSaved,
        Self::ViewDeleted,
        Self::ScheduleUpdated,
        Self::KpiSaved,
        Self::KpiDeleted,
    ];

    /// The protocol's name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProductCreated => "product.created",
            Self::ProductUpdated => "product.updated",
            Self::ProductDeleted => "product.deleted",
            Self::ProductImageChanged => "product.image_changed",
            Self::DashboardUpdated => "dashboard.updated",
            Self::SalesUpdated => "sales.updated",
            Self::ViewPublished => "view.published",
            Self::StoreUpdated => "store.updated",
            Self::StoreArchived => "store.archived",
            Self::StoreRestored => "store.restored",
            Self::ViewSaved => "view.saved",
            Self::ViewDeleted => "view.deleted",
            Self::ScheduleUpdated => "schedule.updated",
            Self::KpiSaved => "kpi.saved",
            Self::KpiDeleted => "kpi.deleted",
        }
    }

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether the event is about the store itself (its settings, its
    /// archiving): every subscriber receives these, whatever its topics.
    pub fn is_store(self) -> bool {
        matches!(self, Self::StoreUpdated | Self::StoreArchived | Self::StoreRestored)
    }

    /// Whether the event is about one product.
    pub fn is_product(self) -> bool {
        matches!(self, Self::ProductCreated | Self::ProductUpdated | Self::ProductDeleted | Self::ProductImageChanged)
    }
}

/// One committed change, as stored in the `events` table and sent in batches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub seq: Seq,
    pub kind: EventKind,
    /// Left out when the event has none (the dashboard, a published view).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<i64>,
    pub at: DateTime<Utc>,
    /// Who made the change (`user:<name>` or `token:<name>`).
    pub by: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_serialize_as_their_protocol_names() {
        for kind in EventKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("store.deleted"), None);
    }
}
