//! How long a courier waits after failures: exponential, capped, with jitter so that many
//! servers (or one server's partners) do not retry in step after a shared outage.

use std::time::Duration;

/// The wait after `failures` consecutive failures (1 = the first): `first` doubled for each
/// further failure, at most `max`, then scaled by a factor in [0.5, 1) drawn from `unit`
/// (a uniform number in [0, 1)), "equal jitter".
pub fn backoff(first: Duration, max: Duration, failures: u32, unit: f64) -> Duration {
    let doublings = failures.saturating_sub(1).min(32);
    let full = first
        .checked_mul(1u32 << doublings.min(31))
        .unwrap_or(max)
        .min(max);
    full.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: Duration = Duration::from_millis(500);
    const MAX: Duration = Duration::from_secs(300);

    #[test]
    fn doubles_from_the_first_wait() {
        assert_eq!(backoff(FIRST, MAX, 1, 1.0), FIRST);
        assert_eq!(backoff(FIRST, MAX, 2, 1.0), FIRST * 2);
        assert_eq!(backoff(FIRST, MAX, 4, 1.0), FIRST * 8);
    }

    #[test]
    fn never_exceeds_the_cap_however_many_failures() {
        for failures in [10, 20, 31, 32, 100, u32::MAX] {
            assert!(backoff(FIRST, MAX, failures, 1.0) <= MAX, "{failures}");
        }
    }

    #[test]
    fn jitter_keeps_at_least_half_the_wait() {
        assert_eq!(backoff(FIRST, MAX, 3, 0.0), FIRST * 2);
        assert!(backoff(FIRST, MAX, 3, 0.999) < FIRST * 4);
    }
}
