//! What the CLI subcommands do, beyond parsing their arguments.

pub mod export;
pub mod preview;
pub mod simulate;
