//! Domain types: the vocabulary every other layer speaks (`spec/domain.md` §1).

mod activity;
mod audit;
mod comms;
mod kinds;
mod permissions;
mod reference;
mod request;
pub mod states;

pub use activity::*;
pub use audit::*;
pub use comms::*;
pub use kinds::*;
pub use permissions::*;
pub use reference::*;
pub use request::*;
