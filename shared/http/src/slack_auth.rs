//! Slack's request signatures: a request to a Slack route is Slack's only if its
//! `X-Slack-Signature` is `v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{body}` under the app's
//! signing secret, and its `X-Slack-Request-Timestamp` is within five minutes of now (older ones
//! may be replays). The signature is compared in constant time. Anything else is refused before
//! the body is read for its meaning.
//!
//! Source: "Verifying requests from Slack",
//! <https://api.slack.com/authentication/verifying-requests-from-slack>.

use std::time::Duration as StdDuration;

use cachewatch_core::links::{hex, unhex};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// The header holding the signature.
pub const SIGNATURE_HEADER: &str = "x-slack-signature";
/// The header holding the time Slack signed the request (Unix seconds).
pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
/// How far a request's time may be from ours, either way.
pub const MAX_SKEW: StdDuration = StdDuration::from_secs(5 * 60);
/// The only signature version Slack uses.
const VERSION: &str = "v0";

/// Why a request is not Slack's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackAuthError {
    /// The door has no signing secret: nothing can be checked.
    #[error("SLACK_SIGNING_SECRET is not set: Slack's requests cannot be checked")]
    NoSecret,
    /// No timestamp header.
    #[error("the request has no {TIMESTAMP_HEADER} header")]
    MissingTimestamp,
    /// No signature header.
    #[error("the request has no {SIGNATURE_HEADER} header")]
    MissingSignature,
    /// A timestamp that is not a number of seconds.
    #[error("{TIMESTAMP_HEADER} is not a number of seconds")]
    BadTimestamp,
    /// Signed too long ago: possibly a replay.
    #[error("the request was signed {0} seconds ago (at most 300)")]
    Stale(i64),
    /// Signed in the future.
    #[error("the request is signed {0} seconds ahead of this clock (at most 300)")]
    Future(i64),
    /// A signature that is not `v0=` and 64 hex digits.
    #[error("{SIGNATURE_HEADER} is not a v0 signature")]
    BadSignature,
    /// The signature is not the one the secret makes for this body and time.
    #[error("the signature does not match the request")]
    Mismatch,
}

/// Checks one request: its `timestamp` and `signature` headers (as received, if received), its
/// raw `body`, at `now`.
pub fn verify(
    secret: Option<&SecretString>,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), SlackAuthError> {
    let secret = secret.ok_or(SlackAuthError::NoSecret)?;
    let timestamp = timestamp.ok_or(SlackAuthError::MissingTimestamp)?.trim();
    let signature = signature.ok_or(SlackAuthError::MissingSignature)?.trim();
    let seconds: i64 = timestamp
        .parse()
        .map_err(|_| SlackAuthError::BadTimestamp)?;
    let skew = now.timestamp().saturating_sub(seconds);
    let max = i64::try_from(MAX_SKEW.as_secs()).unwrap_or(i64::MAX);
    if skew > max {
        return Err(SlackAuthError::Stale(skew));
    }
    if skew < -max {
        return Err(SlackAuthError::Future(-skew));
    }
    let given = signature
        .strip_prefix(VERSION)
        .and_then(|rest| rest.strip_prefix('='))
        .and_then(unhex)
        .filter(|bytes| bytes.len() == 32)
        .ok_or(SlackAuthError::BadSignature)?;
    // `verify_slice` compares in constant time.
    mac(secret, timestamp, body)
        .verify_slice(&given)
        .map_err(|_| SlackAuthError::Mismatch)
}

/// The signature Slack would send for `body` at `timestamp`: `v0=` and lowercase hex.
pub fn sign(secret: &SecretString, timestamp: &str, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    format!("{VERSION}={}", hex(&digest))
}

