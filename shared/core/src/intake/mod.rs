//! Intake: reading what arrives (an SNS notice, a DescribeEvents page, a pasted console table, an
//! e-mail) into events ([`parse`]), recognising the two reports of one occurrence as one
//! ([`correlate`]), and storing each occurrence once with its maintenance's lifecycle
//! ([`pipeline`]).

pub mod correlate;
pub mod parse;
pub mod pipeline;
