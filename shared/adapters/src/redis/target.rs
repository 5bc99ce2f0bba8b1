//! Which Redis to talk to: `redis://[USER:PASSWORD@]HOST[:PORT][/DB]`, or `rediss://` for TLS.

use std::fmt;

use secrecy::SecretString;

/// The port Redis, Valkey and ElastiCache listen on unless told otherwise.
pub const DEFAULT_PORT: u16 = 6379;

/// A Redis server and how to log in to it, read from a URL.
#[derive(Debug, Clone)]
pub struct RedisTarget {
    /// The host name or IP address (IPv6 without brackets).
    pub host: String,
    /// The port.
    pub port: u16,
    /// Whether to speak TLS (ElastiCache in-transit encryption).
    pub tls: bool,
    /// The ACL user, if any (`AUTH user password`).
    pub username: Option<String>,
    /// The password or AUTH token, if any.
    pub password: Option<SecretString>,
    /// The database `SELECT`ed after connecting.
    pub db: u32,
}

/// A URL that is not a Redis URL, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{url:?} is not a Redis URL ({reason}): write redis://[USER:PASSWORD@]HOST[:PORT][/DB], or rediss:// for TLS"
)]
pub struct BadRedisUrl {
    /// The URL, its password hidden.
    pub url: String,
    /// What is wrong with it.
    pub reason: String,
}

impl RedisTarget {
    /// Reads `url`. `rediss://` means TLS; `tls` forces it for `redis://` URLs too.
    pub fn parse(url: &str, tls: bool) -> Result<RedisTarget, BadRedisUrl> {
        let url = url.trim();
        let bad = |reason: &str| BadRedisUrl {
            url: hide_password(url),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let scheme_tls = match scheme.to_ascii_lowercase().as_str() {
            "redis" | "valkey" => false,
            "rediss" | "valkeys" => true,
            _ => return Err(bad("the scheme is not redis or rediss")),
        };
        if rest.contains(['?', '#']) {
            return Err(bad("query strings and fragments are not read"));
        }
        let (authority, path) = match rest.split_once('/') {
            Some((authority, path)) => (authority, path),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(info) => {
                let (user, password) = info.split_once(':').unwrap_or((info, ""));
                let user = decode(user).ok_or_else(|| bad("bad percent-encoding in the user"))?;
                let password =
                    decode(password).ok_or_else(|| bad("bad percent-encoding in the password"))?;
                (
                    Some(user).filter(|u| !u.is_empty()),
                    Some(password).filter(|p| !p.is_empty()),
                )
            }
        };
        let (host, port) =
            split_host_port(hostport).ok_or_else(|| bad("no host, or a bad port"))?;
        let db = match path.trim_end_matches('/') {
            "" => 0,
            db => db
                .parse()
                .map_err(|_| bad("the path is not a database number"))?,
        };
        Ok(RedisTarget {
            host,
            port,
            tls: tls || scheme_tls,
            username,
            password: password.map(SecretString::from),
            db,
        })
    }

    /// The target with `password` when its URL gave none (a password from the environment, which
    /// other users of the machine cannot see as they can see arguments).
    pub fn with_default_password(mut self, password: Option<&str>) -> RedisTarget {
        if self.password.is_none()
            && let Some(password) = password.filter(|p| !p.is_empty())
        {
            self.password = Some(SecretString::from(password.to_owned()));
        }
        self
    }

    /// The target as a URL without credentials (`rediss://cache.example.com:6379/0`): safe to
    /// print and store.
    pub fn display_url(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for RedisTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "rediss" } else { "redis" };
        let user = self
            .username
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        if self.host.contains(':') {
            write!(
                f,
                "{scheme}://{user}[{}]:{}/{}",
                self.host, self.port, self.db
            )
        } else {
            write!(
                f,
                "{scheme}://{user}{}:{}/{}",
                self.host, self.port, self.db
            )
        }
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(raw: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':')?)),
        }
    } else {
        match raw.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (raw, None),
        }
    };
    if host.is_empty() || host.contains(['/', '@', ' ']) {
        return None;
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(port) => port.parse().ok().filter(|p| *p != 0)?,
    };
    Some((host.to_owned(), port))
}

/// Percent-decoding (`p%40ss` is `p@ss`); `None` when an escape is broken or not UTF-8.
fn decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The URL with any password replaced by `***`, for error messages.
fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((info, _)) if info.contains(':') => {
            let user = info.split_once(':').map_or(info, |(u, _)| u);
            let after_at = &rest[info.len()..];
            format!("{scheme}://{user}:***{after_at}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn password(target: &RedisTarget) -> Option<&str> {
        target.password.as_ref().map(|p| p.expose_secret())
    }

    #[test]
    fn a_plain_url_takes_the_default_port_and_database() {
        let target = RedisTarget::parse("redis://127.0.0.1", false).unwrap();
        assert_eq!(
            (target.host.as_str(), target.port, target.db),
            ("127.0.0.1", 6379, 0)
        );
        assert!(!target.tls);
        assert_eq!(target.display_url(), "redis://127.0.0.1:6379/0");
    }

    #[test]
    fn rediss_and_the_tls_flag_both_mean_tls() {
        assert!(
            RedisTarget::parse("rediss://cache.example.com:6380", false)
                .unwrap()
                .tls
        );
        assert!(
            RedisTarget::parse("redis://cache.example.com:6380", true)
                .unwrap()
                .tls
        );
    }

    #[test]
    fn user_password_and_database_are_read_and_never_displayed() {
        let target =
            RedisTarget::parse("rediss://app:p%40ss:w@cache.example.com:6380/3", false).unwrap();
        assert_eq!(target.username.as_deref(), Some("app"));
        assert_eq!(password(&target), Some("p@ss:w"));
        assert_eq!(target.db, 3);
        assert_eq!(
            target.display_url(),
            "rediss://app@cache.example.com:6380/3"
        );
    }

    #[test]
    fn a_token_alone_is_a_password() {
        let target = RedisTarget::parse("rediss://:token123@h:6379", false).unwrap();
        assert_eq!(target.username, None);
        assert_eq!(password(&target), Some("token123"));
    }

    #[test]
    fn a_password_from_elsewhere_fills_in_only_a_missing_one() {
        let bare = RedisTarget::parse("redis://h", false).unwrap();
        assert_eq!(
            password(&bare.with_default_password(Some("env"))),
            Some("env")
        );
        let given = RedisTarget::parse("redis://:url@h", false).unwrap();
        assert_eq!(
            password(&given.with_default_password(Some("env"))),
            Some("url")
        );
    }

    #[test]
    fn ipv6_hosts_are_written_in_brackets() {
        let target = RedisTarget::parse("redis://[::1]:7000", false).unwrap();
        assert_eq!((target.host.as_str(), target.port), ("::1", 7000));
        assert_eq!(target.display_url(), "redis://[::1]:7000/0");
    }

    #[test]
    fn bad_urls_say_why_without_showing_the_password() {
        for url in [
            "127.0.0.1:6379",
            "http://h:6379",
            "redis://",
            "redis://h:port",
            "redis://h:0",
            "redis://h:6379/zero",
            "redis://h:6379?db=1",
            "redis://u:p%zz@h",
        ] {
            assert!(RedisTarget::parse(url, false).is_err(), "{url}");
        }
        let error = RedisTarget::parse("redis://app:secret@h:port", false).unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
        assert!(error.to_string().contains("app:***@h:port"), "{error}");
    }
}
