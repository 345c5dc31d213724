//! mm2-migrate: moves replication progress from other replicators into MirrorMaker 2.

pub mod partition;
pub mod plugin;
