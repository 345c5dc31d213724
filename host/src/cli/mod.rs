//! Command-line interface: arguments (`args`), the commands (`commands`) and exit statuses
//! (`exit`), over the library modules; `crate::report` renders what the commands show.

pub mod args;
pub mod options;
mod commands;
mod cutover;
pub mod exit;

pub use args::Cli;
pub use commands::run;
pub use exit::{EXIT_DIFFERENT, EXIT_FAILED, EXIT_REFUSED, EXIT_USAGE, Failure, error_text};
