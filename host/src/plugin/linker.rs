//! What a plugin is linked to: the contract's host interface and the WASI interfaces a guest's
//! runtime imports even when it does no I/O, all bound to a context with no capabilities
//! (`state`). A component importing anything else, or built for another contract, is refused
//! before any of its code runs.

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

use super::error::PluginError;
use super::state::PluginState;
use super::{contract_compatible, wit};

/// The linker every plugin of an engine is instantiated with.
pub(crate) fn linker(engine: &Engine) -> Result<Linker<PluginState>, PluginError> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(PluginError::engine)?;
    wit::Mapping::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s).map_err(PluginError::engine)?;
    Ok(linker)
}

/// Interfaces a plugin may import: the contract, and the WASI parts a Rust (or other) guest's
/// runtime imports even when it does no I/O. Filesystem, sockets, http and anything unknown are
/// refused before instantiation.
const ALLOWED_IMPORTS: &[&str] = &[
    "mm2:plugin/types",
    "mm2:plugin/host",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

/// The interfaces a component imports, with their versions.
pub fn component_imports(engine: &Engine, component: &Component) -> Vec<String> {
    component.component_type().imports(engine).map(|(name, _)| name.to_owned()).collect()
}

pub(crate) fn first_forbidden(imports: &[String]) -> Option<&String> {
    imports.iter().find(|name| {
        let unversioned = name.split('@').next().unwrap_or(name);
        !ALLOWED_IMPORTS.contains(&unversioned)
    })
}

/// The contract package this host speaks.
const CONTRACT_PACKAGE: &str = "mm2:plugin/";

/// The contract version a component was built for, from the versions of the `mm2:plugin`
/// interfaces it imports and exports, when it is not one this host runs (e.g. `0.2.0`): such a
/// component would otherwise fail to link with a message that names neither version.
pub(crate) fn foreign_contract(engine: &Engine, component: &Component) -> Option<String> {
    let ty = component.component_type();
    let names = ty.imports(engine).map(|(n, _)| n.to_owned()).chain(ty.exports(engine).map(|(n, _)| n.to_owned()));
    names.filter_map(|name| name.strip_prefix(CONTRACT_PACKAGE).map(str::to_owned)).find_map(|rest| {
        let version = rest.split_once('@').map_or("", |(_, v)| v);
        (!contract_compatible(version)).then(|| if version.is_empty() { "an unversioned mm2:plugin".to_owned() } else { version.to_owned() })
    })
}
