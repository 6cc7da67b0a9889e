//! Group commit: one immediate transaction applies a batch of writes, each
//! inside its own savepoint, appends one event per change and advances the
//! store's seq. A write that is refused (stale version, unknown product,
//! taken SKU, a value out of range) or that panics rolls back to its
//! savepoint and the rest of the batch commits; a database failure aborts
//! the whole batch.
//!
//! Seq is assigned here, from the `stores.seq` read inside the transaction,
//! so every seq the store actor hands out is one the database confirmed.
//! Guarded by `tests/seq.rs` and `tests/durability.rs`.

use std::panic::AssertUnwindSafe;

use chrono::{DateTime, SubsecRound, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde_json::json;

use super::{events, products, sales};
use crate::db::schema::{idempotency_keys, stores};
use crate::db::{self, Conn};
use crate::error::ApiError;
use crate::model::change::{Applied, Change, Effect, IdempotencyKey, ImportReport, Outcome, PendingChange};
use crate::model::{calendar, DashboardPatch, Event, EventKind, NewProduct, Product, SaleReceipt, Seq};

/// The store a batch writes to.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub store_id: i64,
    pub tz: Tz,
}

/// Commits a batch; returns one result per write, in order.
pub fn commit_batch(
    conn: &mut Conn,
    target: Target,
    batch: &[PendingChange],
) -> Result<Vec<Result<Applied, ApiError>>, ApiError> {
    commit_with(conn, target, batch, apply_write)
}

/// Applies one write inside its savepoint, given the store's seq before it
/// and the batch's clock: `apply_write`, or what a unit test puts in its
/// place to make one write fail.
type ApplyWrite = fn(&mut Conn, Target, &PendingChange, Seq, DateTime<Utc>) -> Result<Applied, ApiError>;

/// The group commit, with the per-write step given. One write fails alone:
/// a refusal (any error but `Internal`) or a panic rolls back to its
/// savepoint and answers that write only; the others commit. Only a
/// database failure (`Internal`) aborts the batch, since the transaction
/// itself may be unusable then. Guarded by the unit tests below and
/// `tests/calendar.rs`.
fn commit_with(
    conn: &mut Conn,
    target: Target,
    batch: &[PendingChange],
    apply_write: ApplyWrite,
) -> Result<Vec<Result<Applied, ApiError>>, ApiError> {
    // Microseconds: what both backends' TIMESTAMP keeps, so the live state
    // equals what a reload reads back.
    let now = Utc::now().trunc_subsecs(6);
    db::write_transaction(conn, |conn| {
        let mut seq = locked_seq(conn, target.store_id)?;
        let mut results = Vec::with_capacity(batch.len());
        for write in batch {
            if let Some(replayed) = replay(conn, target.store_id, write)? {
                results.push(replayed);
                continue;
            }
            let mut panicked = None;
            let attempt = conn.transaction(|conn| {
                // A panic is a bug in one write's apply step; caught here,
                // inside the savepoint, it rolls back that write only.
                std::panic::catch_unwind(AssertUnwindSafe(|| apply_write(conn, target, write, seq, now)))
                    .unwrap_or_else(|payload| {
                        let detail = panic_message(payload.as_ref());
                        panicked = Some(detail.clone());
                        Err(ApiError::Internal(format!("write panicked: {detail}")))
                    })
            });
            match attempt {
                Ok(applied) => {
                    seq = applied.seq;
                    results.push(Ok(applied));
                }
                Err(e) if panicked.is_some() => {
                    log::error!(store = target.store_id, error = e.detail().as_str(); "a write panicked; refused alone, the batch goes on");
                    results.push(Err(e));
                }
                Err(e @ ApiError::Internal(_)) => return Err(e),
                Err(refused) => results.push(Err(refused)),
            }
        }
        diesel::update(stores::table.find(target.store_id)).set(stores::seq.eq(seq)).execute(conn)?;
        Ok(results)
    })
}

/// The store's seq, locked until commit on PostgreSQL, where writers on
/// other connections could otherwise read the same seq; SQLite's immediate
/// transaction already holds the database's write lock.
fn locked_seq(conn: &mut Conn, store_id: i64) -> QueryResult<Seq> {
    let query = stores::table.find(store_id).select(stores::seq);
    match conn {
        Conn::Sqlite(c) => query.first(c),
        Conn::Pg(c) => query.for_update().first(c),
    }
}

/// The text a panic was raised with.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-text panic".to_owned())
}

