//! Identities: password hashing (argon2id), session tokens (random, stored
//! as SHA-256 hashes), `Principal` (who is asking and their store grants)
//! and the role check every path goes through. `identity` is the service
//! that writes users, grants, sessions and tokens; `extract` turns a
//! request's credential into its `Principal`; `peer` tells the client's
//! address and host, believing forwarded headers only from trusted proxies.

pub mod extract;
pub mod identity;
pub mod peer;

use std::collections::HashMap;
use std::fmt;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::model::{StoreId, StoreInfo};

/// What a grant allows, in increasing power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads the store.
    Viewer,
    /// Also writes products, sales and the dashboard.
    Editor,
    /// Also manages users, grants and tokens.
    Admin,
}

impl Role {
    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "viewer" => Some(Self::Viewer),
            "editor" => Some(Self::Editor),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
            Self::Admin => "admin",
        }
    }
}

/// A secret (password or token) that never prints.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: String) -> Self {
        Self(s)
    }
    /// The secret itself, for hashing or sending.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What a principal authenticated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// A login session (cookie or bearer), ended by logout.
    Session,
    /// An API token, ended by revocation (`DELETE /admin/tokens/{id}`).
    ApiToken,
}

/// Who is asking, and what they may do in which store.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    /// `user:<name>` or `token:<name>`: recorded in events, scopes
    /// idempotency keys.
    pub name: String,
    pub username: String,
    /// Manages users, grants and tokens.
    pub is_admin: bool,
    pub grants: HashMap<StoreId, Role>,
    /// Hash of the credential, to re-check it for open WebSockets.
    pub token_hash: String,
    pub kind: PrincipalKind,
}

impl Principal {
    /// The principal's role in a store, if any.
    pub fn role(&self, store: StoreId) -> Option<Role> {
        self.grants.get(&store).copied()
    }

    /// Refuses unless the principal holds at least `needed` on the store.
    /// A store without any grant answers `not_found`, so that ids of other
    /// stores reveal nothing.
    pub fn require(&self, store: StoreId, slug: &str, needed: Role) -> Result<Role, ApiError> {
        match self.role(store) {
            None => Err(ApiError::NotFound(format!("store {slug}"))),
            Some(role) if role < needed => {
                Err(ApiError::Forbidden(format!("this needs the {} role in store {slug}", needed.as_str())))
            }
            Some(role) => Ok(role),
        }
    }
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("argon2: {e}")))
}

/// Checks a password against a stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A fresh random token (256 bits, hex).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// How a token is stored: its SHA-256, hex. Tokens are random and long, so
/// a fast hash is enough; passwords get argon2.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_verifies_only_the_right_password() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn secrets_never_print() {
        assert_eq!(format!("{:?}", Secret::new("hunter2".into())), "***");
    }

    #[test]
    fn roles_are_ordered_and_missing_grants_hide_the_store() {
        let p = Principal {
            user_id: 1,
            name: "user:v".into(),
            username: "v".into(),
            is_admin: false,
            grants: HashMap::from([(1, Role::Viewer)]),
            token_hash: String::new(),
            kind: PrincipalKind::Session,
        };
        assert!(p.require(1, "s1", Role::Viewer).is_ok());
        assert_eq!(p.require(1, "s1", Role::Editor).unwrap_err().code(), "forbidden");
        assert_eq!(p.require(2, "s2", Role::Viewer).unwrap_err().code(), "not_found");
    }
}

/// A store the principal may use, with its role there (also the entries
/// of the WebSocket `hello` and `stores` frames).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GrantedStore {
    #[serde(flatten)]
    pub store: StoreInfo,
    pub role: Role,
}
