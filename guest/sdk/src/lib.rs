//! Helpers shared by mm2-migrate mapping plugins.
//!
//! Everything here except the WIT glue (`bindings`, [`export_mapping!`]) is plain Rust that builds
//! natively, so a mapping's logic is unit-tested on the host with `cargo test`.
//!
//! A plugin implements [`Mapping`] and calls [`export_mapping!`] once:
//!
//! ```ignore
//! struct MyMapping { /* configured state */ }
//! impl mm2_plugin_sdk::Mapping for MyMapping { /* describe, configure, map */ }
//! mm2_plugin_sdk::export_mapping!(MyMapping);
//! ```

pub mod alloc;
pub mod mapping;
pub mod topic_partition;

/// The component's allocator (see [`alloc`]); a plugin that brings its own turns the default
/// feature `size-class-alloc` off.
#[cfg(all(target_arch = "wasm32", feature = "size-class-alloc"))]
#[global_allocator]
static ALLOCATOR: alloc::SizeClasses<std::alloc::System> = alloc::SizeClasses::new(std::alloc::System);

/// The Kafka Connect and MirrorMaker 2 rules, from the `connect-offsets` crate the host shares.
pub use connect_offsets::{config, connect, jackson, partition, topics};

pub use config::{Config, ConfigError, ConfigKey, ConfigType, Importance};
pub use mapping::{Header, LogLevel, Mapping, Outcome, PluginInfo, Record};

/// Sends a line to the operator's log through the host (a no-op outside the component).
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    glue::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}

/// The version of the WIT package (`wit/mapping.wit`) this SDK implements.
pub const CONTRACT_VERSION: &str = "0.1.0";

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "mapping",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "__export_mapping_world",
        default_bindings_module: "mm2_plugin_sdk::bindings",
    });
}

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod glue;

/// Exports a [`Mapping`] implementation as the plugin's `mapper` interface.
///
/// Expands to nothing outside wasm32, so the plugin crate also builds natively for its tests.
#[macro_export]
macro_rules! export_mapping {
    ($mapping:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __Mm2MappingExport;
            impl $crate::bindings::exports::mm2::plugin::mapper::Guest for __Mm2MappingExport {
                fn describe() -> $crate::bindings::mm2::plugin::types::PluginInfo {
                    $crate::glue::describe::<$mapping>()
                }
                fn configure(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::std::result::Result<(), ::std::vec::Vec<$crate::bindings::mm2::plugin::types::ConfigError>> {
                    $crate::glue::configure::<$mapping>(config)
                }
                fn apply(
                    batch: ::std::vec::Vec<$crate::bindings::mm2::plugin::types::KafkaRecord>,
                ) -> ::std::result::Result<::std::vec::Vec<$crate::bindings::mm2::plugin::types::Outcome>, ::std::string::String> {
                    $crate::glue::apply::<$mapping>(batch)
                }
                fn close() {
                    $crate::glue::close::<$mapping>()
                }
            }
            $crate::bindings::__export_mapping_world!(__Mm2MappingExport with_types_in $crate::bindings);
        };
    };
}
