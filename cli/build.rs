//! Names the commit the binary is built from in `cachewatch --version`: `0.1.0 (3f9a2c7 2026-12-06)`,
//! from git when the sources are a checkout, else from `CACHEWATCH_COMMIT` (set by whoever builds
//! from a tarball), else `commit unknown`.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    println!("cargo:rerun-if-env-changed=CACHEWATCH_COMMIT");
    let commit = std::env::var("CACHEWATCH_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| {
            // Built again when HEAD moves: the checkout's HEAD, the branch it names, packed refs.
            if let Some(git_dir) = git(&["rev-parse", "--git-dir"]) {
                let git_dir = PathBuf::from(git_dir);
                println!("cargo:rerun-if-changed={}", git_dir.join("HEAD").display());
                if let (Some(common), Some(head)) = (
                    git(&["rev-parse", "--git-common-dir"]),
                    git(&["symbolic-ref", "-q", "HEAD"]),
                ) {
                    let common = PathBuf::from(common);
                    println!("cargo:rerun-if-changed={}", common.join(head).display());
                    println!(
                        "cargo:rerun-if-changed={}",
                        common.join("packed-refs").display()
                    );
                }
            }
            git(&["log", "-1", "--format=%h %cs"])
        })
        .unwrap_or_else(|| "commit unknown".to_owned());
    println!("cargo:rustc-env=CACHEWATCH_VERSION={version} ({commit})");
}