fn mac(secret: &SecretString, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(VERSION.as_bytes());
    mac.update(b":");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Slack's documentation: its secret, timestamp, body and signature.
    const DOC_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const DOC_TIMESTAMP: &str = "1531420618";
    const DOC_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const DOC_SIGNATURE: &str =
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[test]
    fn slacks_documented_example_verifies() {
        let now = at(DOC_TIMESTAMP.parse().unwrap());
        assert_eq!(
            sign(&secret(DOC_SECRET), DOC_TIMESTAMP, DOC_BODY.as_bytes()),
            DOC_SIGNATURE
        );
        assert_eq!(
            verify(
                Some(&secret(DOC_SECRET)),
                Some(DOC_TIMESTAMP),
                Some(DOC_SIGNATURE),
                DOC_BODY.as_bytes(),
                now
            ),
            Ok(())
        );
    }

    /// A request signed at `timestamp` (as sent) with `signature`, checked with `key`.
    struct Case<'a> {
        name: &'a str,
        key: Option<SecretString>,
        timestamp: Option<String>,
        signature: Option<String>,
        body: &'a [u8],
        want: Result<(), SlackAuthError>,
    }

    #[test]
    fn only_a_fresh_request_signed_with_the_secret_passes() {
        let key = secret("a-signing-secret-of-the-app");
        let now = at(1_780_000_000);
        let body: &[u8] = b"command=%2Fcachewatch&text=upcoming";
        let signed = |ts: i64| Some(sign(&key, &ts.to_string(), body));
        let fresh = now.timestamp();
        let ts = |t: i64| Some(t.to_string());
        let case = |name, key: Option<&SecretString>, timestamp, signature, body, want| Case {
            name,
            key: key.cloned(),
            timestamp,
            signature,
            body,
            want,
        };
        let k = Some(&key);
        let other = secret("another-secret");
        let cases = [
            case("valid", k, ts(fresh), signed(fresh), body, Ok(())),
            case(
                "valid, signed 5 minutes ago",
                k,
                ts(fresh - 300),
                signed(fresh - 300),
                body,
                Ok(()),
            ),
            case(
                "wrong secret",
                Some(&other),
                ts(fresh),
                signed(fresh),
                body,
                Err(SlackAuthError::Mismatch),
            ),
            case(
                "stale",
                k,
                ts(fresh - 301),
                signed(fresh - 301),
                body,
                Err(SlackAuthError::Stale(301)),
            ),
            case(
                "future",
                k,
                ts(fresh + 301),
                signed(fresh + 301),
                body,
                Err(SlackAuthError::Future(301)),
            ),
            case(
                "missing signature",
                k,
                ts(fresh),
                None,
                body,
                Err(SlackAuthError::MissingSignature),
            ),
            case(
                "missing timestamp",
                k,
                None,
                signed(fresh),
                body,
                Err(SlackAuthError::MissingTimestamp),
            ),
            case(
                "body altered",
                k,
                ts(fresh),
                signed(fresh),
                b"command=%2Fcachewatch&text=mute+prod-*+90d",
                Err(SlackAuthError::Mismatch),
            ),
            case(
                "timestamp altered",
                k,
                ts(fresh - 1),
                signed(fresh),
                body,
                Err(SlackAuthError::Mismatch),
            ),
            case(
                "timestamp not a number",
                k,
                Some("yesterday".into()),
                signed(fresh),
                body,
                Err(SlackAuthError::BadTimestamp),
            ),
            case(
                "another version",
                k,
                ts(fresh),
                signed(fresh).map(|s| s.replacen("v0=", "v1=", 1)),
                body,
                Err(SlackAuthError::BadSignature),
            ),
            case(
                "signature not hex",
                k,
                ts(fresh),
                Some("v0=not-hex".into()),
                body,
                Err(SlackAuthError::BadSignature),
            ),
            case(
                "signature cut short",
                k,
                ts(fresh),
                signed(fresh).map(|s| s[..40].to_owned()),
                body,
                Err(SlackAuthError::BadSignature),
            ),
            case(
                "no secret configured",
                None,
                ts(fresh),
                signed(fresh),
                body,
                Err(SlackAuthError::NoSecret),
            ),
        ];
        for c in cases {
            assert_eq!(
                verify(
                    c.key.as_ref(),
                    c.timestamp.as_deref(),
                    c.signature.as_deref(),
                    c.body,
                    now
                ),
                c.want,
                "{}",
                c.name
            );
        }
    }
}
