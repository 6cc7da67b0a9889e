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

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;

use chrono::{DateTime, SubsecRound, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde_json::json;

use super::scheduled::{self, Author, ScheduledRow, Settled};
use super::{events, kpis, products, sales, saved_views, store_settings};
use crate::db::schema::{idempotency_keys, stores};
use crate::db::{self, Conn};
use crate::error::ApiError;
use crate::model::bulk::{self, BulkOp, Planned};
use crate::model::change::{Applied, Change, Effect, IdempotencyKey, ImportReport, Outcome, PendingChange};
use crate::model::kpi::KpiRule;
use crate::model::saved_view::SavedView;
use crate::model::schedule::{check_due, ScheduleStatus, ScheduledChange, LATE_AFTER};
use crate::model::{calendar, DashboardPatch, Event, EventKind, NewProduct, Product, ProductId, SaleReceipt, Seq};

/// The store a batch writes to. Its time zone and archived flag are read
/// again inside the transaction (`locked_store`) and follow the batch's
/// own store changes, so every write is judged by the store as committed.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub store_id: i64,
    pub tz: Tz,
    /// Archived: every write but a restore is refused (`store_archived`).
    pub archived: bool,
}

impl Target {
    /// Takes the settings a committed store change left.
    fn follow(&mut self, applied: &Applied) {
        if let (Outcome::Store(info), false) = (&applied.outcome, applied.events.is_empty()) {
            self.archived = info.archived;
            self.tz = info.time_zone.parse().unwrap_or(self.tz);
        }
    }
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
type ApplyWrite =
    fn(&mut Conn, &mut ProductReads, Target, &PendingChange, Seq, DateTime<Utc>) -> Result<Applied, ApiError>;

/// The products of one attempt at a whole batch, read and written once:
/// the products its patches, deletes and image changes name are read in
/// one query up front, each write's result is kept for the next, and the
/// saved rows are written in one statement at the end (`flush`), so a
/// patch costs no round trip of its own. Imports and sales change products
/// by other means: before one, the saved rows are written and the rest of
/// the batch reads and writes through (`bypass`). The savepoint path does
/// so from the start (`ProductReads::none`): a rolled-back savepoint would
/// leave kept rows that are no longer true.
struct ProductReads {
    /// By id; `None` once deleted in this batch. `None` as a whole: read
    /// and write through.
    known: Option<HashMap<ProductId, Option<Product>>>,
    /// Kept products whose rows are not written yet.
    unwritten: HashSet<ProductId>,
}

impl ProductReads {
    /// Reads and writes through.
    fn none() -> Self {
        Self { known: None, unwritten: HashSet::new() }
    }

    /// Reads the products `batch` names in one query.
    fn prefetch(conn: &mut Conn, store: i64, batch: &[PendingChange]) -> QueryResult<Self> {
        let ids: Vec<ProductId> = batch
            .iter()
            .flat_map(|w| match &w.change {
                Change::PatchProduct { id, .. } | Change::DeleteProduct { id, .. } | Change::SetImage { id, .. } => {
                    std::slice::from_ref(id)
                }
                Change::BulkProducts { ids, .. } => ids.as_slice(),
                _ => &[],
            })
            .copied()
            .collect();
        let known = products::get_many(conn, store, &ids)?.into_iter().map(|p| (p.id, Some(p))).collect();
        Ok(Self { known: Some(known), unwritten: HashSet::new() })
    }

    fn get(&mut self, conn: &mut Conn, store: i64, id: ProductId) -> Result<Product, ApiError> {
        match self.known.as_ref().and_then(|known| known.get(&id)) {
            Some(Some(product)) => Ok(product.clone()),
            Some(None) => Err(ApiError::NotFound(format!("product {id}"))),
            None => products::get(conn, store, id),
        }
    }

