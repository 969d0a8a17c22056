//! `parse_import` on arbitrary bytes: no panic, and every rejection names a line within the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderdesk::formats::{parse_import, FileErrors};

fuzz_target!(|data: &[u8]| {
    if let Err(errors) = parse_import(data) {
        check_file_errors(data, &errors);
    }
});

/// Every error names a line of `data` (1-based) and says what is wrong; the rendering lists them.
fn check_file_errors(data: &[u8], errors: &FileErrors) {
    let lines = data.split(|&b| b == b'\n').count();
    assert!(!errors.0.is_empty(), "an Err with no errors");
    for error in &errors.0 {
        assert!(
            (1..=lines).contains(&error.line),
            "line {} outside 1..={lines}: {error}",
            error.line
        );
        assert!(!error.message.trim().is_empty(), "empty message: {error:?}");
        if let Some(field) = &error.field {
            assert!(!field.trim().is_empty(), "empty field name: {error:?}");
        }
        assert!(error
            .to_string()
            .starts_with(&format!("line {}: ", error.line)));
    }
    assert!(
        errors.0.windows(2).all(|w| w[0].line <= w[1].line),
        "errors out of line order"
    );
    let text = errors.to_string();
    assert!(
        text.starts_with("line "),
        "rendering names no line: {text:?}"
    );
}
