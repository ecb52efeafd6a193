//! What the CLI subcommands do, beyond parsing their arguments.

pub mod preview;
pub mod simulate;
