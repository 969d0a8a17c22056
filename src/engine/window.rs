//! Windowed reads for the desk: only the rows on screen are read and decoded, walked in order
//! through the ordered indexes, with the total from the live counts where they can answer.
//!
//! Cost, honestly: when only index keys decide membership (no text filter, no type filter, an
//! operator who sees every type), a window at `offset` walks `min(offset, total - offset)` keys
//! (from whichever end is nearer) and decodes only `limit` records. A type filter or a division
//! restriction decodes records up to the window's end, and so does an error-code filter (its
//! index also holds children and communications; the total comes from the error counts). A
//! text filter or "mine" must look at every candidate record to count them: those scan.

use super::codec::read_activity;
use super::queries::{matches_filter, row_of, ActivityRow, ListFilter};
use super::tally::Tallies;
use super::{Actor, Engine, EngineError};
use crate::domain::{ActivityType, Seq};
use crate::store::{
    page_after, prefix_end, seq_from_key_tail, seq_key, text_prefix, walk_pages, Store, TreeId,
};
use crate::workorders::{WoStatus, WorkOrder};
use std::collections::VecDeque;
use std::ops::ControlFlow;

/// Keys one range read takes.
const PAGE: usize = 512;

/// Sequence numbers under one key prefix, in key order, read a page at a time.
struct PrefixCursor {
    prefix: Vec<u8>,
    /// Where the walk starts inside the prefix: the first key forward (inclusive), the key
    /// backward walks stop short of (exclusive); `None` = the prefix's end.
    bound: Option<Vec<u8>>,
    /// The last key read (the next page starts past it).
    last: Option<Vec<u8>>,
    /// Sequence numbers with the entries' values (a covering index holds its row there).
    buf: VecDeque<(Seq, Vec<u8>)>,
    done: bool,
}

/// A merge of several prefixes of one index by the sequence number at the end of each key:
/// the union of the state prefixes in sequence order, without reading them whole. With one
/// prefix it is that prefix in key order, whatever its keys end in.
struct SeqMerge<'s> {
    store: &'s dyn Store,
    tree: TreeId,
    reverse: bool,
    cursors: Vec<PrefixCursor>,
}

impl<'s> SeqMerge<'s> {
    fn new(store: &'s dyn Store, tree: TreeId, prefixes: Vec<Vec<u8>>, reverse: bool) -> Self {
        let cursors = prefixes
            .into_iter()
            .map(|prefix| PrefixCursor {
                prefix,
                bound: None,
                last: None,
                buf: VecDeque::new(),
                done: false,
            })
            .collect();
        SeqMerge {
            store,
            tree,
            reverse,
            cursors,
        }
    }

    /// Starts every prefix's walk at `bound` (see [`PrefixCursor::bound`]): for a walk of one
    /// prefix whose keys do not end in the start row's sequence number, such as the queue's.
    fn bounded(mut self, bound: Option<Vec<u8>>) -> Self {
        for c in &mut self.cursors {
            c.bound = bound.clone();
        }
        self
    }

    /// Starts the walk at a row: forward from it (or past it), backward from just before it.
    fn starting_at(mut self, start: Start) -> Self {
        if let Some((seq, past)) = start {
            let first = if past && !self.reverse {
                seq.saturating_add(1)
            } else {
                seq
            };
            for c in &mut self.cursors {
                let mut key = c.prefix.clone();
                key.extend_from_slice(&seq_key(first));
                c.bound = Some(key);
            }
        }
        self
    }

    /// The next sequence number in order, or `None` at the end.
    fn next_seq(&mut self) -> Result<Option<Seq>, EngineError> {
        Ok(self.next_entry()?.map(|(seq, _)| seq))
    }

    /// The next sequence number in order with its entry's value, or `None` at the end.
    fn next_entry(&mut self) -> Result<Option<(Seq, Vec<u8>)>, EngineError> {
        let mut best: Option<(usize, Seq)> = None;
        for i in 0..self.cursors.len() {
            refill(self.store, self.tree, self.reverse, &mut self.cursors[i])?;
            if let Some(&(seq, _)) = self.cursors[i].buf.front() {
                let better = match best {
                    None => true,
                    Some((_, b)) if self.reverse => seq > b,
                    Some((_, b)) => seq < b,
                };
                if better {
                    best = Some((i, seq));
                }
            }
        }
        Ok(best.and_then(|(i, _)| self.cursors[i].buf.pop_front()))
    }

