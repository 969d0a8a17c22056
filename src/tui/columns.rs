//! Lists that fit any width: a narrow terminal drops whole columns, the least important
//! first, and never cuts a number, a date or a code in half. Only free text (a name, a
//! reason, a detail) is shortened, with an ellipsis, to what is left.

use super::theme::Theme;
use ratatui::layout::Constraint;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};

/// One column of a list.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The header.
    pub header: &'static str,
    /// How much it matters: when the list does not fit, the lowest goes first (ties: the
    /// rightmost).
    pub keep: u8,
    /// Free text that may be shortened down to this many columns; `None`: the column is a
    /// value (id, code, count, date) shown whole or not at all.
    pub shrink_to: Option<u16>,
}

impl Column {
    /// A value column: whole or not at all.
    pub const fn value(header: &'static str, keep: u8) -> Column {
        Column {
            header,
            keep,
            shrink_to: None,
        }
    }

    /// A free-text column that may be shortened to `min` columns.
    pub const fn text(header: &'static str, keep: u8, min: u16) -> Column {
        Column {
            header,
            keep,
            shrink_to: Some(min),
        }
    }
}

/// One cell: its text and style.
pub type Value = (String, Style);

/// The desk's columns for a list's fields (shared with the command line and the exports).
pub fn of<T>(fields: &[crate::listing::Field<T>]) -> Vec<Column> {
    fields
        .iter()
        .filter(|f| f.on_desk)
        .map(|f| Column {
            header: f.header,
            keep: f.keep,
            shrink_to: f.shrink_to,
        })
        .collect()
}

/// As [`of`], after a first narrow column for the marks (kept to the last).
pub fn with_marks<T>(fields: &[crate::listing::Field<T>]) -> Vec<Column> {
    std::iter::once(Column::value("", 10))
        .chain(of(fields))
        .collect()
}

/// One row's cells as the desk shows them, each in its field's colour.
pub fn values<T>(
    fields: &[crate::listing::Field<T>],
    row: &T,
    times: &crate::timefmt::Times,
    theme: &Theme,
) -> Vec<Value> {
    fields
        .iter()
        .filter(|f| f.on_desk)
        .map(|f| {
            let text = f.write(row, times, crate::listing::Form::Desk);
            let style = theme.tone(f.tone, &text);
            (text, style)
        })
        .collect()
}

/// A table of `columns` with `rows` (one value per column), fitted into `width` columns
/// (borders included); `selected` is the index in `rows` drawn reversed.
pub fn table<'a>(
    columns: &[Column],
    rows: Vec<Vec<Value>>,
    selected: Option<usize>,
    width: u16,
    theme: &Theme,
) -> Table<'a> {
    let natural: Vec<u16> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|(text, _)| display_width(text))
                .chain(std::iter::once(display_width(c.header)))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let kept = fit(columns, &natural, width.saturating_sub(2));
    let widths = shares(columns, &natural, &kept, width.saturating_sub(2));
    let header = Row::new(kept.iter().map(|&i| Cell::from(columns[i].header))).style(theme.header);
    let body: Vec<Row> = rows
        .into_iter()
        .enumerate()
        .map(|(n, row)| {
            let cells = kept.iter().zip(&widths).map(|(&i, &w)| {
                let (text, style) = row.get(i).cloned().unwrap_or_default();
                Cell::from(Span::styled(ellipsis(&text, w), style))
            });
            let row = Row::new(cells.collect::<Vec<_>>());
            if Some(n) == selected {
                row.style(theme.selected)
            } else {
                row
            }
        })
        .collect();
    let constraints: Vec<Constraint> = kept
        .iter()
        .zip(&widths)
        .enumerate()
        .map(|(n, (&i, &w))| match columns[i].shrink_to {
            // The last free-text column takes what is left.
            Some(_) if n + 1 == kept.len() => Constraint::Min(w),
            _ => Constraint::Length(w),
        })
        .collect();
    Table::new(body, constraints).header(header)
}

/// The columns kept (in order) for `room` columns: values at their natural width, free text
/// at its minimum, one space between; the least important dropped until they fit.
pub fn fit(columns: &[Column], natural: &[u16], room: u16) -> Vec<usize> {
    let need = |kept: &[usize]| -> u32 {
        let cells: u32 = kept
            .iter()
            .map(|&i| {
                u32::from(
                    columns[i]
                        .shrink_to
                        .map_or(natural[i], |m| m.min(natural[i])),
                )
            })
            .sum();
        cells + kept.len().saturating_sub(1) as u32
    };
    let weights: Vec<u8> = columns.iter().map(|c| c.keep).collect();
    keep_fitting(&weights, |kept| need(kept) <= u32::from(room))
}

