//! The demo's field work system and head-end: what they answer to each message and when.
//!
//! The simulated partner (`simulated`) receives each outbound message over HTTP, like any
//! partner, and hands it here; the system decides, with a seeded generator, what it will
//! answer and when (in engine time, so `--speed` speeds it up), and keeps the answers in a
//! queue ordered by (due time, sequence). The partner posts the due answers back as inbound
//! records.
//!
//! What each system does:
//! - field work: `fa_create` → `ack` (external id `MWM-<n>`), then `fa_complete` later; or, with
//!   probability `field_work_fault_rate`, a `fault` instead. `fa_modify` and `fa_cancel` → `ack`;
//!   a cancel also withdraws the completion still to come for that field activity.
//! - head-end: `command` → `command_result ok` (with a reading for `on_demand_read`); with
//!   probability `head_end_fault_rate`, half the time a `fault` `HE-TIMEOUT` and half the time
//!   no answer at all, so the response timeout fires.
//!
//! Each delay is the configured one ±25 %, drawn from the generator, so a demo desk does not
//! tick like a metronome and the same seed still replays the same day.

use super::carrier::Parcel;
use crate::config;
use crate::domain::{CommandKind, DeviceSpec, FieldTask, Instant, Reading, TaskEffect};
use crate::formats::{CommandOutcome, CompletionStatus, FaCompletion, InboundMessage, OldDevice};
use std::collections::BTreeMap;

/// A small, seeded, deterministic generator (SplitMix64): enough for fault dice, delays and
/// meter readings, and no new dependency.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from `seed`.
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        // The top 53 bits fill an f64 mantissa exactly.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p` (0 never, 1 always).
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// One answer waiting for its time.
#[derive(Debug, Clone)]
struct Answer {
    /// The field activity it concerns, so a cancel can withdraw its completion.
    fa: Option<String>,
    message: InboundMessage,
}

/// The simulated field work system and head-end, with their queue of answers.
#[derive(Debug)]
pub(crate) struct Simulators {
    settings: config::Simulators,
    rng: SplitMix64,
    queue: BTreeMap<(Instant, u64), Answer>,
    next: u64,
    /// Stray answers sent so far (their made-up communication ids).
    stray: u64,
    /// The messages taken so far, so a message sent twice is answered once.
    taken: std::collections::HashSet<String>,
}

/// How late a late answer is: past the default response timeouts (60 min).
const LATE_MINUTES: i64 = 75;

impl Simulators {
    /// Both systems, seeded from `[simulators] seed`.
    pub(crate) fn new(settings: &config::Simulators) -> Simulators {
        Simulators {
            settings: settings.clone(),
            rng: SplitMix64::new(settings.seed),
            queue: BTreeMap::new(),
            next: 0,
            stray: 0,
            taken: std::collections::HashSet::new(),
        }
    }

    /// Hands one outbound message to its system at engine time `now`. A message taken twice
    /// (the courier sends again after a lost answer) is answered once.
    pub(crate) fn hand_over(&mut self, now: Instant, comm: &Parcel) {
        if !self.taken.insert(comm.id.clone()) {
            return;
        }
        // An exchange names the device registered for installation, which the crew must
        // install (§12.13).
        let registered: Option<DeviceSpec> = comm
            .payload
            .get("new_device")
            .and_then(|d| serde_json::from_value(d.clone()).ok());
        match (comm.target.as_str(), comm.message.as_str()) {
            ("field_work", "fa_create") => self.field_order(now, comm, registered.as_ref()),
            ("field_work", "fa_cancel") => {
                if let Some(fa) = text(&comm.payload, "fa") {
                    self.withdraw_completion(&fa);
                }
                self.field_ack(now, comm);
            }
            ("field_work", _) => self.field_ack(now, comm),
            ("head_end", "command") => self.command(now, comm),
            _ => {}
        }
    }

