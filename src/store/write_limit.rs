//! `WriteLimit`: how many writes per second each principal may send to the
//! stores (`--writes-per-sec`, bursts of twice that), whatever the path:
//! REST writes, imports, image uploads and WebSocket `publish_view` share
//! one budget per principal. Whoever starts a write checks it, before any
//! expensive work (an upload before it is decoded, an import before it is
//! parsed); the store actor does not, so that a write is counted once.
//! Guarded by `tests/ws_hostile.rs` (`publish_view_floods_are_held_to_the_write_limit`)
//! and `tests/images.rs`.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// Writes per second per principal.
pub struct WriteLimit(DefaultKeyedRateLimiter<String>);

impl WriteLimit {
    /// `per_sec` writes per second (at least one), in bursts of twice that.
    pub fn new(per_sec: u32) -> Self {
        let rate = NonZeroU32::new(per_sec).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(rate).allow_burst(rate.saturating_mul(NonZeroU32::MIN.saturating_add(1)));
        Self(RateLimiter::keyed(quota))
    }

    /// Counts a write by `principal`; `RateLimited` past the limit.
    pub fn check(&self, principal: &str) -> Result<(), ApiError> {
        self.0.check_key(&principal.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited { retry_after_secs: wait.as_secs().max(1) }
        })
    }

    /// Forgets principals whose budget is full again: without it the
    /// limiter keeps an entry for every principal it ever saw.
    pub fn forget_idle(&self) {
        self.0.retain_recent();
        self.0.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_twice_the_rate_passes_then_writes_are_refused_per_principal() {
        let limit = WriteLimit::new(1);
        assert!(limit.check("user:a").is_ok());
        assert!(limit.check("user:a").is_ok());
        assert_eq!(limit.check("user:a").unwrap_err().code(), "rate_limited");
        assert!(limit.check("user:b").is_ok());
    }

    #[test]
    fn principals_whose_budget_is_full_again_are_forgotten() {
        let limit = WriteLimit::new(1000);
        for n in 0..100 {
            limit.check(&format!("token:{n}")).unwrap();
        }
        assert!(limit.check("user:busy").is_ok());
        assert_eq!(limit.0.len(), 101);
        // A thousand a second: one write is paid back within a millisecond.
        std::thread::sleep(std::time::Duration::from_millis(50));
        limit.forget_idle();
        assert_eq!(limit.0.len(), 0);
    }
}