/// The items (indices, in order) kept once the lightest are left out until `fits` holds:
/// lowest weight first, the rightmost of equals first; one item always stays. Lists,
/// titles' parts and the status bar all narrow this one way.
pub fn keep_fitting(weights: &[u8], fits: impl Fn(&[usize]) -> bool) -> Vec<usize> {
    let mut kept: Vec<usize> = (0..weights.len()).collect();
    while kept.len() > 1 && !fits(&kept) {
        let lightest = kept
            .iter()
            .enumerate()
            .min_by_key(|(at, &i)| (weights[i], usize::MAX - at))
            .map(|(at, _)| at);
        match lightest {
            Some(at) => {
                kept.remove(at);
            }
            None => break,
        }
    }
    kept
}

/// The width of each kept column: values at their natural width; free text shares what the
/// values leave, the narrowest first, so room a short text does not need goes to the longer
/// ones (each gets at least its minimum).
fn shares(columns: &[Column], natural: &[u16], kept: &[usize], room: u16) -> Vec<u16> {
    let fixed: u32 = kept
        .iter()
        .filter(|&&i| columns[i].shrink_to.is_none())
        .map(|&i| u32::from(natural[i]))
        .sum();
    let gaps = kept.len().saturating_sub(1) as u32;
    let mut left = u32::from(room).saturating_sub(fixed + gaps);
    let mut texts: Vec<usize> = kept
        .iter()
        .copied()
        .filter(|&i| columns[i].shrink_to.is_some())
        .collect();
    texts.sort_by_key(|&i| natural[i]);
    let mut widths: Vec<u16> = kept.iter().map(|&i| natural[i]).collect();
    let count = texts.len() as u32;
    for (n, &i) in texts.iter().enumerate() {
        let fair = left / (count - n as u32);
        let min = u32::from(columns[i].shrink_to.unwrap_or(0));
        let width = u32::from(natural[i]).min(fair.max(min));
        left = left.saturating_sub(width);
        if let Some(at) = kept.iter().position(|&k| k == i) {
            widths[at] = width as u16;
        }
    }
    widths
}

/// The width `text` takes on screen.
pub fn display_width(text: &str) -> u16 {
    u16::try_from(Span::raw(text).width()).unwrap_or(u16::MAX)
}

/// `text` in at most `width` columns, ending in "…" when shortened.
pub fn ellipsis(text: &str, width: u16) -> String {
    if display_width(text) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0u16;
    for c in text.chars() {
        let w = display_width(c.encode_utf8(&mut [0; 4]));
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [Column; 4] = [
        Column::value("ID", 9),
        Column::value("STATE", 8),
        Column::text("NAME", 3, 6),
        Column::value("SINCE", 5),
    ];

    #[test]
    fn room_a_short_text_does_not_need_goes_to_a_longer_one() {
        let columns = [
            Column::value("ID", 9),
            Column::text("ERROR", 4, 8),
            Column::text("VIA", 3, 8),
        ];
        // 60 columns: the ID takes 6 and two gaps; ERROR needs 5; VIA gets all the rest.
        assert_eq!(shares(&columns, &[6, 5, 80], &[0, 1, 2], 60), [6, 5, 47]);
        // Both long: they share it evenly.
        assert_eq!(shares(&columns, &[6, 80, 80], &[0, 1, 2], 60), [6, 26, 26]);
    }

    #[test]
    fn everything_fits_when_there_is_room() {
        assert_eq!(fit(&COLUMNS, &[6, 14, 20, 11], 80), [0, 1, 2, 3]);
    }

    #[test]
    fn the_least_important_column_goes_first_and_whole() {
        // 6 + 14 + 6 + 11 + 3 gaps = 40: one column must go; NAME (keep 3) is the least.
        assert_eq!(fit(&COLUMNS, &[6, 14, 20, 11], 39), [0, 1, 3]);
        // Narrower still: SINCE goes next, never cut to "06-10 09:0".
        assert_eq!(fit(&COLUMNS, &[6, 14, 20, 11], 25), [0, 1]);
        // The most important column always stays.
        assert_eq!(fit(&COLUMNS, &[6, 14, 20, 11], 3), [0]);
    }

    #[test]
    fn free_text_is_shortened_with_an_ellipsis() {
        assert_eq!(ellipsis("Ada Byron", 20), "Ada Byron");
        assert_eq!(ellipsis("Ada Byron", 5), "Ada …");
        assert_eq!(ellipsis("東京電力", 5), "東京…");
    }
}
