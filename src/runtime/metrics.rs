//! `GET /metrics`: what a utility's monitoring scrapes, in the Prometheus text format
//! (OpenMetrics). Counters live here and are bumped where the work happens; the gauges that
//! describe the database (activities per state, errors by code, backlogs) are read from it at
//! each scrape, so they are right even on a freshly started server.

use super::partners::inbound::PartnerAnswer;
use super::EngineHandle;
use crate::engine::EngineError;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Mutex;

type Labels = Vec<(&'static str, String)>;

/// Every metric of one server.
pub struct Metrics {
    registry: Mutex<Registry>,
    transitions: Family<Labels, Counter>,
    activities: Family<Labels, Gauge>,
    errors: Family<Labels, Gauge>,
    backlog: Family<Labels, Gauge>,
    deliveries: Family<Labels, Counter>,
    inbound: Family<Labels, Counter>,
    monitor_pass: Histogram,
    releases: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry with every metric at zero.
    pub fn new() -> Metrics {
        let metrics = Metrics {
            registry: Mutex::new(Registry::with_prefix("orderdesk")),
            transitions: Family::default(),
            activities: Family::default(),
            errors: Family::default(),
            backlog: Family::default(),
            deliveries: Family::default(),
            inbound: Family::default(),
            monitor_pass: Histogram::new(exponential_buckets(0.001, 2.0, 14)),
            releases: Counter::default(),
        };
        {
            let mut r = metrics.registry.lock().unwrap_or_else(|p| p.into_inner());
            r.register(
                "transitions",
                "State transitions committed by this process, by the state entered",
                metrics.transitions.clone(),
            );
            r.register(
                "activities",
                "Activities in the database, by state",
                metrics.activities.clone(),
            );
            r.register(
                "errors",
                "Records in an error state, by status code",
                metrics.errors.clone(),
            );
            r.register(
                "outbox_backlog",
                "Outbound messages a partner has not taken yet",
                metrics.backlog.clone(),
            );
            r.register(
                "delivery_attempts",
                "Tries at handing a message to a partner, by outcome",
                metrics.deliveries.clone(),
            );
            r.register(
                "inbound_records",
                "Records received from partners, by outcome",
                metrics.inbound.clone(),
            );
            r.register(
                "monitor_pass_seconds",
                "How long a monitor pass took",
                metrics.monitor_pass.clone(),
            );
            r.register(
                "throttle_releases",
                "Commands the throttle batch released",
                metrics.releases.clone(),
            );
        }
        metrics
    }

    /// A round of deliveries to `partner`.
    pub fn deliveries(&self, partner: &str, taken: u64, failed: u64) {
        let label = |outcome: &str| {
            vec![
                ("partner", partner.to_string()),
                ("outcome", outcome.to_string()),
            ]
        };
        self.deliveries.get_or_create(&label("taken")).inc_by(taken);
        self.deliveries
            .get_or_create(&label("failed"))
            .inc_by(failed);
    }

    /// A partner's request, record by record.
    pub fn inbound(&self, partner: &str, answer: &PartnerAnswer) {
        self.inbound_counts(
            partner,
            answer.accepted as u64,
            answer.duplicates as u64,
            answer.rejected as u64,
        );
    }

    /// Records received from `partner`, by outcome.
    pub fn inbound_counts(&self, partner: &str, accepted: u64, duplicates: u64, rejected: u64) {
        for (outcome, n) in [
            ("accepted", accepted),
            ("duplicate", duplicates),
            ("rejected", rejected),
        ] {
            if n > 0 {
                let label = vec![
                    ("partner", partner.to_string()),
                    ("outcome", outcome.to_string()),
                ];
                self.inbound.get_or_create(&label).inc_by(n);
            }
        }
    }

    /// A monitor pass and how long it took.
    pub fn monitor_pass(&self, seconds: f64) {
        self.monitor_pass.observe(seconds);
    }

    /// Commands the throttle batch released.
    pub fn released(&self, n: u64) {
        self.releases.inc_by(n);
    }

    /// The text a scrape gets: the counters, and the gauges read from the database now.
    pub fn render(&self, handle: &EngineHandle) -> Result<String, EngineError> {
        let reader = handle.reader();
        // The engine counts every commit; the counter catches up with it at each scrape.
        for (state, n) in crate::engine::transitions_by_state() {
            let counter = self.transitions.get_or_create(&vec![("state", state)]);
            counter.inc_by(n.saturating_sub(counter.get()));
        }
        self.activities.clear();
        for (state, n) in reader.counts_by_state()? {
            self.activities
                .get_or_create(&vec![("state", state)])
                .set(n as i64);
        }
        self.errors.clear();
        for (code, n) in reader.error_groups()? {
            self.errors
                .get_or_create(&vec![("code", code)])
                .set(n as i64);
        }
        for status in handle.partners()? {
            self.backlog
                .get_or_create(&vec![("partner", status.name)])
                .set(status.backlog as i64);
        }
        let mut text = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        encode(&mut text, &registry)
            .map_err(|err| EngineError::Corrupt(format!("the metrics cannot be written: {err}")))?;
        Ok(text)
    }
}