    /// The products of this store among `ids`, by id.
    fn get_many(&self, conn: &mut Conn, store: i64, ids: &[ProductId]) -> QueryResult<HashMap<ProductId, Product>> {
        let by_id = |found: Vec<Product>| found.into_iter().map(|p| (p.id, p));
        let Some(known) = self.known.as_ref() else {
            return Ok(by_id(products::get_many(conn, store, ids)?).collect());
        };
        let unread: Vec<ProductId> = ids.iter().copied().filter(|id| !known.contains_key(id)).collect();
        let mut found: HashMap<_, _> =
            by_id(ids.iter().filter_map(|id| known.get(id).cloned().flatten()).collect()).collect();
        found.extend(by_id(products::get_many(conn, store, &unread)?));
        Ok(found)
    }

    /// Saves a product's new state: kept until `flush`, or written now.
    fn save(&mut self, conn: &mut Conn, store: i64, product: &Product) -> Result<(), ApiError> {
        match self.known.as_mut() {
            Some(known) => {
                known.insert(product.id, Some(product.clone()));
                self.unwritten.insert(product.id);
                Ok(())
            }
            None => products::save(conn, store, product),
        }
    }

    /// Deletes a product of this store.
    fn delete(&mut self, conn: &mut Conn, store: i64, id: ProductId) -> Result<(), ApiError> {
        products::delete(conn, store, id)?;
        self.unwritten.remove(&id);
        if let Some(known) = self.known.as_mut() {
            known.insert(id, None);
        }
        Ok(())
    }

    /// Writes the kept rows not written yet.
    fn flush(&mut self, conn: &mut Conn, store: i64) -> Result<(), ApiError> {
        let Some(known) = self.known.as_ref() else { return Ok(()) };
        let saved: Vec<Product> = self.unwritten.drain().filter_map(|id| known.get(&id).cloned().flatten()).collect();
        products::save_many(conn, store, &saved)
    }

