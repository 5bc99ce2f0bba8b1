//! The arguments of `cachewatch failover` (a rehearsed failover on ElastiCache) and
//! `cachewatch report` (the yearly maintenance log).

use clap::{Args, ValueEnum};

/// `cachewatch failover`.
#[derive(Debug, Args)]
pub struct FailoverArgs {
    /// The replication group.
    #[arg(long, value_name = "ID")]
    pub replication_group: String,
    /// The node group (shard) whose primary fails over: 0001 for a group without cluster mode.
    #[arg(long, value_name = "ID")]
    pub node_group: String,
    /// Start it. Without --yes, only say what would be done and what stands in the way.
    #[arg(long)]
    pub yes: bool,
    /// Allow a replication group tagged as production (env, environment or stage = prod,
    /// production or prd), or one whose tags cannot be read.
    #[arg(long)]
    pub allow_production: bool,
    /// Measure the interruption with the probe beside the failover, on this Redis OSS or Valkey
    /// endpoint (redis://HOST:PORT), and record the longest gap as the drill's downtime.
    #[arg(long, value_name = "URL")]
    pub probe_url: Option<String>,
    /// How long to follow the failover's events before giving up: 15m, 1h, 90s.
    #[arg(long, default_value = "15m", value_name = "DURATION")]
    pub timeout: String,
}

/// How the log is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ReportFormatArg {
    /// Markdown tables.
    #[default]
    Markdown,
    /// CSV with a header row.
    Csv,
    /// An SVG bar chart of maintenances per month.
    Svg,
}

/// `cachewatch report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The year (default: the current one, in the --tz zone).
    #[arg(long, value_name = "YEAR")]
    pub year: Option<i32>,
    /// markdown, csv or svg.
    #[arg(long, value_enum, default_value_t = ReportFormatArg::Markdown, value_name = "FORMAT")]
    pub format: ReportFormatArg,
    /// Include drills.
    #[arg(long)]
    pub drills: bool,
    /// Look up each cluster's engine in ElastiCache (DescribeCacheClusters and
    /// DescribeReplicationGroups, with the standard AWS configuration); on by default with
    /// --store dynamodb.
    #[arg(long)]
    pub elasticache: bool,
}
