//! Group commit: one immediate transaction applies a batch of writes, each
//! inside its own savepoint, appends one event per change and advances the
//! store's seq. A write that is refused (stale version, unknown product,
//! taken SKU) rolls back to its savepoint and the rest of the batch commits;
//! a database failure aborts the whole batch.
//!
//! Seq is assigned here, from the `stores.seq` read inside the transaction,
//! so every seq the store actor hands out is one the database confirmed.
//! Guarded by `tests/seq.rs` and `tests/durability.rs`.

use chrono::{DateTime, SubsecRound, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde_json::json;

use super::{events, products, sales};
use crate::db::schema::{idempotency_keys, stores};
use crate::db::{self, Conn};
use crate::error::ApiError;
use crate::model::change::{Applied, Change, Effect, IdempotencyKey, ImportReport, Outcome, PendingChange};
use crate::model::{DashboardPatch, Event, EventKind, NewProduct, Product, SaleReceipt, Seq};

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
            let attempt = conn.transaction(|conn| {
                let mut drafts = EventDrafts { seq, by: &write.by, now, events: Vec::new() };
                let (outcome, effects) = apply(conn, target, &write.change, &mut drafts)?;
                let events = drafts.events;
                events::append(conn, target.store_id, &events)?;
                let applied_seq = events.last().map_or(seq, |e| e.seq);
                if let Some(key) = &write.idempotency {
                    remember(conn, target.store_id, key, applied_seq, &outcome, now)?;
                }
                Ok::<_, ApiError>(Applied { seq: applied_seq, outcome, events, effects })
            });
            match attempt {
                Ok(applied) => {
                    seq = applied.seq;
                    results.push(Ok(applied));
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
    let today = sales::day(conn, store, sales::local_day(target.tz, ev.now))?;
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
