//! The command line: what each subcommand takes.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod drill;
mod failover;
mod lint;
mod probe;

pub use drill::*;
pub use failover::*;
pub use lint::*;
pub use probe::*;

/// Watch ElastiCache maintenance and failure events: keep every event, follow each maintenance,
/// search the history.
#[derive(Debug, Parser)]
#[command(
    name = "cachewatch",
    version = env!("CACHEWATCH_VERSION"),
    about,
    max_term_width = 100
)]
pub struct Cli {
    /// Print only errors and what was asked for: no progress, notes or summaries.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Where the history is: a SQLite file on this machine, or the DynamoDB table of a deployed
    /// stack (with the standard AWS configuration: AWS_PROFILE, AWS_REGION, ...).
    #[arg(long, global = true, env = "CACHEWATCH_STORE", value_enum, default_value_t = StoreKind::Sqlite)]
    pub store: StoreKind,

    /// The DynamoDB table, with --store dynamodb.
    #[arg(long, global = true, env = "CACHEWATCH_TABLE", value_name = "NAME")]
    pub table: Option<String>,

    /// The SQLite database (default: $CACHEWATCH_DB, else cachewatch/cachewatch.db in the
    /// platform's data directory).
    #[arg(long, global = true, env = "CACHEWATCH_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// The time zone for times shown as text (an IANA name like Europe/Paris, or UTC).
    #[arg(
        long,
        global = true,
        env = "CACHEWATCH_TZ",
        value_name = "ZONE",
        default_value = "UTC"
    )]
    pub tz: String,

    /// The team's configuration: which events alert, routes, mutes (cachewatch.toml).
    #[arg(long, global = true, env = "CACHEWATCH_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// A directory of runbook templates that replace the built-in ones file by file.
    #[arg(
        long,
        global = true,
        env = "CACHEWATCH_RUNBOOK_DIR",
        value_name = "DIR"
    )]
    pub runbook_dir: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the history is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// A SQLite file on this machine.
    Sqlite,
    /// A deployed stack's DynamoDB table.
    Dynamodb,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read events (SNS notifications, Lambda SNS events, ElastiCache bodies, DescribeEvents output,
    /// console rows, JSON Lines of any of them) and store each occurrence once.
    Ingest(IngestArgs),
    /// Search the event history, newest first.
    Events(EventsArgs),
    /// One event and the maintenance it belongs to.
    Show(ShowArgs),
    /// Maintenances whose window has not ended, soonest deadline first.
    Upcoming(UpcomingArgs),
    /// The runbook for an event or maintenance: what to do, step by step, for whom.
    Runbook(RunbookArgs),
    /// Send the alerts still to send to Slack (after an outage, say).
    Notify(NotifyArgs),
    /// Read what ElastiCache still keeps (DescribeEvents: the last 14 days at most) and store
    /// what the history lacks; alerts as `ingest` does. Uses the standard AWS configuration.
    Backfill(BackfillArgs),
    /// Audit every link of the alert path: clusters to topic, the topic's policy and encryption,
    /// the ingest subscription, the dead-letter queue; with --fix, repair (after showing what
    /// changes).
    Audit(AuditArgs),
    /// Prove the alert path works: publish a synthetic notification to the topic and wait for it
    /// in the history (the deployed one: --store dynamodb). Never alerted, kept out of searches.
    Canary(CanaryArgs),
    /// See cachewatch work on a bundled timeline, in a temporary database.
    Demo,
    /// Drills: rehearse a maintenance or failure through the real pipeline, marked as a drill.
    Drill(DrillArgs),
    /// Record that you have seen an alert and are on it.
    Ack(AckArgs),
    /// Record a checklist step of a runbook as done.
    Step(StepArgs),
    /// Record how a maintenance was handled, for the team's log.
    Outcome(OutcomeArgs),
    /// Measure a Redis OSS or Valkey endpoint's unavailability: write and read a key every tick.
    Probe(ProbeArgs),
    /// Rehearse a failover on ElastiCache (TestFailover), with guard rails, recorded as a drill.
    Failover(FailoverArgs),
    /// The yearly maintenance log: a row per maintenance, totals per engine, a chart per month.
    Report(ReportArgs),
    /// Serve the HTTP door on this machine: Slack's slash command and buttons, the runbook and
    /// history pages, the search API, an SNS subscription endpoint.
    Serve(ServeArgs),
    /// Is the application ready for a maintenance? Find the Redis and Valkey clients a
    /// repository uses and the settings that fail during a failover (reads files only).
    Lint(LintArgs),
    /// Print the shell's completion script: `cachewatch completions bash > ...` (see the README).
    Completions(CompletionsArgs),
    /// Print the manual page (roff): `cachewatch man | man -l -`.
    Man,
}

