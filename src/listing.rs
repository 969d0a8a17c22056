//! The columns of each list, defined once: the desk's tables, the command line's tables and
//! the desk's CSV exports all read the same fields, so a column means the same thing wherever
//! a person reads it. Only the writing differs with the reader: the desk is short (a time to
//! the minute, in the configured zone), the command line is dated, an export is RFC 3339 and
//! machine codes.

use crate::domain::{AuditEntry, AuditOutcome, Instant};
use crate::engine::ActivityRow;
use crate::lifecycle::OrchState;
use crate::runtime::PartnerStatus;
use crate::timefmt::Times;
use crate::workorders::WorkOrder;
use chrono::NaiveDate;

/// Who reads a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The desk: short, in the configured zone.
    Desk,
    /// The command line's tables: dated, in the configured zone.
    Text,
    /// A CSV export: RFC 3339 times with their offset, codes rather than labels.
    Export,
}

/// What a cell holds; how it is written depends on the [`Form`].
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Words, written as they are.
    Text(String),
    /// A code with the label a person reads (a work order's kind).
    Code {
        /// What an export writes.
        code: &'static str,
        /// What a person reads.
        label: &'static str,
    },
    /// A moment, to the minute or to the second.
    Time {
        /// When (`None`: none).
        at: Option<Instant>,
        /// To the second (the audit) rather than the minute.
        seconds: bool,
    },
    /// How long ago something happened (a person reads an age; an export the moment).
    Age {
        /// When (`None`: never).
        at: Option<Instant>,
        /// Says "ago" after the age (a past event rather than a waiting thing's age).
        ago: bool,
    },
    /// A calendar day.
    Date(Option<NaiveDate>),
    /// A number.
    Count(usize),
}

impl Cell {
    /// The cell as `form` writes it; an absent value is `-` for a person, empty in an export.
    pub fn write(&self, times: &Times, form: Form) -> String {
        let absent = || match form {
            Form::Export => String::new(),
            Form::Desk | Form::Text => "-".to_string(),
        };
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Code { code, label } => match form {
                Form::Export => code.to_string(),
                Form::Desk | Form::Text => label.to_string(),
            },
            Cell::Time { at: None, .. } | Cell::Age { at: None, .. } | Cell::Date(None) => absent(),
            Cell::Age { at: Some(at), ago } => match form {
                Form::Export => times.rfc3339(*at),
                Form::Desk | Form::Text if *ago => format!("{} ago", times.age(*at)),
                Form::Desk | Form::Text => times.age(*at),
            },
            Cell::Time {
                at: Some(at),
                seconds,
            } => match (form, seconds) {
                (Form::Desk, false) => times.minute(*at),
                (Form::Desk, true) => times.second(*at),
                (Form::Text, false) => times.dated(*at),
                (Form::Text, true) => times.dated_second(*at),
                (Form::Export, _) => times.rfc3339(*at),
            },
            Cell::Date(Some(day)) => day.to_string(),
            Cell::Count(n) => n.to_string(),
        }
    }
}

/// How the desk colours a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// The terminal's own colours.
    Plain,
    /// A lifecycle state: coloured by its class (error, waiting, in the field, done).
    State,
    /// An audit outcome: done or refused.
    Outcome,
    /// A partner's connection: connected, failing, paused.
    Partner,
}

/// One column of a list.
pub struct Field<T> {
    /// The header a person reads.
    pub header: &'static str,
    /// The column's name in an export.
    pub name: &'static str,
    /// How much it matters on a narrow desk: the lowest is left out first.
    pub keep: u8,
    /// Free text the desk may shorten to this many columns; `None`: a value, whole or not at all.
    pub shrink_to: Option<u16>,
    /// How the desk colours it.
    pub tone: Tone,
    /// Shown on the desk (some columns say what a desk shows otherwise).
    pub on_desk: bool,
    /// The cell of one row.
    pub cell: fn(&T) -> Cell,
}

impl<T> Field<T> {
    const fn value(
        header: &'static str,
        name: &'static str,
        keep: u8,
        cell: fn(&T) -> Cell,
    ) -> Self {
        Field {
            header,
            name,
            keep,
            shrink_to: None,
            tone: Tone::Plain,
            on_desk: true,
            cell,
        }
    }

    const fn text(
        header: &'static str,
        name: &'static str,
        keep: u8,
        shrink_to: u16,
        cell: fn(&T) -> Cell,
    ) -> Self {
        Field {
            header,
            name,
            keep,
            shrink_to: Some(shrink_to),
            tone: Tone::Plain,
            on_desk: true,
            cell,
        }
    }

    const fn toned(mut self, tone: Tone) -> Self {
        self.tone = tone;
        self
    }

