//! The API test suite: one binary, a real server per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod analyst;
mod crash;
mod helpers;
mod hostile;
mod language;
mod locales;
mod multi_box;
mod operations;
mod outbox;
mod stats;
mod webhook;
