//! The lifecycle-graph checker shared by the property test and the crash suite.

use orderdesk::domain::LogLine;
use orderdesk::lifecycle::{
    CommandState, FaState, InState, LifecycleState, MaintState, OrchState, OutState,
};

/// A lifecycle state parsed from its code.
pub trait Parse: LifecycleState {
    /// The state with this code.
    fn parse_code(code: &str) -> Option<Self>;
}

macro_rules! parse_impl {
    ($($t:ty),*) => {$(
        impl Parse for $t {
            fn parse_code(code: &str) -> Option<Self> {
                <$t>::parse(code)
            }
        }
    )*};
}
parse_impl!(
    OrchState,
    MaintState,
    CommandState,
    FaState,
    OutState,
    InState
);

/// The transition lines of `log` are edges of `S`'s table, chained from PENDING to `state`,
/// and nothing follows a final state.
pub fn check_log<S: Parse>(id: &str, state: &str, log: &[LogLine]) -> Result<(), String> {
    let parse = |code: &str| {
        S::parse_code(code).ok_or_else(|| format!("{id}: unknown state {code} in its log"))
    };
    let mut current = parse("PENDING")?;
    for line in log {
        let (from, to) = match (&line.from, &line.to) {
            (Some(from), Some(to)) => (parse(from)?, parse(to)?),
            (None, None) => continue,
            _ => return Err(format!("{id}: half a transition in its log: {line:?}")),
        };
        if from != current {
            return Err(format!(
                "{id}: log jumps from {} to a transition out of {}",
                current.code(),
                from.code()
            ));
        }
        if current.is_final() {
            return Err(format!(
                "{id}: a transition after the final state {}",
                current.code()
            ));
        }
        if !from.allows(to) {
            return Err(format!(
                "{id}: {} -> {} is not in the table",
                from.code(),
                to.code()
            ));
        }
        current = to;
    }
    if current != parse(state)? {
        return Err(format!(
            "{id}: log ends in {} but the state is {state}",
            current.code()
        ));
    }
    Ok(())
}
