//! Export of the current list to CSV or JSON.

use super::app::{App, View};
use crate::listing::{self, Form};
use crate::timefmt::Times;

/// The current list as CSV or JSON, or `None` when the view has no list.
///
/// Times read in the configured zone, to the second, as RFC 3339 with the offset
/// (`2025-06-10T09:00:00-05:00`), in the CSV and the JSON alike.
pub fn current_list(app: &App, json: bool) -> Option<String> {
    let times = super::views::times(app);
    let (header, rows, values): (Vec<String>, Vec<Vec<String>>, serde_json::Value) = match app.view
    {
        // The desk holds only a window: an export reads the whole list once, on request.
        View::Queue => {
            let orders = super::queue_view::whole(app).ok()?;
            let values = serde_json::to_value(&orders).ok()?;
            listed(listing::QUEUE, &orders, &times, values)
        }
        View::Orchestrations => {
            let activities = super::orch_view::whole(app).ok()?;
            let values = serde_json::to_value(&activities).ok()?;
            listed(listing::ORCHESTRATIONS, &activities, &times, values)
        }
        View::Errors => (
            strings(&["code", "count"]),
            app.errors
                .groups
                .iter()
                .map(|(c, n)| vec![c.clone(), n.to_string()])
                .collect(),
            serde_json::to_value(&app.errors.groups).ok()?,
        ),
        View::Feed => (
            strings(&["id", "category", "subtype", "at", "account", "summary"]),
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
        View::Audit => {
            let values = serde_json::to_value(&app.audit.entries).ok()?;
            listed(listing::AUDIT, &app.audit.entries, &times, values)
        }
        View::Partners => {
            let values = serde_json::to_value(&app.partners.rows).ok()?;
            listed(listing::PARTNERS, &app.partners.rows, &times, values)
        }
        View::Tree | View::Throttle | View::Overview | View::WorkOrder => return None,
    };
    if json {
        let mut values = values;
        localise(&mut values, &times);
        return serde_json::to_string_pretty(&values).ok();
    }
    to_csv(&header, &rows).ok()
}

/// A list's export columns and cells, as its fields define them (the desk's table and the
/// command line's read the same fields).
fn listed<T>(
    fields: &[listing::Field<T>],
    rows: &[T],
    times: &Times,
    values: serde_json::Value,
) -> (Vec<String>, Vec<Vec<String>>, serde_json::Value) {
    (
        listing::headers(fields, times, Form::Export),
        listing::cells(fields, rows, times, Form::Export),
        values,
    )
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// A header and its rows as CSV: the `csv` crate quotes whatever needs it (a comma, a quote, a
/// line break, a carriage return), so any reader gets the cells back as they were.
fn to_csv(header: &[String], rows: &[Vec<String>]) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header)?;
    for row in rows {
        writer.write_record(row)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    // Every cell was a `String`, so the bytes are UTF-8.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
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
    fn csv_quotes_what_needs_it() {
        let row = vec!["a".to_string(), "b,c".to_string(), "say \"hi\"".to_string()];
        assert_eq!(
            to_csv(&strings(&["x", "y", "z"]), &[row]).expect("csv"),
            "x,y,z\na,\"b,c\",\"say \"\"hi\"\"\"\n"
        );
    }

    #[test]
    fn a_cell_with_a_comma_a_quote_and_line_breaks_round_trips() {
        let awkward = "12 Elm St, \"rear\"\nring twice\r\nthen wait\r".to_string();
        let rows = vec![
            vec!["F-1".to_string(), awkward],
            vec!["F-2".into(), "old\rmeter".into()],
        ];
        let text = to_csv(&strings(&["id", "summary"]), &rows).expect("csv");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.headers().expect("header"), vec!["id", "summary"]);
        let back: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.expect("record").iter().map(str::to_string).collect())
            .collect();
        assert_eq!(back, rows);
    }
}
