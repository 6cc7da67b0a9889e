//! Rate limits (governor) and connection counts: login attempts per client
//! IP, failed logins per username, writes per principal (`WriteLimit`, shared
//! with WebSocket sessions), open WebSockets per principal and per client
//! address. Excess answers `429` with `Retry-After`.
//!
//! Lockout, by design: per username only *failed* logins count
//! (`FailedLogins`), and once a username has failed too often only the
//! addresses that failed for it are turned away. Other addresses still
//! reach the password check, through a separate per-username budget of the
//! same size, so a stranger failing on purpose cannot lock out the right
//! password from elsewhere. Guarded by `tests/security.rs`
//! (`failed_logins_of_a_stranger_do_not_lock_out_the_right_password`).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Config;
use crate::counted::{lock, CountedKey, CountedKeys};
use crate::error::ApiError;
use crate::store::write_limit::WriteLimit;

/// How long a failed login counts against its username.
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// The server's rate limiters.
pub struct RateLimits {
    login_ip: DefaultKeyedRateLimiter<IpAddr>,
    /// Attempts on a username that failed too often, from addresses that
    /// have not failed for it.
    login_user_clean: DefaultKeyedRateLimiter<String>,
    failed_logins: FailedLogins,
    writes: Arc<WriteLimit>,
    connections: CountedKeys,
    max_connections: usize,
    connections_by_ip: CountedKeys,
    max_connections_per_ip: usize,
}

/// An open WebSocket, counted against its principal and its address for as
/// long as this lives (`http::ws` keeps it with the TCP connection).
#[derive(Debug)]
pub struct OpenSocket {
    _principal: CountedKey,
    _address: Option<CountedKey>,
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
    /// Forgets the addresses, usernames and principals whose budgets are
    /// full again, so the limiters do not grow with every client ever seen
    /// (`app` calls it every minute).
    pub fn forget_idle(&self) {
        self.login_user_clean.retain_recent();
        self.login_user_clean.shrink_to_fit();
        self.login_ip.retain_recent();
        self.login_ip.shrink_to_fit();
        self.writes.forget_idle();
    }

    /// Limiters as configured.
    pub fn new(config: &Config) -> Self {
        let login = Quota::per_minute(nonzero(config.login_attempts_per_minute));
        Self {
            login_ip: RateLimiter::keyed(login),
            login_user_clean: RateLimiter::keyed(login),
            failed_logins: FailedLogins::new(config.login_attempts_per_minute.max(1) as usize),
            writes: Arc::new(WriteLimit::new(config.writes_per_sec)),
            connections: CountedKeys::default(),
            max_connections: config.max_connections_per_principal,
            connections_by_ip: CountedKeys::default(),
            max_connections_per_ip: config.max_connections_per_ip,
        }
    }

    /// A login attempt from `ip` for `username`, before its password is
    /// checked: every attempt counts against the address; a username that
    /// failed too often turns away the addresses that failed for it, and
    /// lets the others through a separate budget.
    pub fn login(&self, ip: Option<IpAddr>, username: &str) -> Result<(), ApiError> {
        if let Some(ip) = ip {
            refused(self.login_ip.check_key(&ip))?;
        }
        let user = username.to_lowercase();
        match self.failed_logins.standing(&user, ip, Instant::now()) {
            Standing::Open => Ok(()),
            Standing::Locked { failed_here: true, retry_after } => {
                Err(ApiError::RateLimited { retry_after_secs: retry_after.as_secs().max(1) })
            }
            Standing::Locked { failed_here: false, .. } => refused(self.login_user_clean.check_key(&user)),
        }
    }

    /// Counts a failed login from `ip` against `username`.
    pub fn login_failed(&self, ip: Option<IpAddr>, username: &str) {
        self.failed_logins.record(&username.to_lowercase(), ip, Instant::now());
    }

    /// A write by `principal`.
    pub fn write(&self, principal: &str) -> Result<(), ApiError> {
        self.writes.check(principal)
    }

    /// The write budget, shared with WebSocket sessions (`publish_view`).
    pub fn writes(&self) -> Arc<WriteLimit> {
        self.writes.clone()
    }

    /// Counts an open WebSocket of `principal` from `ip`; dropping the
    /// answer uncounts it.
    pub fn connect(&self, principal: &str, ip: Option<IpAddr>) -> Result<OpenSocket, ApiError> {
        let too_many = || ApiError::RateLimited { retry_after_secs: 5 };
        let principal = self.connections.try_acquire(principal, self.max_connections).ok_or_else(too_many)?;
        let address = match ip {
            Some(ip) => Some(
                self.connections_by_ip
                    .try_acquire(&ip.to_string(), self.max_connections_per_ip)
                    .ok_or_else(too_many)?,
            ),
            None => None,
        };
        Ok(OpenSocket { _principal: principal, _address: address })
    }
}

/// Whether a username may be tried, decided by its recent failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// Fewer failures than the limit.
    Open,
    /// The limit is reached; `failed_here` says whether the asking address
    /// is one of those that failed. It opens after `retry_after`.
    Locked { failed_here: bool, retry_after: Duration },
}