    /// The answers due at `now`, in (due time, sequence) order.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<InboundMessage> {
        let later = self.queue.split_off(&(now, u64::MAX));
        let due = std::mem::replace(&mut self.queue, later);
        due.into_values().map(|a| a.message).collect()
    }

    /// How many answers are still to come.
    #[cfg(test)]
    fn pending(&self) -> usize {
        self.queue.len()
    }

    fn field_order(&mut self, now: Instant, comm: &Parcel, registered: Option<&DeviceSpec>) {
        let fa = text(&comm.payload, "fa");
        let ack_at = now + self.delay(i64::from(self.settings.field_work_ack_seconds));
        if self.rng.chance(self.settings.field_work_fault_rate) {
            let message = InboundMessage::Fault {
                comm: comm.id.clone(),
                code: "FW-REJECTED".into(),
                message: "the field work system rejected the order (simulated fault)".into(),
            };
            self.schedule(ack_at, fa, message);
            return;
        }
        let n = number_of(&comm.id).unwrap_or(self.next);
        let external_id = format!("MWM-{n}");
        let ack = InboundMessage::Ack {
            comm: comm.id.clone(),
            external_id: Some(external_id.clone()),
        };
        self.schedule(ack_at, fa.clone(), ack);
        let done_at =
            ack_at + self.delay(60 * i64::from(self.settings.field_work_complete_minutes));
        let completion = self.completion(comm, n, done_at, external_id, registered);
        self.schedule(done_at, fa, InboundMessage::FaComplete(completion));
    }

    /// What the crew reports: the device installed and the one removed, as the task needs.
    fn completion(
        &mut self,
        comm: &Parcel,
        n: u64,
        at: Instant,
        external_id: String,
        registered: Option<&DeviceSpec>,
    ) -> FaCompletion {
        let task = text(&comm.payload, "field_task").and_then(|t| FieldTask::parse(&t));
        let effect = task.map(FieldTask::effect).unwrap_or(TaskEffect::None);
        let installs = matches!(effect, TaskEffect::Install { .. } | TaskEffect::Exchange);
        let removes = matches!(effect, TaskEffect::Exchange | TaskEffect::Remove);
        let device = installs.then(|| match registered {
            Some(d) => DeviceSpec {
                switch: None,
                ..d.clone()
            },
            None => DeviceSpec {
                id: format!("D-SIM-{n}"),
                badge: format!("B-SIM-{n}"),
                // Items (street lights) are never smart (§12.4).
                smart: !task.is_some_and(FieldTask::is_item_task),
                commissioned: false,
                switch: None,
            },
        });
        let old_device = match (removes, text(&comm.payload, "device")) {
            (true, Some(id)) => Some(OldDevice {
                badge: text(&comm.payload, "badge").unwrap_or_default(),
                id,
            }),
            _ => None,
        };
        let reads = installs || effect == TaskEffect::Read;
        FaCompletion {
            comm: comm.id.clone(),
            status: CompletionStatus::Complete,
            at: Some(at),
            remarks: Some("done by the simulated crew".into()),
            device,
            old_device,
            readings: if reads {
                vec![self.reading()]
            } else {
                Vec::new()
            },
            external_id: Some(external_id),
        }
    }

    fn field_ack(&mut self, now: Instant, comm: &Parcel) {
        let at = now + self.delay(i64::from(self.settings.field_work_ack_seconds));
        let message = InboundMessage::Ack {
            comm: comm.id.clone(),
            external_id: text(&comm.payload, "external_id"),
        };
        self.schedule(at, text(&comm.payload, "fa"), message);
    }

    /// The field system cancels the work, so the crew never reports it done.
    fn withdraw_completion(&mut self, fa: &str) {
        self.queue.retain(|_, a| {
            !(a.fa.as_deref() == Some(fa) && matches!(a.message, InboundMessage::FaComplete(_)))
        });
    }

    fn command(&mut self, now: Instant, comm: &Parcel) {
        let at = now + self.delay(i64::from(self.settings.head_end_result_seconds));
        let rate = self.settings.head_end_fault_rate;
        let roll = self.rng.unit();
        if roll < rate / 2.0 {
            let message = InboundMessage::CommandResult {
                comm: comm.id.clone(),
                outcome: CommandOutcome::Fault,
                at: Some(at),
                code: Some("HE-TIMEOUT".into()),
                message: Some("meter did not answer (simulated fault)".into()),
                readings: Vec::new(),
            };
            self.schedule(at, None, message);
            return;
        }
        if roll < rate {
            // Silence: the head-end response timeout is what the supervisor sees.
            return;
        }
        let kind = text(&comm.payload, "command_kind").and_then(|k| CommandKind::parse(&k));
        let readings = if kind == Some(CommandKind::OnDemandRead) {
            vec![self.reading()]
        } else {
            Vec::new()
        };
        let message = InboundMessage::CommandResult {
            comm: comm.id.clone(),
            outcome: CommandOutcome::Ok,
            at: Some(at),
            code: None,
            message: None,
            readings,
        };
        self.schedule(at, None, message);
    }

    /// Queues an answer, with the configured faults injected: sent late (after the response
    /// timeout, so it meets a communication in error or already retried), sent twice, and now
    /// and then a stray answer for a communication nobody sent. Each must end in a defined,
    /// visible state; none may be dropped silently.
    fn schedule(&mut self, at: Instant, fa: Option<String>, message: InboundMessage) {
        let late = self.rng.chance(self.settings.late_rate);
        let at = if late {
            at + chrono::Duration::minutes(LATE_MINUTES)
        } else {
            at
        };
        if self.rng.chance(self.settings.duplicate_rate) {
            self.push(at + chrono::Duration::seconds(1), None, message.clone());
        }
        if self.rng.chance(self.settings.stray_rate) {
            self.stray += 1;
            let stray = InboundMessage::Ack {
                comm: format!("CO-STRAY-{}", self.stray),
                external_id: None,
            };
            self.push(at, None, stray);
        }
        self.push(at, fa, message);
    }

    fn push(&mut self, at: Instant, fa: Option<String>, message: InboundMessage) {
        self.next += 1;
        self.queue.insert((at, self.next), Answer { fa, message });
    }

    /// The configured delay (seconds) ±25 %, in engine time.
    fn delay(&mut self, seconds: i64) -> chrono::Duration {
        let factor = 0.75 + 0.5 * self.rng.unit();
        chrono::Duration::milliseconds((seconds as f64 * 1000.0 * factor) as i64)
    }

    fn reading(&mut self) -> Reading {
        Reading {
            register: "kWh".into(),
            value: (1_000 + self.rng.next_u64() % 90_000).to_string(),
        }
    }
}

