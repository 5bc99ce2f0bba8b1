//! What is known about the cluster and node an event is about (engine, role, failover settings,
//! backups...), and the risks that follow from it.