    const fn off_desk(mut self) -> Self {
        self.on_desk = false;
        self
    }

    /// The cell of `row` as `form` writes it.
    pub fn write(&self, row: &T, times: &Times, form: Form) -> String {
        (self.cell)(row).write(times, form)
    }

    /// The header for `form`: an export's column name; on the command line a time column
    /// names its zone, since nothing else on the page does.
    pub fn header_for(&self, times: &Times, form: Form) -> String {
        match form {
            Form::Export => self.name.to_string(),
            Form::Text if self.is_time() => times.header(self.header),
            Form::Text | Form::Desk => self.header.to_string(),
        }
    }

    fn is_time(&self) -> bool {
        matches!(self.name, "at" | "wall_clock" | "status_at" | "effective")
    }
}

/// The headers of `fields` for `form`.
pub fn headers<T>(fields: &[Field<T>], times: &Times, form: Form) -> Vec<String> {
    fields.iter().map(|f| f.header_for(times, form)).collect()
}

/// The cells of `rows` for `form`, one row each.
pub fn cells<T>(fields: &[Field<T>], rows: &[T], times: &Times, form: Form) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| fields.iter().map(|f| f.write(row, times, form)).collect())
        .collect()
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

fn or_empty(s: &Option<String>) -> Cell {
    Cell::Text(s.clone().unwrap_or_default())
}

/// The open work-order queue.
pub const QUEUE: &[Field<WorkOrder>] = &[
    Field::value("ID", "id", 10, |w| text(&w.id)),
    Field::value("STATUS", "status", 8, |w| Cell::Code {
        code: w.status.code(),
        label: w.status.code(),
    }),
    Field::text("KIND", "kind", 4, 12, |w| Cell::Code {
        code: w.kind.code(),
        label: crate::workorders::kind_label(w.kind),
    }),
    Field::value("CUSTOMER", "customer", 6, |w| text(&w.customer)),
    Field::value("SITE", "site", 5, |w| text(&w.site)),
    Field::value("PREFERRED", "preferred_date", 7, |w| {
        Cell::Date(w.preferred_date)
    }),
    Field::text("ASSIGNEE", "assignee", 3, 10, |w| {
        Cell::Text(w.assignee.label())
    }),
    // The desk's "mine" filter is what this column says there.
    Field::value("SCHEDULED FOR", "scheduled_for", 1, |w: &WorkOrder| {
        or_empty(&w.scheduled_for)
    })
    .off_desk(),
];

/// True when the activity waits for its effective date (only then does EFFECTIVE say anything).
pub fn waits(r: &ActivityRow) -> bool {
    r.state == OrchState::WaitEffDate.code()
}

/// Where the orchestration list's EFFECTIVE column is (the desk shows it only where it says
/// something).
pub const EFFECTIVE: usize = 6;

/// The orchestration list.
pub const ORCHESTRATIONS: &[Field<ActivityRow>] = &[
    Field::value("ID", "id", 10, |r| text(&r.id)),
    Field::value("TYPE", "type", 5, |r| text(&r.activity_type)),
    Field::value("STATE", "state", 9, |r: &ActivityRow| text(&r.state)).toned(Tone::State),
    // The code alone, so a narrow list shows it whole or drops it; the record it points at is
    // in the hierarchy.
    Field::value("REASON", "reason", 6, |r| {
        Cell::Text(
            r.status_reason
                .as_ref()
                .map_or(String::new(), |s| s.code.clone()),
        )
    }),
    Field::value("SP/TARGET", "sp_or_target", 4, |r| {
        Cell::Text(r.sp.clone().or(r.target.clone()).unwrap_or_default())
    }),
    Field::value("SINCE", "status_at", 3, |r| Cell::Time {
        at: Some(r.status_at),
        seconds: false,
    }),
    // Filtered to WAIT_EFF_DATE, when is what the operator asks: kept before the others.
    Field::value("EFFECTIVE", "effective", 7, |r| Cell::Time {
        at: r.effective.filter(|_| waits(r)),
        seconds: false,
    }),
    Field::text("FLAGS", "flags", 2, 3, |r| {
        let flag = match (&r.superseded_by, r.warnings.is_empty()) {
            (Some(_), _) => "⚠ superseded",
            (None, false) => "⚠ conflict",
            _ => "",
        };
        text(flag)
    }),
];

