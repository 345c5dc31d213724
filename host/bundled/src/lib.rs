//! The mapping plugins shipped inside the `mm2-migrate` binary, as WebAssembly components.

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// The component bytes of a bundled plugin.
pub fn find(name: &str) -> Option<&'static [u8]> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(_, bytes)| *bytes)
}

/// Names of the bundled plugins.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUNDLED.iter().map(|(name, _)| *name)
}

/// The file of a test-only plugin (such as `adversarial`) built alongside the bundled ones.
pub fn test_guest_path(name: &str) -> Option<&'static str> {
    TEST_GUESTS.iter().find(|(n, _)| *n == name).map(|(_, path)| *path)
}
