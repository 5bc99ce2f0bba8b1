//! The history: the [`store::EventStore`] trait every store implements, the questions people ask
//! of it ([`query`], read from the filters people type by [`filters`]), its exports ([`export`]), and what people did about a maintenance
//! ([`response`]).
//!
//! [`History`] names the three ports alerting reads and writes together.

pub mod export;
pub mod filters;
pub mod query;
pub mod response;
pub mod store;

use crate::alerting::delivery::DeliveryStore;
use response::ResponseStore;
use store::EventStore;

/// The history as alerting sees it: the events ([`EventStore`]), their alerts' deliveries,
/// threads and leases ([`DeliveryStore`]), and what people did about them ([`ResponseStore`]:
/// acknowledgements, mutes). Every store that implements the three is one (a blanket impl):
/// deciding, sending and reminding are written against this one bound.
pub trait History: EventStore + DeliveryStore + ResponseStore {}

impl<T: EventStore + DeliveryStore + ResponseStore> History for T {}
