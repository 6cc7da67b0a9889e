//! A product's history: its events walked in seq order into field-level
//! changes, each with the value the field had before and the one after.
//! Events carry only what they set (a `product.updated` its changed
//! fields, a `product.created` the whole product), so the value before a
//! change is the one the walk last saw for that field.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Event, EventKind, Seq};

/// The fields a history reports; the others of an event are bookkeeping
/// (`version`, `updated_at`) or sales figures no one edits.
const FIELDS: [&str; 6] = ["sku", "name", "price", "stock", "status", "image"];

/// One field a change set.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldChange {
    pub field: String,
    /// The value before the change; left out when the history holds none:
    /// at the product's creation, or for the first change of a product
    /// created before the trail began (seeded data). `null` for an image
    /// means there was none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub after: serde_json::Value,
}

/// One change of a product: who, when, and what each field became.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub seq: Seq,
    pub at: DateTime<Utc>,
    /// Who made the change (`user:<name>` or `token:<name>`).
    pub by: String,
    /// `product.created`, `product.updated`, `product.image_changed` or
    /// `product.deleted` (which changes no field).
    pub kind: EventKind,
    pub changes: Vec<FieldChange>,
}

/// The walk: the last value seen of each field.
#[derive(Debug, Default)]
pub struct ProductHistory {
    known: HashMap<&'static str, serde_json::Value>,
}

impl ProductHistory {
    /// The entry of the product's next event (in seq order); `None` for
    /// an event about anything else.
    pub fn apply(&mut self, e: &Event) -> Option<HistoryEntry> {
        if !e.kind.is_product() {
            return None;
        }
        let created = e.kind == EventKind::ProductCreated;
        let changes = FIELDS
            .iter()
            .filter_map(|&field| {
                let after = e.data.get(field)?.clone();
                let before = self.known.insert(field, after.clone()).filter(|_| !created);
                Some(FieldChange { field: field.to_owned(), before, after })
            })
            .collect();
        Some(HistoryEntry { seq: e.seq, at: e.at, by: e.by.clone(), kind: e.kind, changes })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(seq: Seq, kind: EventKind, data: serde_json::Value) -> Event {
        Event { seq, kind, entity_id: Some(7), at: Utc::now(), by: "user:editor".into(), data }
    }

    #[test]
    fn each_change_pairs_the_new_value_with_the_last_one_seen() {
        let mut history = ProductHistory::default();
        let created = json!({"id": 7, "sku": "A", "name": "Hat", "price": 100, "stock": 3, "status": "active",
            "image": null, "views": 0, "version": 1});
        let entry = history.apply(&event(1, EventKind::ProductCreated, created)).unwrap();
        assert_eq!(entry.changes.len(), 6);
        assert!(entry.changes.iter().all(|c| c.before.is_none()));

        let entry = history.apply(&event(2, EventKind::ProductUpdated, json!({"price": 150, "version": 2}))).unwrap();
        assert_eq!(entry.changes, [FieldChange { field: "price".into(), before: Some(json!(100)), after: json!(150) }]);
        let entry = history.apply(&event(3, EventKind::ProductImageChanged, json!({"image": "abc", "version": 3})));
        assert_eq!(entry.unwrap().changes[0].before, Some(serde_json::Value::Null), "no image before");
        let entry = history.apply(&event(5, EventKind::ProductUpdated, json!({"price": 90, "stock": 2}))).unwrap();
        let pairs: Vec<_> = entry.changes.iter().map(|c| (c.field.as_str(), c.before.clone())).collect();
        assert_eq!(pairs, [("price", Some(json!(150))), ("stock", Some(json!(3)))]);
        assert!(history.apply(&event(6, EventKind::SalesUpdated, json!({"amount": 1}))).is_none());
        assert!(history.apply(&event(7, EventKind::ProductDeleted, json!({"id": 7}))).unwrap().changes.is_empty());
    }

    #[test]
    fn a_product_older_than_the_trail_has_no_before_for_its_first_change() {
        let mut history = ProductHistory::default();
        let first = history.apply(&event(4, EventKind::ProductUpdated, json!({"price": 5}))).unwrap();
        assert_eq!(first.changes[0].before, None);
        let second = history.apply(&event(8, EventKind::ProductUpdated, json!({"price": 6}))).unwrap();
        assert_eq!(second.changes[0].before, Some(json!(5)));
    }
}