/// Failed logins per username within `FAILURE_WINDOW`, with the address
/// each came from.
struct FailedLogins {
    limit: usize,
    by_user: Mutex<Failures>,
}

#[derive(Default)]
struct Failures {
    by_user: HashMap<String, VecDeque<(Option<IpAddr>, Instant)>>,
    /// Map size at which expired usernames are swept out.
    sweep_at: usize,
}

/// Drops the failures that left the window; oldest first.
fn expire(failures: &mut VecDeque<(Option<IpAddr>, Instant)>, now: Instant) {
    while failures.front().is_some_and(|(_, at)| now.saturating_duration_since(*at) >= FAILURE_WINDOW) {
        failures.pop_front();
    }
}

impl FailedLogins {
    fn new(limit: usize) -> Self {
        Self { limit, by_user: Mutex::default() }
    }

    fn standing(&self, user: &str, ip: Option<IpAddr>, now: Instant) -> Standing {
        let mut failures = lock(&self.by_user);
        let Some(recent) = failures.by_user.get_mut(user) else { return Standing::Open };
        expire(recent, now);
        let (Some(&(_, oldest)), true) = (recent.front(), recent.len() >= self.limit) else {
            return Standing::Open;
        };
        let retry_after = FAILURE_WINDOW.saturating_sub(now.saturating_duration_since(oldest));
        Standing::Locked { failed_here: recent.iter().any(|(from, _)| *from == ip), retry_after }
    }

    fn record(&self, user: &str, ip: Option<IpAddr>, now: Instant) {
        let mut failures = lock(&self.by_user);
        let recent = failures.by_user.entry(user.to_owned()).or_default();
        expire(recent, now);
        recent.push_back((ip, now));
        // Enough to stay locked; many addresses failing add no memory past this.
        if recent.len() > 4 * self.limit {
            recent.pop_front();
        }
        // Usernames nobody tried for a while are forgotten, in one sweep
        // whenever the map doubled.
        if failures.by_user.len() >= failures.sweep_at {
            failures.by_user.retain(|_, recent| {
                expire(recent, now);
                !recent.is_empty()
            });
            failures.sweep_at = (2 * failures.by_user.len()).max(1024);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_addresses_that_failed_are_turned_away_from_a_locked_username() {
        let mut config = Config::for_data_dir("/tmp".into());
        config.login_attempts_per_minute = 2;
        let limits = RateLimits::new(&config);
        let (stranger, owner) = (Some("198.51.100.9".parse().unwrap()), Some("203.0.113.5".parse().unwrap()));
        // Successful attempts use no per-username budget.
        for _ in 0..2 {
            assert!(limits.login(None, "admin").is_ok());
        }
        limits.login_failed(stranger, "admin");
        limits.login_failed(stranger, "ADMIN");
        assert_eq!(limits.login(stranger, "admin").unwrap_err().code(), "rate_limited");
        // Another address still reaches the password check, within its own budget.
        assert!(limits.login(owner, "admin").is_ok());
        assert!(limits.login(None, "admin").is_ok());
        assert_eq!(limits.login(None, "admin").unwrap_err().code(), "rate_limited");
        assert!(limits.login(stranger, "editor").is_ok(), "other usernames are not locked");
    }

    #[test]
    fn failures_leave_the_window_and_their_usernames_are_forgotten() {
        let failed = FailedLogins::new(2);
        let ip = Some("198.51.100.9".parse().unwrap());
        let start = Instant::now();
        failed.record("admin", ip, start);
        failed.record("admin", ip, start + Duration::from_secs(30));
        let locked = failed.standing("admin", ip, start + Duration::from_secs(40));
        assert_eq!(locked, Standing::Locked { failed_here: true, retry_after: Duration::from_secs(20) });
        assert_eq!(failed.standing("admin", ip, start + FAILURE_WINDOW), Standing::Open);
        // Random usernames from a client: the old ones are swept once the map doubled.
        for n in 0..2100 {
            let at = if n < 2000 { start } else { start + 2 * FAILURE_WINDOW };
            failed.record(&format!("user{n}"), ip, at);
        }
        assert!(lock(&failed.by_user).by_user.len() < 200, "expired usernames are swept");
    }

    #[test]
    fn sockets_are_counted_per_principal_and_per_address() {
        let mut config = Config::for_data_dir("/tmp".into());
        config.max_connections_per_principal = 1;
        config.max_connections_per_ip = 2;
        let limits = RateLimits::new(&config);
        let (here, there) = (Some("198.51.100.9".parse().unwrap()), Some("203.0.113.5".parse().unwrap()));
        let a = limits.connect("user:a", here).unwrap();
        assert!(limits.connect("user:a", there).is_err(), "one per principal");
        let b = limits.connect("user:b", here).unwrap();
        assert!(limits.connect("user:c", here).is_err(), "two per address");
        assert!(limits.connect("user:c", there).is_ok());
        drop((a, b));
        assert!(limits.connect("user:a", here).is_ok());
    }
}
