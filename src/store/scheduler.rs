//! The scheduler: a loop on every node that reads the scheduled changes
//! whose time has come (`model::schedule`) and hands each to its store's
//! actor as a `RunSchedule` write, waking a hibernating store. The group
//! commit applies the change and settles its row in one transaction, and a
//! row no longer pending is left alone: so every node of a cluster may
//! poll, and a node that was down at the due time applies what it missed
//! when it starts, once (marked `late`).

use std::time::Duration;

use chrono::Utc;
use futures_util::future::join_all;

use super::messages::Write;
use super::StoreRegistry;
use crate::db::queries::scheduled;
use crate::db::{self, DbPool};
use crate::model::change::{Change, PendingChange};

/// How often the due changes are read: a change is applied at most about
/// this (plus a commit) after its time.
pub const POLL: Duration = Duration::from_millis(250);
/// Due changes handed to the stores per poll; more wait for the next.
const PER_POLL: i64 = 200;

/// Runs the scheduler until the server stops.
pub async fn run(registry: StoreRegistry, pool: DbPool) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let due = match db::blocking(&pool, |conn| Ok(scheduled::due(conn, Utc::now(), PER_POLL)?)).await {
            Ok(due) => due,
            Err(e) => {
                log::warn!(error = e.detail().as_str(); "reading the due scheduled changes failed");
                continue;
            }
        };
        if due.is_empty() {
            continue;
        }
        let stores = registry.stores();
        // All handed over at once, so that each store commits its due
        // changes together; the next poll starts once they are durable.
        let runs = due.into_iter().filter_map(|row| {
            let meta = stores.iter().find(|m| m.id == row.store_id)?;
            let write =
                PendingChange { by: row.created_by, idempotency: None, change: Change::RunSchedule { id: row.id } };
            let actor = registry.actor(meta);
            Some(async move { (row.id, actor.send(Write(write)).await) })
        });
        for (id, result) in join_all(runs).await {
            let error = match result {
                Ok(Ok(_)) => continue,
                Ok(Err(e)) => e.detail(),
                Err(e) => e.to_string(),
            };
            log::warn!(id, error = error.as_str(); "a due scheduled change was not run; retried on the next poll");
        }
    }
}
