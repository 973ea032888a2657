#![no_main]
//! Any bytes as an e-print (a gzipped tar, a gzipped `.tex`, plain TeX)
//! into the LaTeX source reader: an error is fine, a panic is a bug.
//! Whatever it returns stays within its caps.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = paperboy_arxiv::latex::parse_source(data) {
        assert_eq!(text.section_titles().len(), text.section_hashes().len());
        assert!(text.references.len() <= paperboy_arxiv::fulltext::MAX_REFERENCES);
        for a in text.references.iter().filter_map(|r| r.arxiv_id.as_ref()) {
            assert!(paperboy_core::ArxivId::parse(a.as_str()).is_ok(), "{a}");
        }
    }
});