    /// Skips `n` entries (keys only, no record read).
    fn skip(&mut self, n: usize) -> Result<(), EngineError> {
        for _ in 0..n {
            if self.next_seq()?.is_none() {
                break;
            }
        }
        Ok(())
    }
}

/// An orchestration-list row: the one its state-index entry holds (a covering index), or
/// built from the record when the entry holds none (the error index holds tags).
fn list_row(
    store: &dyn Store,
    tree: TreeId,
    seq: Seq,
    row: &[u8],
) -> Result<ActivityRow, EngineError> {
    if !matches!(tree, TreeId::ByState | TreeId::ByError) || row.is_empty() {
        return Ok(row_of(&read_activity(store, seq)?));
    }
    let mut row: ActivityRow = super::codec::decode(tree, &seq_key(seq), row)?;
    // The sequence is the entry's key, not part of the row as it is shown.
    row.seq = seq;
    Ok(row)
}

/// A queue row: the work order its index entry holds (the queue is a covering index, so a
/// window is one range read), or the record when the entry holds none.
fn queue_row(store: &dyn Store, seq: Seq, row: &[u8]) -> Result<WorkOrder, EngineError> {
    if row.is_empty() {
        return super::workorders::read_work_order(store, seq);
    }
    super::codec::decode(TreeId::Queue, &seq_key(seq), row)
}

/// The queue index in key order (its one prefix is the whole tree), from either end.
fn queue_keys(store: &dyn Store, reverse: bool) -> SeqMerge<'_> {
    SeqMerge::new(store, TreeId::Queue, vec![Vec::new()], reverse)
}

/// Reads the next page of one prefix when its buffer is empty.
fn refill(
    store: &dyn Store,
    tree: TreeId,
    reverse: bool,
    c: &mut PrefixCursor,
) -> Result<(), EngineError> {
    if c.done || !c.buf.is_empty() {
        return Ok(());
    }
    let end = prefix_end(&c.prefix);
    let span = match reverse {
        true => (c.prefix.as_slice(), c.bound.as_deref().or(end.as_deref())),
        false => (c.bound.as_deref().unwrap_or(&c.prefix), end.as_deref()),
    };
    let page = page_after(store, tree, span, c.last.as_deref(), PAGE, reverse)?;
    c.done = page.len() < PAGE;
    c.last = page.last().map(|(k, _)| k.clone());
    c.buf.extend(
        page.into_iter()
            .filter_map(|(k, v)| Some((seq_from_key_tail(&k)?, v))),
    );
    Ok(())
}

/// The state codes a top-level activity can have, in lifecycle order, once each.
/// Whether a walk goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// Hand over the next row.
    More,
    /// Stop here.
    Stop,
}

/// The index and key prefixes a list filter walks: the narrowest the filter names.
fn list_source(filter: &ListFilter) -> (TreeId, Vec<Vec<u8>>) {
    if let Some(code) = &filter.error_code {
        (TreeId::ByError, vec![super::keys::error_prefix(code, true)])
    } else if let Some(state) = &filter.state {
        (
            TreeId::ByState,
            vec![text_prefix(&state.to_ascii_uppercase())],
        )
    } else if let Some(sp) = &filter.sp {
        (TreeId::BySp, vec![text_prefix(sp)])
    } else {
        (
            TreeId::ByState,
            top_level_states().into_iter().map(text_prefix).collect(),
        )
    }
}

fn top_level_states() -> Vec<&'static str> {
    let mut codes: Vec<&'static str> = Vec::new();
    for code in crate::lifecycle::OrchState::ALL
        .iter()
        .map(|s| s.code())
        .chain(crate::lifecycle::MaintState::ALL.iter().map(|s| s.code()))
    {
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

/// A row the caller already holds and where it stands in the list: a window near it is walked
/// from its key instead of from an end of the index, so paging deep in a long list stays cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Near {
    /// The row's position in the (filtered) list when it was read.
    pub at: usize,
    /// Its sequence number.
    pub seq: Seq,
}

