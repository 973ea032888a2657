#![no_main]
//! Any bytes into the LaTeXML full-text parser (sections, references,
//! citing sentences): an error is fine, a panic is a bug. Whatever it
//! returns stays within its caps.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(html) = std::str::from_utf8(data) {
        if let Ok(text) = paperboy_arxiv::fulltext::parse(html) {
            assert_eq!(text.section_titles().len(), text.section_hashes().len());
            // An identifier found in a reference is a valid one.
            for a in text.references.iter().filter_map(|r| r.arxiv_id.as_ref()) {
                assert!(paperboy_core::ArxivId::parse(a.as_str()).is_ok(), "{a}");
            }
        }
    }
});
