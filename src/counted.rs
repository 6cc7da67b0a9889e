//! Shared-state plumbing with no domain of its own: `CountedKeys`, a count
//! per key that RAII guards hold up (open WebSockets per principal in
//! `http::limits`, media hashes pinned by uploads in progress in `media`),
//! `Gate`, a count of holders with a ceiling for work that costs much
//! memory while it runs (password hashing, image decoding), and `lock`, the
//! one way this crate takes a std `Mutex`. What a count means and what its
//! limit is stays with the module that counts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Locks `m`, carrying on if a panicking thread poisoned it.
// Poisoning is ignored: what these locks guard (counts, samples, acks) is at
// worst a little stale after a panic, and refusing every later caller would
// turn one bug into an outage.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many live `CountedKey` guards each key has; keys without a guard are
/// absent. Clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct CountedKeys {
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

impl CountedKeys {
    /// Counts one more holder of `key`, for as long as the guard lives.
    pub fn acquire(&self, key: &str) -> CountedKey {
        *lock(&self.counts).entry(key.to_owned()).or_default() += 1;
        self.guard(key)
    }

    /// Like `acquire`, unless `key` already has `max` holders: `None` then.
    /// Check and count happen under one lock, so concurrent callers cannot
    /// both take the last place.
    pub fn try_acquire(&self, key: &str, max: usize) -> Option<CountedKey> {
        let mut counts = lock(&self.counts);
        let count = counts.entry(key.to_owned()).or_default();
        if *count >= max {
            if *count == 0 {
                counts.remove(key);
            }
            return None;
        }
        *count += 1;
        drop(counts);
        Some(self.guard(key))
    }

    /// Runs `f` unless `key` has a holder (`None` then). No key can be
    /// acquired while `f` runs, so what `f` decides about an unheld key
    /// still holds when it returns.
    pub fn unless_held<R>(&self, key: &str, f: impl FnOnce() -> R) -> Option<R> {
        let counts = lock(&self.counts);
        if counts.contains_key(key) {
            return None;
        }
        let out = f();
        drop(counts);
        Some(out)
    }

    fn guard(&self, key: &str) -> CountedKey {
        CountedKey { key: key.to_owned(), keys: self.clone() }
    }
}

/// One holder of a key in a `CountedKeys`; dropping it uncounts it.
#[derive(Debug)]
#[must_use = "the key is uncounted as soon as the guard is dropped"]
pub struct CountedKey {
    key: String,
    keys: CountedKeys,
}

impl Drop for CountedKey {
    fn drop(&mut self) {
        let mut counts = lock(&self.keys.counts);
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// At most `size` holders at once; a newcomer waits a little for a place
/// and is turned away if none frees up. Clones share the places.
#[derive(Debug, Clone)]
pub struct Gate {
    places: Arc<Semaphore>,
    wait: Duration,
}

/// One place in a `Gate`, given back when dropped.
#[derive(Debug)]
#[must_use = "the place is given back as soon as the pass is dropped"]
pub struct GatePass {
    _place: OwnedSemaphorePermit,
}

impl Gate {
    /// A gate of `size` places (at least one) where newcomers wait up to
    /// `wait`.
    pub fn new(size: usize, wait: Duration) -> Self {
        Self { places: Arc::new(Semaphore::new(size.max(1))), wait }
    }

    /// A place, or `None` when the gate stayed full for the whole wait.
    pub async fn enter(&self) -> Option<GatePass> {
        let place = tokio::time::timeout(self.wait, self.places.clone().acquire_owned()).await;
        // The semaphore is never closed, so `acquire_owned` only fails by timing out.
        place.ok()?.ok().map(|place| GatePass { _place: place })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_gate_turns_newcomers_away_after_its_wait_until_a_place_frees() {
        let gate = Gate::new(1, Duration::from_millis(10));
        let held = gate.enter().await.expect("a free place");
        assert!(gate.clone().enter().await.is_none());
        drop(held);
        assert!(gate.enter().await.is_some());
    }

    fn count(keys: &CountedKeys, key: &str) -> Option<usize> {
        lock(&keys.counts).get(key).copied()
    }

    #[test]
    fn a_key_is_counted_while_guards_live_and_forgotten_after_the_last() {
        let keys = CountedKeys::default();
        let a = keys.acquire("k");
        let b = keys.clone().acquire("k");
        assert_eq!(count(&keys, "k"), Some(2));
        drop(a);
        assert_eq!(count(&keys, "k"), Some(1));
        drop(b);
        assert_eq!(count(&keys, "k"), None);
    }

    #[test]
    fn try_acquire_refuses_past_the_limit_until_a_guard_drops() {
        let keys = CountedKeys::default();
        let first = keys.try_acquire("k", 1).unwrap();
        assert!(keys.try_acquire("k", 1).is_none());
        assert!(keys.try_acquire("other", 1).is_some());
        drop(first);
        assert!(keys.try_acquire("k", 1).is_some());
        assert!(keys.try_acquire("k", 0).is_none());
        assert_eq!(count(&keys, "k"), None, "a refused key leaves no entry");
    }

    #[test]
    fn unless_held_runs_only_for_unheld_keys() {
        let keys = CountedKeys::default();
        let held = keys.acquire("k");
        assert_eq!(keys.unless_held("k", || 1), None);
        assert_eq!(keys.unless_held("free", || 2), Some(2));
        drop(held);
        assert_eq!(keys.unless_held("k", || 3), Some(3));
    }
}
