//! Human tables and JSON for the command line.

use orderdesk::client::SessionInfo;
use orderdesk::domain::{AuditEntry, StatusReason};
use orderdesk::engine::{
    ActionReport, ActivityRow, ActivityTree, BulkReport, CommView, FeedRow, FeedView,
    InboundReport, TreeNode,
};
use orderdesk::listing::{self, Form};
use orderdesk::timefmt::Times;
use orderdesk::workorders::WorkOrder;
use serde::Serialize;
use std::io::Write;

type Out<'a> = &'a mut dyn Write;

/// One JSON document.
pub fn json<T: Serialize>(out: Out<'_>, value: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}

/// What a bulk import stored: one JSON document, or a sentence for people.
pub fn bulk_import(
    out: Out<'_>,
    report: &orderdesk::engine::BulkImport,
    json: bool,
) -> std::io::Result<()> {
    if json {
        return self::json(out, report);
    }
    let resumed = match report.resumed_after {
        0 => String::new(),
        n => format!(" after the {n} an earlier run had stored"),
    };
    match report.stored {
        0 if report.records == 1 => writeln!(
            out,
            "nothing to import: the one record of this file is already stored"
        ),
        0 if report.records > 1 => writeln!(
            out,
            "nothing to import: all {} records of this file are already stored",
            report.records
        ),
        n => writeln!(
            out,
            "imported {n} of {} records{resumed}, in {} slice(s)",
            report.records, report.slices
        ),
    }
}

/// One JSON line per item.
pub fn json_lines<T: Serialize>(out: Out<'_>, items: &[T]) -> std::io::Result<()> {
    for item in items {
        serde_json::to_writer(&mut *out, item)?;
        writeln!(out)?;
    }
    Ok(())
}

fn reason(r: &Option<StatusReason>) -> String {
    match r {
        None => String::new(),
        Some(r) => match (&r.reference, &r.text) {
            (Some(reference), _) => format!("{}({reference})", r.code),
            (None, Some(text)) => format!("{}: {text}", r.code),
            (None, None) => r.code.clone(),
        },
    }
}

fn table<H: AsRef<str>>(out: Out<'_>, header: &[H], rows: &[Vec<String>]) -> std::io::Result<()> {
    use orderdesk::width::{columns, pad};
    let mut widths: Vec<usize> = header.iter().map(|h| columns(h.as_ref())).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(columns(cell));
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| pad(c, *w))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(
        out,
        "{}",
        line(header.iter().map(|h| h.as_ref().to_string()).collect())
    )?;
    for row in rows {
        writeln!(out, "{}", line(row.clone()))?;
    }
    Ok(())
}

/// A JSON array written one element at a time: the same bytes `json` writes for a slice,
/// without holding the slice.
pub struct JsonArray {
    items: usize,
}

impl JsonArray {
    /// Opens the array.
    pub fn begin(out: Out<'_>) -> std::io::Result<JsonArray> {
        out.write_all(b"[")?;
        Ok(JsonArray { items: 0 })
    }

    /// Writes one element.
    pub fn item<T: Serialize>(&mut self, out: Out<'_>, value: &T) -> std::io::Result<()> {
        if self.items > 0 {
            out.write_all(b",")?;
        }
        self.items += 1;
        serde_json::to_writer(&mut *out, value)?;
        Ok(())
    }

    /// Closes the array and the line.
    pub fn end(self, out: Out<'_>) -> std::io::Result<()> {
        out.write_all(b"]\n")
    }
}

/// One `list` row as table cells.
pub fn list_cells(r: &ActivityRow, times: &Times) -> Vec<String> {
    listing::ORCHESTRATIONS
        .iter()
        .map(|f| f.write(r, times, Form::Text))
        .collect()
}

/// The `list` table from its rows' cells.
pub fn list_table(out: Out<'_>, cells: &[Vec<String>], times: &Times) -> std::io::Result<()> {
    let header = listing::headers(listing::ORCHESTRATIONS, times, Form::Text);
    table(out, &header, cells)?;
    writeln!(
        out,
        "{} activit{}",
        cells.len(),
        if cells.len() == 1 { "y" } else { "ies" }
    )
}

