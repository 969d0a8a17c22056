//! `Keymap::parse` and `Keymap::defaults()?.with_user` on arbitrary UTF-8: no panic, and every
//! rejection names the file and a line within it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderdesk::tui::keymap::{Keymap, KeymapError};
use std::sync::OnceLock;

fn defaults() -> &'static Keymap {
    static DEFAULTS: OnceLock<Keymap> = OnceLock::new();
    DEFAULTS.get_or_init(|| Keymap::defaults().expect("the built-in keymap parses"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = Keymap::parse(text, "fuzz.toml") {
        check(text, "fuzz.toml", &error);
    }
    if let Err(error) = defaults().clone().with_user(text, "user.toml") {
        check(text, "user.toml", &error);
    }
});

/// The error names `file` and a line of `text`, and says something after that.
fn check(text: &str, file: &str, error: &KeymapError) {
    let lines = text.split('\n').count();
    let line = error.line().expect("a parse error names its line");
    assert!(
        (1..=lines).contains(&line),
        "line {line} outside 1..={lines}: {error}"
    );
    let rendered = error.to_string();
    let prefix = format!("{file}: line {line}: ");
    assert!(
        rendered.starts_with(&prefix),
        "{rendered:?} does not start {prefix:?}"
    );
    assert!(
        !rendered[prefix.len()..].trim().is_empty(),
        "no description: {rendered:?}"
    );
}
