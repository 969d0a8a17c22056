//! Pure lifecycle rules: state tables, the readiness decision tables, validation and
//! completion events. Nothing here touches the disk, the clock or a terminal.

mod completion;
mod readiness;
mod validation;

pub use completion::*;
pub use readiness::*;
// The state tables are vocabulary every layer speaks: they live in `domain`, and the rules
// here build on them (never the other way round).
pub use crate::domain::states::*;
pub use validation::*;
