//! Signed links. Runbook and history pages are not public: the links cachewatch hands out (in
//! alerts, in answers to Slack commands, from one page to another) carry an expiry and an
//! HMAC-SHA256 of their path and that expiry under a secret only the deployment knows
//! (`CACHEWATCH_LINK_SECRET`). A signed link cannot be moved to another path, used after it
//! expires, or made up without the secret.
//!
//! The signature covers the path only, not the rest of the query: a link to the history page lets
//! its holder change the filters, which is what the page is for.
//!
//! Pure: the caller says what time it is.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The query parameter holding a link's expiry (Unix seconds).
pub const EXPIRES_PARAM: &str = "expires";
/// The query parameter holding a link's signature (lowercase hex).
pub const SIGNATURE_PARAM: &str = "sig";
/// The shortest secret accepted, in bytes: 256 bits written as 32 characters or more.
pub const MIN_SECRET_LEN: usize = 32;
/// How long a link holds unless the deployment says otherwise: a maintenance is announced up to
/// a few weeks ahead, and its alert's link must still open on the day.
pub const DEFAULT_LINK_TTL: Duration = Duration::days(30);
/// The longest a link may hold: a year. Longer is no longer an expiry, and far longer cannot be
/// written as a time at all.
pub const MAX_LINK_TTL: Duration = Duration::days(366);

/// What every signature starts with, so that no other HMAC made with the same secret can pass
/// for a link's.
const DOMAIN: &[u8] = b"cachewatch-link-v1\n";

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks links with the deployment's secret. `Debug` never shows the secret.
#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
    ttl: Duration,
}

impl fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkSigner")
            .field("secret", &"[redacted]")
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// Why a secret or a lifetime cannot sign links.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkSecretError {
    /// A secret too short to resist guessing.
    #[error(
        "the link secret is {len} bytes long: use at least {MIN_SECRET_LEN} random characters (e.g. `openssl rand -hex 32`)"
    )]
    TooShort {
        /// Its length.
        len: usize,
    },
    /// A lifetime that is not positive, or longer than [`MAX_LINK_TTL`].
    #[error("a link must hold for some time, at most a year, not {0}")]
    BadLifetime(Duration),
}

/// The variable holding the link secret.
pub const SECRET_VAR: &str = "CACHEWATCH_LINK_SECRET";
/// The variable holding how long links hold (`30d`, `12h`).
pub const TTL_VAR: &str = "CACHEWATCH_LINK_TTL";

/// Why the link variables do not make a signer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkSettingsError {
    /// The secret or the lifetime cannot sign.
    #[error("{SECRET_VAR}: {0}")]
    Secret(#[source] LinkSecretError),
    /// A lifetime that is not a duration, or not one from a second to a year.
    #[error("{TTL_VAR} must be a duration from 1s to 366d, like 30d or 12h, not {0:?}")]
    Lifetime(String),
}

/// Why a link is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// It carries no signature at all.
    #[error("this page needs a signed link")]
    Unsigned,
    /// Its expiry or signature cannot be read.
    #[error("the link's signature or expiry is not readable")]
    Malformed,
    /// It is genuine, and it has expired.
    #[error("the link expired at {}", crate::model::event::rfc3339::format(at))]
    Expired {
        /// When.
        at: DateTime<Utc>,
    },
    /// Its signature is not the one the secret makes for this path and expiry.
    #[error("the link's signature does not match")]
    Forged,
}

/// A path with its expiry and signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedLink {
    /// The path signed (`/runbooks/3f9a…`).
    pub path: String,
    /// When it stops working (to the second).
    pub expires: DateTime<Utc>,
    /// The signature, lowercase hex.
    pub signature: String,
}

impl SignedLink {
    /// `expires=…&sig=…`.
    pub fn query(&self) -> String {
        format!(
            "{EXPIRES_PARAM}={}&{SIGNATURE_PARAM}={}",
            self.expires.timestamp(),
            self.signature
        )
    }

    /// The link under `base` (`https://cachewatch.example.com`), or as a path when there is none.
    pub fn to_url(&self, base: Option<&str>) -> String {
        format!(
            "{}{}?{}",
            base.unwrap_or_default().trim_end_matches('/'),
            self.path,
            self.query()
        )
    }
}

