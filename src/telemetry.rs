//! Logging. Recipients appear only as pseudonyms (`u_…`), never in clear.

use tracing_subscriber::EnvFilter;

/// Logs to stderr at the levels `RUST_LOG` sets (default: info).
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,actix_server=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