/// One write: its change, its events at the seqs after `seq`, and its
/// idempotency record.
fn apply_write(
    conn: &mut Conn,
    target: Target,
    write: &PendingChange,
    seq: Seq,
    now: DateTime<Utc>,
) -> Result<Applied, ApiError> {
    let mut drafts = EventDrafts { seq, by: &write.by, now, events: Vec::new() };
    let (outcome, effects) = apply(conn, target, &write.change, &mut drafts)?;
    let events = drafts.events;
    events::append(conn, target.store_id, &events)?;
    let applied_seq = events.last().map_or(seq, |e| e.seq);
    if let Some(key) = &write.idempotency {
        remember(conn, target.store_id, key, applied_seq, &outcome, now)?;
    }
    Ok(Applied { seq: applied_seq, outcome, events, effects })
}

/// Hands out the seqs of one write's events.
struct EventDrafts<'a> {
    seq: Seq,
    by: &'a str,
    now: DateTime<Utc>,
    events: Vec<Event>,
}

impl EventDrafts<'_> {
    fn push(&mut self, kind: EventKind, entity_id: Option<i64>, data: serde_json::Value) {
        self.seq += 1;
        self.events.push(Event { seq: self.seq, kind, entity_id, at: self.now, by: self.by.to_owned(), data });
    }
}

fn check_version(current: &Product, if_match: Option<i64>) -> Result<(), ApiError> {
    match if_match {
        Some(expected) if expected != current.version => {
            Err(ApiError::Stale { expected, current: Box::new(current.clone()) })
        }
        _ => Ok(()),
    }
}

fn apply(
    conn: &mut Conn,
    target: Target,
    change: &Change,
    ev: &mut EventDrafts,
) -> Result<(Outcome, Vec<Effect>), ApiError> {
    let store = target.store_id;
    match change {
        Change::CreateProduct(new) => {
            let product = create_product(conn, store, new, ev)?;
            Ok((Outcome::Created(product.clone()), vec![Effect::UpsertProduct(product)]))
        }
        Change::PatchProduct { id, if_match, patch } => {
            let mut product = products::get(conn, store, *id)?;
            check_version(&product, *if_match)?;
            let changed = products::apply_patch(&mut product, patch);
            Ok(updated(save_changes(conn, store, product, changed, ev)?))
        }
        Change::DeleteProduct { id, if_match } => {
            let product = products::get(conn, store, *id)?;
            check_version(&product, *if_match)?;
            products::delete(conn, store, *id)?;
            ev.push(EventKind::ProductDeleted, Some(*id), json!({ "id": id }));
            Ok((Outcome::Deleted { id: *id }, vec![Effect::RemoveProduct(*id)]))
        }
        Change::ImportProducts { rows } => import(conn, store, rows, ev),
        Change::PatchDashboard(patch) => patch_dashboard(conn, target, patch, ev),
        Change::SetImage { id, if_match, image } => {
            let product = products::get(conn, store, *id)?;
            check_version(&product, *if_match)?;
            Ok(updated(set_image(conn, store, product, image, ev)?))
        }
        Change::PublishView { view } => {
            ev.push(EventKind::ViewPublished, None, json!({ "view": view }));
            Ok((Outcome::Published, vec![]))
        }
        Change::RecordSale(sale) => {
            let receipt = sales::record(conn, store, target.tz, sale, ev.by, ev.now)?;
            ev.push(EventKind::SalesUpdated, Some(receipt.sale_id), json!(receipt));
            let effects = receipt_effects(conn, store, &receipt)?;
            Ok((Outcome::Sale(receipt), effects))
        }
    }
}

/// A product after an update.
enum Update {
    /// Saved with the next version; an event records it.
    Saved(Product),
    /// Nothing changed, nothing saved.
    Unchanged(Product),
}

/// The answer to a product update, and its effect if it saved.
fn updated(update: Update) -> (Outcome, Vec<Effect>) {
    match update {
        Update::Saved(product) => (Outcome::Updated(product.clone()), vec![Effect::UpsertProduct(product)]),
        Update::Unchanged(product) => (Outcome::Updated(product), vec![]),
    }
}

fn create_product(conn: &mut Conn, store: i64, new: &NewProduct, ev: &mut EventDrafts) -> Result<Product, ApiError> {
    let product = products::create(conn, store, new, ev.now.naive_utc())?;
    ev.push(EventKind::ProductCreated, Some(product.id), json!(product));
    Ok(product)
}

