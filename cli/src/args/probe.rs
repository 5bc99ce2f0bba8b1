//! The arguments of `cachewatch probe` (measured unavailability of a Redis endpoint).

use clap::Args;

/// `cachewatch probe`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The endpoint: redis://[USER:PASSWORD@]HOST[:PORT][/DB], or rediss://... for TLS. For
    /// ElastiCache, the primary endpoint (or, with cluster mode, one shard's node endpoint).
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// Speak TLS (in-transit encryption), as rediss:// does. Certificates are checked against the
    /// system's trusted ones (SSL_CERT_FILE and SSL_CERT_DIR are honoured).
    #[arg(long)]
    pub tls: bool,
    /// The password or AUTH token, when the URL holds none. Prefer the environment variable: a
    /// password given as an argument is visible to the other users of the machine.
    #[arg(
        long,
        env = "REDISCLI_AUTH",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub password: Option<String>,
    /// The time between ticks (each writes and reads the probe key): 100ms, 1s.
    #[arg(long, default_value = "100ms", value_name = "DURATION")]
    pub interval: String,
    /// How long to probe: 5m, 90s, 1h. Default: until Ctrl-C.
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// How long one tick may take before it counts as a timeout. Default: the interval, at
    /// least 250ms.
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Print the summary as one JSON object (the live status stays on standard error).
    #[arg(long)]
    pub json: bool,
}