/// Where a walk starts: an end of the index (`None`), or a row's sequence number and whether
/// the walk starts past it (`true`; backward walks always do) or at it.
type Start = Option<(Seq, bool)>;

/// How to read rows `[offset, offset + limit)` of `total`: keys to skip, rows to take, whether
/// to walk backward, and where to start, whichever of the two ends and the `near` row walks the
/// fewest keys. Backward walks return rows last first.
fn plan(
    total: usize,
    offset: usize,
    limit: usize,
    near: Option<Near>,
) -> (usize, usize, bool, Start) {
    let end = offset.saturating_add(limit).min(total);
    let take = end.saturating_sub(offset);
    let from_end = total - end;
    let mut best = if from_end < offset {
        (from_end, take, true, None)
    } else {
        (offset, take, false, None)
    };
    if let Some(n) = near.filter(|n| n.at < total) {
        // Walks start past the near row, or at it for a window that begins there: either way a
        // near row that has left the list since costs no row of the window.
        if offset == n.at {
            best = (0, take, false, Some((n.seq, false)));
        } else if offset > n.at && offset - n.at - 1 < best.0 {
            best = (offset - n.at - 1, take, false, Some((n.seq, true)));
        } else if end <= n.at && n.at - end < best.0 {
            best = (n.at - end, take, true, Some((n.seq, true)));
        }
    }
    best
}

impl Engine {
    /// Top-level activities by state (non-zero counts), in lifecycle order, from the live counts.
    pub fn counts_by_state(&self) -> Result<Vec<(String, usize)>, EngineError> {
        let t = Tallies::current(self.store.as_ref())?;
        Ok(top_level_states()
            .into_iter()
            .filter_map(|code| {
                let n = t.in_state(code);
                (n > 0).then(|| (code.to_string(), n as usize))
            })
            .collect())
    }

