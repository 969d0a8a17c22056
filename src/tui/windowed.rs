//! A list too long to hold: the queue and the orchestration list keep only a window of rows
//! around the cursor, read again as the cursor travels, with the operator's marks beside it.
//!
//! One type for both, so paging, marking and reading the whole list on request behave the
//! same wherever a person works through a long list.

use crate::domain::Seq;
use crate::engine::{ActivityRow, EngineError, Near};
use crate::workorders::WorkOrder;
use std::collections::BTreeSet;

/// A list's cursor: the selected row and the first row on screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    /// The selected row.
    pub selected: usize,
    /// The first visible row.
    pub offset: usize,
}

impl Cursor {
    /// Moves by `delta` rows within `len`.
    pub fn step(&mut self, delta: isize, len: usize) {
        if len == 0 {
            *self = Cursor::default();
            return;
        }
        let target = self.selected as isize + delta;
        self.selected = target.clamp(0, len as isize - 1) as usize;
    }

    /// Keeps the selection on screen for a list `height` rows high.
    pub fn scroll_into_view(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
    }
}

/// The visible slice of `len` rows for a cursor and a body height.
pub fn visible(cursor: &Cursor, len: usize, rows: usize) -> std::ops::Range<usize> {
    let start = cursor.offset.min(len);
    start..(start + rows).min(len)
}

/// A row of a windowed list: its id (what marks hold) and its place in the engine's order.
pub trait Listed: Clone {
    /// The id a mark names.
    fn id(&self) -> &str;
    /// Where the engine keeps it in the list's order (to resume a read next to it).
    fn seq(&self) -> Seq;
}

impl Listed for WorkOrder {
    fn id(&self) -> &str {
        &self.id
    }
    fn seq(&self) -> Seq {
        self.seq
    }
}

impl Listed for ActivityRow {
    fn id(&self) -> &str {
        &self.id
    }
    fn seq(&self) -> Seq {
        self.seq
    }
}

/// Reads `limit` rows from `offset` of a list (0: all), resuming next to `near` when given;
/// returns them with the list's total.
pub type Reader<'a, T> =
    dyn FnMut(usize, usize, Option<Near>) -> Result<(Vec<T>, usize), EngineError> + 'a;

/// A window of a list of `T` read with query `Q`, its cursor and its marks.
#[derive(Debug, Clone)]
pub struct Windowed<T, Q> {
    /// The rows held: positions `from..from + rows.len()` of the whole list.
    pub rows: Vec<T>,
    /// The position of the first row held.
    pub from: usize,
    /// How many rows the whole list has.
    pub total: usize,
    /// The query the rows were read with (a different one reads afresh).
    read_with: Option<Q>,
    /// The cursor over the whole list.
    pub cursor: Cursor,
    /// The ids marked for the next action.
    pub marks: BTreeSet<String>,
}

impl<T, Q> Default for Windowed<T, Q> {
    fn default() -> Self {
        Windowed {
            rows: Vec::new(),
            from: 0,
            total: 0,
            read_with: None,
            cursor: Cursor::default(),
            marks: BTreeSet::new(),
        }
    }
}

impl<T: Listed, Q: PartialEq + Clone> Windowed<T, Q> {
    /// The row at `at` in the whole list, when it is in the window held.
    pub fn at(&self, at: usize) -> Option<&T> {
        self.rows.get(at.checked_sub(self.from)?)
    }

    /// The row under the cursor.
    pub fn selected(&self) -> Option<&T> {
        self.at(self.cursor.selected)
    }

    /// True when the window holds the whole list.
    pub fn is_whole(&self) -> bool {
        self.from == 0 && self.rows.len() == self.total
    }

    /// The marked ids, or the selected row's when nothing is marked.
    pub fn marked_or_selected(&self) -> Vec<String> {
        if self.marks.is_empty() {
            self.selected()
                .map(|r| vec![r.id().to_string()])
                .unwrap_or_default()
        } else {
            self.marks.iter().cloned().collect()
        }
    }

    /// Marks the selected row, or unmarks it.
    pub fn toggle_selected(&mut self) {
        if let Some(id) = self.selected().map(|r| r.id().to_string()) {
            if !self.marks.remove(&id) {
                self.marks.insert(id);
            }
        }
    }

    /// Every row of the list: the window when it is whole, else one read of it all (only on
    /// an explicit action: mark all, export, act on all).
    pub fn whole(&self, read: &mut Reader<'_, T>) -> Result<Vec<T>, EngineError> {
        if self.is_whole() {
            return Ok(self.rows.clone());
        }
        Ok(read(0, 0, None)?.0)
    }

    /// Moves the cursor by `delta` rows, `page` rows being on screen.
    pub fn step(&mut self, delta: isize, page: usize) {
        self.cursor.step(delta, self.total);
        self.cursor.scroll_into_view(page);
    }

    /// Holds `rows` whole (a short list found by a scan, such as the stuck lens).
    pub fn hold(&mut self, rows: Vec<T>) {
        self.total = rows.len();
        self.rows = rows;
        self.from = 0;
        self.read_with = None;
        self.cursor.step(0, self.total);
    }

    /// Reads the window around the cursor for `query`, `page` rows being on screen, and
    /// keeps the cursor inside the list.
    pub fn read(
        &mut self,
        query: Q,
        page: usize,
        read: &mut Reader<'_, T>,
    ) -> Result<(), EngineError> {
        self.read_window(query, false, page, read)?;
        self.cursor.step(0, self.total);
        self.follow(page, read)
    }

