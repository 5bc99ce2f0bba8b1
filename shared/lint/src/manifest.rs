//! Which Redis and Valkey clients a repository uses, from its manifests and lock files.
//!
//! Read: Maven `pom.xml` (with `${property}` versions from the same file), Gradle
//! `build.gradle`, `build.gradle.kts` and `gradle.lockfile`, pip `requirements*.txt`,
//! `pyproject.toml` and `poetry.lock`, Go `go.mod`, npm `package.json` and `package-lock.json`,
//! NuGet `*.csproj` and `packages.lock.json`, Cargo `Cargo.toml` and `Cargo.lock`. Each file
//! is read as text with expressions, not built: a dependency is found where it is written.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// A Redis or Valkey client library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Client {
    /// Jedis (Java).
    Jedis,
    /// Lettuce (Java).
    Lettuce,
    /// Spring Data Redis, alone or through Spring Boot's starter (Java).
    SpringDataRedis,
    /// redis-py (Python).
    RedisPy,
    /// go-redis (Go).
    GoRedis,
    /// node-redis (JavaScript).
    NodeRedis,
    /// ioredis (JavaScript).
    Ioredis,
    /// StackExchange.Redis (.NET).
    StackexchangeRedis,
    /// redis-rs (Rust).
    RedisRs,
}

impl Client {
    /// The client's usual name.
    pub fn name(self) -> &'static str {
        match self {
            Client::Jedis => "Jedis",
            Client::Lettuce => "Lettuce",
            Client::SpringDataRedis => "Spring Data Redis",
            Client::RedisPy => "redis-py",
            Client::GoRedis => "go-redis",
            Client::NodeRedis => "node-redis",
            Client::Ioredis => "ioredis",
            Client::StackexchangeRedis => "StackExchange.Redis",
            Client::RedisRs => "redis-rs",
        }
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A client named by a manifest or lock file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Dependency {
    /// The file, relative to the repository.
    pub path: String,
    /// The line the client is named on, from 1.
    pub line: usize,
    /// The client.
    pub client: Client,
    /// The version or range as written, when the file gives one.
    pub version: Option<String>,
}

/// Whether a file of this name is a manifest or lock file this module reads.
pub fn is_manifest(name: &str) -> bool {
    matches!(
        name,
        "pom.xml"
            | "build.gradle"
            | "build.gradle.kts"
            | "gradle.lockfile"
            | "pyproject.toml"
            | "poetry.lock"
            | "go.mod"
            | "package.json"
            | "package-lock.json"
            | "packages.lock.json"
            | "Cargo.toml"
            | "Cargo.lock"
    ) || name.ends_with(".csproj")
        || (name.starts_with("requirements") && name.ends_with(".txt"))
}

/// The clients `text` names, when it is the manifest or lock file called `name`; `path` is
/// its path relative to the repository.
pub fn dependencies(name: &str, path: &str, text: &str) -> Vec<Dependency> {
    let found = match name {
        "pom.xml" => maven(text),
        "build.gradle" | "build.gradle.kts" | "gradle.lockfile" => gradle(text),
        "pyproject.toml" => pyproject(text),
        "poetry.lock" => lock_package(text, "redis", Client::RedisPy),
        "Cargo.lock" => lock_package(text, "redis", Client::RedisRs),
        "go.mod" => go_mod(text),
        "package.json" => package_json(text),
        "package-lock.json" => package_lock(text),
        "packages.lock.json" => nuget_lock(text),
        "Cargo.toml" => cargo_toml(text),
        _ if name.ends_with(".csproj") => csproj(text),
        _ if name.starts_with("requirements") => requirements(text),
        _ => Vec::new(),
    };
    let mut deps: Vec<Dependency> = found
        .into_iter()
        .map(|(offset, client, version)| Dependency {
            path: path.to_string(),
            line: line_of(text, offset),
            client,
            version: version
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty()),
        })
        .collect();
    deps.sort();
    deps.dedup();
    deps
}

