//! The event model: what ElastiCache tells us about one occurrence ([`event`]), the names of
//! events and their categories ([`kind`]), the identifiers of what they are about ([`ids`]),
//! the characters that may not hide in them ([`invisible`]), and times as people read them
//! ([`timefmt`]). Everything else in the crate is written in these terms.

pub mod event;
pub mod ids;
pub mod invisible;
pub mod kind;
pub mod timefmt;
