//! Pure lifecycle rules: state tables, the readiness decision tables, validation and
//! completion events. Nothing here touches the disk, the clock or a terminal.

mod completion;
mod readiness;
mod states;
mod validation;

pub use completion::*;
pub use readiness::*;
pub use states::*;
pub use validation::*;
