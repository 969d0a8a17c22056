//! The simulated field work system and head-end of the demo: how each outbound communication
//! is answered, decided by the script of the request it belongs to.

use super::names::Names;
use super::plan::Script;
use super::rng::SplitMix64;
use crate::domain::{DeviceSpec, Instant, Reading};
use crate::engine::CommView;
use crate::formats::{CommandOutcome, CompletionStatus, FaCompletion, FaInterim, InboundMessage};

/// Field tasks whose completion installs a device (§12.4): the crew reports which one.
const INSTALL_TASKS: &[&str] = &[
    "D1-InstallMeter",
    "D1-ConnSPAtSrceAndInstMtr",
    "D1-InstallDevice",
    "D1-ExchangeMeter",
    "D1-ExchangeDevice",
];

/// How the answers to one service point's communications are made.
#[derive(Debug, Clone)]
pub struct Answering {
    /// The script of the request being driven.
    pub script: Script,
    /// The device the crew installs, when the request plans one.
    pub new_device: Option<DeviceSpec>,
}

/// The messages answering `comm` under `answering`; empty when it is left unanswered.
pub fn answer_field_or_head_end(
    comm: &CommView,
    answering: &Answering,
    at: Instant,
    rng: &mut SplitMix64,
    names: &Names,
) -> Vec<InboundMessage> {
    match comm.message.as_str() {
        "fa_create" => answer_field(comm, answering, at, rng, names),
        "command" => answer_head_end(comm, answering.script, at, rng),
        _ => Vec::new(),
    }
}

fn answer_field(
    comm: &CommView,
    answering: &Answering,
    at: Instant,
    rng: &mut SplitMix64,
    names: &Names,
) -> Vec<InboundMessage> {
    let external_id = Some(external_id(&comm.id));
    match answering.script {
        Script::Unacked | Script::Silent => Vec::new(),
        Script::InField | Script::FieldFault if comm.acknowledged => Vec::new(),
        Script::InField => {
            let mut messages = vec![InboundMessage::Ack {
                comm: comm.id.clone(),
                external_id: external_id.clone(),
            }];
            // Some crews are already on their way: an interim status, stored as an attribute.
            if rng.percent(40) {
                messages.push(InboundMessage::FaStatus {
                    external_id: self::external_id(&comm.id),
                    status: if rng.percent(50) {
                        FaInterim::EnRoute
                    } else {
                        FaInterim::Started
                    },
                    at,
                });
            }
            messages
        }
        Script::FieldFault => vec![InboundMessage::Fault {
            comm: comm.id.clone(),
            code: "E42".into(),
            message: "unknown premise: the address is not in the work system".into(),
        }],
        Script::NotDone => vec![InboundMessage::FaComplete(FaCompletion {
            comm: comm.id.clone(),
            status: CompletionStatus::NotDone,
            at: Some(at),
            remarks: Some((*rng.pick(&names.not_done)).to_string()),
            device: None,
            old_device: None,
            readings: Vec::new(),
            external_id,
        })],
        Script::Complete | Script::HeadEndPending | Script::HeadEndFault => {
            let task = comm
                .payload
                .get("field_task")
                .and_then(|t| t.as_str())
                .unwrap_or_default();
            let device = INSTALL_TASKS.contains(&task).then(|| {
                answering.new_device.clone().unwrap_or_else(|| DeviceSpec {
                    // A request the planner did not expect to install anything: the crew
                    // still reports what it put in.
                    id: format!("D-{}", comm.id),
                    badge: format!("B-{}", comm.id),
                    ..DeviceSpec::default()
                })
            });
            let readings = if task == "D1-ReadMeter" || device.is_some() {
                vec![reading(rng)]
            } else {
                Vec::new()
            };
            vec![InboundMessage::FaComplete(FaCompletion {
                comm: comm.id.clone(),
                status: CompletionStatus::Complete,
                at: Some(at),
                remarks: Some((*rng.pick(&names.remarks)).to_string()),
                device,
                old_device: None,
                readings,
                // A completion before the ack counts as the ack (§12.13), so one message does.
                external_id,
            })]
        }
    }
}

fn answer_head_end(
    comm: &CommView,
    script: Script,
    at: Instant,
    rng: &mut SplitMix64,
) -> Vec<InboundMessage> {
    match script {
        Script::HeadEndPending | Script::Silent => Vec::new(),
        Script::HeadEndFault => vec![InboundMessage::CommandResult {
            comm: comm.id.clone(),
            outcome: CommandOutcome::Fault,
            at: Some(at),
            code: Some("HE-TIMEOUT".into()),
            message: Some("meter did not answer".into()),
            readings: Vec::new(),
        }],
        _ => {
            let read =
                comm.payload.get("command_kind").and_then(|k| k.as_str()) == Some("on_demand_read");
            vec![InboundMessage::CommandResult {
                comm: comm.id.clone(),
                outcome: CommandOutcome::Ok,
                at: Some(at),
                code: None,
                message: None,
                readings: if read { vec![reading(rng)] } else { Vec::new() },
            }]
        }
    }
}

/// The acknowledgement of a maintenance message (`fa_cancel`, `fa_modify`).
pub fn acknowledge(comm: &CommView) -> InboundMessage {
    InboundMessage::Ack {
        comm: comm.id.clone(),
        external_id: None,
    }
}

/// The id the field work system gives the work of `comm`.
fn external_id(comm: &str) -> String {
    format!("MWM-{}", comm.trim_start_matches("CO-"))
}

fn reading(rng: &mut SplitMix64) -> Reading {
    Reading {
        register: "kWh".into(),
        value: rng.between(1_000, 99_999).to_string(),
    }
}
