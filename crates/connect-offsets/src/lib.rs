//! What both sides of mm2-migrate need and that has nothing to do with WebAssembly: the rules by
//! which Kafka Connect and MirrorMaker 2 store source offsets (see `offsets-domain.md`).
//!
//! - [`jackson`]: JSON written byte for byte as Connect's `JsonConverter` (Jackson) writes it;
//! - [`connect`]: Connect offset keys and values parsed, MM2's source-offset key recognized;
//! - [`checkpoint`]: MM2's checkpoint records (consumer-group offsets on the target), byte for byte;
//! - [`config`]: plugin configuration described and checked like Connect's `ConfigDef`;
//! - [`topics`]: topic selection as MM2's `DefaultTopicFilter` does it;
//! - [`partition`]: the partition Kafka's Java producer picks for a key (murmur2).
//!
//! The host depends on this crate; the plugin SDK re-exports it for plugin authors.

pub mod checkpoint;
pub mod config;
pub mod connect;
pub mod jackson;
pub mod partition;
pub mod topics;