/// `cachewatch completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// The shells completions are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
}

/// `cachewatch serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on. On a loopback address the pages open without signed links
    /// (unless CACHEWATCH_LINK_SECRET is set); anywhere else they need them.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub addr: std::net::SocketAddr,
}

/// `cachewatch ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The file to read, or `-` for standard input.
    #[arg(default_value = "-", value_name = "FILE|-")]
    pub input: String,
    /// Print the normalized events of the input as JSON, each with `"new"`.
    #[arg(long)]
    pub json: bool,
}

/// How a listing is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Listing {
    /// A readable table.
    #[default]
    Table,
    /// A JSON array of normalized events.
    Json,
    /// One normalized event a line, as JSON.
    JsonLines,
    /// CSV with a header row.
    Csv,
}

/// `cachewatch events`.
#[derive(Debug, Default, Args)]
pub struct EventsArgs {
    /// A cluster id, or a replication group id (which includes its member clusters).
    #[arg(long, value_name = "ID")]
    pub cluster: Option<String>,
    /// A node id, exactly as written ("0002").
    #[arg(long, value_name = "ID")]
    pub node: Option<String>,
    /// An event kind (node_replacement_scheduled, failover_complete, ...).
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// A category: node_replacement, failover, other.
    #[arg(long, value_name = "CATEGORY")]
    pub category: Option<String>,
    /// Events at or after: 2026-06-01, 2026-06-01T09:00:00Z, or a duration ago (7d, 12h).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Events before: the same forms as --since.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Words that must all appear, as whole words, in the message or identifiers.
    #[arg(long, value_name = "WORDS")]
    pub text: Option<String>,
    /// Events of this AWS account: its id, or its name in cachewatch.toml's [accounts].
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
    /// Events of this AWS Region (eu-west-1).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// The most events to show.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,
    /// Every matching event, however many, read and written a page at a time (an export: with
    /// --csv or --jsonl).
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
    /// Include drill events.
    #[arg(long)]
    pub drills: bool,
    /// Print a JSON array.
    #[arg(long, conflicts_with_all = ["csv", "jsonl"])]
    pub json: bool,
    /// Print JSON Lines: one normalized event a line.
    #[arg(long, conflicts_with = "csv")]
    pub jsonl: bool,
    /// Print CSV (cells a spreadsheet would run as formulas are prefixed with ').
    #[arg(long)]
    pub csv: bool,
}

impl EventsArgs {
    /// How to print.
    pub fn listing(&self) -> Listing {
        match (self.json, self.jsonl, self.csv) {
            (true, _, _) => Listing::Json,
            (_, true, _) => Listing::JsonLines,
            (_, _, true) => Listing::Csv,
            _ => Listing::Table,
        }
    }
}

/// `cachewatch show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// An event or maintenance id, or its first digits.
    pub id: String,
    /// Print JSON: the event, its maintenance, the maintenance's events and the cluster's facts.
    #[arg(long)]
    pub json: bool,
    /// Look nothing up in ElastiCache, even with AWS credentials at hand: the facts kept from
    /// the last lookup are shown, with when they were read.
    #[arg(long)]
    pub offline: bool,
}

/// `cachewatch notify`.
#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// Also send again the alerts Slack refused for good (after fixing the channel or token).
    #[arg(long)]
    pub retry_failed: bool,
}

