//! Property tests: generated inputs for the code that must hold for any
//! input, not just the examples the other suites pick.
//!
//! - `frames`: the WebSocket client-frame parser (`wire::protocol::parse`).
//! - `views`: `View::validate` and the product-table page
//!   (`store::index::ProductIndex` through `StoreState::page`): indexed
//!   search against a scan, and live pages brought forward from changes
//!   (`ProductIndex::reshape`) against a fresh read.
//! - `transfer`: CSV and JSON import parsing, and export → import.
//! - `headers`: `If-Match` and `Idempotency-Key` parsing.
//! - `coalescing`: `store::fanout::coalesce` and the `batch` ranges a
//!   `Fanout` sends subscribers of different topics across flushes.
//!
//! Budget: `budget` gives every property 256 cases (proptest's default),
//! so the whole binary runs in seconds, well inside a minute on a loaded
//! 2-core machine. A longer campaign sets the cases for every property:
//! `PROPTEST_CASES=100000 cargo test --release --test properties`.
//! A failure prints the shrunk input; tests written with `proptest!` also
//! record its seed under `tests/proptest-regressions/` (commit that file,
//! so the case is replayed first from then on).

mod coalescing;
mod frames;
mod headers;
mod transfer;
mod views;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::Value;
use storesync::model::{ProductStatus, SortDir, SortField, View, MAX_AMOUNT};

/// `cases` per property, unless `PROPTEST_CASES` asks for a longer run.
pub fn budget(cases: u32) -> ProptestConfig {
    let default = ProptestConfig::default();
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() { default.cases } else { cases };
    ProptestConfig { cases, ..default }
}

/// Any JSON value a few levels deep: every scalar kind, strings of any
/// characters, arrays and objects.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(".{0,8}", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A product status.
pub fn status() -> impl Strategy<Value = ProductStatus> {
    prop::sample::select(vec![ProductStatus::Active, ProductStatus::Draft, ProductStatus::Archived])
}

/// The instant generated products' `updated_at` counts from (in seconds).
pub fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap_or_default()
}

/// An amount filter: small (to meet the generated products), negative or
/// past `MAX_AMOUNT` (to be refused).
fn amount() -> impl Strategy<Value = Option<i64>> {
    prop::option::of(prop_oneof![4 => -1i64..7, 1 => Just(MAX_AMOUNT + 1)])
}

/// Any view, valid or not: pages and sizes around and far past their
/// bounds, searches short enough to match and long enough to be refused,
/// ranges crossed, negative or out of the calendar.
pub fn any_view() -> impl Strategy<Value = View> {
    let since = prop_oneof![
        4 => (-1i64..6).prop_map(|s| epoch() + Duration::seconds(s)),
        1 => Just(DateTime::<Utc>::UNIX_EPOCH),
        1 => Just(epoch() + Duration::days(365 * 100)),
    ];
    (
        (
            prop_oneof![0usize..4, 0usize..1_100_000, any::<usize>()],
            prop_oneof![0usize..=210, any::<usize>()],
            prop::sample::select(SortField::ALL.to_vec()),
            prop::sample::select(vec![SortDir::Asc, SortDir::Desc]),
            prop::option::of(prop_oneof!["[a-cA-C0-2 -]{0,3}", "\\PC{0,120}"]),
            prop::option::of(status()),
        ),
        (amount(), amount(), amount(), prop::option::of(since), prop::option::of(any::<bool>())),
    )
        .prop_map(
            |(
                (page, page_size, sort, dir, q, status),
                (price_min, price_max, stock_below, updated_since, has_image),
            )| {
                View {
                    page,
                    page_size,
                    sort,
                    dir,
                    q,
                    status,
                    price_min,
                    price_max,
                    stock_below,
                    updated_since,
                    has_image,
                }
            },
        )
}

/// The view with each filter `validate` would refuse left out.
pub fn valid_filters(view: View) -> View {
    let amount = |v: Option<i64>| v.filter(|v| (0..=MAX_AMOUNT).contains(v));
    let (price_min, price_max) = (amount(view.price_min), amount(view.price_max));
    let crossed = price_min.zip(price_max).is_some_and(|(min, max)| min > max);
    let in_calendar = |t: &DateTime<Utc>| (2000..=2100).contains(&chrono::Datelike::year(t));
    View {
        q: view.q.filter(|q| q.chars().count() <= 100),
        price_min,
        price_max: price_max.filter(|_| !crossed),
        stock_below: amount(view.stock_below),
        updated_since: view.updated_since.filter(in_calendar),
        ..view
    }
}

/// A view that passes `View::validate`, small enough to page a small store.
pub fn valid_view() -> impl Strategy<Value = View> {
    (1usize..6, 1usize..8, any_view())
        .prop_map(|(page, page_size, view)| valid_filters(View { page, page_size, ..view }))
}
