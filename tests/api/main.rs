//! The API test suite: one binary, a real server per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analyst;
mod helpers;
mod language;
mod locales;
mod multi_box;
mod outbox;
mod webhook;
