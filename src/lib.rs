//! orderdesk: service-order orchestration for a utility, with an embedded engine.
//!
//! The layers, bottom up: [`store`] (the storage boundary), the pure core ([`domain`],
//! [`lifecycle`], [`throttle`], [`calendar`]), [`engine`] (one transaction per command or
//! monitor batch), and the front ends in the binary.

pub mod calendar;
pub mod client;
pub mod config;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod feed;
pub mod formats;
pub mod identity;
pub mod lifecycle;
pub mod listing;
pub mod logs;
pub mod progress;
pub mod runtime;
pub mod server;
pub mod store;
pub mod throttle;
pub mod timefmt;
pub mod tui;
pub mod width;
pub mod workorders;
