//! How the desk counts and lists what an action takes, in words ("3 work orders (WO-1, …)").

/// "1 work order", "3 work orders".
pub fn orders(n: usize) -> String {
    format!("{n} work order{}", if n == 1 { "" } else { "s" })
}

/// "1 activity", "3 activities".
pub fn activities(n: usize) -> String {
    if n == 1 {
        "1 activity".into()
    } else {
        format!("{n} activities")
    }
}

/// Up to four ids, else the first three and how many more.
pub fn preview(ids: &[String]) -> String {
    if ids.len() <= 4 {
        ids.join(", ")
    } else {
        format!("{}, … and {} more", ids[..3].join(", "), ids.len() - 3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_names_three_and_counts_the_rest() {
        let ids: Vec<String> = (1..=6).map(|i| format!("WO-{i}")).collect();
        assert_eq!(preview(&ids), "WO-1, WO-2, WO-3, … and 3 more");
        assert_eq!(preview(&ids[..2]), "WO-1, WO-2");
        assert_eq!(orders(1), "1 work order");
        assert_eq!(activities(2), "2 activities");
    }
}