impl LinkSigner {
    /// A signer with `secret` whose links hold for `ttl`.
    pub fn new(secret: &str, ttl: Duration) -> Result<Self, LinkSecretError> {
        let secret = secret.trim();
        if secret.len() < MIN_SECRET_LEN {
            return Err(LinkSecretError::TooShort { len: secret.len() });
        }
        if ttl <= Duration::zero() || ttl > MAX_LINK_TTL {
            return Err(LinkSecretError::BadLifetime(ttl));
        }
        Ok(Self {
            key: secret.as_bytes().to_vec(),
            ttl,
        })
    }

    /// The signer environment-like `lookup` describes: `CACHEWATCH_LINK_SECRET`, and
    /// `CACHEWATCH_LINK_TTL` (default 30 days); `None` without a secret. Every door that writes
    /// links (alerts, Slack answers, pages) builds its signer this way, so all agree.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, LinkSettingsError> {
        let value = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let ttl = match value(TTL_VAR) {
            Some(raw) => crate::history::query::parse_duration(&raw)
                .filter(|d| *d > Duration::zero() && *d <= MAX_LINK_TTL)
                .ok_or(LinkSettingsError::Lifetime(raw))?,
            None => DEFAULT_LINK_TTL,
        };
        value(SECRET_VAR)
            .map(|secret| Self::new(&secret, ttl))
            .transpose()
            .map_err(LinkSettingsError::Secret)
    }

    /// How long its links hold.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// `path` signed to hold from `now` for the signer's lifetime.
    pub fn sign(&self, path: &str, now: DateTime<Utc>) -> SignedLink {
        self.sign_until(path, now + self.ttl)
    }

    /// `path` signed to hold until `expires` (to the second).
    pub fn sign_until(&self, path: &str, expires: DateTime<Utc>) -> SignedLink {
        let seconds = expires.timestamp();
        let signature = hex(&self.mac(path, seconds).finalize().into_bytes());
        SignedLink {
            path: path.to_owned(),
            expires: DateTime::from_timestamp(seconds, 0).unwrap_or(expires),
            signature,
        }
    }

    /// Checks the `expires` and `sig` query parameters a request for `path` carried, at `now`;
    /// returns when the link expires. The signature is compared in constant time, and checked
    /// before the expiry, so that only a genuine link is ever said to have expired.
    pub fn check(
        &self,
        path: &str,
        expires: Option<&str>,
        signature: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, LinkError> {
        let (expires, signature) = match (expires, signature) {
            (None, None) => return Err(LinkError::Unsigned),
            (Some(e), Some(s)) => (e, s),
            _ => return Err(LinkError::Malformed),
        };
        let seconds: i64 = expires.trim().parse().map_err(|_| LinkError::Malformed)?;
        let at = DateTime::from_timestamp(seconds, 0).ok_or(LinkError::Malformed)?;
        let given = unhex(signature.trim()).ok_or(LinkError::Malformed)?;
        self.mac(path, seconds)
            .verify_slice(&given)
            .map_err(|_| LinkError::Forged)?;
        if now >= at {
            return Err(LinkError::Expired { at });
        }
        Ok(at)
    }

    fn mac(&self, path: &str, expires: i64) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(DOMAIN);
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }
}

/// The link to `path` under `base`: signed when there is a signer, plain otherwise.
pub fn link(
    base: Option<&str>,
    path: &str,
    signer: Option<&LinkSigner>,
    now: DateTime<Utc>,
) -> String {
    match signer {
        Some(signer) => signer.sign(path, now).to_url(base),
        None => format!("{}{path}", base.unwrap_or_default().trim_end_matches('/')),
    }
}