/// The line (from 1) of byte `offset`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

type Found = Vec<(usize, Client, Option<String>)>;

fn regex(expr: &str) -> Regex {
    Regex::new(expr).expect("a built-in expression compiles")
}

/// The Java client of a Maven or Gradle artifact id.
fn java_artifact(artifact: &str) -> Option<Client> {
    match artifact {
        "jedis" => Some(Client::Jedis),
        "lettuce-core" => Some(Client::Lettuce),
        "spring-data-redis"
        | "spring-boot-starter-data-redis"
        | "spring-boot-starter-data-redis-reactive" => Some(Client::SpringDataRedis),
        _ => None,
    }
}

fn maven(text: &str) -> Found {
    static DEPENDENCY: LazyLock<Regex> =
        LazyLock::new(|| regex(r"(?s)<dependency>(.*?)</dependency>"));
    static ARTIFACT: LazyLock<Regex> =
        LazyLock::new(|| regex(r"<artifactId>\s*([^<\s]+)\s*</artifactId>"));
    static VERSION: LazyLock<Regex> =
        LazyLock::new(|| regex(r"<version>\s*([^<\s]+)\s*</version>"));
    static PROPERTY: LazyLock<Regex> = LazyLock::new(|| regex(r"^\$\{([\w.\-]+)\}$"));
    let mut found = Vec::new();
    for block in DEPENDENCY.captures_iter(text) {
        let body = block.get(1).expect("group 1");
        let Some(artifact) = ARTIFACT.captures(body.as_str()) else {
            continue;
        };
        let Some(client) = java_artifact(&artifact[1]) else {
            continue;
        };
        let version = VERSION.captures(body.as_str()).map(|v| {
            let written = v[1].to_string();
            match PROPERTY.captures(&written) {
                Some(p) => maven_property(text, &p[1]).unwrap_or(written),
                None => written,
            }
        });
        let offset = body.start() + artifact.get(0).expect("match").start();
        found.push((offset, client, version));
    }
    found
}

fn maven_property(text: &str, name: &str) -> Option<String> {
    let expr = format!(r"<{0}>\s*([^<\s]+)\s*</{0}>", regex::escape(name));
    Regex::new(&expr)
        .ok()?
        .captures(text)
        .map(|c| c[1].to_string())
}

