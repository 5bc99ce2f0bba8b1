//! The `cachewatch` binary as an operator runs it in a test: on a history in a temporary
//! directory, with nothing from the test's own environment but `PATH` and the variables the test
//! gives it (an AWS stand-in's, from its `env()`).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use crate::{output_with_input, workspace_bin};

/// An empty history and the binary pointed at it.
pub struct Operator {
    _dir: tempfile::TempDir,
    /// The history's SQLite file.
    pub db: PathBuf,
    /// The variables the binary gets beside `PATH` and `CACHEWATCH_DB`.
    pub aws: Vec<(&'static str, String)>,
}

/// How a run of the binary ended.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` when a signal ended it).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Self {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).expect("the binary writes UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("the binary writes UTF-8"),
        }
    }
}

impl Operator {
    /// On an empty history, with the variables `aws` (empty: no AWS configuration at all).
    pub fn new(aws: Vec<(&'static str, String)>) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = dir.path().join("history.db");
        Self { _dir: dir, db, aws }
    }

    /// `cachewatch {args}`, standard input empty, not started yet.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(workspace_bin("cachewatch"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("CACHEWATCH_DB", &self.db)
            .envs(self.aws.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `cachewatch {args}` to its end.
    pub fn run(&self, args: &[&str]) -> Run {
        self.command(args)
            .output()
            .expect("cachewatch starts")
            .into()
    }

    /// Runs `cachewatch {args}` and fails the test unless it succeeded.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code,
            Some(0),
            "cachewatch {args:?} failed:\n{}\n{}",
            run.stdout,
            run.stderr
        );
        run
    }

    /// `cachewatch ingest -` of `text`, failing the test unless it succeeded.
    pub fn ingest(&self, text: &str) -> Run {
        let run: Run = output_with_input(&mut self.command(&["ingest", "-"]), Some(text)).into();
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        run
    }
}