/// `cachewatch runbook`.
#[derive(Debug, Args)]
pub struct RunbookArgs {
    /// An event or maintenance id, or its first digits.
    pub id: String,
    /// markdown, github (a checklist to paste into an issue), slack, text or html.
    #[arg(long, default_value = "markdown", value_name = "FORMAT")]
    pub format: String,
    /// Look nothing up in ElastiCache, even with AWS credentials at hand: the runbook then says
    /// what is not known and the commands that find it out.
    #[arg(long)]
    pub offline: bool,
}

/// `cachewatch upcoming`.
#[derive(Debug, Args)]
pub struct UpcomingArgs {
    /// Print JSON: an array of maintenances (with --service-updates, an object with
    /// `maintenances` and `service_updates`).
    #[arg(long)]
    pub json: bool,
    /// Include drill maintenances.
    #[arg(long)]
    pub drills: bool,
    /// Maintenances of this AWS account: its id, or its name in cachewatch.toml's [accounts].
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
    /// Maintenances in this AWS Region (eu-west-1).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Also list the service updates not applied yet (DescribeUpdateActions, with the standard
    /// AWS configuration); on by default with --store dynamodb.
    #[arg(long)]
    pub service_updates: bool,
    /// Look nothing up in ElastiCache, even with AWS credentials at hand: the facts kept from
    /// the last lookup are shown, with when they were read.
    #[arg(long)]
    pub offline: bool,
}

/// `cachewatch backfill`.
#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// Read events from this time on: 2026-11-20, 2026-11-20T09:00:00Z, or a duration ago (3d,
    /// 12h). Default: as far back as ElastiCache keeps (14 days).
    #[arg(long, value_name = "DATE", conflicts_with = "hours")]
    pub since: Option<String>,
    /// Read the events of the last N hours.
    #[arg(long, value_name = "N")]
    pub hours: Option<u32>,
    /// Show progress on standard error even when it is not a terminal.
    #[arg(long)]
    pub progress: bool,
    /// Print what was read as JSON (the normalized events, each with "new").
    #[arg(long)]
    pub json: bool,
}

/// `cachewatch canary`.
#[derive(Debug, Args)]
pub struct CanaryArgs {
    /// The topic to publish to (the stack's `TopicArn` output).
    #[arg(long, env = "CACHEWATCH_TOPIC_ARN", value_name = "ARN")]
    pub topic: Option<String>,
    /// Where a lost canary raises its alarm besides Slack: the stack's alarm topic (the
    /// `AlarmTopicArn` parameter, or the topic the `AlarmEmail` subscription is on).
    #[arg(long, env = "CACHEWATCH_ALARM_TOPIC_ARN", value_name = "ARN")]
    pub alarm_topic: Option<String>,
    /// How long to wait for the canary in the history, in seconds, before saying it was lost.
    #[arg(long, default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub wait: u64,
}

/// `cachewatch audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The topic every cluster should publish to (the stack's `TopicArn` output).
    #[arg(long, env = "CACHEWATCH_TOPIC_ARN", value_name = "ARN")]
    pub topic: Option<String>,
    /// The ingest function that should be subscribed to the topic: its ARN (the stack's
    /// `IngestFunctionArn` output), or the URL of an HTTP endpoint (`cachewatch serve`'s /sns).
    #[arg(long, env = "CACHEWATCH_INGEST_ARN", value_name = "ARN|URL")]
    pub ingest: Option<String>,
    /// The dead-letter queue that should be empty (the stack's `DeadLetterQueueUrl` output).
    #[arg(long, env = "CACHEWATCH_DEAD_LETTER_QUEUE_URL", value_name = "URL")]
    pub dead_letter_queue: Option<String>,
    /// Set the topic on every replication group and cluster that lacks it, add the statement
    /// ElastiCache needs to the topic's policy, and subscribe the ingest function.
    #[arg(long)]
    pub fix: bool,
    /// With --fix: apply without asking.
    #[arg(long, requires = "fix")]
    pub yes: bool,
    /// Print the audit as JSON.
    #[arg(long)]
    pub json: bool,
}
