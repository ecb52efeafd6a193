//! The pure core: identities, messages, the countdown, locale choice and the
//! reply decision. No I/O, no actix, no sqlx in here.

pub mod countdown;
pub mod decision;
pub mod ids;
pub mod keywords;
pub mod locale;
pub mod message;
pub mod notice;
