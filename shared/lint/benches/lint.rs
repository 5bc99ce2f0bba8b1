//! How long `cachewatch lint` takes on a large repository: a generated tree of 100,000 files
//! (sources, configuration, manifests, ignored build output), linted with the built-in rules.
//!
//! `cargo bench -p cachewatch-lint --bench lint [-- FILES]` prints the median of five runs.

use std::path::Path;
use std::time::{Duration, Instant};

use cachewatch_lint::{RuleSet, lint_repository};

/// Writes a repository of about `files` files under `root`.
fn generate(root: &Path, files: usize) {
    std::fs::write(root.join(".gitignore"), "target/\n").unwrap();
    std::fs::write(
        root.join("pom.xml"),
        "<project><dependencies><dependency><groupId>io.lettuce</groupId>\
         <artifactId>lettuce-core</artifactId><version>6.1.5.RELEASE</version>\
         </dependency></dependencies></project>\n",
    )
    .unwrap();
    let per_dir = 100;
    for i in 0..files {
        let dir = root.join(format!(
            "module{:03}/src/pkg{:03}",
            i / (per_dir * 10),
            (i / per_dir) % 10
        ));
        if i % per_dir == 0 {
            std::fs::create_dir_all(&dir).unwrap();
        }
        let (name, body) = match i % 10 {
            0 => (
                format!("Config{i}.java"),
                format!(
                    "package p;\nclass Config{i} {{\n  void f() {{\n    java.security.Security.setProperty(\"networkaddress.cache.ttl\", \"{}\");\n  }}\n}}\n",
                    if i % 1000 == 0 { "-1" } else { "10" }
                ),
            ),
            1 => (
                format!("application-{i}.yml"),
                "spring:\n  data:\n    redis:\n      timeout: 2s\n".to_string(),
            ),
            2 => (
                format!("client{i}.ts"),
                "import Redis from 'ioredis';\nexport const r = new Redis({ host: 'h' });\n"
                    .to_string(),
            ),
            3 => (
                format!("cache{i}.py"),
                "import redis\nr = redis.Redis(host='h', socket_timeout=2)\n".to_string(),
            ),
            4 => (
                format!("main{i}.go"),
                "package main\n\nfunc main() {}\n".to_string(),
            ),
            5 => (format!("notes{i}.md"), "# notes\n".repeat(20)),
            6 => (format!("image{i}.png"), "\u{89}PNG".to_string()),
            _ => (
                format!("Service{i}.java"),
                "package p;\n".to_string() + &"// code\n".repeat(40),
            ),
        };
        std::fs::write(dir.join(name), body).unwrap();
    }
    let ignored = root.join("target/classes");
    std::fs::create_dir_all(&ignored).unwrap();
    for i in 0..1000 {
        std::fs::write(
            ignored.join(format!("Gen{i}.java")),
            "networkaddress.cache.ttl=-1\n",
        )
        .unwrap();
    }
}

fn main() {
    let files: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    generate(dir.path(), files);
    println!("generated {files} files in {:.1?}", started.elapsed());
    let rules = RuleSet::embedded().unwrap();
    let mut times: Vec<Duration> = Vec::new();
    let mut findings = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let report = lint_repository(dir.path(), &rules).unwrap();
        times.push(started.elapsed());
        findings = report.findings.len();
    }
    times.sort();
    println!(
        "lint of {files} files ({findings} findings), {} threads: median {:.2?}, min {:.2?}, max {:.2?}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        times[2],
        times[0],
        times[4]
    );
}
