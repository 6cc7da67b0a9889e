//! Custom KPIs: a store admin's rule over one of the store's figures ("a
//! metric, a threshold, a window"), such as revenue today below 60 % of
//! the target from 18:00 (`{"metric": "target_percent", "op": "<",
//! "threshold": 60, "after": "18:00"}`) or any active product's stock
//! below 5 (`{"metric": "min_active_stock", "op": "<", "threshold": 5}`).
//!
//! Definitions are written through the store actor like every change
//! (`kpi.saved`, `kpi.deleted`), kept in the `kpis` table, and evaluated
//! against the store's live figures (`KpiInputs`, a few numbers the actor
//! already holds): on request (`GET /stores/{store}/kpis`, which the
//! dashboard reloads on the store's events) and on the health sampler's
//! timer by `store/kpi_watch.rs`, which raises a breached KPI as an alert.

use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{Dashboard, Totals};
use crate::error::ApiError;

/// Most KPIs one store keeps.
pub const MAX_KPIS: usize = 20;
/// Largest threshold magnitude (the largest amount the API takes).
pub const MAX_THRESHOLD: f64 = 1_000_000_000_000.0;

/// Which figure a KPI watches, over which window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KpiMetric {
    /// Revenue of the local day so far, in minor units.
    RevenueToday,
    OrdersToday,
    UnitsToday,
    /// Revenue today as a percentage of the day's revenue target (no value
    /// without a target).
    TargetPercent,
    /// Orders per visitor today, in percent (no value without visitors).
    ConversionPercent,
    /// Revenue of the last 7 local days, today included.
    #[serde(rename = "revenue_7d")]
    Revenue7d,
    #[serde(rename = "orders_7d")]
    Orders7d,
    /// The lowest stock of any active product (no value without one).
    MinActiveStock,
}

impl KpiMetric {
    /// Every metric, as named in definitions.
    pub const ALL: [KpiMetric; 8] = [
        Self::RevenueToday,
        Self::OrdersToday,
        Self::UnitsToday,
        Self::TargetPercent,
        Self::ConversionPercent,
        Self::Revenue7d,
        Self::Orders7d,
        Self::MinActiveStock,
    ];

    fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    }
}

/// How the figure is compared with the threshold: the KPI is breached
/// when `value <op> threshold` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Comparator {
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = ">")]
    Above,
    #[serde(rename = ">=")]
    AtLeast,
}

impl Comparator {
    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::Below => value < threshold,
            Self::AtMost => value <= threshold,
            Self::Above => value > threshold,
            Self::AtLeast => value >= threshold,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Self::Below => "<",
            Self::AtMost => "<=",
            Self::Above => ">",
            Self::AtLeast => ">=",
        }
    }
}

/// A KPI definition: the body of `PUT /stores/{store}/kpis/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KpiDefinition {
    pub metric: KpiMetric,
    pub op: Comparator,
    /// In the metric's unit: minor units, a count, a percentage or units
    /// of stock.
    pub threshold: f64,
    /// Local time of day (`HH:MM`) from which the rule applies, to the end
    /// of the day; always when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "18:00")]
    pub after: Option<String>,
}

impl KpiDefinition {
    /// Parses a definition, with an `invalid_field` naming what is wrong:
    /// an unknown field or metric, a comparator that is not `<`, `<=`, `>`
    /// or `>=`, a threshold that is not a finite number within ±10^12, or
    /// a time that is not `HH:MM`.
    pub fn parse(body: &Value) -> Result<Self, ApiError> {
        let Value::Object(fields) = body else {
            return Err(ApiError::invalid("body", "a KPI is a JSON object {metric, op, threshold, after?}".into()));
        };
        if let Some(unknown) = fields.keys().find(|k| !["metric", "op", "threshold", "after"].contains(&k.as_str())) {
            return Err(ApiError::invalid(
                unknown,
                format!("unknown field {unknown}; a KPI has metric, op, threshold, after"),
            ));
        }
        let metrics = || KpiMetric::ALL.map(KpiMetric::name).join(", ");
        let metric = fields
            .get("metric")
            .and_then(|m| serde_json::from_value(m.clone()).ok())
            .ok_or_else(|| ApiError::invalid("metric", format!("metric must be one of {}", metrics())))?;
        let op = fields
            .get("op")
            .and_then(|o| serde_json::from_value(o.clone()).ok())
            .ok_or_else(|| ApiError::invalid("op", "op must be one of <, <=, >, >=".into()))?;
        let threshold = fields
            .get("threshold")
            .and_then(Value::as_f64)
            .filter(|t| t.is_finite() && t.abs() <= MAX_THRESHOLD)
            .ok_or_else(|| ApiError::invalid("threshold", "threshold must be a number within ±10^12".into()))?;
        let after = match fields.get("after") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) if parse_time(t).is_some() => Some(t.clone()),
            Some(_) => return Err(ApiError::invalid("after", "after must be a local time HH:MM (00:00-23:59)".into())),
        };
        Ok(Self { metric, op, threshold, after })
    }

    /// The local time the rule starts to apply each day.
    fn starts(&self) -> NaiveTime {
        self.after.as_deref().and_then(parse_time).unwrap_or(NaiveTime::MIN)
    }
}

