//! Who may open the pages and the API: whoever holds a signed link that has not expired (see
//! [`cachewatch_core::links`]), unless the door was told its pages are public
//! ([`crate::HttpSettings::links_required`]).
//!
//! The history page sends its filters back to itself: it carries the link's `expires` and `sig`
//! along in hidden fields (see [`crate::pages`]), so the same link holds for every search made
//! from it, until it expires.

use cachewatch_core::links::{EXPIRES_PARAM, LinkError, SIGNATURE_PARAM};
use chrono::{DateTime, Utc};

use crate::settings::HttpSettings;

/// Whether a request for `path` with the query `pairs` may be answered at `now`.
pub fn check(
    settings: &HttpSettings,
    path: &str,
    pairs: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<(), LinkError> {
    if !settings.links_required {
        return Ok(());
    }
    // Required, but nothing signs: no link can be good (the settings refuse this at start-up).
    let Some(signer) = settings.links.as_ref() else {
        return Err(LinkError::Unsigned);
    };
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    signer
        .check(path, param(EXPIRES_PARAM), param(SIGNATURE_PARAM), now)
        .map(drop)
}

/// The link's own parameters (`expires`, `sig`) among `pairs`.
pub fn signature(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter(|(k, _)| k == EXPIRES_PARAM || k == SIGNATURE_PARAM)
        .cloned()
        .collect()
}

/// The query without the link's own parameters: what is left are the page's.
pub fn without_signature(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter(|(k, _)| k != EXPIRES_PARAM && k != SIGNATURE_PARAM)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use cachewatch_core::links::{LinkSigner, SignedLink};
    use chrono::Duration;

    use super::*;

    fn settings() -> HttpSettings {
        HttpSettings {
            links: Some(
                LinkSigner::new("0123456789abcdef0123456789abcdef", Duration::days(1)).unwrap(),
            ),
            ..HttpSettings::default()
        }
    }

    fn query(link: &SignedLink) -> Vec<(String, String)> {
        vec![
            ("cluster".into(), "payments".into()),
            (EXPIRES_PARAM.into(), link.expires.timestamp().to_string()),
            (SIGNATURE_PARAM.into(), link.signature.clone()),
        ]
    }

    #[test]
    fn a_path_opens_with_its_own_signed_link_only() {
        let now = Utc::now();
        let settings = settings();
        let signer = settings.links.as_ref().unwrap();
        let link = signer.sign("/events", now);
        assert_eq!(check(&settings, "/events", &query(&link), now), Ok(()));
        assert_eq!(
            check(&settings, "/api/events", &query(&link), now),
            Err(LinkError::Forged)
        );
        assert_eq!(
            check(&settings, "/events", &query(&link), link.expires),
            Err(LinkError::Expired { at: link.expires })
        );
        assert_eq!(
            check(&settings, "/events", &[], now),
            Err(LinkError::Unsigned)
        );
        assert_eq!(
            signature(&query(&link))
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>(),
            [EXPIRES_PARAM, SIGNATURE_PARAM]
        );
        assert_eq!(without_signature(&query(&link)).len(), 1);
    }

    #[test]
    fn public_pages_need_no_link_and_nothing_signs_for_a_door_without_secret() {
        let now = Utc::now();
        let public = HttpSettings {
            links_required: false,
            ..HttpSettings::default()
        };
        assert_eq!(check(&public, "/api/events", &[], now), Ok(()));
        assert_eq!(
            check(&HttpSettings::default(), "/api/events", &[], now),
            Err(LinkError::Unsigned)
        );
    }
}
