//! Export of the current list to CSV or JSON, and the OSC 52 clipboard sequence.

use super::app::{App, View};
use crate::timefmt::Times;

/// The current list as CSV or JSON, or `None` when the view has no list.
///
/// Times read in the configured zone, to the second, as RFC 3339 with the offset
/// (`2025-06-10T09:00:00-05:00`), in the CSV and the JSON alike.
pub fn current_list(app: &App, json: bool) -> Option<String> {
    let times = super::views::times(app);
    let (header, rows, values): (Vec<&str>, Vec<Vec<String>>, serde_json::Value) = match app.view {
        // The desk holds only a window: an export reads the whole list once, on request.
        View::Queue => {
            let orders = app.whole_queue().ok()?;
            (
                vec![
                    "id",
                    "status",
                    "kind",
                    "customer",
                    "site",
                    "preferred_date",
                    "assignee",
                ],
                orders
                    .iter()
                    .map(|w| {
                        vec![
                            w.id.clone(),
                            w.status.code().into(),
                            w.kind.code().into(),
                            w.customer.clone(),
                            w.site.clone(),
                            w.preferred_date.map(|d| d.to_string()).unwrap_or_default(),
                            w.assignee.label(),
                        ]
                    })
                    .collect(),
                serde_json::to_value(&orders).ok()?,
            )
        }
        View::Orchestrations => {
            let activities = app.whole_list().ok()?;
            (
                vec!["id", "type", "state", "reason", "sp", "status_at"],
                activities
                    .iter()
                    .map(|r| {
                        vec![
                            r.id.clone(),
                            r.activity_type.clone(),
                            r.state.clone(),
                            r.status_reason
                                .as_ref()
                                .map(|s| s.code.clone())
                                .unwrap_or_default(),
                            r.sp.clone().unwrap_or_default(),
                            times.rfc3339(r.status_at),
                        ]
                    })
                    .collect(),
                serde_json::to_value(&activities).ok()?,
            )
        }
        View::Errors => (
            vec!["code", "count"],
            app.error_groups
                .iter()
                .map(|(c, n)| vec![c.clone(), n.to_string()])
                .collect(),
            serde_json::to_value(&app.error_groups).ok()?,
        ),
        View::Feed => (
            vec!["id", "category", "subtype", "at", "account", "summary"],
            app.feed
                .items
                .iter()
                .map(|i| {
                    vec![
                        i.id.clone(),
                        i.category.clone(),
                        i.subtype.clone(),
                        times.rfc3339(i.at),
                        i.account.clone().unwrap_or_default(),
                        i.summary.clone(),
                    ]
                })
                .collect(),
            serde_json::to_value(&app.feed.items).ok()?,
        ),
        View::Audit => (
            vec!["at", "wall_clock", "operator", "action", "ids", "outcome"],
            app.audit
                .entries
                .iter()
                .map(|e| {
                    let outcome = serde_json::to_value(&e.outcome)
                        .ok()
                        .and_then(|v| {
                            v.get("outcome")
                                .and_then(|o| o.as_str())
                                .map(str::to_string)
                        })
                        .unwrap_or_default();
                    vec![
                        times.rfc3339(e.at),
                        e.wall.map(|t| times.rfc3339(t)).unwrap_or_default(),
                        e.operator.clone(),
                        e.action.clone(),
                        e.ids.join(" "),
                        outcome,
                    ]
                })
                .collect(),
            serde_json::to_value(&app.audit.entries).ok()?,
        ),
        View::Partners => (
            vec![
                "name",
                "state",
                "backlog",
                "oldest",
                "delivered_last_hour",
                "last_error_at",
                "last_error",
                "attempts",
                "failures",
                "via",
            ],
            app.partners
                .rows
                .iter()
                .map(|p| {
                    let time = |t: Option<crate::domain::Instant>| {
                        t.map(|t| times.rfc3339(t)).unwrap_or_default()
                    };
                    vec![
                        p.name.clone(),
                        p.state.clone(),
                        p.backlog.to_string(),
                        time(p.oldest),
                        p.delivered_last_hour.to_string(),
                        time(p.last_error_at),
                        p.last_error.clone().unwrap_or_default(),
                        p.attempts.to_string(),
                        p.failures.to_string(),
                        p.via.clone(),
                    ]
                })
                .collect(),
            serde_json::to_value(&app.partners.rows).ok()?,
        ),
        View::Tree | View::Throttle | View::Overview => return None,
    };
    if json {
        let mut values = values;
        localise(&mut values, &times);
        return serde_json::to_string_pretty(&values).ok();
    }
    let mut out = csv_line(header.iter().map(|h| h.to_string()));
    for row in rows {
        out.push_str(&csv_line(row.into_iter()));
    }
    Some(out)
}

/// Rewrites every time in `value` (a string that reads as RFC 3339) in the configured zone,
/// so the JSON export reads its times as the CSV does.
fn localise(value: &mut serde_json::Value, times: &Times) {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
                *text = times.rfc3339(t.to_utc());
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| localise(v, times)),
        Value::Object(fields) => fields.values_mut().for_each(|v| localise(v, times)),
        _ => {}
    }
}

fn csv_line(cells: impl Iterator<Item = String>) -> String {
    let quoted: Vec<String> = cells
        .map(|c| {
            if c.contains([',', '"', '\n']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c
            }
        })
        .collect();
    format!("{}\n", quoted.join(","))
}

/// The OSC 52 escape sequence that puts `text` on the terminal's clipboard.
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64(text.as_bytes()))
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_times_read_in_the_configured_zone_without_fractions() {
        let now = chrono::DateTime::parse_from_rfc3339("2025-06-10T14:00:00Z").expect("time");
        let times = Times::new(chrono_tz::America::Chicago, now.to_utc());
        let mut value = serde_json::json!({
            "at": "2025-06-10T14:00:00.123456789Z",
            "list": ["2023-12-18T17:00:00+00:00", "SO-1"],
            "count": 3,
        });
        localise(&mut value, &times);
        let want = serde_json::json!({
            "at": "2025-06-10T09:00:00-05:00",
            "list": ["2023-12-18T11:00:00-06:00", "SO-1"],
            "count": 3,
        });
        assert_eq!(value, want);
    }

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"SO-12"), "U08tMTI=");
        assert_eq!(osc52("SO-12"), "\u{1b}]52;c;U08tMTI=\u{7}");
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(
            csv_line(["a".to_string(), "b,c".to_string(), "say \"hi\"".to_string()].into_iter()),
            "a,\"b,c\",\"say \"\"hi\"\"\"\n"
        );
    }
}
