//! The subcommands: each turns its arguments into domain types, calls the domain, and prints.

mod audit;
mod backfill;
mod canary;
mod conventions;
mod demo;
mod drill;
mod events;
mod facts;
mod failover;
mod ingest;
mod lines;
mod lint;
mod notify;
mod probe;
mod report;
mod respond;
mod runbook;
mod serve;
mod show;
mod upcoming;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use cachewatch_adapters::SqliteStore;
use cachewatch_adapters::aws::SdkConfig;
use cachewatch_adapters::dynamo::DynamoStore;
use cachewatch_adapters::elasticache::ElastiCache;
use cachewatch_adapters::placed_facts::PlacedFacts;
use cachewatch_app::config_at;
use cachewatch_app::lookup::{self, Resolved};
use cachewatch_core::history::store::EventStore;
use cachewatch_core::model::event::EventId;
use cachewatch_core::model::timefmt::Zone;
use chrono::{DateTime, Utc};

use crate::args::{Cli, Command, StoreKind};

/// How a command failed, and the exit code that says so.
#[derive(Debug)]
pub enum Failure {
    /// The input or the arguments are wrong (exit 2): nothing was changed.
    Input(anyhow::Error),
    /// Something else went wrong (exit 1).
    Other(anyhow::Error),
}

impl Failure {
    /// Prints the failure with its causes and gives the exit code.
    pub fn report(self) -> ExitCode {
        let (error, code) = match self {
            Failure::Input(e) => (e, 2),
            Failure::Other(e) => (e, 1),
        };
        eprintln!("cachewatch: {}", crate::output::error_line(&error));
        if let Some(remedy) = crate::output::remedy(&error) {
            eprintln!("cachewatch: {remedy}");
        }
        ExitCode::from(code)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Other(e.into())
    }
}

impl From<cachewatch_core::StoreError> for Failure {
    fn from(e: cachewatch_core::StoreError) -> Self {
        Failure::Other(e.into())
    }
}

/// What every command works with.
pub struct Context<S> {
    /// The history.
    pub store: S,
    /// The team's configuration.
    pub config: cachewatch_core::config::Config,
    /// The directory of runbook overrides, if any.
    pub runbook_dir: Option<PathBuf>,
    /// The zone times are shown in.
    pub zone: Zone,
    /// The time the command runs at.
    pub now: DateTime<Utc>,
    /// ElastiCache, when the history is a deployed stack's (the command works against an AWS
    /// account), for what the command asks of the caller's own account.
    pub elasticache: Option<ElastiCache>,
    /// The facts of the history's clusters, each read where its event happened (see
    /// [`PlacedFacts::for_caller`]), when the history is a deployed stack's: alerts and previews
    /// say what it knows of the clusters.
    pub facts: Option<PlacedFacts>,
}

impl Context<()> {
    /// This context on `store`, with ElastiCache when the history is a deployed stack's.
    fn on<S>(self, store: S, sdk: Option<&SdkConfig>) -> Context<S> {
        let facts = sdk.map(|sdk| {
            PlacedFacts::for_caller(ElastiCache::from_sdk_config(sdk), &self.config, sdk)
        });
        Context {
            store,
            config: self.config,
            runbook_dir: self.runbook_dir,
            zone: self.zone,
            now: self.now,
            elasticache: sdk.map(ElastiCache::from_sdk_config),
            facts,
        }
    }
}

/// Runs the command line.
pub async fn run(cli: Cli, out: &mut dyn Write) -> Result<(), Failure> {
    match &cli.command {
        Command::Completions(args) => return conventions::completions(args.shell, out),
        Command::Man => return conventions::man_page(out),
        Command::Lint(args) => return lint::run(args, out),
        _ => {}
    }
    let zone: Zone = cli
        .tz
        .parse()
        .map_err(|e: cachewatch_core::model::timefmt::BadZone| Failure::Input(anyhow!(e)))?;
    let now = Utc::now();
    let config = cachewatch_adapters::files::read_config(cli.config.as_deref())
        .map_err(|e| Failure::Input(e.into()))?;
    if let Command::Demo = cli.command {
        return demo::run(zone, now, &mut *out).await;
    }
    if let Command::Probe(args) = &cli.command {
        return probe::run(args, zone, &mut *out).await;
    }
    let ctx = Context {
        store: (),
        config,
        runbook_dir: cli.runbook_dir,
        zone,
        now,
        elasticache: None,
        facts: None,
    };
    match cli.store {
        StoreKind::Sqlite => {
            let path = database_path(cli.db)?;
            let open = || SqliteStore::open(&path).map_err(|e| Failure::Other(e.into()));
            let resender = || {
                Ok(serve::Resender {
                    store: open()?,
                    facts: None,
                })
            };
            serve_or_dispatch(ctx.on(open()?, None), cli.command, resender, out).await
        }
        StoreKind::Dynamodb => {
            let table = cli.table.ok_or_else(|| {
                Failure::Input(anyhow!(
                    "--store dynamodb needs the table: --table NAME or CACHEWATCH_TABLE"
                ))
            })?;
            let sdk = cachewatch_adapters::aws::load().await;
            let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
            let store = DynamoStore::new(dynamodb.clone(), table.clone());
            let ctx = ctx.on(store, Some(&sdk));
            let facts =
                PlacedFacts::for_caller(ElastiCache::from_sdk_config(&sdk), &ctx.config, &sdk);
            let resender = || {
                Ok(serve::Resender {
                    store: DynamoStore::new(dynamodb, table),
                    facts: Some(facts),
                })
            };
            serve_or_dispatch(ctx, cli.command, resender, out).await
        }
    }
}

