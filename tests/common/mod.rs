//! A test world: an engine over an in-memory store, driven with the formats of the contract.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use orderdesk::config::Config;
use orderdesk::domain::Role;
use orderdesk::engine::{
    ActivityTree, Actor, CommView, CrwtoReport, Engine, EngineError, InboundReport, ListFilter,
    TickReport, TreeNode,
};
use orderdesk::store::MemStore;

pub mod cli;
pub mod lifecycle_graph;

/// An instant from RFC 3339 text.
pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("bad time {text}: {e}"))
        .with_timezone(&Utc)
}

/// The engine and the operators the tests act as.
pub struct World {
    /// The engine.
    pub engine: Engine,
    /// A supervisor.
    pub supervisor: Actor,
}

impl World {
    /// A world with the default configuration (UTC, Mon–Fri, 08–17 for CNP).
    pub fn new() -> World {
        World::with_config(Config::default())
    }

    /// A world with a configuration given as TOML.
    pub fn with_toml(toml: &str) -> World {
        World::with_config(orderdesk::config::parse(toml, "test.toml").expect("test config"))
    }

    /// A world with `config`.
    pub fn with_config(config: Config) -> World {
        World {
            engine: Engine::new(Box::new(MemStore::new()), config),
            supervisor: actor("sam", Some(Role::Supervisor)),
        }
    }

    /// Imports JSON Lines; panics on any error.
    pub fn import(&mut self, now: &str, lines: &str) {
        let records = orderdesk::formats::parse_import(lines.as_bytes()).expect("import parses");
        let supervisor = self.supervisor.clone();
        self.engine
            .import(&supervisor, at(now), records)
            .expect("import");
    }

    /// One monitor pass.
    pub fn tick(&mut self, now: &str) -> TickReport {
        let supervisor = self.supervisor.clone();
        let report = self.engine.tick(&supervisor, at(now)).expect("tick");
        assert!(
            report.failures.is_empty(),
            "tick failures: {:?}",
            report.failures
        );
        report
    }

    /// Feeds inbound JSON Lines.
    pub fn inbound(&mut self, now: &str, lines: &str) -> InboundReport {
        let messages = orderdesk::formats::parse_inbound(lines.as_bytes()).expect("inbound parses");
        let supervisor = self.supervisor.clone();
        self.engine
            .inbound(&supervisor, at(now), messages)
            .expect("inbound")
    }

    /// Runs the throttle batch.
    pub fn crwto(&mut self, now: &str, throttle: Option<bool>) -> CrwtoReport {
        let supervisor = self.supervisor.clone();
        self.engine
            .crwto(&supervisor, at(now), throttle)
            .expect("crwto")
    }

    /// The whole hierarchy of an activity.
    pub fn show(&self, id: &str) -> ActivityTree {
        self.engine.show(&self.supervisor, id).expect("show")
    }

    /// The state code of an activity (any level).
    pub fn state(&self, id: &str) -> String {
        self.show(id).state
    }

    /// The status-reason code of an activity.
    pub fn reason(&self, id: &str) -> Option<String> {
        self.show(id).status_reason.map(|r| r.code)
    }

    /// The children of an activity, in creation order.
    pub fn children(&self, id: &str) -> Vec<TreeNode> {
        self.show(id).children
    }

    /// Outbound communications awaiting a response.
    pub fn outbox(&self) -> Vec<CommView> {
        self.engine.outbox(false).expect("outbox")
    }

    /// The awaiting outbound communication of an activity (its id).
    pub fn open_comm(&self, activity: &str) -> String {
        self.outbox()
            .into_iter()
            .find(|c| c.activity.as_deref() == Some(activity))
            .unwrap_or_else(|| panic!("no open communication for {activity}"))
            .id
    }

    /// Ids of top-level activities in `state`.
    pub fn in_state(&self, state: &str) -> Vec<String> {
        let filter = ListFilter {
            state: Some(state.into()),
            ..ListFilter::default()
        };
        self.engine
            .list(&self.supervisor, &filter)
            .expect("list")
            .into_iter()
            .map(|r| r.id)
            .collect()
    }