    /// The error inbox: status-reason codes of top-level activities in an error state, with
    /// counts, ascending by code, from the live counts.
    pub fn error_groups(&self) -> Result<Vec<(String, usize)>, EngineError> {
        let t = Tallies::current(self.store.as_ref())?;
        Ok(t.errors
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(code, n)| (code, n as usize))
            .collect())
    }

    /// Open work orders by status (New, Sent, Setup), from the live counts.
    pub fn queue_counts(&self) -> Result<Vec<(WoStatus, usize)>, EngineError> {
        let t = Tallies::current(self.store.as_ref())?;
        Ok([WoStatus::New, WoStatus::Sent, WoStatus::Setup]
            .into_iter()
            .map(|s| {
                (
                    s,
                    t.queue.get(s.code()).copied().unwrap_or(0).max(0) as usize,
                )
            })
            .collect())
    }

    /// How many work orders are open, from the live counts.
    pub fn queue_len(&self) -> Result<usize, EngineError> {
        Ok(self.queue_counts()?.iter().map(|(_, n)| n).sum())
    }

    /// True when the division restriction hides no activity type from `actor`.
    fn sees_every_type(&self, actor: &Actor) -> bool {
        ActivityType::ALL
            .iter()
            .all(|t| self.visible_type(actor, Some(*t)))
    }

    /// How many top-level activities `filter` lists for `actor`, from the live counts, when
    /// they can tell: no service-point or text filter, and an error code only on its own (the
    /// error counts are by code alone).
    fn listed_count(&self, actor: &Actor, filter: &ListFilter, t: &Tallies) -> Option<usize> {
        if filter.sp.is_some() || !filter.text.is_empty() {
            return None;
        }
        if let Some(code) = &filter.error_code {
            let alone = filter.state.is_none() && filter.activity_type.is_none();
            return (alone && self.sees_every_type(actor))
                .then(|| t.errors.get(code).copied().unwrap_or(0).max(0) as usize);
        }
        let wanted_state = filter.state.as_ref().map(|s| s.to_ascii_uppercase());
        let mut n = 0i64;
        for (state, kinds) in &t.states {
            if wanted_state.as_ref().is_some_and(|w| w != state) {
                continue;
            }
            for (kind, count) in kinds {
                let typ = ActivityType::ALL.iter().copied().find(|t| t.code() == kind);
                if filter.activity_type.is_some_and(|want| typ != Some(want)) {
                    continue;
                }
                if self.visible_type(actor, typ) {
                    n += count;
                }
            }
        }
        Some(n.max(0) as usize)
    }

    /// The rows `[offset, offset + limit)` of `list(actor, filter)` (ascending by sequence;
    /// `limit` 0 = to the end), and how many rows the whole list has. Reads only the window
    /// unless a filter needs every record (see the module note).
    pub fn list_window(
        &self,
        actor: &Actor,
        filter: &ListFilter,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<ActivityRow>, usize), EngineError> {
        self.list_window_near(actor, filter, offset, limit, None)
    }

    /// [`Engine::list_window`], walking from the `near` row when that is shorter. If the list
    /// changed since `near` was read, the window follows the rows, not the positions.
    pub fn list_window_near(
        &self,
        actor: &Actor,
        filter: &ListFilter,
        offset: usize,
        limit: usize,
        near: Option<Near>,
    ) -> Result<(Vec<ActivityRow>, usize), EngineError> {
        let store = self.store.as_ref();
        let limit = if limit == 0 { usize::MAX } else { limit };
        let counted = self.listed_count(actor, filter, &Tallies::current(store)?);
        let (tree, prefixes) = list_source(filter);
        // Index keys alone decide membership: skip to the window without reading records.
        if let (Some(total), None, true) =
            (counted, filter.activity_type, self.sees_every_type(actor))
        {
            let (skip, take, reverse, start) = plan(total, offset, limit, near);
            let mut merge = SeqMerge::new(store, tree, prefixes, reverse).starting_at(start);
            merge.skip(skip)?;
            let mut rows = Vec::with_capacity(take.min(1024));
            while rows.len() < take {
                let Some((seq, row)) = merge.next_entry()? else {
                    break;
                };
                rows.push(list_row(store, tree, seq, &row)?);
            }
            if reverse {
                rows.reverse();
            }
            return Ok((rows, total));
        }
        // Records decide: read in order up to the window's end, or to the end to count.
        let mut rows = Vec::new();
        let mut seen = 0usize;
        self.list_each(actor, filter, |row| {
            if seen >= offset && rows.len() < limit {
                rows.push(row);
            }
            seen += 1;
            let done = counted.is_some() && rows.len() >= limit;
            Ok::<_, EngineError>(if done { Visit::Stop } else { Visit::More })
        })?;
        Ok((rows, counted.unwrap_or(seen)))
    }

    /// Every row of `list(actor, filter)` in order, handed to `visit` one at a time until it
    /// says stop: a list of any length is walked without being held, one record at a time.
    pub fn list_each<E: From<EngineError>>(
        &self,
        actor: &Actor,
        filter: &ListFilter,
        mut visit: impl FnMut(ActivityRow) -> Result<Visit, E>,
    ) -> Result<(), E> {
        let store = self.store.as_ref();
        let (tree, prefixes) = list_source(filter);
        let needle = filter.text.to_ascii_lowercase();
        let mut merge = SeqMerge::new(store, tree, prefixes, false);
        while let Some(seq) = merge.next_seq()? {
            let a = read_activity(store, seq)?;
            if !a.is_top_level() || !self.visible(actor, &a) || !matches_filter(&a, filter) {
                continue;
            }
            let row = row_of(&a);
            if !needle.is_empty() && !row.matches(&needle) {
                continue;
            }
            if visit(row)? == Visit::Stop {
                break;
            }
        }
        Ok(())
    }

    /// The rows `[offset, offset + limit)` of the open queue in its order (`limit` 0 = to the
    /// end), keeping `mine` and the text filter `text`, and how many orders match. Without
    /// `mine` or text only the window is read; with either, every open order is read to count.
    pub fn queue_window(
        &self,
        actor: &Actor,
        mine: bool,
        text: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<WorkOrder>, usize), EngineError> {
        self.queue_window_near(actor, mine, text, offset, limit, None)
    }

    /// [`Engine::queue_window`], walking from the `near` order when that is shorter.
    pub fn queue_window_near(
        &self,
        actor: &Actor,
        mine: bool,
        text: &str,
        offset: usize,
        limit: usize,
        near: Option<Near>,
    ) -> Result<(Vec<WorkOrder>, usize), EngineError> {
        let store = self.store.as_ref();
        let limit = if limit == 0 { usize::MAX } else { limit };
        if !mine && text.is_empty() {
            let total = self.queue_len()?;
            let (skip, take, reverse, start) = plan(total, offset, limit, near);
            // The queue's order is its key order, not sequence order: walk the one prefix, from
            // the `near` order's key when that is the shorter walk.
            let bound = match start {
                Some((seq, past)) => {
                    let mut key =
                        super::keys::queue_key(&super::workorders::read_work_order(store, seq)?);
                    if past && !reverse {
                        key.push(0);
                    }
                    Some(key)
                }
                None => None,
            };
            let mut keys = queue_keys(store, reverse).bounded(bound);
            keys.skip(skip)?;
            let mut rows = Vec::with_capacity(take.min(1024));
            while rows.len() < take {
                let Some((seq, row)) = keys.next_entry()? else {
                    break;
                };
                rows.push(queue_row(store, seq, &row)?);
            }
            if reverse {
                rows.reverse();
            }
            return Ok((rows, total));
        }
        let needle = text.to_ascii_lowercase();
        let mut keys = queue_keys(store, false);
        let mut rows = Vec::new();
        let mut seen = 0usize;
        while let Some((seq, row)) = keys.next_entry()? {
            let wo = queue_row(store, seq, &row)?;
            if mine && wo.scheduled_for.as_deref() != Some(actor.operator.as_str()) {
                continue;
            }
            if !needle.is_empty() && !crate::workorders::matches_text(&wo, &needle) {
                continue;
            }
            if seen >= offset && rows.len() < limit {
                rows.push(wo);
            }
            seen += 1;
        }
        Ok((rows, seen))
    }

    /// Where the open order `id` stands in the unfiltered queue, walking keys only up to it.
    pub fn queue_position(&self, id: &str) -> Result<Option<usize>, EngineError> {
        let store = self.store.as_ref();
        let Ok(wo) = self.work_order(id) else {
            return Ok(None);
        };
        if !crate::workorders::is_open(wo.status) {
            return Ok(None);
        }
        let key = super::keys::queue_key(&wo);
        let mut before = 0usize;
        walk_pages::<EngineError>(
            store,
            TreeId::Queue,
            (&[], Some(&key)),
            PAGE,
            false,
            |page| {
                before += page.len();
                Ok(ControlFlow::Continue(()))
            },
        )?;
        Ok(Some(before))
    }
}

