//! What the team does around maintenances, measured: drills through the real pipeline
//! ([`drill`]), rehearsed failovers ([`failover`]), the availability probe ([`probe`]) and the
//! yearly maintenance log ([`report`]).

pub mod drill;
pub mod failover;
pub mod probe;
pub mod report;
