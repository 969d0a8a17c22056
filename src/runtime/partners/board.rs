//! What each partner connection is doing, as the couriers last saw it: the partners view and
//! `/metrics` read it; the couriers write it.

use crate::domain::Instant;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

/// One partner connection as the desk and the API show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerStatus {
    /// `field_work`, `head_end` or `email`.
    pub name: String,
    /// How it is reached: the URL, the directory, `simulated …`, or `not connected`.
    pub via: String,
    /// `connected`, `failing`, `paused`, `idle` (nothing sent yet) or `not connected`.
    pub state: String,
    /// Messages not yet taken.
    pub backlog: u64,
    /// When the oldest of them was written (engine time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest: Option<Instant>,
    /// The last message it took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivery: Option<Instant>,
    /// The last failure, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the last failure happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_at: Option<Instant>,
    /// Messages it took in the last hour of engine time.
    pub delivered_last_hour: u64,
    /// Tries since the server started.
    pub attempts: u64,
    /// Failed tries since the server started.
    pub failures: u64,
}

/// Ages read as a person says them (the board and the desk share one way).
pub use crate::timefmt::age;

/// A connection's live state.
#[derive(Debug, Default)]
struct Live {
    via: String,
    failing: bool,
    last_delivery: Option<Instant>,
    last_error: Option<(Instant, String)>,
    /// Deliveries per engine minute, the last hour's worth.
    recent: VecDeque<(i64, u64)>,
    attempts: u64,
    failures: u64,
}

/// The live state of every connected partner.
#[derive(Debug, Default)]
pub struct Board {
    live: Mutex<BTreeMap<String, Live>>,
}

impl Board {
    /// Registers a connection and how it is reached.
    pub(crate) fn connect(&self, name: &str, via: String) {
        self.with(name, |live| live.via = via);
    }

    /// Records a round of tries: `taken` succeeded, `failed` did not (the last one's reason).
    pub(crate) fn record(
        &self,
        name: &str,
        now: Instant,
        taken: u64,
        failed: u64,
        last_error: Option<String>,
    ) {
        self.with(name, |live| {
            live.attempts += taken + failed;
            live.failures += failed;
            if taken > 0 {
                live.last_delivery = Some(now);
                let minute = now.timestamp().div_euclid(60);
                match live.recent.back_mut() {
                    Some((m, n)) if *m == minute => *n += taken,
                    _ => live.recent.push_back((minute, taken)),
                }
            }
            if let Some(error) = last_error {
                live.last_error = Some((now, error));
            }
            live.failing = failed > 0 && taken == 0;
        });
    }

    /// The status of `name` (a configured partner or not), with the backlog and pause flag
    /// read from the database.
    pub(crate) fn status(
        &self,
        name: &str,
        now: Instant,
        backlog: crate::engine::Backlog,
        paused: bool,
    ) -> PartnerStatus {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let Some(live) = live.get_mut(name) else {
            return PartnerStatus {
                name: name.to_string(),
                via: "not connected".into(),
                state: if paused { "paused" } else { "not connected" }.into(),
                backlog: backlog.count,
                oldest: backlog.oldest,
                ..PartnerStatus::default()
            };
        };
        let hour_ago = now.timestamp().div_euclid(60) - 60;
        while live.recent.front().is_some_and(|(m, _)| *m <= hour_ago) {
            live.recent.pop_front();
        }
        let state = if paused {
            "paused"
        } else if live.failing {
            "failing"
        } else if live.attempts == 0 {
            "idle"
        } else {
            "connected"
        };
        PartnerStatus {
            name: name.to_string(),
            via: live.via.clone(),
            state: state.into(),
            backlog: backlog.count,
            oldest: backlog.oldest,
            last_delivery: live.last_delivery,
            last_error: live.last_error.as_ref().map(|(_, e)| e.clone()),
            last_error_at: live.last_error.as_ref().map(|(at, _)| *at),
            delivered_last_hour: live.recent.iter().map(|(_, n)| n).sum(),
            attempts: live.attempts,
            failures: live.failures,
        }
    }

    fn with(&self, name: &str, change: impl FnOnce(&mut Live)) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        change(live.entry(name.to_string()).or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32) -> Instant {
        chrono::Utc.with_ymd_and_hms(2025, 6, 10, 9, 0, 0).unwrap()
            + chrono::Duration::minutes(i64::from(minute))
    }

    #[test]
    fn a_failing_partner_recovers_and_counts_its_last_hour() {
        let board = Board::default();
        board.connect("head_end", "http://127.0.0.1:1".into());
        board.record("head_end", at(0), 5, 0, None);
        board.record("head_end", at(30), 0, 2, Some("HTTP 503".into()));
        let s = board.status("head_end", at(30), Default::default(), false);
        assert_eq!(
            (s.state.as_str(), s.attempts, s.failures),
            ("failing", 7, 2)
        );
        assert_eq!(s.last_error.as_deref(), Some("HTTP 503"));
        board.record("head_end", at(61), 3, 0, None);
        let s = board.status("head_end", at(61), Default::default(), false);
        assert_eq!(s.state, "connected");
        assert_eq!(
            s.delivered_last_hour, 3,
            "the first five are older than an hour"
        );
    }

    #[test]
    fn ages_read_as_a_person_says_them() {
        let age = |s| super::age(chrono::Duration::seconds(s));
        assert_eq!(age(-5), "0 s");
        assert_eq!(age(59), "59 s");
        assert_eq!(age(61), "1 min");
        assert_eq!(age(3_600 + 300), "1 h 5 min");
        assert_eq!(age(2 * 86_400 + 4 * 3_600), "2 d 4 h");
    }

    #[test]
    fn an_unconnected_target_says_so_and_still_shows_its_backlog() {
        let board = Board::default();
        let backlog = crate::engine::Backlog {
            count: 4,
            oldest: Some(at(0)),
        };
        let s = board.status("email", at(5), backlog, false);
        assert_eq!((s.state.as_str(), s.backlog), ("not connected", 4));
    }
}