/// Saves a product whose fields `changed` lists, with the next version, and
/// records `product.updated`.
fn save_changes(
    conn: &mut Conn,
    store: i64,
    mut product: Product,
    mut changed: serde_json::Map<String, serde_json::Value>,
    ev: &mut EventDrafts,
) -> Result<Update, ApiError> {
    if changed.is_empty() {
        return Ok(Update::Unchanged(product));
    }
    product.version += 1;
    product.updated_at = ev.now;
    products::save(conn, store, &product)?;
    changed.insert("version".into(), json!(product.version));
    changed.insert("updated_at".into(), json!(product.updated_at));
    ev.push(EventKind::ProductUpdated, Some(product.id), changed.into());
    Ok(Update::Saved(product))
}

/// Sets a product's image and records `product.image_changed`.
fn set_image(
    conn: &mut Conn,
    store: i64,
    mut product: Product,
    image: &Option<String>,
    ev: &mut EventDrafts,
) -> Result<Update, ApiError> {
    if product.image == *image {
        return Ok(Update::Unchanged(product));
    }
    product.image = image.clone();
    product.version += 1;
    product.updated_at = ev.now;
    products::save(conn, store, &product)?;
    let data = json!({ "image": image, "version": product.version, "updated_at": product.updated_at });
    ev.push(EventKind::ProductImageChanged, Some(product.id), data);
    Ok(Update::Saved(product))
}

fn patch_dashboard(
    conn: &mut Conn,
    target: Target,
    patch: &DashboardPatch,
    ev: &mut EventDrafts,
) -> Result<(Outcome, Vec<Effect>), ApiError> {
    let store = target.store_id;
    let mut settings = sales::settings(conn, store)?;
    if let Some(v) = patch.visitors_today {
        settings.visitors_today = v;
    }
    if let Some(v) = patch.refunds_today {
        settings.refunds_today = v;
    }
    if let Some(v) = patch.revenue_target {
        settings.revenue_target = v;
    }
    if let Some(v) = &patch.notice {
        settings.notice = v.clone();
    }
    settings.version += 1;
    settings.updated_at = ev.now;
    sales::save_settings(conn, store, &settings, ev.now.naive_utc())?;
    let today = calendar::local_day(target.tz, ev.now)
        .ok_or_else(|| ApiError::Internal("the clock is outside the calendar".into()))?;
    let today = sales::day(conn, store, today)?;
    let dashboard = settings.dashboard(today);
    ev.push(EventKind::DashboardUpdated, None, json!(dashboard));
    Ok((Outcome::Dashboard(dashboard), vec![Effect::Settings(settings)]))
}

fn receipt_effects(conn: &mut Conn, store: i64, receipt: &SaleReceipt) -> Result<Vec<Effect>, ApiError> {
    let mut effects = vec![Effect::Day(receipt.day)];
    for figures in &receipt.products {
        effects.push(Effect::UpsertProduct(products::get(conn, store, figures.id)?));
    }
    Ok(effects)
}

fn import(
    conn: &mut Conn,
    store: i64,
    rows: &[NewProduct],
    ev: &mut EventDrafts,
) -> Result<(Outcome, Vec<Effect>), ApiError> {
    let (mut created, mut updated, mut unchanged) = (0, 0, 0);
    let mut effects = Vec::with_capacity(rows.len());
    for row in rows {
        let product = match products::by_sku(conn, store, &row.sku)? {
            None => {
                created += 1;
                create_product(conn, store, row, ev)?
            }
            Some(mut product) => {
                let changed = products::apply_patch(&mut product, &products::import_patch(row));
                match save_changes(conn, store, product, changed, ev)? {
                    Update::Saved(product) => {
                        updated += 1;
                        product
                    }
                    Update::Unchanged(_) => {
                        unchanged += 1;
                        continue;
                    }
                }
            }
        };
        effects.push(Effect::UpsertProduct(product));
    }
    let report = ImportReport { created, updated, unchanged, seq: ev.seq };
    Ok((Outcome::Imported(report), effects))
}

/// The stored answer of a write whose key was seen before.
fn replay(
    conn: &mut Conn,
    store_id: i64,
    write: &PendingChange,
) -> Result<Option<Result<Applied, ApiError>>, ApiError> {
    let Some(key) = &write.idempotency else {
        return Ok(None);
    };
    let stored: Option<(String, i64, String)> = idempotency_keys::table
        .find((store_id, &key.principal, &key.key))
        .select((idempotency_keys::fingerprint, idempotency_keys::seq, idempotency_keys::outcome))
        .first(conn)
        .optional()?;
    let Some((fingerprint, seq, outcome)) = stored else {
        return Ok(None);
    };
    if fingerprint != key.fingerprint {
        return Ok(Some(Err(ApiError::IdempotencyKeyReused)));
    }
    let outcome: Outcome =
        serde_json::from_str(&outcome).map_err(|e| ApiError::Internal(format!("stored outcome: {e}")))?;
    Ok(Some(Ok(Applied { seq, outcome, events: vec![], effects: vec![] })))
}