/// A string field of a payload.
fn text(payload: &serde_json::Value, key: &str) -> Option<String> {
    payload
        .get(key)
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

/// The number of `CO-17`: external ids and device ids made from it stay unique across
/// restarts of the desk, which a counter in memory would not.
fn number_of(id: &str) -> Option<u64> {
    id.rsplit('-').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn t0() -> Instant {
        chrono::Utc.with_ymd_and_hms(2025, 6, 10, 9, 0, 0).unwrap()
    }

    fn view(id: &str, target: &str, message: &str, payload: serde_json::Value) -> Parcel {
        Parcel {
            id: id.into(),
            target: target.into(),
            message: message.into(),
            activity: Some("FA-1".into()),
            sent_at: Some(t0()),
            payload,
        }
    }

    fn settings(field_fault: f64, head_fault: f64) -> config::Simulators {
        config::Simulators {
            field_work_fault_rate: field_fault,
            head_end_fault_rate: head_fault,
            ..config::Simulators::default()
        }
    }

    fn everything(sims: &mut Simulators) -> Vec<InboundMessage> {
        sims.due(t0() + chrono::Duration::days(1))
    }

    #[test]
    fn splitmix_is_deterministic_and_in_range() {
        let mut a = SplitMix64::new(1);
        let mut b = SplitMix64::new(1);
        for _ in 0..1000 {
            let x = a.unit();
            assert_eq!(x, b.unit());
            assert!((0.0..1.0).contains(&x));
        }
        // The reference sequence of SplitMix64 seeded with 0.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn exchange_order_is_acked_then_completed_with_both_devices() {
        let mut sims = Simulators::new(&settings(0.0, 0.0));
        let payload =
            json!({"fa":"FA-2","field_task":"D1-ExchangeMeter","device":"D-1","badge":"B-1"});
        sims.hand_over(t0(), &view("CO-7", "field_work", "fa_create", payload));
        assert_eq!(sims.pending(), 2);
        assert!(sims.due(t0()).is_empty(), "nothing is due at once");
        let answers = everything(&mut sims);
        assert!(
            matches!(&answers[0], InboundMessage::Ack { external_id: Some(x), .. } if x == "MWM-7")
        );
        let InboundMessage::FaComplete(done) = &answers[1] else {
            panic!("expected a completion, got {answers:?}");
        };
        let device = done.device.as_ref().expect("a new device");
        assert_eq!(
            (device.id.as_str(), device.smart, device.commissioned),
            ("D-SIM-7", true, false)
        );
        assert_eq!(
            done.old_device.as_ref().map(|d| d.badge.as_str()),
            Some("B-1")
        );
        assert_eq!(done.readings.len(), 1);
    }

    #[test]
    fn a_registered_device_is_the_one_installed() {
        let mut sims = Simulators::new(&settings(0.0, 0.0));
        let registered = DeviceSpec {
            id: "D-2".into(),
            badge: "B-2".into(),
            smart: true,
            ..DeviceSpec::default()
        };
        let payload = json!({"fa":"FA-2","field_task":"D1-ExchangeMeter","device":"D-1",
            "badge":"B-1","new_device":registered});
        sims.hand_over(t0(), &view("CO-7", "field_work", "fa_create", payload));
        let answers = everything(&mut sims);
        let InboundMessage::FaComplete(done) = &answers[1] else {
            panic!("{answers:?}")
        };
        assert_eq!(done.device.as_ref().map(|d| d.id.as_str()), Some("D-2"));
    }

    #[test]
    fn a_field_fault_replaces_ack_and_completion() {
        let mut sims = Simulators::new(&settings(1.0, 0.0));
        let payload = json!({"fa":"FA-2","field_task":"D1-InstallMeter"});
        sims.hand_over(t0(), &view("CO-3", "field_work", "fa_create", payload));
        let answers = everything(&mut sims);
        assert!(
            matches!(answers.as_slice(), [InboundMessage::Fault { .. }]),
            "{answers:?}"
        );
    }

    #[test]
    fn a_cancel_withdraws_the_completion_and_is_acked() {
        let mut sims = Simulators::new(&settings(0.0, 0.0));
        let create = json!({"fa":"FA-2","field_task":"D1-TurnOnMeter"});
        sims.hand_over(t0(), &view("CO-3", "field_work", "fa_create", create));
        let cancel = json!({"fa":"FA-2","external_id":"MWM-3","cancel_reason":"CR"});
        sims.hand_over(t0(), &view("CO-4", "field_work", "fa_cancel", cancel));
        let answers = everything(&mut sims);
        assert_eq!(answers.len(), 2, "{answers:?}");
        assert!(answers
            .iter()
            .all(|a| matches!(a, InboundMessage::Ack { .. })));
    }

    #[test]
    fn head_end_faults_are_half_timeouts_half_silence() {
        let mut sims = Simulators::new(&settings(0.0, 1.0));
        for n in 0..200 {
            let payload = json!({"command_kind":"remote_connect","device_id":"D-1"});
            sims.hand_over(
                t0(),
                &view(&format!("CO-{n}"), "head_end", "command", payload),
            );
        }
        let answers = everything(&mut sims);
        assert!(answers.iter().all(|a| matches!(a, InboundMessage::CommandResult { outcome: CommandOutcome::Fault, code: Some(c), .. } if c == "HE-TIMEOUT")));
        assert!(
            (60..140).contains(&answers.len()),
            "{} faults of 200",
            answers.len()
        );
    }

    #[test]
    fn on_demand_read_result_carries_a_reading() {
        let mut sims = Simulators::new(&settings(0.0, 0.0));
        let payload = json!({"command_kind":"on_demand_read","device_id":"D-1"});
        sims.hand_over(t0(), &view("CO-1", "head_end", "command", payload));
        let answers = everything(&mut sims);
        assert!(
            matches!(&answers[..], [InboundMessage::CommandResult { outcome: CommandOutcome::Ok, readings, .. }] if readings.len() == 1)
        );
    }

    #[test]
    fn emails_get_no_answer_and_a_message_taken_twice_is_answered_once() {
        let mut sims = Simulators::new(&settings(0.0, 0.0));
        sims.hand_over(t0(), &view("CO-1", "email", "email", json!({})));
        assert_eq!(sims.pending(), 0);
        let payload = json!({"command_kind":"remote_connect","device_id":"D-1"});
        sims.hand_over(t0(), &view("CO-2", "head_end", "command", payload.clone()));
        sims.hand_over(t0(), &view("CO-2", "head_end", "command", payload));
        assert_eq!(sims.pending(), 1);
    }

    #[test]
    fn delays_stay_within_a_quarter_of_the_setting() {
        let mut sims = Simulators::new(&settings(0.0, 0.0));
        for _ in 0..500 {
            let d = sims.delay(10);
            assert!(
                d >= chrono::Duration::milliseconds(7_500)
                    && d < chrono::Duration::milliseconds(12_500)
            );
        }
    }

    /// An engine with one Disable Service on a smart meter (one head-end command), ticked once.
    fn world() -> (crate::engine::Engine, crate::engine::Actor) {
        let engine_config = crate::config::Config::default();
        let mut engine =
            crate::engine::Engine::new(Box::new(crate::store::MemStore::new()), engine_config);
        let sam = crate::engine::Actor::system();
        let lines = [
            r#"{"kind":"service_point","id":"SP-1","sp_kind":"meter","status":"active","connected_at_source":true,"device":{"id":"D-1","badge":"B-1","smart":true,"commissioned":true,"switch":"on"}}"#,
            r#"{"kind":"request","id":"SO-1","type":"disable_service","sp":"SP-1","service_datetime":"2025-06-10T09:00:00Z"}"#,
        ]
        .join("\n");
        let records = crate::formats::parse_import(lines.as_bytes()).expect("import");
        engine.import(&sam, t0(), records).expect("import");
        engine.tick(&sam, t0()).expect("tick");
        (engine, sam)
    }

    /// Hands the outbox to the simulators and feeds back everything due by `until`, ticking
    /// every ten minutes of engine time so timeouts can fire in between.
    fn run(engine: &mut crate::engine::Engine, sims: &mut Simulators, until: Instant) {
        let sam = crate::engine::Actor::system();
        let mut now = t0();
        while now <= until {
            for target in [
                crate::domain::Target::FieldWork,
                crate::domain::Target::HeadEnd,
            ] {
                for comm in engine.undelivered_to(target, 100).expect("outbox") {
                    sims.hand_over(now, &comm);
                    let taken = crate::engine::Delivery {
                        comm: comm.id.clone(),
                        ok: true,
                        detail: "taken".into(),
                        give_up: false,
                    };
                    engine.record_deliveries(now, &[taken]).expect("record");
                }
            }
            let due: Vec<_> = sims.due(now).into_iter().enumerate().collect();
            engine.receive_from_system(now, due).expect("receive");
            engine.tick(&sam, now).expect("tick");
            now += chrono::Duration::minutes(10);
        }
    }

    fn inbox_codes(engine: &crate::engine::Engine) -> Vec<String> {
        engine
            .error_inbox()
            .expect("inbox")
            .into_iter()
            .filter_map(|c| c.status_reason.map(|r| r.code))
            .collect()
    }

    #[test]
    fn an_answer_sent_twice_is_recognised_and_changes_nothing() {
        let (mut engine, sam) = world();
        let mut sims = Simulators::new(&config::Simulators {
            duplicate_rate: 1.0,
            ..settings(0.0, 0.0)
        });
        run(&mut engine, &mut sims, t0() + chrono::Duration::hours(1));
        assert_eq!(engine.show(&sam, "SO-1").expect("show").state, "COMPLETED");
        assert!(
            inbox_codes(&engine).is_empty(),
            "{:?}",
            inbox_codes(&engine)
        );
    }

    #[test]
    fn a_late_result_after_the_timeout_still_completes_the_command() {
        let (mut engine, sam) = world();
        let mut sims = Simulators::new(&config::Simulators {
            late_rate: 1.0,
            ..settings(0.0, 0.0)
        });
        run(&mut engine, &mut sims, t0() + chrono::Duration::hours(3));
        let so = engine.show(&sam, "SO-1").expect("show");
        // The timeout put the parent in error; the late result completed the command (§12.3)
        // and the parent waits for the supervisor's retry.
        assert_eq!(so.state, "ACTIVITY_ERROR");
        assert_eq!(so.children[0].state, "COMPLETED");
        assert!(inbox_codes(&engine).is_empty());
    }

    #[test]
    fn a_stray_answer_is_kept_unmatched_never_dropped() {
        let (mut engine, sam) = world();
        let mut sims = Simulators::new(&config::Simulators {
            stray_rate: 1.0,
            ..settings(0.0, 0.0)
        });
        run(&mut engine, &mut sims, t0() + chrono::Duration::hours(1));
        assert_eq!(engine.show(&sam, "SO-1").expect("show").state, "COMPLETED");
        assert_eq!(inbox_codes(&engine), ["UNMATCHED_MESSAGE"]);
    }
}
