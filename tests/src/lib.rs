//! What the cross-crate tests share: where the built binaries and the test tools are, and the
//! fixtures.
#![warn(missing_docs)]

pub mod browser;
pub mod burst;
pub mod conformance;
pub mod counting;
pub mod elasticache;
pub mod ingest_cost;
pub mod lambda;
pub mod moto;
pub mod redis;
pub mod server;
pub mod slack;
pub mod sns;
pub mod webhook;

use std::path::{Path, PathBuf};

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// A fixture's path (`tests/fixtures/NAME`).
pub fn fixture(name: &str) -> PathBuf {
    workspace_root().join("tests/fixtures").join(name)
}

/// A binary of this workspace, built by `cargo build --workspace --bins` (as `scripts/test` does)
/// into the same target directory as the running test.
pub fn workspace_bin(name: &str) -> PathBuf {
    // The test runs from target/<profile>/deps/; binaries sit in target/<profile>/.
    let exe = std::env::current_exe().expect("the test knows where it runs");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let bin = profile_dir.join(name);
    assert!(
        bin.exists(),
        "{} is not built: run `cargo build --workspace --bins` first (scripts/test does)",
        bin.display()
    );
    bin
}

/// A Python tool installed by `scripts/tools` (moto_server, aws, ...): from `CACHEWATCH_TOOLS_BIN`
/// when set, else the workspace's `.venv/bin`.
pub fn tool(name: &str) -> PathBuf {
    let dir = std::env::var_os("CACHEWATCH_TOOLS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin"));
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/tools (scripts/test does)",
        path.display()
    );
    path
}
