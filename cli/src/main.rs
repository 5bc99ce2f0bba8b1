//! `cachewatch`: the ingest pipeline, the history and the runbooks on one machine, with SQLite.

mod args;
mod commands;
mod output;
mod progress;
mod render;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = args::Cli::parse();
    output::set_quiet(args.quiet);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cachewatch: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = output::PipeOutput::new(std::io::stdout().lock());
    let done = runtime.block_on(commands::run(args, &mut out));
    let flushed = out.flush();
    match (done, flushed) {
        (Err(failure), _) => failure.report(),
        (Ok(()), _) if out.closed() => ExitCode::from(output::CLOSED_PIPE_EXIT),
        (Ok(()), Err(e)) => commands::Failure::from(e).report(),
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
    }
}