#[cfg(test)]
mod tests {
    use super::plan;

    #[test]
    fn a_window_is_read_from_the_nearer_end() {
        assert_eq!(plan(100, 0, 10, None), (0, 10, false, None));
        assert_eq!(plan(100, 90, 10, None), (0, 10, true, None));
        assert_eq!(plan(100, 95, 10, None), (0, 5, true, None));
        assert_eq!(plan(100, 40, 10, None), (40, 10, false, None));
        assert_eq!(plan(100, 60, 10, None), (30, 10, true, None));
        assert_eq!(plan(5, 10, 10, None), (0, 0, true, None));
    }

    #[test]
    fn a_window_deep_in_a_long_list_is_read_from_a_row_held_near_it() {
        use super::Near;
        let near = |at| Some(Near { at, seq: 7 });
        assert_eq!(
            plan(1000, 500, 10, near(480)),
            (19, 10, false, Some((7, true)))
        );
        assert_eq!(
            plan(1000, 500, 10, near(530)),
            (20, 10, true, Some((7, true)))
        );
        assert_eq!(
            plan(1000, 500, 10, near(500)),
            (0, 10, false, Some((7, false)))
        );
        assert_eq!(
            plan(1000, 501, 10, near(500)),
            (0, 10, false, Some((7, true)))
        );
        // An end nearer than the row wins; a row past the end is ignored.
        assert_eq!(plan(1000, 5, 10, near(480)), (5, 10, false, None));
        assert_eq!(plan(100, 40, 10, near(400)), (40, 10, false, None));
    }
}
