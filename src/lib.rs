//! `sunset`: answers every WhatsApp message with a localized shutdown notice.
#![forbid(unsafe_code)]

pub mod campaign;
pub mod commands;
pub mod config;
pub mod domain;
pub mod export;
pub mod graph_api;
pub mod http;
pub mod i18n;
pub mod intake;
pub mod locale_sync;
pub mod metrics;
pub mod outbox;
pub mod signing;
pub mod startup;
pub mod store;
pub mod telemetry;