/// Serves with `resender` beside `ctx`, or runs any other command on `ctx`, its configuration
/// read with the mutes set in Slack first.
async fn serve_or_dispatch<S: cachewatch_app::Store + 'static>(
    mut ctx: Context<S>,
    command: Command,
    resender: impl FnOnce() -> Result<serve::Resender<S>, Failure>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    ctx.config = config_at(&ctx.store, &ctx.config, ctx.now).await;
    if let Command::Serve(args) = &command {
        return serve::run(ctx, resender()?, args, out).await;
    }
    dispatch(&ctx, command, out).await
}

/// Runs a command on whichever store was chosen, then says which stored records it had to skip.
async fn dispatch<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    command: Command,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let result = run_command(ctx, command, out).await;
    report_unreadable(&ctx.store);
    result
}

/// Warns on standard error about each stored record the command met but could not read: the
/// command went on without it.
fn report_unreadable<S: EventStore>(store: &S) {
    for unreadable in store.take_unreadable() {
        eprintln!("cachewatch: warning: {unreadable}");
    }
}

/// Runs one command.
async fn run_command<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    command: Command,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    match command {
        Command::Ingest(args) => ingest::run(ctx, &args, out).await,
        Command::Events(args) => events::run(ctx, &args, out).await,
        Command::Show(args) => show::run(ctx, &args, out).await,
        Command::Upcoming(args) => upcoming::run(ctx, &args, out).await,
        Command::Runbook(args) => runbook::run(ctx, &args, out).await,
        Command::Notify(args) => notify::run(ctx, &args, out).await,
        Command::Backfill(args) => backfill::run(ctx, &args, out).await,
        Command::Audit(args) => audit::run(&args, out).await,
        Command::Canary(args) => canary::run(ctx, &args, out).await,
        Command::Demo => unreachable!("the demo has its own store"),
        Command::Drill(args) => drill::run(ctx, &args, out).await,
        Command::Ack(args) => respond::ack(ctx, &args, out).await,
        Command::Step(args) => respond::step(ctx, &args, out).await,
        Command::Outcome(args) => respond::outcome(ctx, &args, out).await,
        Command::Failover(args) => failover::run(ctx, &args, out).await,
        Command::Report(args) => report::run(ctx, &args, out).await,
        Command::Probe(_) => unreachable!("the probe needs no store"),
        Command::Serve(_) => unreachable!("serve owns its store"),
        Command::Completions(_) | Command::Man => unreachable!("these need no store"),
        Command::Lint(_) => unreachable!("lint reads files, not the history"),
    }
}

/// ElastiCache, with the standard AWS configuration (profiles, `AWS_REGION`, `AWS_ENDPOINT_URL`).
pub async fn elasticache() -> ElastiCache {
    ElastiCache::from_sdk_config(&cachewatch_adapters::aws::load().await)
}

/// `--db`, else `$CACHEWATCH_DB` (clap reads both), else the platform's data directory.
fn database_path(given: Option<PathBuf>) -> Result<PathBuf, Failure> {
    if let Some(path) = given {
        return Ok(path);
    }
    let dir = dirs::data_dir().ok_or_else(|| {
        Failure::Input(anyhow!(
            "no data directory on this platform: give --db PATH"
        ))
    })?;
    Ok(dir.join("cachewatch").join("cachewatch.db"))
}

/// The event a person means by `raw`: a whole id, or the first digits of exactly one.
pub async fn resolve_id<S: EventStore>(store: &S, raw: &str) -> Result<EventId, Failure> {
    match lookup::resolve(store, raw).await? {
        Resolved::Id(id) => Ok(id),
        other => Err(unresolved(raw, other)),
    }
}

/// Why `raw` names no single event, as `resolved` says.
pub fn unresolved(raw: &str, resolved: Resolved) -> Failure {
    match resolved {
        Resolved::Id(id) => Failure::Other(anyhow!("{raw} names the event {id}")),
        Resolved::NotAnId => {
            Failure::Input(anyhow!("{raw:?} is not an event id (4 to 20 hex digits)"))
        }
        Resolved::Nothing => Failure::Input(anyhow!("no event has an id starting with {raw}")),
        Resolved::Ambiguous(ids) => Failure::Input(anyhow!(
            "{raw} is ambiguous: {}{} — give more digits",
            ids.iter()
                .take(5)
                .map(EventId::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            if ids.len() > 5 { ", …" } else { "" }
        )),
    }
}

/// Reads a whole input: a file, or standard input for `-`.
pub fn read_input(input: &str) -> Result<String, Failure> {
    if input == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text)
            .context("cannot read standard input")
            .map_err(Failure::Input)?;
        return Ok(text);
    }
    std::fs::read_to_string(Path::new(input))
        .with_context(|| format!("cannot read {input}"))
        .map_err(Failure::Input)
}

/// Writes `value` as pretty JSON and a newline.
pub fn write_json(out: &mut dyn Write, value: &impl serde::Serialize) -> Result<(), Failure> {
    serde_json::to_writer_pretty(&mut *out, value).context("cannot write JSON")?;
    writeln!(out)?;
    Ok(())
}
