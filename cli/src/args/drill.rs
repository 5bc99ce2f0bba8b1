//! The arguments of drills and of the responses people record: `drill`, `ack`, `step`, `outcome`.

use clap::{Args, Subcommand, ValueEnum};

/// `cachewatch drill`.
#[derive(Debug, Args)]
pub struct DrillArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: DrillCommand,
}

/// The drill subcommands.
#[derive(Debug, Subcommand)]
pub enum DrillCommand {
    /// The scenarios a drill can rehearse.
    List(DrillListArgs),
    /// Inject a scenario's events, marked as a drill, through the same ingest, alerts and
    /// runbooks as real events (failure-menu prints a plan instead).
    Start(DrillStartArgs),
    /// How drills went: time to acknowledge, to the first checklist step, to done.
    Report(DrillReportArgs),
}

/// `cachewatch drill list`.
#[derive(Debug, Args)]
pub struct DrillListArgs {
    /// Print a JSON array of `{name, description}`.
    #[arg(long)]
    pub json: bool,
}

/// `cachewatch drill start`.
#[derive(Debug, Args)]
pub struct DrillStartArgs {
    /// The scenario (see `cachewatch drill list`).
    #[arg(long, value_name = "NAME")]
    pub scenario: String,
    /// The cache cluster the drill is about (a member cluster of a replication group, like
    /// orders-0001-001; for failure-menu, the replication group).
    #[arg(long, value_name = "ID")]
    pub cluster: String,
    /// The node (default 0001).
    #[arg(long, value_name = "ID")]
    pub node: Option<String>,
    /// The replication group (default: the one the cluster's name points at).
    #[arg(long, value_name = "ID")]
    pub replication_group: Option<String>,
    /// failure-menu: how many shards (node groups).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=500))]
    pub shards: Option<u32>,
    /// failure-menu: how many replicas each shard has.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=5))]
    pub replicas: Option<u32>,
    /// Print JSON: the drill id, its events and maintenances (failure-menu: the plan).
    #[arg(long)]
    pub json: bool,
}

/// `cachewatch drill report`.
#[derive(Debug, Args)]
pub struct DrillReportArgs {
    /// A drill id, or the id of one of its events or maintenances (default: every drill, newest
    /// first).
    pub id: Option<String>,
    /// Print JSON (an array without an id).
    #[arg(long)]
    pub json: bool,
}

/// `cachewatch ack`.
#[derive(Debug, Args)]
pub struct AckArgs {
    /// An event or maintenance id (or its first digits), or a drill id.
    pub id: String,
    /// Who takes it on (default: $USER).
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

/// `cachewatch step`.
#[derive(Debug, Args)]
pub struct StepArgs {
    /// An event or maintenance id (or its first digits), or a drill id.
    pub id: String,
    /// The step's number in the runbook's checklist.
    #[arg(value_parser = clap::value_parser!(u32).range(1..=999))]
    pub step: u32,
    /// Who did it (default: $USER).
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

/// How a maintenance was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Handled {
    /// Failed over by hand, ahead of the window.
    ManualFailover,
    /// Let it run in its maintenance window.
    Waited,
    /// Moved the maintenance window.
    MovedWindow,
    /// Restored from a backup.
    RestoredBackup,
    /// Rehearsed with ElastiCache's TestFailover.
    TestFailover,
    /// Canceled: nothing happened.
    Canceled,
    /// Something else (say what in --note).
    Other,
}

impl Handled {
    /// The value stored, as the Slack form stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Handled::ManualFailover => "manual-failover",
            Handled::Waited => "waited",
            Handled::MovedWindow => "moved-window",
            Handled::RestoredBackup => "restored-backup",
            Handled::TestFailover => "test-failover",
            Handled::Canceled => "canceled",
            Handled::Other => "other",
        }
    }
}

/// Yes or no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum YesNo {
    /// Yes.
    Yes,
    /// No.
    No,
}

/// `cachewatch outcome`.
#[derive(Debug, Args)]
pub struct OutcomeArgs {
    /// An event or maintenance id (or its first digits), or a drill id.
    pub id: String,
    /// How it was handled.
    #[arg(long, value_enum)]
    pub handled: Handled,
    /// Whether the site was put into maintenance.
    #[arg(long, value_enum, value_name = "yes|no")]
    pub site_maintenance: YesNo,
    /// How long users were affected: 90s, 2m, 1h30m.
    #[arg(long, value_name = "DURATION")]
    pub downtime: Option<String>,
    /// Anything worth remembering.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Who records it (default: $USER).
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handled_takes_exactly_the_values_the_slack_form_offers() {
        let cli: Vec<&str> = Handled::value_variants()
            .iter()
            .map(|h| h.as_str())
            .collect();
        let form: Vec<&str> = cachewatch_core::history::response::HANDLED
            .iter()
            .map(|(value, _)| *value)
            .collect();
        assert_eq!(cli, form);
        for h in Handled::value_variants() {
            let name = h.to_possible_value().expect("a visible value");
            assert_eq!(name.get_name(), h.as_str(), "--handled {}", h.as_str());
        }
    }
}
