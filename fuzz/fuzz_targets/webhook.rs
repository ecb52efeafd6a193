//! A signed webhook body, as `POST /webhook` reads it once the signature
//! matches: any bytes must give a batch or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sunset::http::payload::read_body;

fuzz_target!(|body: &[u8]| {
    let _ = read_body(body);
});
