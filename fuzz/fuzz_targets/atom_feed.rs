#![no_main]
//! Any bytes into the Atom API parser: an error is fine, a panic is a bug.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = paperboy_arxiv::atom::parse_feed(text, chrono::Utc::now());
    }
});
