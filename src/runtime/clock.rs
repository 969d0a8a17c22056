//! The desk's clock: engine time is `origin + wall elapsed × speed`.
//!
//! This is the only place outside `src/cli` that reads the wall clock (architecture rule 3:
//! time is an input). The engine, the monitors and the simulators all take `now` from here, so
//! `--speed` accelerates every engine-time delay at once (§12.13).

use crate::domain::Instant;

/// Engine time for the running desk: the wall clock, or an accelerated clock from an origin.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: Instant,
    anchor: std::time::Instant,
    speed: f64,
}

impl Clock {
    /// The wall clock: engine time is real time.
    pub fn wall() -> Clock {
        Clock {
            origin: chrono::Utc::now(),
            anchor: std::time::Instant::now(),
            speed: 1.0,
        }
    }

    /// Engine time starts at `origin` now and runs `speed` times as fast as the wall clock
    /// (`--now`, `--speed`); 0 stands still, and a negative or non-finite speed counts as 1.
    pub fn starting_at(origin: Instant, speed: f64) -> Clock {
        let speed = if speed.is_finite() && speed >= 0.0 {
            speed
        } else {
            1.0
        };
        Clock {
            origin,
            anchor: std::time::Instant::now(),
            speed,
        }
    }

    /// The clock of a desk or a server: from `--now` when given, at `speed` (`--speed`); the
    /// wall clock itself when neither is given.
    pub fn for_run(start: Option<Instant>, speed: f64) -> Clock {
        match start {
            Some(start) => Clock::starting_at(start, speed),
            None if (speed - 1.0).abs() > f64::EPSILON => {
                Clock::starting_at(Clock::wall().now(), speed)
            }
            None => Clock::wall(),
        }
    }

    /// The current engine time.
    pub fn now(&self) -> Instant {
        self.origin + self.engine_elapsed(self.anchor.elapsed())
    }

    /// How many engine seconds pass per wall second.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Wall time elapsed, scaled to engine time; saturates instead of overflowing, because a
    /// desk left running at a silly speed must not panic.
    fn engine_elapsed(&self, wall: std::time::Duration) -> chrono::Duration {
        let nanos = wall.as_secs_f64() * self.speed * 1e9;
        // A century: beyond any calendar a utility plans for, and inside an i64 of nanoseconds.
        const MAX_NANOS: f64 = 1e9 * 60.0 * 60.0 * 24.0 * 365.0 * 100.0;
        chrono::Duration::nanoseconds(nanos.min(MAX_NANOS) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> Instant {
        chrono::Utc.with_ymd_and_hms(2025, 6, 10, 9, 0, 0).unwrap()
    }

    #[test]
    fn speed_scales_wall_time() {
        let clock = Clock::starting_at(t0(), 600.0);
        let elapsed = clock.engine_elapsed(std::time::Duration::from_millis(1500));
        assert_eq!(elapsed, chrono::Duration::minutes(15));
    }

    #[test]
    fn speed_zero_stands_still() {
        let clock = Clock::starting_at(t0(), 0.0);
        assert_eq!(clock.now(), t0());
    }

    #[test]
    fn nonsense_speed_counts_as_one() {
        assert_eq!(Clock::starting_at(t0(), -3.0).speed(), 1.0);
        assert_eq!(Clock::starting_at(t0(), f64::NAN).speed(), 1.0);
        assert_eq!(Clock::starting_at(t0(), f64::INFINITY).speed(), 1.0);
    }

    #[test]
    fn time_moves_forward() {
        let clock = Clock::starting_at(t0(), 1.0);
        assert!(clock.now() >= t0());
        assert!(Clock::wall().now() > t0());
    }

    #[test]
    fn huge_elapsed_saturates() {
        let clock = Clock::starting_at(t0(), 1e12);
        let elapsed = clock.engine_elapsed(std::time::Duration::from_secs(1_000_000));
        assert!(elapsed > chrono::Duration::days(365 * 99));
    }
}
