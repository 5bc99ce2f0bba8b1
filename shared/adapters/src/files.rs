//! The team's files on disk: `cachewatch.toml` and a directory of runbook overrides.

use std::path::{Path, PathBuf};

use cachewatch_core::config::{Config, ConfigError};
use cachewatch_core::runbook::{RunbookError, Runbooks};

/// Why a file of the team's could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file or directory cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// What was read.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The configuration does not read.
    #[error("{path}: {source}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: ConfigError,
    },
    /// A runbook override does not read.
    #[error("runbooks in {path}: {source}")]
    Runbooks {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: RunbookError,
    },
}

/// Reads `cachewatch.toml` at `path`, or the defaults when no path is given.
pub fn read_config(path: Option<&Path>) -> Result<Config, FileError> {
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
        path: path.to_owned(),
        source,
    })?;
    Config::from_toml(&text).map_err(|source| FileError::Config {
        path: path.to_owned(),
        source,
    })
}

/// The embedded runbooks, with the `.md` files of `dir` (if given) replacing them file by file.
pub fn read_runbooks(dir: Option<&Path>) -> Result<Runbooks, FileError> {
    let Some(dir) = dir else {
        return Ok(Runbooks::embedded());
    };
    let read = |source| FileError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let path = entry.map_err(read)?.path();
        if path.extension().is_some_and(|e| e == "md") && path.is_file() {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).map_err(|source| FileError::Read {
                path: path.clone(),
                source,
            })?;
            files.push((name, text));
        }
    }
    files.sort();
    Runbooks::with_overrides(files).map_err(|source| FileError::Runbooks {
        path: dir.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cachewatch_core::runbook::TemplateOrigin;

    #[test]
    fn no_paths_mean_the_defaults() {
        assert_eq!(read_config(None).unwrap(), Config::default());
        assert!(!read_runbooks(None).unwrap().templates().is_empty());
    }

    #[test]
    fn a_bad_config_names_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cachewatch.toml");
        std::fs::write(&path, "[slack]\nchanel = \"#x\"").unwrap();
        let err = read_config(Some(&path)).unwrap_err();
        assert!(err.to_string().contains("cachewatch.toml"), "{err}");
        assert!(matches!(
            read_config(Some(&dir.path().join("missing.toml"))),
            Err(FileError::Read { .. })
        ));
    }

    #[test]
    fn an_override_replaces_the_embedded_file_of_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let embedded = Runbooks::embedded();
        let generic = embedded
            .templates()
            .iter()
            .find(|t| t.name == "generic.md")
            .map(|t| t.name.clone())
            .expect("a generic runbook is embedded");
        std::fs::write(
            dir.path().join(&generic),
            "---\npriority: 1\n---\n# Our own runbook for {{ subject }}\n\n## Do\n\n- [infra] Call the platform team.\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a runbook").unwrap();
        let runbooks = read_runbooks(Some(dir.path())).unwrap();
        assert_eq!(
            runbooks.templates().len(),
            embedded.templates().len(),
            "replaced, not added"
        );
        let replaced = runbooks
            .templates()
            .iter()
            .find(|t| t.name == generic)
            .unwrap();
        assert_eq!(replaced.origin, TemplateOrigin::Override);
        std::fs::write(
            dir.path().join("broken.md"),
            "---
priority: high
---
# x
",
        )
        .unwrap();
        let err = read_runbooks(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("broken.md"), "{err}");
    }
}
