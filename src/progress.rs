//! Progress of a long job of the command line (`demo`, `import`, and any later one such as a
//! migration): one line on stderr drawn by indicatif, only when stderr is a terminal. Piped or
//! logged, the job is quiet: no control characters end up in a file.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// How often a spinner turns while the job gives no news.
const TICK: Duration = Duration::from_millis(120);

/// The line of a job named step by step.
const STEPS: &str = "{spinner} {prefix}: {wide_msg} {elapsed}";

/// The line of a counted job.
const COUNTED: &str = "{prefix}: [{bar:30}] {pos}/{len} {wide_msg} (about {eta} left)";

/// The progress line of one long job; cleared when finished or dropped.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A job whose steps are named as they come: a spinner, the job, the step, the time taken.
    pub fn steps(job: &str) -> Progress {
        let bar = Progress::on_terminal(ProgressBar::new_spinner);
        bar.set_style(style(STEPS));
        bar.set_prefix(job.to_string());
        if !bar.is_hidden() {
            bar.enable_steady_tick(TICK);
        }
        Progress { bar }
    }

    /// A job of `total` units counted as they are done: a bar, the count and the time left.
    pub fn counted(job: &str, total: u64) -> Progress {
        let bar = Progress::on_terminal(|| ProgressBar::new(total));
        bar.set_style(style(COUNTED));
        bar.set_prefix(job.to_string());
        Progress { bar }
    }

    /// Names the current step.
    pub fn step(&self, text: &str) {
        self.bar.set_message(text.to_string());
    }

    /// Counts `n` more units done.
    pub fn advance(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Sets how many units are done, from any thread (a job run where the engine is).
    pub fn reached(&self) -> impl Fn(u64) + Send + 'static {
        let bar = self.bar.clone();
        move |n| bar.set_position(n)
    }

    /// Whether anything is drawn (stderr is a terminal).
    pub fn is_drawn(&self) -> bool {
        !self.bar.is_hidden()
    }

    /// Ends the job's line, leaving nothing of it behind.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn on_terminal(make: impl FnOnce() -> ProgressBar) -> ProgressBar {
        if std::io::stderr().is_terminal() {
            make()
        } else {
            ProgressBar::hidden()
        }
    }
}

impl Drop for Progress {
    /// A job that fails half-way leaves no line behind either.
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// The style of a template of this module (a test parses each, so the fallback is never used).
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_parse() {
        for template in [STEPS, COUNTED] {
            assert!(ProgressStyle::with_template(template).is_ok(), "{template}");
        }
    }

    #[test]
    fn a_job_is_drawn_only_on_a_terminal_and_counts_either_way() {
        let terminal = std::io::stderr().is_terminal();
        let job = Progress::counted("migrate", 10);
        assert_eq!(job.is_drawn(), terminal);
        job.advance(4);
        job.step("records");
        assert_eq!(job.bar.position(), 4);
        job.finish();
        assert_eq!(Progress::steps("demo").is_drawn(), terminal);
    }
}
