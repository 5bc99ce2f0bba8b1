//! `cachewatch lint`: what it takes.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// `cachewatch lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// The repository to check.
    #[arg(default_value = ".", value_name = "PATH")]
    pub path: PathBuf,
    /// Print JSON.
    #[arg(long, conflicts_with = "sarif")]
    pub json: bool,
    /// Print SARIF 2.1.0, for code-scanning services.
    #[arg(long)]
    pub sarif: bool,
    /// The lowest severity that fails the run (exit code 1).
    #[arg(long, value_enum, default_value_t = FailOn::Error, value_name = "SEVERITY")]
    pub fail_on: FailOn,
    /// A directory of rule files (TOML) that add rules or replace built-in ones by id.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Check every repository directly under DIR and print a repository × rule table.
    #[arg(long, value_name = "DIR", conflicts_with = "sarif")]
    pub org_report: Option<PathBuf>,
}

/// The lowest severity that fails `cachewatch lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Errors fail the run.
    Error,
    /// Warnings and errors fail the run.
    Warning,
    /// Any finding fails the run.
    Note,
    /// Nothing fails the run.
    Never,
}
