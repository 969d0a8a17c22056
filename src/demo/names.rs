//! The word lists the demo world draws names from, shipped in `assets/demo/` and built into the
//! binary, so the world needs no files at run time.

/// The word lists, one entry per non-blank, non-comment line of each file.
pub struct Names {
    /// Customers' first names.
    pub first: Vec<&'static str>,
    /// Customers' last names.
    pub last: Vec<&'static str>,
    /// Street names for addresses.
    pub streets: Vec<&'static str>,
    /// Contact-centre agents and field technicians.
    pub agents: Vec<&'static str>,
    /// Field crews' remarks on completed work.
    pub remarks: Vec<&'static str>,
    /// Field crews' reasons for work not done.
    pub not_done: Vec<&'static str>,
    /// Why customers call or chat.
    pub topics: Vec<&'static str>,
}

impl Names {
    /// The bundled lists.
    pub fn bundled() -> Names {
        Names {
            first: lines(include_str!("../../assets/demo/first_names.txt")),
            last: lines(include_str!("../../assets/demo/last_names.txt")),
            streets: lines(include_str!("../../assets/demo/streets.txt")),
            agents: lines(include_str!("../../assets/demo/agents.txt")),
            remarks: lines(include_str!("../../assets/demo/remarks.txt")),
            not_done: lines(include_str!("../../assets/demo/not_done.txt")),
            topics: lines(include_str!("../../assets/demo/topics.txt")),
        }
    }
}

fn lines(text: &'static str) -> Vec<&'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_list_has_entries() {
        let names = super::Names::bundled();
        for list in [
            &names.first,
            &names.last,
            &names.streets,
            &names.agents,
            &names.remarks,
            &names.not_done,
            &names.topics,
        ] {
            assert!(list.len() >= 5, "{list:?}");
        }
    }
}
