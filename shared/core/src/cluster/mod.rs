//! What is known about the cluster an event is about: the facts and the risks that follow
//! ([`facts`]), where they come from ([`source`]), the facts kept with the time they were read
//! ([`kept`]), and what a planned node replacement does to it as AWS documents it ([`impact`]).

pub mod facts;
pub mod impact;
pub mod kept;
pub mod source;
