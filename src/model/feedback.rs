//! In-app feedback: a user's rating of how sync works for them, a comment,
//! and the statistics their page collected (its connection state history,
//! the last measured latency, how often it had to resync). Validated here;
//! stored per store by `db::queries::feedback`; sent and listed by
//! `http/feedback.rs`. Guarded by `tests/feedback.rs`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::is_bidi_control;
use crate::error::ApiError;

/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;
/// Most connection state changes one report carries (the latest ones).
pub const MAX_STATES: usize = 50;
/// Largest latency a page may report: ten minutes, in milliseconds.
pub const MAX_LATENCY_MS: u32 = 600_000;

/// A page's connection state, as its indicator shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    Connecting,
    Live,
    Reconnecting,
    Polling,
    Stopped,
}

/// One change of the page's connection state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateChange {
    pub state: ConnectionState,
    pub at: DateTime<Utc>,
}

/// What the page measured about its sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncStats {
    /// The latest connection state changes, oldest first.
    #[schema(max_items = 50)]
    pub states: Vec<StateChange>,
    /// Round trip of the last protocol ping, in milliseconds; none yet
    /// measured when absent.
    #[serde(default)]
    #[schema(maximum = 600000)]
    pub last_latency_ms: Option<u32>,
    /// How many times the page had to start over from a snapshot (`resync`).
    pub resyncs: u32,
}

/// Body of `POST /stores/{store}/feedback`.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFeedback {
    /// 1 (poor) to 5 (excellent).
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i64,
    /// Optional; line breaks allowed.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub comment: String,
    pub stats: SyncStats,
}

impl NewFeedback {
    /// Checks the rating's range, the comment's length and characters, and
    /// the statistics' bounds; the error names the field.
    pub fn validate(&self) -> Result<(), ApiError> {
        if !(1..=5).contains(&self.rating) {
            return Err(ApiError::invalid("rating", "rating must be 1 to 5".into()));
        }
        if self.comment.chars().count() > MAX_COMMENT_CHARS {
            return Err(ApiError::invalid(
                "comment",
                format!("comment must be at most {MAX_COMMENT_CHARS} characters"),
            ));
        }
        // Admins read it: line breaks and tabs stay, other controls do not.
        if self.comment.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)) {
            return Err(ApiError::invalid("comment", "comment must not contain control characters".into()));
        }
        if self.stats.states.len() > MAX_STATES {
            return Err(ApiError::invalid("stats.states", format!("at most {MAX_STATES} state changes")));
        }
        if self.stats.last_latency_ms.is_some_and(|ms| ms > MAX_LATENCY_MS) {
            return Err(ApiError::invalid("stats.last_latency_ms", format!("at most {MAX_LATENCY_MS} ms")));
        }
        Ok(())
    }
}

/// A stored report, as the store's admins list it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Feedback {
    pub id: i64,
    /// Who sent it: `user:<name>` or `token:<name>`.
    pub by: String,
    pub rating: i64,
    pub comment: String,
    pub stats: SyncStats,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feedback(rating: i64, comment: &str) -> NewFeedback {
        NewFeedback {
            rating,
            comment: comment.into(),
            stats: SyncStats { states: vec![], last_latency_ms: Some(12), resyncs: 0 },
        }
    }

    fn refused_field(f: &NewFeedback) -> String {
        match f.validate() {
            Err(ApiError::Invalid { field, .. }) => field,
            other => panic!("expected invalid_field, got {other:?}"),
        }
    }

    #[test]
    fn ratings_are_one_to_five_and_comments_bounded_readable_text() {
        assert!(feedback(1, "").validate().is_ok());
        assert!(feedback(5, "fine\nthanks\t!").validate().is_ok());
        assert!(feedback(5, &"é".repeat(MAX_COMMENT_CHARS)).validate().is_ok());
        assert_eq!(refused_field(&feedback(0, "")), "rating");
        assert_eq!(refused_field(&feedback(6, "")), "rating");
        assert_eq!(refused_field(&feedback(3, &"x".repeat(MAX_COMMENT_CHARS + 1))), "comment");
        assert_eq!(refused_field(&feedback(3, "bell\u{7}")), "comment");
        assert_eq!(refused_field(&feedback(3, "evil\u{202E}txt")), "comment");
    }

    #[test]
    fn statistics_are_bounded() {
        let mut f = feedback(4, "");
        let change = StateChange { state: ConnectionState::Live, at: Utc::now() };
        f.stats.states = vec![change; MAX_STATES + 1];
        assert_eq!(refused_field(&f), "stats.states");
        f.stats.states.truncate(MAX_STATES);
        assert!(f.validate().is_ok());
        f.stats.last_latency_ms = Some(MAX_LATENCY_MS + 1);
        assert_eq!(refused_field(&f), "stats.last_latency_ms");
    }
}
