//! Rate limits (governor) and connection counts: login attempts per client
//! IP and per username, REST writes per principal, open WebSockets per
//! principal. Excess answers `429` with `Retry-After`.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Config;
use crate::counted::{CountedKey, CountedKeys};
use crate::error::ApiError;

/// The server's rate limiters.
pub struct RateLimits {
    login_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_user: DefaultKeyedRateLimiter<String>,
    writes: DefaultKeyedRateLimiter<String>,
    connections: CountedKeys,
    max_connections: usize,
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

fn refused(result: Result<(), governor::NotUntil<<DefaultClock as Clock>::Instant>>) -> Result<(), ApiError> {
    result.map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::RateLimited { retry_after_secs: wait.as_secs().max(1) }
    })
}

impl RateLimits {
    /// Limiters as configured.
    pub fn new(config: &Config) -> Self {
        let login = Quota::per_minute(nonzero(config.login_attempts_per_minute));
        let writes = Quota::per_second(nonzero(config.writes_per_sec))
            .allow_burst(nonzero(config.writes_per_sec.saturating_mul(2)));
        Self {
            login_ip: RateLimiter::keyed(login),
            login_user: RateLimiter::keyed(login),
            writes: RateLimiter::keyed(writes),
            connections: CountedKeys::default(),
            max_connections: config.max_connections_per_principal,
        }
    }

    /// A login attempt from `ip` for `username`.
    pub fn login(&self, ip: Option<IpAddr>, username: &str) -> Result<(), ApiError> {
        if let Some(ip) = ip {
            refused(self.login_ip.check_key(&ip))?;
        }
        refused(self.login_user.check_key(&username.to_lowercase()))
    }

    /// A write by `principal`.
    pub fn write(&self, principal: &str) -> Result<(), ApiError> {
        refused(self.writes.check_key(&principal.to_owned()))
    }

    /// Counts an open WebSocket of `principal`; the guard uncounts it.
    pub fn connect(&self, principal: &str) -> Result<CountedKey, ApiError> {
        self.connections
            .try_acquire(principal, self.max_connections)
            .ok_or(ApiError::RateLimited { retry_after_secs: 5 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_limited_per_user_and_connections_are_counted() {
        let mut config = Config::for_data_dir("/tmp".into());
        config.login_attempts_per_minute = 2;
        config.max_connections_per_principal = 1;
        let limits = RateLimits::new(&config);
        assert!(limits.login(None, "admin").is_ok());
        assert!(limits.login(None, "ADMIN").is_ok());
        assert_eq!(limits.login(None, "admin").unwrap_err().code(), "rate_limited");
        assert!(limits.login(None, "editor").is_ok());
        let guard = limits.connect("user:a").unwrap();
        assert!(limits.connect("user:a").is_err());
        drop(guard);
        assert!(limits.connect("user:a").is_ok());
    }
}
