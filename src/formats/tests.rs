use super::*;
use proptest::prelude::*;
use proptest::sample::Index;

/// A valid building line, for the line-reading tests.
const BUILDING: &str = r#"{"kind":"building","id":"BLD-1"}"#;

/// One edit of a line: where, which byte, and whether to insert, replace or delete.
pub(super) type Edit = (Index, u8, u8);

/// A few random edits.
pub(super) fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec((any::<Index>(), any::<u8>(), 0u8..3), 1..8)
}

/// `line` with `edits` applied in turn.
pub(super) fn mutate(line: &str, edits: &[Edit]) -> Vec<u8> {
    let mut bytes = line.as_bytes().to_vec();
    for (at, byte, op) in edits {
        let i = at.index(bytes.len() + 1);
        match op {
            0 => bytes.insert(i, *byte),
            1 if i < bytes.len() => bytes[i] = *byte,
            _ if i < bytes.len() => {
                bytes.remove(i);
            }
            _ => {}
        }
    }
    bytes
}

fn errors(bytes: &[u8]) -> Vec<LineError> {
    parse_import(bytes).expect_err("rejected").0
}

fn the_error(bytes: &[u8]) -> LineError {
    let mut errors = errors(bytes);
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.remove(0)
}

#[test]
fn blank_lines_and_crlf_are_skipped_but_counted() {
    let input = format!(
        "\r\n{BUILDING}\r\n   \n\t\r\n{}\r\n",
        BUILDING.replace("BLD-1", "BLD-2")
    );
    let lines: Vec<usize> = parse_import(input.as_bytes())
        .expect("parses")
        .into_iter()
        .map(|(line, _)| line)
        .collect();
    assert_eq!(lines, [2, 5]);
}

#[test]
fn an_empty_file_has_no_records() {
    assert_eq!(parse_import(b""), Ok(vec![]));
    assert_eq!(parse_inbound(b"\n\n"), Ok(vec![]));
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let input = [BOM, BUILDING.as_bytes()].concat();
    assert_eq!(parse_import(&input).map(|r| r.len()), Ok(1));
}

#[test]
fn a_line_that_is_not_utf8_is_named() {
    let input = [
        BUILDING.as_bytes(),
        b"\n{\"kind\":\"building\",\"id\":\"\xff\"}",
    ]
    .concat();
    let e = the_error(&input);
    assert_eq!((e.line, e.field), (2, None));
    assert!(e.message.starts_with("not valid UTF-8"), "{}", e.message);
}

#[test]
fn an_oversized_line_is_refused_without_parsing_it() {
    let long = format!("{BUILDING}\n\n{}\n", " ".repeat(MAX_LINE_BYTES) + "x");
    assert_eq!(
        the_error(long.as_bytes()).to_string(),
        "line 3: longer than 1048576 bytes"
    );
    let at_limit = format!("{BUILDING}{}", " ".repeat(MAX_LINE_BYTES - BUILDING.len()));
    assert!(parse_import(at_limit.as_bytes()).is_ok());
}

#[test]
fn bad_json_is_named_with_its_column() {
    let e = the_error(b"{\"kind\":\"building\",\"id\":}");
    assert_eq!(
        e.to_string(),
        "line 1: not valid JSON: expected value (column 25)"
    );
}

#[test]
fn a_line_must_be_an_object() {
    let e = the_error(b"[1,2]");
    assert_eq!(
        e.to_string(),
        "line 1: expected a JSON object, found an array"
    );
}

#[test]
fn a_line_must_have_a_string_kind() {
    let missing = the_error(br#"{"id":"BLD-1"}"#);
    assert_eq!(missing.field.as_deref(), Some("kind"));
    assert!(missing.message.starts_with("missing"));
    let number = the_error(br#"{"kind":7,"id":"BLD-1"}"#);
    assert_eq!(
        number.to_string(),
        "line 1: field `kind`: expected a string, found a number"
    );
}

#[test]
fn an_unknown_kind_lists_the_known_ones() {
    let e = the_error(br#"{"kind":"ack","comm":"CO-1"}"#);
    assert_eq!(
        e.to_string(),
        "line 1: field `kind`: unknown kind `ack`, expected one of building, service_point, \
         customer, request, work_order, move_out, move_in, feed_item"
    );
}

#[test]
fn a_line_error_without_a_field_names_only_the_line() {
    let e = LineError {
        line: 3,
        field: None,
        message: "not valid JSON".into(),
    };
    assert_eq!(e.to_string(), "line 3: not valid JSON");
}

#[test]
fn file_errors_show_twenty_then_a_count() {
    let input = "x\n".repeat(23);
    let shown = errors(input.as_bytes());
    assert_eq!(shown.len(), 23);
    let text = FileErrors(shown).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 21);
    assert!(lines[19].starts_with("line 20: "));
    assert_eq!(lines[20], "… and 3 more");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_import(&bytes);
        let _ = parse_inbound(&bytes);
        let _ = parse_completion_report(&bytes);
    }

    #[test]
    fn arbitrary_json_shaped_text_never_panics(text in r#"[{}\[\]":,a-z0-9_ \n-]{0,200}"#) {
        let _ = parse_import(text.as_bytes());
        let _ = parse_inbound(text.as_bytes());
    }
}
