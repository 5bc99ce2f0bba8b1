//! Who records a response, read the same way at every door: a name given on the command line or
//! a Slack user vouched for by Slack's signature is checked and refused when it could pass for
//! someone else; a name typed on a runbook page, which nobody verified, is cleaned and says so.

use cachewatch_core::model::invisible::is_invisible;

use super::Refused;

/// The longest name kept for a person.
pub const MAX_NAME: usize = 100;
/// The longest name kept from a runbook page (before [`UNVERIFIED`] is added).
pub const MAX_TYPED: usize = 64;
/// What a name typed on a runbook page carries: nobody verified it.
pub const UNVERIFIED: &str = "(unverified: typed on the runbook page)";

/// Who records a response: what is stored, and how they are shown in a message drawn now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    by: String,
    shown: Option<String>,
}

impl Who {
    /// A name given by a person who runs cachewatch (`--by`, `$USER`): a name, not a mention, a
    /// paragraph or a look-alike.
    pub fn named(raw: &str) -> Result<Self, Refused> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(Refused::NoName);
        }
        if name.chars().count() > MAX_NAME {
            return Err(Refused::NameTooLong);
        }
        if name.chars().any(char::is_control) {
            return Err(Refused::ControlInName);
        }
        if name.chars().any(is_invisible) {
            return Err(Refused::InvisibleInName);
        }
        Ok(Who {
            by: name.to_owned(),
            shown: None,
        })
    }

    /// A Slack user, by the id Slack's signed request gives, shown by `name` when it has one.
    pub fn slack_user(id: &str, name: Option<&str>) -> Result<Self, Refused> {
        let mut who = Who::named(id)?;
        who.shown = name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        Ok(who)
    }

    /// A name typed on a runbook page: whoever holds the link can type any name, so it is kept
    /// without what would hide or reorder it, and says that nobody verified it.
    pub fn typed(raw: Option<&str>) -> Self {
        let name = raw
            .map(|b| {
                b.chars()
                    .filter(|c| !c.is_control() && !is_invisible(*c))
                    .take(MAX_TYPED)
                    .collect::<String>()
                    .trim()
                    .to_owned()
            })
            .filter(|b| !b.is_empty());
        let by = match name {
            Some(name) => format!("{name} {UNVERIFIED}"),
            None => format!("someone {UNVERIFIED}"),
        };
        Who { by, shown: None }
    }

    /// What is stored.
    pub fn by(&self) -> &str {
        &self.by
    }

    /// How they are shown in a message drawn now: their name, else what is stored.
    pub fn shown(&self) -> &str {
        self.shown.as_deref().unwrap_or(&self.by)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_name_that_could_pass_for_another_is_refused() {
        assert_eq!(Who::named("  ana ").unwrap().by(), "ana");
        assert_eq!(Who::named(" "), Err(Refused::NoName));
        assert_eq!(
            Who::named(&"a".repeat(MAX_NAME + 1)),
            Err(Refused::NameTooLong)
        );
        assert_eq!(Who::named("ana\nbo"), Err(Refused::ControlInName));
        assert_eq!(Who::named("an\u{202e}a"), Err(Refused::InvisibleInName));
        assert_eq!(Who::named("a\u{200b}na"), Err(Refused::InvisibleInName));
    }

    #[test]
    fn a_typed_name_is_cleaned_and_says_nobody_verified_it() {
        assert_eq!(
            Who::typed(Some("A\u{200b}na\u{202e}")).by(),
            format!("Ana {UNVERIFIED}")
        );
        assert_eq!(
            Who::typed(Some(" \u{7} ")).by(),
            format!("someone {UNVERIFIED}")
        );
        assert_eq!(Who::typed(None).by(), format!("someone {UNVERIFIED}"));
        let long = Who::typed(Some(&"x".repeat(500)));
        assert_eq!(long.by(), format!("{} {UNVERIFIED}", "x".repeat(MAX_TYPED)));
    }

    #[test]
    fn a_slack_user_is_stored_by_id_and_shown_by_name() {
        let who = Who::slack_user("U0ONCALL", Some("ana")).unwrap();
        assert_eq!((who.by(), who.shown()), ("U0ONCALL", "ana"));
        let nameless = Who::slack_user("U0ONCALL", Some("")).unwrap();
        assert_eq!(nameless.shown(), "U0ONCALL");
        assert_eq!(Who::slack_user("", None), Err(Refused::NoName));
    }
}
