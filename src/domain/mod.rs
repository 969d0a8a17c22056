//! Domain types: the vocabulary every other layer speaks (`spec/domain.md` §1).

mod activity;
mod audit;
mod comms;
mod feed;
mod kinds;
mod messages;
mod permissions;
mod reference;
mod request;
pub mod states;
pub mod stored_time;
mod work_orders;

pub use activity::*;
pub use audit::*;
pub use comms::*;
pub use feed::*;
pub use kinds::*;
pub use messages::*;
pub use permissions::*;
pub use reference::*;
pub use request::*;
pub use work_orders::*;