/// `HH:MM`, two digits each.
fn parse_time(text: &str) -> Option<NaiveTime> {
    let ok = text.len() == 5 && text.as_bytes()[2] == b':';
    ok.then(|| NaiveTime::parse_from_str(text, "%H:%M").ok()).flatten()
}

/// The live figures KPIs are evaluated on, as the store actor has them.
#[derive(Debug, Clone)]
pub struct KpiInputs {
    pub dashboard: Dashboard,
    pub last_7_days: Totals,
    pub min_active_stock: Option<i64>,
    /// The store's local time now.
    pub local_time: NaiveTime,
}

impl KpiInputs {
    fn value(&self, metric: KpiMetric) -> Option<f64> {
        let d = &self.dashboard;
        let percent = |num: i64, den: i64| (den > 0).then(|| num as f64 * 100.0 / den as f64);
        match metric {
            KpiMetric::RevenueToday => Some(d.revenue_today as f64),
            KpiMetric::OrdersToday => Some(d.orders_today as f64),
            KpiMetric::UnitsToday => Some(d.units_today as f64),
            KpiMetric::TargetPercent => percent(d.revenue_today, d.revenue_target),
            KpiMetric::ConversionPercent => percent(d.orders_today, d.visitors_today),
            KpiMetric::Revenue7d => Some(self.last_7_days.revenue as f64),
            KpiMetric::Orders7d => Some(self.last_7_days.orders as f64),
            KpiMetric::MinActiveStock => self.min_active_stock.map(|s| s as f64),
        }
    }
}

/// Where a KPI stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KpiStatus {
    /// The rule applies and does not hold.
    Ok,
    /// The rule applies and holds: the KPI is breached (an alert).
    Breached,
    /// Before the rule's `after` time today.
    Waiting,
    /// The figure has no value (no target, no visitors, no active product).
    NoData,
}

/// A store's KPI: its definition, who set it, and where it stands now.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Kpi {
    pub name: String,
    pub definition: KpiDefinition,
    pub defined_by: String,
    pub defined_at: DateTime<Utc>,
    /// The figure now (null without data).
    pub value: Option<f64>,
    pub status: KpiStatus,
}

/// A stored KPI definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiRule {
    pub name: String,
    pub definition: KpiDefinition,
    pub defined_by: String,
    pub defined_at: DateTime<Utc>,
}

/// A KPI delete's answer: the name it deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiRemoved(pub String);

impl KpiRule {
    /// The KPI with its state on `inputs`.
    pub fn evaluate(&self, inputs: &KpiInputs) -> Kpi {
        let d = &self.definition;
        let value = inputs.value(d.metric);
        let status = match value {
            _ if inputs.local_time < d.starts() => KpiStatus::Waiting,
            None => KpiStatus::NoData,
            Some(v) if d.op.holds(v, d.threshold) => KpiStatus::Breached,
            Some(_) => KpiStatus::Ok,
        };
        Kpi {
            name: self.name.clone(),
            definition: d.clone(),
            defined_by: self.defined_by.clone(),
            defined_at: self.defined_at,
            value: value.map(|v| (v * 100.0).round() / 100.0),
            status,
        }
    }
}

