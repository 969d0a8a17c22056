//! Test vectors TV-01 … TV-18 of `spec/domain.md` §10, one scenario each: given / when / then.

mod common;

use common::*;

const T0: &str = "2025-06-10T09:00:00Z";

/// Enable on SP-1 {none, src=true}.
fn enable_without_meter(w: &mut World) {
    w.import(T0, &[sp_line("SP-1", true, "null"), request("SO-1", "enable_service", "SP-1", "")].join("\n"));
}

#[test]
fn tv_01_enable_no_meter_creates_install_fa() {
    let mut w = World::new();
    enable_without_meter(&mut w);
    assert_eq!(w.state("SO-1"), "PENDING");
    w.tick(T0);
    let so = w.show("SO-1");
    assert_eq!(so.state, "IN_PROGRESS");
    assert_eq!(so.fields["expiration"], "2025-06-12T09:00:00Z");
    assert_eq!(so.children.len(), 1);
    let fa = &so.children[0];
    assert_eq!(fa.kind, "D1-InstallMeter");
    assert_eq!(fa.state, "COMM_IN_PROGRESS");
    let outbox = w.outbox();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].message, "fa_create");
    assert_eq!(outbox[0].state, "AWAITING_RESPONSE");
    let second = w.tick("2025-06-10T09:30:00Z");
    assert!(second.transitions.is_empty(), "{:?}", second.transitions);
}