    /// Reads again when the rows on screen (and the selection) are no longer in the window,
    /// so a cursor travels the whole list while only a window is held.
    pub fn follow(&mut self, page: usize, read: &mut Reader<'_, T>) -> Result<(), EngineError> {
        let Some(query) = self.read_with.clone() else {
            // A list held whole (or never read) has nothing more to read.
            return Ok(());
        };
        let shown = visible(&self.cursor, self.total, page);
        let wanted = shown.start.min(self.cursor.selected)..shown.end.max(self.cursor.selected + 1);
        let covered = self.total == 0
            || (wanted.start >= self.from
                && wanted.end.min(self.total) <= self.from + self.rows.len());
        if covered {
            return Ok(());
        }
        self.read_window(query, true, page, read)
    }

    /// Reads the window around the cursor; `sliding` (the cursor moved, nothing changed)
    /// reads only the rows the held window lacks.
    fn read_window(
        &mut self,
        query: Q,
        sliding: bool,
        page: usize,
        read: &mut Reader<'_, T>,
    ) -> Result<(), EngineError> {
        // A few screens either side, so paging within them reads nothing.
        let span = (page * 4).max(200);
        let start = self
            .cursor
            .offset
            .min(self.cursor.selected)
            .saturating_sub(page);
        let same_list = self.read_with.as_ref() == Some(&query);
        let (rows, from, total) = slide(
            (&self.rows, self.from),
            same_list,
            sliding,
            (start, span),
            read,
        )?;
        self.rows = rows;
        self.from = from;
        self.total = total;
        self.read_with = Some(query);
        Ok(())
    }
}

/// Moves a held window of rows `[from, from + rows.len())` to `[start, start + span)` and
/// returns the new rows, their first position and the list's total. Sliding (the cursor moved,
/// nothing changed), the rows already held are kept and only the missing ones are read, walked
/// from the held row next to them; otherwise the whole window is read, from the held window's
/// first row when it is the same list.
fn slide<T: Listed>(
    (rows, from): (&[T], usize),
    same_list: bool,
    sliding: bool,
    (start, span): (usize, usize),
    read: &mut Reader<'_, T>,
) -> Result<(Vec<T>, usize, usize), EngineError> {
    let end = start + span;
    let held_end = from + rows.len();
    if same_list && sliding {
        if let (Some(last), true) = (
            rows.last(),
            start >= from && start < held_end && end > held_end,
        ) {
            let near = Near {
                at: held_end - 1,
                seq: last.seq(),
            };
            let (more, total) = read(held_end, end - held_end, Some(near))?;
            let mut kept = rows[start - from..].to_vec();
            kept.extend(more);
            return Ok((kept, start.min(total), total));
        }
        if let (Some(first), true) = (rows.first(), start < from && end > from && end <= held_end) {
            let near = Near {
                at: from,
                seq: first.seq(),
            };
            let (mut more, total) = read(start, from - start, Some(near))?;
            more.extend_from_slice(&rows[..end - from]);
            return Ok((more, start.min(total), total));
        }
    }
    let near = rows.first().filter(|_| same_list).map(|r| Near {
        at: from,
        seq: r.seq(),
    });
    let (rows, total) = read(start, span, near)?;
    Ok((rows, start.min(total), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Row(u64);

    impl Listed for Row {
        fn id(&self) -> &str {
            "row"
        }
        fn seq(&self) -> Seq {
            self.0
        }
    }

    /// A list of `n` rows numbered from 0, counting the rows each read returns.
    fn list(
        n: u64,
        reads: &mut Vec<(usize, usize)>,
    ) -> impl FnMut(usize, usize, Option<Near>) -> Result<(Vec<Row>, usize), EngineError> + '_ {
        move |offset, limit, _| {
            reads.push((offset, limit));
            let end = if limit == 0 {
                n
            } else {
                (offset + limit) as u64
            };
            Ok(((offset as u64..end.min(n)).map(Row).collect(), n as usize))
        }
    }

    #[test]
    fn a_window_follows_the_cursor_and_reads_only_what_it_lacks() {
        let mut reads = Vec::new();
        let mut w: Windowed<Row, ()> = Windowed::default();
        w.read((), 10, &mut list(10_000, &mut reads)).unwrap();
        assert_eq!((w.from, w.rows.len(), w.total), (0, 200, 10_000));
        // Paging within the window reads nothing.
        w.step(100, 10);
        w.follow(10, &mut list(10_000, &mut reads)).unwrap();
        assert_eq!(reads.len(), 1);
        // Past it, only the rows the window lacks are read.
        w.step(100, 10);
        w.follow(10, &mut list(10_000, &mut reads)).unwrap();
        assert_eq!(reads.len(), 2);
        assert_eq!(reads[1].0, 200, "reads on from the held rows");
        assert_eq!(w.selected(), Some(&Row(200)));
        assert_eq!(w.from, 181, "a screen above the first row shown is kept");
    }

    #[test]
    fn a_list_held_whole_is_never_read_again() {
        let mut reads = Vec::new();
        let mut w: Windowed<Row, ()> = Windowed::default();
        w.hold(vec![Row(1), Row(2)]);
        w.step(5, 10);
        w.follow(10, &mut list(2, &mut reads)).unwrap();
        assert!(reads.is_empty());
        assert_eq!(w.selected(), Some(&Row(2)));
        assert!(w.is_whole());
    }
}
