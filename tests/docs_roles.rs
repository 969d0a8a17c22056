//! docs/roles.md is the role matrix the engine enforces: one row per capability, in the words
//! a refusal uses, with a mark for each role that may.

use orderdesk::domain::{permits, Capability, Role};

#[test]
fn the_role_matrix_in_the_docs_is_the_one_enforced() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/roles.md"))
        .expect("docs/roles.md");
    let rows: Vec<Vec<String>> = text
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| may"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), Capability::ALL.len(), "one row per capability");
    let roles = [Role::Supervisor, Role::Clerk, Role::Support];
    for (row, capability) in rows.iter().zip(Capability::ALL) {
        assert_eq!(row[0], capability.describe(), "the row's words");
        for (cell, role) in row[1..].iter().zip(roles) {
            let may = cell == "✓";
            assert_eq!(may, permits(role, capability), "{} for {role:?}", row[0]);
        }
    }
}
