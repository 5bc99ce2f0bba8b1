//! Logs, the same for every process: one line per record on standard error, `RUST_LOG` choosing
//! what (default `info`), no colours (Lambda sends standard error to CloudWatch as it is).

use tracing_subscriber::EnvFilter;

/// Starts logging; a second call changes nothing.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _already = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .try_init();
}