fn gradle(text: &str) -> Found {
    static COORDINATE: LazyLock<Regex> = LazyLock::new(|| {
        regex(r#"(?m)(?:^|["'\s(])([\w.\-]+):([\w.\-]+)(?::([\w.\-+\[\](),]+))?(?:["'=@\s)]|$)"#)
    });
    COORDINATE
        .captures_iter(text)
        .filter_map(|c| {
            let client = java_artifact(&c[2])?;
            let offset = c.get(1).expect("group 1").start();
            Some((offset, client, c.get(3).map(|v| v.as_str().to_string())))
        })
        .collect()
}

fn requirements(text: &str) -> Found {
    static LINE: LazyLock<Regex> = LazyLock::new(|| {
        regex(
            r"(?mi)^[ \t]*redis(?:\[[^\]]*\])?[ \t]*((?:[=<>~!]=?|===)[ \t]*[^\s;#]+)?[ \t]*(?:[;#].*)?$",
        )
    });
    LINE.captures_iter(text)
        .map(|c| {
            let offset = c.get(0).expect("match").start();
            (
                offset,
                Client::RedisPy,
                c.get(1).map(|v| v.as_str().to_string()),
            )
        })
        .collect()
}

fn pyproject(text: &str) -> Found {
    static POETRY: LazyLock<Regex> = LazyLock::new(|| {
        regex(
            r#"(?m)^[ \t]*redis[ \t]*=[ \t]*(?:"([^"]*)"|\{[^}\n]*version[ \t]*=[ \t]*"([^"]*)")"#,
        )
    });
    static PEP621: LazyLock<Regex> =
        LazyLock::new(|| regex(r#"["']redis(?:\[[^\]]*\])?[ \t]*([<>=~!][^"';]*)?["';]"#));
    let mut found: Found = POETRY
        .captures_iter(text)
        .map(|c| {
            let version = c.get(1).or(c.get(2)).map(|v| v.as_str().to_string());
            (c.get(0).expect("match").start(), Client::RedisPy, version)
        })
        .collect();
    found.extend(PEP621.captures_iter(text).map(|c| {
        (
            c.get(0).expect("match").start(),
            Client::RedisPy,
            c.get(1).map(|v| v.as_str().to_string()),
        )
    }));
    found
}

/// `[[package]]` entries of a `poetry.lock` or `Cargo.lock`.
fn lock_package(text: &str, package: &str, client: Client) -> Found {
    let expr = format!(
        r#"(?m)^name = "{}"\s*\nversion = "([^"]+)""#,
        regex::escape(package)
    );
    Regex::new(&expr)
        .expect("a built-in expression compiles")
        .captures_iter(text)
        .map(|c| {
            (
                c.get(0).expect("match").start(),
                client,
                Some(c[1].to_string()),
            )
        })
        .collect()
}

fn go_mod(text: &str) -> Found {
    static MODULE: LazyLock<Regex> = LazyLock::new(|| {
        regex(
            r"(?m)(github\.com/redis/go-redis(?:/v\d+)?|github\.com/go-redis/redis(?:/v\d+)?)[ \t]+(v[\w.\-+]+)",
        )
    });
    MODULE
        .captures_iter(text)
        .map(|c| {
            (
                c.get(1).expect("group 1").start(),
                Client::GoRedis,
                Some(c[2].to_string()),
            )
        })
        .collect()
}

fn package_json(text: &str) -> Found {
    static ENTRY: LazyLock<Regex> =
        LazyLock::new(|| regex(r#""(ioredis|redis|@redis/client)"\s*:\s*"([^"]*)""#));
    npm_entries(&ENTRY, text)
}

fn package_lock(text: &str) -> Found {
    static ENTRY: LazyLock<Regex> = LazyLock::new(|| {
        regex(
            r#""node_modules/(ioredis|redis|@redis/client)"\s*:\s*\{\s*"version"\s*:\s*"([^"]+)""#,
        )
    });
    npm_entries(&ENTRY, text)
}

/// The npm packages `entry` finds (group 1 the package, group 2 its version): `ioredis`, or
/// node-redis (`redis`, `@redis/client`).
fn npm_entries(entry: &Regex, text: &str) -> Found {
    entry
        .captures_iter(text)
        .map(|c| {
            let client = if &c[1] == "ioredis" {
                Client::Ioredis
            } else {
                Client::NodeRedis
            };
            (
                c.get(0).expect("match").start(),
                client,
                Some(c[2].to_string()),
            )
        })
        .collect()
}

fn csproj(text: &str) -> Found {
    static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
        regex(r#"<PackageReference\b[^>]*\bInclude="StackExchange\.Redis"[^>]*>"#)
    });
    static VERSION: LazyLock<Regex> = LazyLock::new(|| regex(r#"\bVersion="([^"]+)""#));
    REFERENCE
        .find_iter(text)
        .map(|m| {
            let version = VERSION.captures(m.as_str()).map(|v| v[1].to_string());
            (m.start(), Client::StackexchangeRedis, version)
        })
        .collect()
}

fn nuget_lock(text: &str) -> Found {
    static ENTRY: LazyLock<Regex> = LazyLock::new(|| {
        regex(r#""StackExchange\.Redis"\s*:\s*\{[^}]*?"resolved"\s*:\s*"([^"]+)""#)
    });
    ENTRY
        .captures_iter(text)
        .map(|c| {
            (
                c.get(0).expect("match").start(),
                Client::StackexchangeRedis,
                Some(c[1].to_string()),
            )
        })
        .collect()
}

fn cargo_toml(text: &str) -> Found {
    static ENTRY: LazyLock<Regex> = LazyLock::new(|| {
        regex(
            r#"(?m)^[ \t]*redis[ \t]*=[ \t]*(?:"([^"]*)"|\{[^}\n]*version[ \t]*=[ \t]*"([^"]*)")"#,
        )
    });
    ENTRY
        .captures_iter(text)
        .map(|c| {
            let version = c.get(1).or(c.get(2)).map(|v| v.as_str().to_string());
            (c.get(0).expect("match").start(), Client::RedisRs, version)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str, text: &str) -> Vec<(Client, Option<String>, usize)> {
        dependencies(name, name, text)
            .into_iter()
            .map(|d| (d.client, d.version, d.line))
            .collect()
    }

    #[test]
    fn maven_resolves_a_version_property_of_the_same_pom() {
        let pom = "<project>\n<properties>\n<lettuce.version>6.1.5.RELEASE</lettuce.version>\n</properties>\n<dependencies>\n<dependency>\n<groupId>io.lettuce</groupId>\n<artifactId>lettuce-core</artifactId>\n<version>${lettuce.version}</version>\n</dependency>\n</dependencies>\n</project>\n";
        assert_eq!(
            one("pom.xml", pom),
            vec![(Client::Lettuce, Some("6.1.5.RELEASE".into()), 8)]
        );
    }

    #[test]
    fn gradle_coordinates_in_both_dsls_and_the_lockfile() {
        let groovy = "dependencies {\n  implementation 'redis.clients:jedis:5.1.0'\n}\n";
        assert_eq!(
            one("build.gradle", groovy),
            vec![(Client::Jedis, Some("5.1.0".into()), 2)]
        );
        let kts =
            "dependencies {\n  implementation(\"io.lettuce:lettuce-core:6.3.2.RELEASE\")\n}\n";
        assert_eq!(
            one("build.gradle.kts", kts),
            vec![(Client::Lettuce, Some("6.3.2.RELEASE".into()), 2)]
        );
        let lock = "io.lettuce:lettuce-core:6.1.4.RELEASE=compileClasspath,runtimeClasspath\n";
        assert_eq!(
            one("gradle.lockfile", lock),
            vec![(Client::Lettuce, Some("6.1.4.RELEASE".into()), 1)]
        );
    }

    #[test]
    fn python_names_redis_but_not_its_lookalikes() {
        let req = "redis-py-cluster==2.1.3\nredis[hiredis]==4.5.1 # cache\nredisearch\n";
        assert_eq!(
            one("requirements.txt", req),
            vec![(Client::RedisPy, Some("==4.5.1".into()), 2)]
        );
        let lock = "[[package]]\nname = \"redis\"\nversion = \"5.0.1\"\n";
        assert_eq!(
            one("poetry.lock", lock),
            vec![(Client::RedisPy, Some("5.0.1".into()), 2)]
        );
    }

    #[test]
    fn go_node_dotnet_and_rust_manifests() {
        assert_eq!(
            one(
                "go.mod",
                "require (\n\tgithub.com/redis/go-redis/v9 v9.5.1\n)\n"
            ),
            vec![(Client::GoRedis, Some("v9.5.1".into()), 2)]
        );
        assert_eq!(
            one(
                "package.json",
                "{\"dependencies\": {\n\"ioredis\": \"^5.3.2\"}}"
            ),
            vec![(Client::Ioredis, Some("^5.3.2".into()), 2)]
        );
        assert_eq!(
            one(
                "api.csproj",
                "<ItemGroup>\n<PackageReference Include=\"StackExchange.Redis\" Version=\"2.7.33\" />\n"
            ),
            vec![(Client::StackexchangeRedis, Some("2.7.33".into()), 2)]
        );
        assert_eq!(
            one(
                "Cargo.toml",
                "[dependencies]\nredis = { version = \"0.25\", features = [\"cluster\"] }\n"
            ),
            vec![(Client::RedisRs, Some("0.25".into()), 2)]
        );
    }
}
