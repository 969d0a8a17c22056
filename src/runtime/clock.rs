//! The desk's clock: engine time is `origin + wall elapsed × speed`.
//!
//! This is the only place outside `src/cli` that reads the wall clock (architecture rule 3:
//! time is an input). The engine, the monitors and the simulators all take `now` from here, so
//! `--speed` accelerates every engine-time delay at once (§12.13).
//!
//! Engine time never runs backwards for a database. The engine keeps a high-water mark of the
//! engine time it has run at (raised by every unit of work, every monitor pass and at
//! shutdown), and a run that takes its time from the wall clock starts at the later of the
//! wall clock and that mark ([`Clock::for_run`]). So after a `--speed 60` desk has run hours
//! ahead, the next desk, server or command continues from where it stopped rather than from
//! the wall clock, and the audit stays in order; once the wall clock passes the mark, engine
//! time is wall time again. An explicit `--now` is taken as given (scripts and tests name the
//! instant on purpose); it never lowers the mark.

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

    /// The clock of a desk, a server or a command on a database whose engine time has reached
    /// `mark`: from `--now` when given; else from the later of the wall clock and the mark; at
    /// `speed` (`--speed`). The wall clock itself when nothing moves it.
    pub fn for_run(start: Option<Instant>, speed: f64, mark: Option<Instant>) -> Clock {
        let wall = Clock::wall_time();
        match start {
            Some(start) => Clock::starting_at(start, speed),
            None => match resume_origin(wall, mark) {
                origin if origin == wall && (speed - 1.0).abs() <= f64::EPSILON => Clock::wall(),
                origin => Clock::starting_at(origin, speed),
            },
        }
    }

    /// The wall clock's reading now, in whole seconds: what the audit records beside engine
    /// time.
    pub fn wall_time() -> Instant {
        whole_seconds(chrono::Utc::now())
    }

    /// The current engine time, in whole seconds: nothing a person reads or a rule compares
    /// needs less, and stored times then never carry nanoseconds.
    pub fn now(&self) -> Instant {
        whole_seconds(self.origin + self.engine_elapsed(self.anchor.elapsed()))
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

/// `t` without its fraction of a second.
fn whole_seconds(t: Instant) -> Instant {
    chrono::DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// Where a run's engine time starts when no `--now` is given: the wall clock, unless the
/// database has already run later than that.
fn resume_origin(wall: Instant, mark: Option<Instant>) -> Instant {
    mark.map_or(wall, |mark| mark.max(wall))
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
    fn a_run_continues_from_a_mark_ahead_of_the_wall_clock() {
        let ahead = t0() + chrono::Duration::hours(5);
        assert_eq!(resume_origin(t0(), Some(ahead)), ahead);
        assert_eq!(resume_origin(ahead, Some(t0())), ahead);
        assert_eq!(resume_origin(t0(), None), t0());
        let far = Clock::wall_time() + chrono::Duration::days(3);
        assert!(Clock::for_run(None, 60.0, Some(far)).now() >= far);
        assert!(Clock::for_run(None, 1.0, Some(far)).now() >= far);
    }

    #[test]
    fn an_explicit_start_is_taken_as_given() {
        let far = t0() + chrono::Duration::days(3);
        assert_eq!(Clock::for_run(Some(t0()), 0.0, Some(far)).now(), t0());
    }

    #[test]
    fn huge_elapsed_saturates() {
        let clock = Clock::starting_at(t0(), 1e12);
        let elapsed = clock.engine_elapsed(std::time::Duration::from_secs(1_000_000));
        assert!(elapsed > chrono::Duration::days(365 * 99));
    }
}
