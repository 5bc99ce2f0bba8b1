//! The history: the [`store::EventStore`] trait every store implements, the questions people ask
//! of it ([`query`], read from the filters people type by [`filters`]), its exports ([`export`]), and what people did about a maintenance
//! ([`response`]).

pub mod export;
pub mod filters;
pub mod query;
pub mod response;
pub mod store;
