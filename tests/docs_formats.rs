//! Every record shown in `docs/formats.md` parses as the command line reads it.

fn blocks(doc: &str, after: &str) -> String {
    let from = doc
        .find(after)
        .unwrap_or_else(|| panic!("docs/formats.md has `{after}`"));
    let rest = &doc[from..];
    let start = rest.find("```json\n").expect("a json block") + "```json\n".len();
    let end = rest[start..].find("```").expect("the block's end");
    rest[start..start + end].to_string()
}

#[test]
fn every_documented_record_parses() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/formats.md"))
        .expect("docs/formats.md");
    let import = blocks(&doc, "## Import records");
    let records = orderdesk::formats::parse_import(import.as_bytes())
        .unwrap_or_else(|e| panic!("the import example does not parse:\n{e}"));
    assert_eq!(records.len(), import.lines().count());
    let inbound = blocks(&doc, "## Inbound messages");
    let messages = orderdesk::formats::parse_inbound(inbound.as_bytes())
        .unwrap_or_else(|e| panic!("the inbound example does not parse:\n{e}"));
    assert_eq!(messages.len(), inbound.lines().count());
}
