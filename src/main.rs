//! The `orderdesk` binary: the desk (TUI) without a subcommand, the engine's command line with one.

mod cli;

use clap::Parser;
use cli::{Cli, Failure};

fn main() {
    let args = Cli::parse();
    let code = match args.command {
        Some(command) => match cli::run(&args.global, command) {
            Ok(done) => done.exit,
            Err(failure) => report(&failure, args.global.json),
        },
        None => {
            eprintln!(
                "orderdesk: the desk is not built yet; the engine runs from the command line \
                 (try `orderdesk --help`)."
            );
            0
        }
    };
    std::process::exit(code);
}

/// Prints a failure: `{"error":{…}}` on stdout with `--json`, else a message on stderr.
fn report(failure: &Failure, json: bool) -> i32 {
    if json {
        let doc =
            serde_json::json!({ "error": { "code": failure.code, "message": failure.message } });
        println!("{doc}");
    } else {
        eprintln!("orderdesk: {}", failure.message);
    }
    failure.exit
}
