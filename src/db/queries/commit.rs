//! Group commit: one immediate transaction applies a batch of writes, each
//! inside its own savepoint, appends one event per change and advances the
//! store's seq. A write that is refused (stale version, unknown product,
//! taken SKU) rolls back to its savepoint and the rest of the batch commits;
//! a database failure aborts the whole batch.
//!
//! Seq is assigned here, from the `stores.seq` read inside the transaction,
//! so every seq the store actor hands out is one the database confirmed.
//! Guarded by `tests/seq.rs` and `tests/durability.rs`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde_json::json;

use super::{events, products, sales};
use crate::db::schema::{idempotency_keys, stores};
use crate::db::Conn;
use crate::error::ApiError;
use crate::model::{Event, Seq};
use crate::store::change::{Applied, Change, Effect, ImportReport, Outcome, PendingChange};

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
    let now = Utc::now();
    conn.immediate_transaction(|conn| {
        let mut seq: Seq = stores::table.find(target.store_id).select(stores::seq).first(conn)?;
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

/// Hands out the seqs of one write's events.
struct EventDrafts<'a> {
    seq: Seq,
    by: &'a str,
    now: DateTime<Utc>,
    events: Vec<Event>,
}

impl EventDrafts<'_> {
    fn push(&mut self, kind: &str, entity_id: Option<i64>, data: serde_json::Value) {
        self.seq += 1;
        self.events.push(Event {
            seq: self.seq,
            kind: kind.to_owned(),
            entity_id,
            at: self.now,
            by: self.by.to_owned(),
            data,
        });
    }
}

fn check_version(current: &crate::model::Product, if_match: Option<i64>) -> Result<(), ApiError> {
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
    let now = ev.now;
    match change {
        Change::CreateProduct(new) => {
            let product = products::create(conn, store, new, now.naive_utc())?;
            ev.push("product.created", Some(product.id), json!(product));
            Ok((Outcome::Created(product.clone()), vec![Effect::UpsertProduct(product)]))
        }
        Change::PatchProduct { id, if_match, patch } => {
            let mut product = products::get(conn, store, *id)?;
            check_version(&product, *if_match)?;
            let mut changed = products::apply_patch(&mut product, patch);
            if changed.is_empty() {
                return Ok((Outcome::Updated(product), vec![]));
            }
            product.version += 1;
            product.updated_at = now;
            products::save(conn, store, &product)?;
            changed.insert("version".into(), json!(product.version));
            changed.insert("updated_at".into(), json!(product.updated_at));
            ev.push("product.updated", Some(product.id), changed.into());
            Ok((Outcome::Updated(product.clone()), vec![Effect::UpsertProduct(product)]))
        }
        Change::DeleteProduct { id, if_match } => {
            let product = products::get(conn, store, *id)?;
            check_version(&product, *if_match)?;
            products::delete(conn, store, *id)?;
            ev.push("product.deleted", Some(*id), json!({ "id": id }));
            Ok((Outcome::Deleted { id: *id }, vec![Effect::RemoveProduct(*id)]))
        }
        Change::ImportProducts { rows } => import(conn, store, rows, ev),
        Change::PatchDashboard(patch) => {
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
            settings.updated_at = now;
            sales::save_settings(conn, store, &settings, now.naive_utc())?;
            let today = sales::day(conn, store, sales::local_day(target.tz, now))?;
            let dashboard = settings.dashboard(today);
            ev.push("dashboard.updated", None, json!(dashboard));
            Ok((Outcome::Dashboard(dashboard), vec![Effect::Settings(settings)]))
        }
        Change::SetImage { id, if_match, image } => {
            let mut product = products::get(conn, store, *id)?;
            check_version(&product, *if_match)?;
            if product.image == *image {
                return Ok((Outcome::Updated(product), vec![]));
            }
            product.image = image.clone();
            product.version += 1;
            product.updated_at = now;
            products::save(conn, store, &product)?;
            let data = json!({ "image": image, "version": product.version, "updated_at": product.updated_at });
            ev.push("product.image_changed", Some(product.id), data);
            Ok((Outcome::Updated(product.clone()), vec![Effect::UpsertProduct(product)]))
        }
        Change::PublishView { view } => {
            ev.push("view.published", None, json!({ "view": view }));
            Ok((Outcome::Published, vec![]))
        }
        Change::RecordSale(sale) => {
            let receipt = sales::record(conn, store, target.tz, sale, ev.by, now)?;
            ev.push("sales.updated", Some(receipt.sale_id), json!(receipt));
            let effects = receipt_effects(conn, store, &receipt)?;
            Ok((Outcome::Sale(receipt), effects))
        }
    }
}

fn receipt_effects(conn: &mut Conn, store: i64, receipt: &crate::model::SaleReceipt) -> Result<Vec<Effect>, ApiError> {
    let mut effects = vec![Effect::Day(receipt.day)];
    for figures in &receipt.products {
        effects.push(Effect::UpsertProduct(products::get(conn, store, figures.id)?));
    }
    Ok(effects)
}

fn import(
    conn: &mut Conn,
    store: i64,
    rows: &[crate::model::NewProduct],
    ev: &mut EventDrafts,
) -> Result<(Outcome, Vec<Effect>), ApiError> {
    let (mut created, mut updated, mut unchanged) = (0, 0, 0);
    let mut effects = Vec::with_capacity(rows.len());
    for row in rows {
        match products::by_sku(conn, store, &row.sku)? {
            None => {
                let product = products::create(conn, store, row, ev.now.naive_utc())?;
                ev.push("product.created", Some(product.id), json!(product));
                effects.push(Effect::UpsertProduct(product));
                created += 1;
            }
            Some(mut product) => {
                let mut changed = products::apply_patch(&mut product, &products::import_patch(row));
                if changed.is_empty() {
                    unchanged += 1;
                    continue;
                }
                product.version += 1;
                product.updated_at = ev.now;
                products::save(conn, store, &product)?;
                changed.insert("version".into(), json!(product.version));
                changed.insert("updated_at".into(), json!(product.updated_at));
                ev.push("product.updated", Some(product.id), changed.into());
                effects.push(Effect::UpsertProduct(product));
                updated += 1;
            }
        }
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
    key: &crate::store::change::IdempotencyKey,
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