    /// Retries as the supervisor.
    pub fn retry(&mut self, now: &str, id: &str) -> Result<String, EngineError> {
        let supervisor = self.supervisor.clone();
        self.engine.retry(&supervisor, at(now), id).map(|r| r.state)
    }

    /// Discards as the supervisor.
    pub fn discard(&mut self, now: &str, id: &str) -> Result<String, EngineError> {
        let supervisor = self.supervisor.clone();
        self.engine
            .discard(&supervisor, at(now), id, Some("test"))
            .map(|r| r.state)
    }
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

/// An actor with a role.
pub fn actor(name: &str, role: Option<Role>) -> Actor {
    Actor {
        operator: name.into(),
        role,
        divisions: Vec::new(),
        read_only: false,
        channel: None,
        account: None,
    }
}

/// A meter service point line; `device` is a JSON object or "null".
pub fn sp_line(id: &str, src: bool, device: &str) -> String {
    format!(
        r#"{{"kind":"service_point","id":"{id}","sp_kind":"meter","status":"active","connected_at_source":{src},"division":"NORTH","address":"1 Main St","device":{device}}}"#
    )
}

/// A smart device JSON object.
pub fn smart(id: &str, commissioned: bool, switch: &str) -> String {
    format!(
        r#"{{"id":"{id}","badge":"B-{id}","smart":true,"commissioned":{commissioned},"switch":"{switch}"}}"#
    )
}

/// A manual device JSON object.
pub fn manual(id: &str, switch: &str) -> String {
    format!(
        r#"{{"id":"{id}","badge":"B-{id}","smart":false,"commissioned":false,"switch":"{switch}"}}"#
    )
}

/// A request line of `kind` on `sp`, with extra JSON fields (start with a comma).
pub fn request(id: &str, kind: &str, sp: &str, extra: &str) -> String {
    format!(
        r#"{{"kind":"request","id":"{id}","type":"{kind}","sp":"{sp}","service_datetime":"2025-06-10T09:00:00Z","service_agreements":["SA-1"],"request_info":{{"requester":"CCB","external_system":"CCB","external_id":"X-{id}"}}{extra}}}"#
    )
}

/// A CNP request line with a positive past-due amount.
pub fn cnp(id: &str, sp: &str, extra: &str) -> String {
    let extra =
        format!(r#","collection_data":{{"past_due_amount":"120.50","currency":"USD"}}{extra}"#);
    request(id, "cut_for_non_payment", sp, &extra)
}

/// The desk drawn on a `width`×`height` TestBackend without colour, as plain lines.
pub fn screen(app: &mut orderdesk::tui::app::App, width: u16, height: u16) -> String {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let mut terminal = ratatui::Terminal::new(backend).expect("terminal");
    let theme = orderdesk::tui::theme::Theme::new(true);
    terminal
        .draw(|frame| orderdesk::tui::views::draw(frame, app, &theme))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    let mut lines = Vec::new();
    for y in 0..buffer.area.height {
        let line: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol().to_string())
            .collect();
        lines.push(line.trim_end().to_string());
    }
    lines.join("\n")
}

/// A desk over `w` for `operator` in `role` (`None`: may only look), its clock at `now`: the
/// desk's model as the event loop drives it, drawn with [`screen`].
pub fn desk_at(
    w: &World,
    operator: &str,
    role: Option<Role>,
    now: &str,
) -> orderdesk::tui::app::App {
    let mut app = orderdesk::tui::app::App::new(
        orderdesk::client::Local::reading(
            w.engine.reader(),
            Actor::with_role(operator, role),
            orderdesk::runtime::Clock::wall(),
        )
        .shared(),
        orderdesk::tui::keymap::Keymap::defaults().expect("default keymap"),
    );
    app.update(orderdesk::tui::app::Action::Clock(at(now), 1.0));
    app
}
