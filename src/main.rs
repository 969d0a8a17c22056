//! The `orderdesk` binary: the desk (TUI) without a subcommand, the engine's command line with one.

mod cli;

use clap::Parser;
use cli::{Cli, Failure};

fn main() {
    // Installed before the terminal is touched, so a panic in the desk restores it and reports.
    let _ = color_eyre::install();
    let args = Cli::parse();
    let code = match args.command {
        Some(command) => match cli::run(&args.global, command) {
            Ok(done) => done.exit,
            Err(failure) => report(&failure, args.global.json),
        },
        None => match cli::desk(&args.global) {
            Ok(()) => 0,
            Err(failure) => report(&failure, args.global.json),
        },
    };
    std::process::exit(code);
}

/// Prints a failure: `{"error":{…}}` on stdout with `--json`, else a message on stderr.
fn report(failure: &Failure, json: bool) -> i32 {
    if failure.code == cli::BROKEN_PIPE {
        return failure.exit;
    }
    if json {
        let doc =
            serde_json::json!({ "error": { "code": failure.code, "message": failure.message } });
        println!("{doc}");
    } else {
        eprintln!("orderdesk: {}", failure.message);
    }
    failure.exit
}