impl Kpi {
    /// What the alert of a breached KPI says.
    pub fn alert_message(&self, store: &str) -> String {
        let d = &self.definition;
        let after = d.after.as_ref().map(|t| format!(" after {t}")).unwrap_or_default();
        format!(
            "store {store}: KPI \"{}\": {} is {} ({} {}{after})",
            self.name,
            d.metric.name(),
            self.value.map_or("no data".into(), |v| v.to_string()),
            d.op.symbol(),
            d.threshold
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DailyPoint, DashboardSettings};
    use serde_json::json;

    fn inputs(revenue: i64, target: i64, time: &str, stock: Option<i64>) -> KpiInputs {
        let mut settings = DashboardSettings::empty();
        settings.revenue_target = target;
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        KpiInputs {
            dashboard: settings.dashboard(DailyPoint { day, orders: 2, units: 3, revenue }),
            last_7_days: Totals::default(),
            min_active_stock: stock,
            local_time: parse_time(time).unwrap(),
        }
    }

    fn rule(definition: Value) -> KpiRule {
        let definition = KpiDefinition::parse(&definition).unwrap();
        KpiRule { name: "k".into(), definition, defined_by: "user:admin".into(), defined_at: Utc::now() }
    }

    #[test]
    fn definitions_parse_or_name_the_bad_field() {
        let ok =
            KpiDefinition::parse(&json!({"metric": "target_percent", "op": "<", "threshold": 60, "after": "18:00"}));
        assert_eq!(ok.unwrap().after.as_deref(), Some("18:00"));
        let names: Vec<String> = KpiMetric::ALL.map(KpiMetric::name).into();
        assert_eq!(names[5..7], ["revenue_7d", "orders_7d"], "the names the docs and the page use");
        for name in names {
            let body = json!({"metric": name, "op": ">=", "threshold": 0});
            assert!(KpiDefinition::parse(&body).is_ok(), "{name}");
        }
        let cases = [
            (json!([]), "body"),
            (json!({"metric": "profit", "op": "<", "threshold": 1}), "metric"),
            (json!({"metric": "orders_today", "op": "=<", "threshold": 1}), "op"),
            (json!({"metric": "orders_today", "op": "<", "threshold": "5"}), "threshold"),
            (json!({"metric": "orders_today", "op": "<", "threshold": 1e13}), "threshold"),
            (json!({"metric": "orders_today", "op": "<"}), "threshold"),
            (json!({"metric": "orders_today", "op": "<", "threshold": 1, "after": "18h"}), "after"),
            (json!({"metric": "orders_today", "op": "<", "threshold": 1, "after": "24:00"}), "after"),
            (json!({"metric": "orders_today", "op": "<", "threshold": 1, "window": "day"}), "window"),
        ];
        for (body, field) in cases {
            let err = KpiDefinition::parse(&body).unwrap_err();
            assert!(matches!(&err, ApiError::Invalid { field: f, .. } if f == field), "{body}: {err:?}");
        }
    }

    #[test]
    fn a_target_kpi_waits_for_its_time_then_fires_and_clears() {
        let kpi = rule(json!({"metric": "target_percent", "op": "<", "threshold": 60, "after": "18:00"}));
        assert_eq!(kpi.evaluate(&inputs(5000, 10_000, "17:59", None)).status, KpiStatus::Waiting);
        let late = kpi.evaluate(&inputs(5000, 10_000, "18:00", None));
        assert_eq!((late.status, late.value), (KpiStatus::Breached, Some(50.0)));
        assert!(late.alert_message("s1").contains("target_percent is 50"), "{}", late.alert_message("s1"));
        assert_eq!(kpi.evaluate(&inputs(6000, 10_000, "18:30", None)).status, KpiStatus::Ok);
        assert_eq!(kpi.evaluate(&inputs(6000, 0, "18:30", None)).status, KpiStatus::NoData, "no target");
    }

    #[test]
    fn a_stock_kpi_watches_the_lowest_active_stock() {
        let kpi = rule(json!({"metric": "min_active_stock", "op": "<", "threshold": 5}));
        assert_eq!(kpi.evaluate(&inputs(0, 0, "09:00", Some(4))).status, KpiStatus::Breached);
        assert_eq!(kpi.evaluate(&inputs(0, 0, "09:00", Some(5))).status, KpiStatus::Ok);
        assert_eq!(kpi.evaluate(&inputs(0, 0, "09:00", None)).status, KpiStatus::NoData);
    }
}