/// `show`.
pub fn show(
    out: Out<'_>,
    tree: &ActivityTree,
    as_json: bool,
    times: &Times,
) -> std::io::Result<()> {
    if as_json {
        return json(out, tree);
    }
    writeln!(
        out,
        "{} {} {} {}",
        tree.id,
        tree.activity_type,
        tree.state,
        reason(&tree.status_reason)
    )?;
    if let Some(sp) = &tree.sp {
        writeln!(out, "  service point: {sp}")?;
    }
    for n in &tree.notifications {
        writeln!(
            out,
            "  notified {} of {:?} at {}",
            n.to,
            n.kind,
            times.labelled(n.at)
        )?;
    }
    for c in &tree.communications {
        comm(out, c, 1)?;
    }
    for child in &tree.children {
        node(out, child, 1)?;
    }
    writeln!(out, "  log ({}):", times.zone())?;
    for line in &tree.log {
        let arrow = match (&line.from, &line.to) {
            (Some(f), Some(t)) => format!("{f} -> {t} "),
            _ => String::new(),
        };
        writeln!(out, "    {} {arrow}{}", times.dated(line.at), line.note)?;
    }
    Ok(())
}

fn node(out: Out<'_>, n: &TreeNode, depth: usize) -> std::io::Result<()> {
    let pad = "  ".repeat(depth);
    writeln!(
        out,
        "{pad}├─ {} {} {} {}",
        n.id,
        n.kind,
        n.state,
        reason(&n.status_reason)
    )?;
    for c in &n.communications {
        comm(out, c, depth + 1)?;
    }
    for e in &n.events {
        let name = serde_json::to_value(&e.kind)
            .ok()
            .and_then(|v| v.get("event").and_then(|k| k.as_str()).map(str::to_string))
            .unwrap_or_default();
        let error = e
            .error
            .as_deref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default();
        writeln!(out, "{pad}  · event {name} {}{error}", e.state.code())?;
    }
    for child in &n.children {
        node(out, child, depth + 1)?;
    }
    Ok(())
}

fn comm(out: Out<'_>, c: &CommView, depth: usize) -> std::io::Result<()> {
    let pad = "  ".repeat(depth);
    let arrow = if c.direction == "outbound" {
        "→"
    } else {
        "←"
    };
    writeln!(
        out,
        "{pad}{arrow} {} {} {}{} {}",
        c.id,
        c.message,
        c.state,
        if c.acknowledged {
            " (acknowledged)"
        } else {
            ""
        },
        reason(&c.status_reason)
    )?;
    for reply in &c.replies {
        comm(out, reply, depth + 1)?;
    }
    Ok(())
}

/// `outbox`.
pub fn outbox(
    out: Out<'_>,
    views: &[CommView],
    as_json: bool,
    times: &Times,
) -> std::io::Result<()> {
    if as_json {
        return json(out, &views);
    }
    let cells: Vec<Vec<String>> = views
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                c.target.clone().unwrap_or_default(),
                c.message.clone(),
                c.activity.clone().unwrap_or_default(),
                c.state.clone(),
                c.sent_at.map(|t| times.dated(t)).unwrap_or_default(),
                c.payload.to_string(),
            ]
        })
        .collect();
    let sent = times.header("SENT");
    table(
        out,
        &[
            "ID",
            "TARGET",
            "MESSAGE",
            "ACTIVITY",
            "STATE",
            sent.as_str(),
            "PAYLOAD",
        ],
        &cells,
    )
}

/// `audit`.
pub fn audit(
    out: Out<'_>,
    entries: &[AuditEntry],
    as_json: bool,
    times: &Times,
) -> std::io::Result<()> {
    if as_json {
        return json(out, &entries);
    }
    let header = listing::headers(listing::AUDIT, times, Form::Text);
    let cells = listing::cells(listing::AUDIT, entries, times, Form::Text);
    table(out, &header, &cells)
}

/// `sessions`: the clients connected to the server.
pub fn sessions(
    out: Out<'_>,
    list: &[SessionInfo],
    as_json: bool,
    times: &Times,
) -> std::io::Result<()> {
    if as_json {
        return json(out, &list);
    }
    let cells: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                if s.operator.is_empty() {
                    "-".into()
                } else {
                    s.operator.clone()
                },
                s.channel.clone(),
                times.dated_second(s.since),
            ]
        })
        .collect();
    let since = times.header("SINCE");
    table(out, &["SESSION", "OPERATOR", "VIA", since.as_str()], &cells)
}

/// `partners`: one row per partner, ages relative to `now`.
pub fn partners(
    out: Out<'_>,
    list: &[orderdesk::runtime::PartnerStatus],
    now: orderdesk::domain::Instant,
    as_json: bool,
) -> std::io::Result<()> {
    if as_json {
        return json(out, &list);
    }
    let times = Times::new(chrono_tz::UTC, now);
    let header = listing::headers(listing::PARTNERS, &times, Form::Text);
    let cells = listing::cells(listing::PARTNERS, list, &times, Form::Text);
    table(out, &header, &cells)
}

