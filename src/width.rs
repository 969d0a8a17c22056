//! Display width: how many terminal columns text takes. A CJK character or an emoji takes two
//! columns, a combining mark none, so text is measured, cut and padded by `unicode-width`, the
//! measure ratatui itself draws with, never by counting characters or bytes.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The columns `text` takes on a terminal.
pub fn columns(text: &str) -> usize {
    text.width()
}

/// `text` cut to at most `width` columns, an ellipsis marking the cut.
pub fn fit(text: &str, width: usize) -> String {
    if columns(text) <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    // The ellipsis takes one column; a wide character that would cross the edge is left out.
    let mut cut = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        cut.push(c);
    }
    cut.push('…');
    cut
}

/// `text` followed by spaces up to `width` columns (as `{:<width$}` would for ASCII).
pub fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(columns(text));
    format!("{text}{}", " ".repeat(fill))
}

/// `text` fitted to exactly `width` columns: cut with an ellipsis, else padded.
pub fn fit_pad(text: &str, width: usize) -> String {
    pad(&fit(text, width), width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(columns("Ada"), 3);
        assert_eq!(columns("山田太郎"), 8);
        assert_eq!(columns("Zoë 🔌"), 6);
    }

    #[test]
    fn fit_cuts_by_columns_and_never_splits_a_wide_character() {
        assert_eq!(fit("HTTP 500: boom", 8), "HTTP 50…");
        assert_eq!(fit("山田太郎", 8), "山田太郎");
        assert_eq!(fit("山田太郎", 7), "山田太…");
        assert_eq!(fit("山田太郎", 6), "山田…");
        assert_eq!(columns(&fit("山田太郎", 6)), 5);
        assert_eq!(fit("x", 0), "");
    }

    #[test]
    fn fit_pad_always_fills_the_column() {
        for text in ["Ada", "山田太郎さん", "🔌🔌🔌🔌", ""] {
            for width in 0..12 {
                assert_eq!(columns(&fit_pad(text, width)), width, "{text:?} in {width}");
            }
        }
    }
}