    /// Writes the kept rows, then reads and writes through.
    fn bypass(&mut self, conn: &mut Conn, store: i64) -> Result<(), ApiError> {
        self.flush(conn, store)?;
        self.known = None;
        Ok(())
    }
}

/// The group commit, with the per-write step given. One write fails alone:
/// a refusal (any error but `Internal`) or a panic rolls back to its
/// savepoint and answers that write only; the others commit. Only a
/// database failure (`Internal`) aborts the batch, since the transaction
/// itself may be unusable then. Guarded by the unit tests below and
/// `tests/calendar.rs`.
///
/// Savepoints cost two statements per write, and on PostgreSQL every
/// statement is a round trip: so the batch is first tried whole, without
/// them (`all_or_nothing`), and only when one of its writes is refused is
/// that attempt rolled back and the batch redone a savepoint per write. The
/// events of the whole batch go in as one insert either way.
fn commit_with(
    conn: &mut Conn,
    target: Target,
    batch: &[PendingChange],
    apply_write: ApplyWrite,
) -> Result<Vec<Result<Applied, ApiError>>, ApiError> {
    // Microseconds: what both backends' TIMESTAMP keeps, so the live state
    // equals what a reload reads back.
    let now = Utc::now().trunc_subsecs(6);
    let whole = db::write_transaction(conn, |conn| {
        let (mut seq, mut target) = locked_store(conn, target)?;
        let mut reads = ProductReads::prefetch(conn, target.store_id, batch)?;
        let mut results = Vec::with_capacity(batch.len());
        for write in batch {
            let applied = match replay(conn, target.store_id, write)? {
                Some(replayed) => replayed.map_err(|_| GaveUp)?,
                None => guarded(|| apply_write(conn, &mut reads, target, write, seq, now))
                    .map_err(|_| GaveUp)?
                    .map_err(|_| GaveUp)?,
            };
            seq = seq.max(applied.seq);
            target.follow(&applied);
            results.push(Ok(applied));
        }
        reads.flush(conn, target.store_id)?;
        finish(conn, target, seq, &results)?;
        Ok::<_, GaveUp>(results)
    });
    if let Ok(results) = whole {
        return Ok(results);
    }
    db::write_transaction(conn, |conn| {
        let (mut seq, mut target) = locked_store(conn, target)?;
        let mut results = Vec::with_capacity(batch.len());
        for write in batch {
            if let Some(replayed) = replay(conn, target.store_id, write)? {
                results.push(replayed);
                continue;
            }
            let mut panicked = false;
            let attempt = conn.transaction(|conn| {
                guarded(|| apply_write(conn, &mut ProductReads::none(), target, write, seq, now)).unwrap_or_else(
                    |detail| {
                        panicked = true;
                        Err(ApiError::Internal(format!("write panicked: {detail}")))
                    },
                )
            });
            match attempt {
                Ok(applied) => {
                    seq = applied.seq;
                    target.follow(&applied);
                    results.push(Ok(applied));
                }
                Err(e) if panicked => {
                    log::error!(store = target.store_id, error = e.detail().as_str(); "a write panicked; refused alone, the batch goes on");
                    results.push(Err(e));
                }
                Err(e @ ApiError::Internal(_)) => return Err(e),
                Err(refused) => results.push(Err(refused)),
            }
        }
        finish(conn, target, seq, &results)?;
        Ok(results)
    })
}

/// Why the savepoint-free attempt at a batch gave up: a write was refused
/// or failed, so the batch is redone a savepoint per write.
struct GaveUp;

impl From<diesel::result::Error> for GaveUp {
    fn from(_: diesel::result::Error) -> Self {
        GaveUp
    }
}

impl From<ApiError> for GaveUp {
    fn from(_: ApiError) -> Self {
        GaveUp
    }
}

/// Runs one write's apply step; a panic (a bug in that step) is caught and
/// answered as `Err` with its message.
fn guarded(apply: impl FnOnce() -> Result<Applied, ApiError>) -> Result<Result<Applied, ApiError>, String> {
    std::panic::catch_unwind(AssertUnwindSafe(apply)).map_err(|payload| panic_message(payload.as_ref()))
}

/// Appends the events of the batch's committed writes and advances the
/// store's seq to `seq`.
fn finish(conn: &mut Conn, target: Target, seq: Seq, results: &[Result<Applied, ApiError>]) -> QueryResult<()> {
    events::append(conn, target.store_id, results.iter().flatten().flat_map(|a| &a.events))?;
    diesel::update(stores::table.find(target.store_id)).set(stores::seq.eq(seq)).execute(conn)?;
    Ok(())
}

/// The store's seq, locked until commit on PostgreSQL, where writers on
/// other connections could otherwise read the same seq (SQLite's immediate
/// transaction already holds the database's write lock), and the target
/// with the store's committed time zone and archived flag.
fn locked_store(conn: &mut Conn, target: Target) -> QueryResult<(Seq, Target)> {
    let query = stores::table.find(target.store_id).select((stores::seq, stores::time_zone, stores::archived));
    let (seq, zone, archived): (Seq, String, bool) = match conn {
        Conn::Sqlite(c) => query.first(c),
        Conn::Pg(c) => query.for_update().first(c),
    }?;
    Ok((seq, Target { tz: zone.parse().unwrap_or(target.tz), archived, ..target }))
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
    reads: &mut ProductReads,
    target: Target,
    write: &PendingChange,
    seq: Seq,
    now: DateTime<Utc>,
) -> Result<Applied, ApiError> {
    let mut drafts = EventDrafts { seq, by: &write.by, now, events: Vec::new() };
    let (outcome, effects) = apply(conn, reads, target, &write.change, &mut drafts)?;
    // Appended with the whole batch's (`finish`).
    let events = drafts.events;
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
    reads: &mut ProductReads,
    target: Target,
    change: &Change,
    ev: &mut EventDrafts,
) -> Result<(Outcome, Vec<Effect>), ApiError> {
    let store = target.store_id;
    // A due scheduled change on an archived store fails visibly (its own
    // change is refused below) instead of staying pending.
    if target.archived && !matches!(change, Change::ArchiveStore | Change::RestoreStore | Change::RunSchedule { .. }) {
        return Err(ApiError::StoreArchived);
    }
    match change {
        Change::UpdateStore(patch) => Ok(store_change(store_settings::update(conn, ev.by, store, patch, ev.now)?, ev)),
        Change::ArchiveStore => Ok(store_change(store_settings::set_archived(conn, ev.by, store, true)?, ev)),
        Change::RestoreStore => Ok(store_change(store_settings::set_archived(conn, ev.by, store, false)?, ev)),
        Change::CreateProduct(new) => {
            let product = create_product(conn, store, new, ev)?;
            Ok((Outcome::Created(product.clone()), vec![Effect::UpsertProduct(product)]))
        }
        Change::PatchProduct { id, if_match, patch } => {
            let mut product = reads.get(conn, store, *id)?;
            check_version(&product, *if_match)?;
            let changed = products::apply_patch(&mut product, patch);
            Ok(updated(save_changes(conn, reads, store, product, changed, ev)?))
        }
        Change::DeleteProduct { id, if_match } => {
            let product = reads.get(conn, store, *id)?;
            check_version(&product, *if_match)?;
            let effect = delete_product(conn, reads, store, *id, ev)?;
            Ok((Outcome::Deleted { id: *id }, vec![effect]))
        }
        Change::BulkProducts { ids, change } => bulk(conn, reads, store, ids, change, ev),
        Change::ImportProducts { rows } => {
            reads.bypass(conn, store)?;
            import(conn, reads, store, rows, ev)
        }
        Change::PatchDashboard(patch) => patch_dashboard(conn, target, patch, ev),
        Change::SetImage { id, if_match, image } => {
            let product = reads.get(conn, store, *id)?;
            check_version(&product, *if_match)?;
            Ok(updated(set_image(conn, reads, store, product, image, ev)?))
        }
        Change::PublishView { view } => {
            ev.push(EventKind::ViewPublished, None, json!({ "view": view }));
            Ok((Outcome::Published, vec![]))
        }
        Change::PublishSavedView { name } => {
            let saved = saved_views::get(conn, store, name)?;
            ev.push(EventKind::ViewPublished, None, json!({ "view": saved.view, "name": name }));
            Ok((Outcome::Published, vec![]))
        }
        Change::SaveView { name, view } => {
            let saved =
                SavedView { name: name.clone(), view: view.clone(), saved_by: ev.by.to_owned(), saved_at: ev.now };
            saved_views::save(conn, store, &saved)?;
            ev.push(EventKind::ViewSaved, None, json!(saved));
            Ok((Outcome::SavedView(saved.clone()), vec![Effect::SaveView(saved)]))
        }
        Change::DeleteView { name } => {
            if !saved_views::delete(conn, store, name)? {
                return Err(ApiError::NotFound(format!("saved view {name}")));
            }
            ev.push(EventKind::ViewDeleted, None, json!({ "name": name }));
            Ok((Outcome::ViewDeleted { name: name.clone() }, vec![Effect::RemoveView(name.clone())]))
        }
        Change::SaveKpi { name, definition } => {
            let rule = KpiRule {
                name: name.clone(),
                definition: definition.clone(),
                defined_by: ev.by.to_owned(),
                defined_at: ev.now,
            };
            kpis::save(conn, store, &rule)?;
            ev.push(EventKind::KpiSaved, None, json!(rule));
            Ok((Outcome::Kpi(rule), vec![]))
        }
        Change::DeleteKpi { name } => {
            if !kpis::delete(conn, store, name)? {
                return Err(ApiError::NotFound(format!("KPI {name}")));
            }
            ev.push(EventKind::KpiDeleted, None, json!({ "name": name }));
            Ok((Outcome::KpiDeleted { name: name.clone() }, vec![]))
        }
        Change::RecordSale(sale) => {
            reads.bypass(conn, store)?;
            let receipt = sales::record(conn, store, target.tz, sale, ev.by, ev.now)?;
            ev.push(EventKind::SalesUpdated, Some(receipt.sale_id), json!(receipt));
            let effects = receipt_effects(conn, store, &receipt)?;
            Ok((Outcome::Sale(receipt), effects))
        }
        Change::Schedule { due_at, scheduled, user_id, token_id } => {
            let author = Author { name: ev.by, user_id: *user_id, token_id: *token_id };
            let row = scheduled::insert(conn, store, check_due(*due_at, ev.now)?, scheduled, author, ev.now)?;
            Ok(schedule_event(row, ev))
        }
        Change::EditSchedule { id, edit } => {
            let current = open_schedule(conn, store, *id, ev.now)?.into_scheduled()?;
            let due_at = edit.due_at.map_or(Ok(current.due_at), |due_at| check_due(due_at, ev.now))?;
            scheduled::edit(conn, *id, due_at, edit.change.as_ref().unwrap_or(&current.change), ev.now)?;
            Ok(schedule_event(scheduled::get(conn, store, *id)?.into_scheduled()?, ev))
        }
        Change::CancelSchedule { id } => {
            open_schedule(conn, store, *id, ev.now)?;
            let status = ScheduleStatus::Cancelled;
            scheduled::settle(
                conn,
                Settled { status, late: false, failure: None, applied_seq: None, at: ev.now, id: *id },
            )?;
            Ok(schedule_event(scheduled::get(conn, store, *id)?.into_scheduled()?, ev))
        }
        Change::RunSchedule { id } => run_schedule(conn, reads, target, *id, ev),
    }
}

/// Records `schedule.updated` with the change's new state; its answer.
fn schedule_event(scheduled: ScheduledChange, ev: &mut EventDrafts) -> (Outcome, Vec<Effect>) {
    ev.push(EventKind::ScheduleUpdated, Some(scheduled.id), json!(scheduled));
    (Outcome::Scheduled(scheduled), vec![])
}

/// A scheduled change that may still be edited or cancelled: pending and
/// not yet due (a due one belongs to the scheduler).
fn open_schedule(conn: &mut Conn, store: i64, id: i64, now: DateTime<Utc>) -> Result<ScheduledRow, ApiError> {
    let row = scheduled::get(conn, store, id)?;
    if !row.is_open(now) {
        let state = if row.status == ScheduleStatus::Pending.as_str() { "due" } else { row.status.as_str() };
        return Err(ApiError::Conflict(format!(
            "scheduled change {id} is {state}; only a pending change before its time can change"
        )));
    }
    Ok(row)
}

/// Claims a due scheduled change, applies it in a savepoint of its own and
/// settles it, all in this one transaction: `applied` with its events, or
/// `failed` with the refusal's code and nothing changed. Its author must
/// still be allowed to edit the store. A change another run claimed, or not
/// yet due (edited to a later time since the scheduler read it), is left
/// alone.
fn run_schedule(
    conn: &mut Conn,
    reads: &mut ProductReads,
    target: Target,
    id: i64,
    ev: &mut EventDrafts,
) -> Result<(Outcome, Vec<Effect>), ApiError> {
    let store = target.store_id;
    let row = scheduled::get(conn, store, id)?;
    if row.due_at > ev.now.naive_utc() || !scheduled::claim(conn, id, ev.now)? {
        return Ok((Outcome::Scheduled(row.into_scheduled()?), vec![]));
    }
    let late = ev.now - row.due_at.and_utc() > LATE_AFTER;
    let (user_id, token_id) = (row.user_id, row.token_id);
    let due = row.into_scheduled()?;
    let mut effects = Vec::new();
    let failure = if scheduled::author_may_edit(conn, store, user_id, token_id, ev.now)? {
        // Written through, so that the savepoint takes back all it wrote.
        reads.bypass(conn, store)?;
        let mut drafts = EventDrafts { seq: ev.seq, by: ev.by, now: ev.now, events: Vec::new() };
        let change = due.change.to_change();
        match conn.transaction(|conn| apply(conn, reads, target, &change, &mut drafts)) {
            Ok((_, done)) => {
                effects = done;
                ev.seq = drafts.seq;
                ev.events.append(&mut drafts.events);
                None
            }
            Err(e @ ApiError::Internal(_)) => return Err(e),
            Err(refused) => Some((refused.code(), refused.public_message())),
        }
    } else {
        Some(("access_revoked", format!("{} may no longer edit this store", due.created_by)))
    };
    let (status, applied_seq) = match failure {
        None => (ScheduleStatus::Applied, Some(ev.seq + 1)),
        Some(_) => (ScheduleStatus::Failed, None),
    };
    scheduled::settle(conn, Settled { status, late, failure, applied_seq, at: ev.now, id })?;
    let (outcome, _) = schedule_event(scheduled::get(conn, store, id)?.into_scheduled()?, ev);
    Ok((outcome, effects))
}

/// Records a store change's event, if it changed anything; its answer and
/// effects.
fn store_change(change: store_settings::StoreChange, ev: &mut EventDrafts) -> (Outcome, Vec<Effect>) {
    if let Some((kind, data)) = change.event {
        ev.push(kind, None, data);
    }
    (Outcome::Store(change.info), change.effects)
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

/// A bulk change, planned against the products as this transaction sees
/// them (all or nothing), then each product saved or deleted with its event.
fn bulk(
    conn: &mut Conn,
    reads: &mut ProductReads,
    store: i64,
    ids: &[ProductId],
    op: &BulkOp,
    ev: &mut EventDrafts,
) -> Result<(Outcome, Vec<Effect>), ApiError> {
    let found = reads.get_many(conn, store, ids)?;
    let planned = bulk::plan(op, ids, |id| found.get(&id))?;
    let seq_before = ev.seq;
    let mut effects = Vec::with_capacity(planned.len());
    for step in &planned {
        match step {
            Planned::Patch(product, patch) => {
                let mut product = product.clone();
                let changed = products::apply_patch(&mut product, patch);
                if let Update::Saved(saved) = save_changes(conn, reads, store, product, changed, ev)? {
                    effects.push(Effect::UpsertProduct(saved));
                }
            }
            Planned::Delete(product) => effects.push(delete_product(conn, reads, store, product.id, ev)?),
        }
    }
    let first_seq = (ev.seq > seq_before).then_some(seq_before + 1);
    Ok((Outcome::Bulk(bulk::report(&planned, first_seq, ev.seq, false)), effects))
}

/// Deletes a product and records `product.deleted`.
fn delete_product(
    conn: &mut Conn,
    reads: &mut ProductReads,
    store: i64,
    id: ProductId,
    ev: &mut EventDrafts,
) -> Result<Effect, ApiError> {
    reads.delete(conn, store, id)?;
    ev.push(EventKind::ProductDeleted, Some(id), json!({ "id": id }));
    Ok(Effect::RemoveProduct(id))
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
    reads: &mut ProductReads,
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
    reads.save(conn, store, &product)?;
    changed.insert("version".into(), json!(product.version));
    changed.insert("updated_at".into(), json!(product.updated_at));
    ev.push(EventKind::ProductUpdated, Some(product.id), changed.into());
    Ok(Update::Saved(product))
}

/// Sets a product's image and records `product.image_changed`.
fn set_image(
    conn: &mut Conn,
    reads: &mut ProductReads,
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
    reads.save(conn, store, &product)?;
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
    let before = settings.clone();
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
    // Subscribers had `before` as of its change; a change on a later local
    // day than that one sends the new day in full.
    let same_day = calendar::local_day(target.tz, before.updated_at) == Some(today.day);
    let before = same_day.then(|| before.dashboard(today));
    ev.push(EventKind::DashboardUpdated, None, dashboard.changes_from(before.as_ref()));
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
    reads: &mut ProductReads,
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
                match save_changes(conn, reads, store, product, changed, ev)? {
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
        (dir, pool, Target { store_id: store.id, tz: "Pacific/Auckland".parse().unwrap(), archived: false })
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
        reads: &mut ProductReads,
        target: Target,
        write: &PendingChange,
        seq: Seq,
        now: DateTime<Utc>,
    ) -> Result<Applied, ApiError> {
        let applied = apply_write(conn, reads, target, write, seq, now)?;
        // After its rows are written: the savepoint must take them back.
        assert!(write.by != "user:saboteur", "a bug in one write's apply step");
        Ok(applied)
    }

    fn stock(id: ProductId, if_match: Option<i64>, stock: i64) -> Change {
        let patch = crate::model::ProductPatch { stock: Some(stock), ..Default::default() };
        Change::PatchProduct { id, if_match, patch }
    }

    #[test]
    fn writes_in_one_batch_see_the_products_earlier_writes_left() {
        let (_dir, pool, target) = seeded();
        let mut conn = pool.get().unwrap();
        let ids: Vec<ProductId> = products::get_many(&mut conn, target.store_id, &[100_000, 100_001, 100_002])
            .unwrap()
            .iter()
            .map(|p| p.id)
            .collect();
        let (x, y) = (ids[0], ids[1]);
        let v = products::get(&mut conn, target.store_id, x).unwrap().version;
        // Whole: each patch checks the version the one before it saved.
        let batch = [
            write("user:a", stock(x, Some(v), 1)),
            write("user:a", stock(x, Some(v + 1), 2)),
            write("user:a", Change::DeleteProduct { id: y, if_match: None }),
        ];
        let results = commit_batch(&mut conn, target, &batch).unwrap();
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert_eq!(products::get(&mut conn, target.store_id, x).unwrap().stock, 2);
        // A write refused after others: the batch is redone a savepoint per
        // write, and the refused one is refused alone.
        let batch = [
            write("user:a", stock(x, Some(v + 2), 3)),
            write("user:a", stock(y, None, 1)),
            write("user:a", stock(x, Some(v + 2), 4)),
            write("user:a", stock(x, Some(v + 3), 5)),
        ];
        let results = commit_batch(&mut conn, target, &batch).unwrap();
        assert_eq!(results[1].as_ref().unwrap_err().code(), "not_found", "the product was deleted");
        assert_eq!(results[2].as_ref().unwrap_err().code(), "version_stale");
        assert!(results[0].is_ok() && results[3].is_ok(), "{results:?}");
        let x_now = products::get(&mut conn, target.store_id, x).unwrap();
        assert_eq!((x_now.stock, x_now.version), (5, v + 4));
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

    #[test]
    fn a_due_scheduled_change_is_applied_once_however_often_it_is_run() {
        let (_dir, pool, target) = seeded();
        let mut conn = pool.get().unwrap();
        let editor = crate::db::queries::auth::user_by_name(&mut conn, "editor").unwrap().unwrap();
        let id = products::get_many(&mut conn, target.store_id, &[100_000]).unwrap()[0].id;
        let now = Utc::now();
        // Due a while ago, as after a restart that spanned its time.
        let op = crate::model::schedule::ScheduledOp::Product {
            id,
            if_version: None,
            patch: crate::model::ProductPatch { stock: Some(9), ..Default::default() },
        };
        let author = Author { name: "user:editor", user_id: editor.id, token_id: None };
        let due = scheduled::insert(&mut conn, target.store_id, now - chrono::TimeDelta::seconds(5), &op, author, now)
            .unwrap();
        let before = store_seq(&mut conn, target);
        let run = || write("user:editor", Change::RunSchedule { id: due.id });
        // Twice in one batch (two nodes' schedulers), then once more.
        let results = commit_batch(&mut conn, target, &[run(), run()]).unwrap();
        let again = commit_batch(&mut conn, target, &[run()]).unwrap();
        assert!(results.iter().chain(&again).all(Result::is_ok), "{results:?} {again:?}");
        let stored = events::since(&mut conn, target.store_id, before, 10).unwrap();
        let kinds: Vec<EventKind> = stored.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventKind::ProductUpdated, EventKind::ScheduleUpdated]);
        let settled = scheduled::get(&mut conn, target.store_id, due.id).unwrap().into_scheduled().unwrap();
        assert_eq!(
            (settled.status, settled.late, settled.applied_seq),
            (ScheduleStatus::Applied, true, Some(before + 2))
        );
        assert_eq!(products::get(&mut conn, target.store_id, id).unwrap().stock, 9);
    }
}