/// An action on an activity.
pub fn action(
    out: Out<'_>,
    verb: &str,
    report: &ActionReport,
    as_json: bool,
) -> std::io::Result<()> {
    if as_json {
        return json(out, report);
    }
    writeln!(out, "{verb} {}: now {}", report.id, report.state)
}

/// A filed maintenance activity: its id.
pub fn filed(out: Out<'_>, report: &ActionReport, as_json: bool) -> std::io::Result<()> {
    if as_json {
        return json(out, report);
    }
    writeln!(out, "{}", report.id)
}

/// `inbound`: one line per message.
pub fn inbound(out: Out<'_>, report: &InboundReport, as_json: bool) -> std::io::Result<()> {
    if as_json {
        return json_lines(out, &report.results);
    }
    for r in &report.results {
        match &r.error {
            None => writeln!(
                out,
                "line {}: {} {} (answers {})",
                r.line,
                r.comm,
                r.state,
                r.answers.clone().unwrap_or_else(|| "-".into())
            )?,
            Some(e) => writeln!(
                out,
                "line {}: {} {} {} (in the error inbox)",
                r.line,
                r.comm,
                r.state,
                reason(&Some(e.clone()))
            )?,
        }
    }
    Ok(())
}

/// `queue` (and single work orders).
pub fn queue(
    out: Out<'_>,
    orders: &[WorkOrder],
    as_json: bool,
    times: &Times,
) -> std::io::Result<()> {
    if as_json {
        return json(out, &orders);
    }
    let header = listing::headers(listing::QUEUE, times, Form::Text);
    let cells = listing::cells(listing::QUEUE, orders, times, Form::Text);
    table(out, &header, &cells)
}

/// One work order with its customer, address and history (newest first).
pub fn wo_detail(
    out: Out<'_>,
    detail: &orderdesk::engine::WoDetail,
    as_json: bool,
    times: &Times,
) -> std::io::Result<()> {
    if as_json {
        return json(out, detail);
    }
    queue(out, std::slice::from_ref(&detail.order), false, times)?;
    let contact: Vec<&str> = [detail.phone.as_deref(), detail.email.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let or_dash = |v: Option<&str>| v.unwrap_or("-").to_string();
    writeln!(
        out,
        "customer: {}",
        or_dash(detail.customer_name.as_deref())
    )?;
    writeln!(
        out,
        "contact:  {}",
        or_dash((!contact.is_empty()).then(|| contact.join(", ")).as_deref())
    )?;
    writeln!(out, "address:  {}", or_dash(detail.address.as_deref()))?;
    if let Some(entry) = detail.assigned_by() {
        writeln!(
            out,
            "assigned: by {} at {}",
            entry.operator,
            times.labelled(entry.at)
        )?;
    }
    writeln!(out, "history ({}):", times.zone())?;
    for line in detail.order.log.iter().rev() {
        writeln!(out, "  {}  {}", times.dated(line.at), line.note)?;
    }
    Ok(())
}

/// A bulk work-order action: per row, then the summary.
pub fn bulk(out: Out<'_>, report: &BulkReport, as_json: bool) -> std::io::Result<()> {
    if as_json {
        return json(out, report);
    }
    for row in &report.rows {
        match &row.reason {
            Some(reason) => writeln!(out, "{}: {} ({reason})", row.id, row.outcome)?,
            None => writeln!(out, "{}: {}", row.id, row.outcome)?,
        }
    }
    writeln!(out, "{}", report.summary)
}

/// `feed`: buckets (default view) or one list (custom range).
pub fn feed(out: Out<'_>, view: &FeedView, as_json: bool, times: &Times) -> std::io::Result<()> {
    if as_json {
        return json(out, view);
    }
    writeln!(
        out,
        "{} — account {} — {} to {}{} — times in {}",
        view.customer,
        view.account.as_deref().unwrap_or("-"),
        view.from,
        view.to,
        if view.categories.is_empty() {
            String::new()
        } else {
            format!(" — {}", view.categories.join(", "))
        },
        times.zone()
    )?;
    let print = |out: Out<'_>, items: &[FeedRow]| -> std::io::Result<()> {
        for i in items {
            writeln!(
                out,
                "  {}  {:<22} {:<10} {}",
                times.dated(i.at),
                i.subtype,
                i.id,
                i.summary
            )?;
        }
        Ok(())
    };
    match &view.buckets {
        Some(buckets) => {
            for b in buckets {
                writeln!(
                    out,
                    "{} ({} item{})",
                    b.label,
                    b.items.len(),
                    if b.items.len() == 1 { "" } else { "s" }
                )?;
                print(out, &b.items)?;
            }
        }
        None => print(out, &view.items)?,
    }
    Ok(())
}