/// The audit of operator actions.
pub const AUDIT: &[Field<AuditEntry>] = &[
    Field::value("AT", "at", 9, |e| Cell::Time {
        at: Some(e.at),
        seconds: true,
    }),
    // The desk shows these in an entry's detail (Enter): the list keeps to who did what.
    Field::value("WALL CLOCK", "wall_clock", 1, |e: &AuditEntry| Cell::Time {
        at: e.wall,
        seconds: true,
    })
    .off_desk(),
    Field::value("OPERATOR", "operator", 8, |e| text(&e.operator)),
    Field::value("ACCOUNT", "account", 1, |e: &AuditEntry| {
        or_empty(&e.account)
    })
    .off_desk(),
    Field::value("ROLE", "role", 3, |e| {
        Cell::Text(e.role.map_or(String::new(), |r| r.code().to_string()))
    }),
    Field::value("VIA", "channel", 2, |e: &AuditEntry| or_empty(&e.channel)).off_desk(),
    Field::value("ACTION", "action", 7, |e| text(&e.action)),
    Field::text("IDS", "ids", 5, 8, |e| Cell::Text(e.ids.join(" "))),
    Field::value("OUTCOME", "outcome", 6, |e: &AuditEntry| {
        text(match e.outcome {
            AuditOutcome::Done => "done",
            AuditOutcome::Refused { .. } => "refused",
        })
    })
    .toned(Tone::Outcome),
    Field::value("CODE", "code", 6, |e| match &e.outcome {
        AuditOutcome::Done => text(""),
        AuditOutcome::Refused { code, .. } => text(code),
    }),
    Field::text("REASON", "reason", 1, 10, |e: &AuditEntry| {
        match &e.outcome {
            AuditOutcome::Done => text(""),
            AuditOutcome::Refused { message, .. } => text(message),
        }
    })
    .off_desk(),
    Field::text("DETAIL", "detail", 2, 10, |e| or_empty(&e.detail)),
];

/// The partners board: each connection's state, backlog and last failure.
pub const PARTNERS: &[Field<PartnerStatus>] = &[
    Field::value("PARTNER", "name", 10, |p: &PartnerStatus| text(&p.name)),
    Field::value("STATE", "state", 9, |p: &PartnerStatus| text(&p.state)).toned(Tone::Partner),
    Field::value("BACKLOG", "backlog", 8, |p: &PartnerStatus| {
        Cell::Count(p.backlog as usize)
    }),
    Field::value("OLDEST", "oldest", 7, |p: &PartnerStatus| Cell::Age {
        at: p.oldest,
        ago: false,
    }),
    Field::value(
        "LAST HOUR",
        "delivered_last_hour",
        6,
        |p: &PartnerStatus| Cell::Count(p.delivered_last_hour as usize),
    ),
    Field::value("LAST ERROR", "last_error_at", 5, |p: &PartnerStatus| {
        Cell::Age {
            at: p.last_error_at.filter(|_| p.last_error.is_some()),
            ago: true,
        }
    }),
    // The first line only: the whole message is in the partner's detail.
    Field::text("ERROR", "last_error", 4, 12, |p: &PartnerStatus| {
        text(
            p.last_error
                .as_deref()
                .and_then(|e| e.lines().next())
                .unwrap_or(""),
        )
    }),
    Field::value("ATTEMPTS", "attempts", 1, |p: &PartnerStatus| {
        Cell::Count(p.attempts as usize)
    })
    .off_desk(),
    Field::value("FAILURES", "failures", 1, |p: &PartnerStatus| {
        Cell::Count(p.failures as usize)
    })
    .off_desk(),
    Field::text("VIA", "via", 3, 8, |p: &PartnerStatus| text(&p.via)),
];

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn one_time_is_short_on_the_desk_dated_on_the_command_line_and_rfc3339_in_an_export() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 6, 10, 12, 0, 0).unwrap();
        let times = Times::new(chrono_tz::America::Chicago, now);
        let cell = Cell::Time {
            at: Some(chrono::Utc.with_ymd_and_hms(2026, 6, 10, 14, 5, 9).unwrap()),
            seconds: false,
        };
        assert_eq!(
            cell.write(&times, Form::Desk),
            times.minute(now + chrono::Duration::seconds(7509))
        );
        assert_eq!(
            cell.write(&times, Form::Export),
            "2026-06-10T09:05:09-05:00"
        );
        assert!(cell.write(&times, Form::Text).contains("09:05"));
        let none = Cell::Time {
            at: None,
            seconds: false,
        };
        assert_eq!(none.write(&times, Form::Desk), "-");
        assert_eq!(none.write(&times, Form::Export), "");
    }

    #[test]
    fn every_list_names_its_export_columns_once() {
        fn unique<T>(fields: &[Field<T>]) {
            let mut names: Vec<&str> = fields.iter().map(|f| f.name).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len());
        }
        unique(QUEUE);
        unique(ORCHESTRATIONS);
        unique(AUDIT);
        unique(PARTNERS);
        assert_eq!(ORCHESTRATIONS[EFFECTIVE].name, "effective");
    }
}
