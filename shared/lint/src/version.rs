//! Client versions as manifests write them (`6.1.5.RELEASE`, `^5.3.2`, `>=4,<5`, `v9.0.5`),
//! compared by their numbers.
//!
//! A range is read as its first version, the lowest a manifest allows: a rule about versions
//! below some release fires when the manifest still allows one. Lock files give the exact
//! version.

use std::cmp::Ordering;
use std::fmt;

/// The numbers of a version: `6.1.5.RELEASE` is `[6, 1, 5]`.
#[derive(Debug, Clone)]
pub struct Version(Vec<u64>);

impl Version {
    /// The first dotted run of numbers in `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        let start = text.find(|c: char| c.is_ascii_digit())?;
        let mut numbers = Vec::new();
        for part in text[start..].split('.') {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            if digits.is_empty() {
                break;
            }
            numbers.push(digits.parse().ok()?);
            if digits.len() != part.len() {
                break;
            }
        }
        Some(Self(numbers))
    }
}

/// `6.2` and `6.2.0` are the same version.
impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.0.len().max(other.0.len());
        for i in 0..len {
            let a = self.0.get(i).copied().unwrap_or(0);
            let b = other.0.get(i).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => continue,
                unequal => return unequal,
            }
        }
        Ordering::Equal
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u64::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn manifest_spellings_read_as_their_numbers() {
        assert_eq!(v("6.1.5.RELEASE").to_string(), "6.1.5");
        assert_eq!(v("^5.3.2").to_string(), "5.3.2");
        assert_eq!(v(">=4.0,<5").to_string(), "4.0");
        assert_eq!(v("v9.0.5").to_string(), "9.0.5");
        assert_eq!(v("[2.6.122, )").to_string(), "2.6.122");
        assert!(Version::parse("latest").is_none());
    }

    #[test]
    fn versions_compare_number_by_number() {
        assert!(v("6.1.10") > v("6.1.9"));
        assert!(v("6.2") == v("6.2.0"));
        assert!(v("6.2.1.RELEASE") < v("6.2.2"));
        assert!(v("3.7.1") < v("4"));
    }
}