fn remember(
    conn: &mut Conn,
    store_id: i64,
    key: &IdempotencyKey,
    seq: Seq,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let outcome = serde_json::to_string(outcome).map_err(|e| ApiError::Internal(e.to_string()))?;
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::store_id.eq(store_id),
            idempotency_keys::principal.eq(&key.principal),
            idempotency_keys::key.eq(&key.key),
            idempotency_keys::fingerprint.eq(&key.fingerprint),
            idempotency_keys::seq.eq(seq),
            idempotency_keys::outcome.eq(outcome),
            idempotency_keys::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NewSale, SaleLine};

    /// A seeded database in a temp dir (kept alive by the returned guard).
    fn seeded() -> (tempfile::TempDir, crate::db::DbPool, Target) {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::config::Config::for_data_dir(dir.path().to_path_buf());
        let pool = crate::db::connect(&config).unwrap();
        crate::db::migrate(&pool).unwrap();
        let mut conn = pool.get().unwrap();
        crate::db::seed::seed_if_empty(&mut conn, Some("unit-test-pw")).unwrap();
        let store = super::super::stores::all(&mut conn).unwrap().remove(0);
        (dir, pool, Target { store_id: store.id, tz: "Pacific/Auckland".parse().unwrap() })
    }

    fn write(by: &str, change: Change) -> PendingChange {
        PendingChange { by: by.into(), idempotency: None, change }
    }

    fn notice(text: &str) -> Change {
        Change::PatchDashboard(DashboardPatch { notice: Some(text.into()), ..Default::default() })
    }

    fn store_seq(conn: &mut Conn, target: Target) -> Seq {
        stores::table.find(target.store_id).select(stores::seq).first(conn).unwrap()
    }

    fn panics_for_the_saboteur(
        conn: &mut Conn,
        target: Target,
        write: &PendingChange,
        seq: Seq,
        now: DateTime<Utc>,
    ) -> Result<Applied, ApiError> {
        let applied = apply_write(conn, target, write, seq, now)?;
        // After its rows are written: the savepoint must take them back.
        assert!(write.by != "user:saboteur", "a bug in one write's apply step");
        Ok(applied)
    }

    #[test]
    fn a_write_that_panics_fails_alone_and_the_rest_of_the_batch_commits() {
        let (_dir, pool, target) = seeded();
        let mut conn = pool.get().unwrap();
        let before = store_seq(&mut conn, target);
        let batch =
            [write("user:a", notice("first")), write("user:saboteur", notice("bad")), write("user:b", notice("third"))];
        let results = commit_with(&mut conn, target, &batch, panics_for_the_saboteur).unwrap();
        assert_eq!(results[0].as_ref().unwrap().seq, before + 1);
        assert_eq!(results[1].as_ref().unwrap_err().code(), "internal");
        assert_eq!(results[2].as_ref().unwrap().seq, before + 2);
        assert_eq!(store_seq(&mut conn, target), before + 2);
        let stored = events::since(&mut conn, target.store_id, before, 10).unwrap();
        assert_eq!(stored.iter().map(|e| e.by.as_str()).collect::<Vec<_>>(), ["user:a", "user:b"]);
        assert_eq!(sales::settings(&mut conn, target.store_id).unwrap().notice, "third");
    }

    #[test]
    fn a_sale_dated_at_the_calendars_edge_is_refused_alone_not_a_batch_failure() {
        let (_dir, pool, target) = seeded();
        let mut conn = pool.get().unwrap();
        let before = store_seq(&mut conn, target);
        for at in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, "1900-01-01T00:00:00Z".parse().unwrap()] {
            // As if the handler's validation had been skipped.
            let sale = NewSale {
                order_ref: None,
                lines: vec![SaleLine { product_id: 1, quantity: 1, unit_price: None }],
                at: Some(at),
            };
            let batch = [
                write("user:a", notice("before")),
                write("user:b", Change::RecordSale(sale)),
                write("user:c", notice("after")),
            ];
            let results = commit_batch(&mut conn, target, &batch).unwrap();
            let refused = results[1].as_ref().unwrap_err();
            assert_eq!(
                (refused.code(), refused.body().error.details.unwrap()["field"].clone()),
                ("invalid_field", "at".into())
            );
            assert!(results[0].is_ok() && results[2].is_ok(), "{at}");
        }
        assert_eq!(store_seq(&mut conn, target), before + 6);
    }
}