/// `bytes` as lowercase hex, as signatures are written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes a hex signature stands for; `None` when it is not hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn signer() -> LinkSigner {
        LinkSigner::new(SECRET, Duration::days(1)).unwrap()
    }

    /// A request for `path` carrying `expires` and `sig`, checked at `at`.
    struct Case<'a> {
        name: &'a str,
        path: &'a str,
        expires: Option<&'a str>,
        sig: Option<&'a str>,
        at: DateTime<Utc>,
        want: Result<(), LinkError>,
    }

    #[test]
    fn a_link_holds_on_its_path_until_it_expires() {
        let now = at("2026-06-25T19:00:00Z");
        let path = "/runbooks/0123456789abcdef0123";
        let link = signer().sign(path, now);
        assert_eq!(link.expires, at("2026-06-26T19:00:00Z"));
        let expires = link.expires.timestamp().to_string();
        let (e, s) = (Some(expires.as_str()), Some(link.signature.as_str()));
        let case = |name, path, expires, sig, at, want| Case {
            name,
            path,
            expires,
            sig,
            at,
            want,
        };
        let cases = [
            case("genuine", path, e, s, now, Ok(())),
            case(
                "a second before it expires",
                path,
                e,
                s,
                link.expires - Duration::seconds(1),
                Ok(()),
            ),
            case(
                "expired",
                path,
                e,
                s,
                link.expires,
                Err(LinkError::Expired { at: link.expires }),
            ),
            case(
                "moved to another path",
                "/runbooks/ffffffffffffffffffff",
                e,
                s,
                now,
                Err(LinkError::Forged),
            ),
            case(
                "expiry pushed back",
                path,
                Some("4102444800"),
                s,
                now,
                Err(LinkError::Forged),
            ),
            case("unsigned", path, None, None, now, Err(LinkError::Unsigned)),
            case(
                "signature without expiry",
                path,
                None,
                s,
                now,
                Err(LinkError::Malformed),
            ),
            case(
                "expiry not a number",
                path,
                Some("tomorrow"),
                s,
                now,
                Err(LinkError::Malformed),
            ),
            case(
                "signature not hex",
                path,
                e,
                Some("zz"),
                now,
                Err(LinkError::Malformed),
            ),
            case(
                "signature cut short",
                path,
                e,
                Some(&link.signature[..32]),
                now,
                Err(LinkError::Forged),
            ),
        ];
        for c in cases {
            assert_eq!(
                signer().check(c.path, c.expires, c.sig, c.at).map(drop),
                c.want,
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn another_secret_makes_another_signature() {
        let now = at("2026-06-25T19:00:00Z");
        let other = LinkSigner::new(&"x".repeat(40), Duration::days(1)).unwrap();
        let link = other.sign("/events", now);
        assert_eq!(
            signer().check(
                "/events",
                Some(&link.expires.timestamp().to_string()),
                Some(&link.signature),
                now
            ),
            Err(LinkError::Forged)
        );
    }

    #[test]
    fn links_are_written_under_the_base_url() {
        let now = at("2026-06-25T19:00:00Z");
        let url = link(
            Some("https://cw.example.com/"),
            "/runbooks/0123456789abcdef0123",
            Some(&signer()),
            now,
        );
        assert!(
            url.starts_with(
                "https://cw.example.com/runbooks/0123456789abcdef0123?expires=1782500400&sig="
            ),
            "{url}"
        );
        assert_eq!(
            link(Some("https://cw.example.com"), "/events", None, now),
            "https://cw.example.com/events"
        );
    }

    #[test]
    fn the_signer_comes_from_its_two_variables() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert!(LinkSigner::from_lookup(env(&[])).unwrap().is_none());
        let signer = LinkSigner::from_lookup(env(&[(SECRET_VAR, SECRET), (TTL_VAR, "12h")]))
            .unwrap()
            .unwrap();
        assert_eq!(signer.ttl(), Duration::hours(12));
        assert_eq!(
            LinkSigner::from_lookup(env(&[(SECRET_VAR, SECRET)]))
                .unwrap()
                .unwrap()
                .ttl(),
            DEFAULT_LINK_TTL
        );
        assert!(matches!(
            LinkSigner::from_lookup(env(&[(SECRET_VAR, "short")])),
            Err(LinkSettingsError::Secret(_))
        ));
        for ttl in ["soon", "0s", "367d", "9999999999d", "99999999999999999999d"] {
            let lookup = |name: &str| match name {
                SECRET_VAR => Some(SECRET.to_owned()),
                TTL_VAR => Some(ttl.to_owned()),
                _ => None,
            };
            assert!(
                matches!(
                    LinkSigner::from_lookup(lookup),
                    Err(LinkSettingsError::Lifetime(_))
                ),
                "{ttl}"
            );
        }
        let longest = LinkSigner::from_lookup(env(&[(SECRET_VAR, SECRET), (TTL_VAR, "366d")]))
            .unwrap()
            .unwrap();
        let link = longest.sign("/runbooks/x", Utc::now());
        assert!(link.expires > Utc::now() + Duration::days(365));
    }

    #[test]
    fn short_secrets_and_empty_lifetimes_are_refused() {
        assert_eq!(
            LinkSigner::new("short", Duration::days(1)).unwrap_err(),
            LinkSecretError::TooShort { len: 5 }
        );
        assert!(LinkSigner::new(SECRET, Duration::zero()).is_err());
        assert!(LinkSigner::new(SECRET, Duration::days(9_999_999)).is_err());
        assert!(!format!("{:?}", signer()).contains(SECRET));
    }
}
