//! The OAI-PMH and Atom parsers on hand-written responses in arXiv's
//! documented formats.

use chrono::Utc;
use paperboy_arxiv::atom::{parse_feed, AtomEntry};
use paperboy_arxiv::oai::{parse_list_records, OaiError, OaiRecord};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn arxivraw_page_maps_every_kind_of_record() {
    let page = parse_list_records(&fixture("oai-arxivraw-page.xml"), Utc::now()).unwrap();
    assert_eq!(page.resumption_token.as_deref(), Some("6960524|1001"));
    assert_eq!(page.complete_list_size, Some(9));
    assert_eq!(page.records.len(), 4);

    let OaiRecord::Live {
        paper: Ok(soups),
        datestamp,
        ..
    } = &page.records[0]
    else {
        panic!("{:?}", page.records[0])
    };
    assert_eq!(soups.id.as_str(), "2203.05482");
    assert_eq!(datestamp.unwrap().to_string(), "2022-07-04");
    assert_eq!(
        soups.title,
        "Model soups: averaging weights of multiple fine-tuned models improves accuracy without increasing inference time"
    );
    assert_eq!(soups.versions.len(), 3);
    assert_eq!(soups.latest_version(), 3);
    assert_eq!(
        soups.published_at().to_rfc3339(),
        "2022-03-10T18:59:05+00:00"
    );
    assert_eq!(soups.authors.len(), 4);
    assert_eq!(soups.authors[2].name, "Samir Yitzhak Gadre");
    let cats: Vec<&str> = soups.categories.iter().map(|c| c.as_str()).collect();
    assert_eq!(cats, ["cs.LG", "cs.CL", "cs.CV"]);
    assert!(soups.abstract_text.starts_with("The conventional recipe"));
    assert!(
        soups.abstract_text.contains("models & (2)"),
        "entities unescaped"
    );
    assert!(soups.abstract_text.contains("<instead>"));
    assert_eq!(
        soups.github_repo(),
        Some("https://github.com/mlfoundations/model-soups")
    );
    assert_eq!(soups.submitter.as_deref(), Some("Mitchell Wortsman"));

    let OaiRecord::Live { paper: Ok(old), .. } = &page.records[1] else {
        panic!("{:?}", page.records[1])
    };
    assert_eq!(old.id.as_str(), "hep-th/9901001");
    assert_eq!(
        old.title,
        "Branes and $\\mathcal{N}=4$ super Yang--Mills: the $\\alpha'$ expansion"
    );
    let names: Vec<&str> = old.authors.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["J. García", "F. Müller", "Zoë Ng"]);
    assert_eq!(old.comments, None, "an empty element is no comment");

    match &page.records[2] {
        OaiRecord::Deleted { id: Some(id), .. } => assert_eq!(id.as_str(), "2101.00001"),
        other => panic!("{other:?}"),
    }
    match &page.records[3] {
        OaiRecord::Live {
            identifier,
            paper: Err(e),
            ..
        } => {
            assert_eq!(identifier, "oai:arXiv.org:2404.00002");
            assert_eq!(e.0, "empty title");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn arxiv_format_uses_created_and_structured_authors() {
    let page = parse_list_records(&fixture("oai-arxiv-format.xml"), Utc::now()).unwrap();
    assert_eq!(page.resumption_token, None, "an empty token ends the list");
    let OaiRecord::Live { paper: Ok(p), .. } = &page.records[0] else {
        panic!("{:?}", page.records[0])
    };
    assert_eq!(p.id.as_str(), "math/0309136");
    assert_eq!(p.published_at().to_rfc3339(), "2003-09-08T00:00:00+00:00");
    assert_eq!(p.updated_on.unwrap().to_string(), "2004-01-12");
    let names: Vec<&str> = p.authors.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Grisha Perelman", "Paul Erdős Jr"]);
}

#[test]
fn oai_errors_and_broken_documents_are_told_apart() {
    assert!(matches!(
        parse_list_records(&fixture("oai-no-records.xml"), Utc::now()),
        Err(OaiError::NoRecordsMatch(m)) if m.contains("empty list")
    ));
    let bad_token = r#"<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="badResumptionToken">expired</error></OAI-PMH>"#;
    assert!(matches!(
        parse_list_records(bad_token, Utc::now()),
        Err(OaiError::BadResumptionToken(_))
    ));
    let other = r#"<OAI-PMH><error code="badArgument">no verb</error></OAI-PMH>"#;
    assert!(matches!(
        parse_list_records(other, Utc::now()),
        Err(OaiError::Protocol { code, .. }) if code == "badArgument"
    ));
    let full = fixture("oai-arxivraw-page.xml");
    for cut in [100, full.len() / 2, full.len() - 20] {
        assert!(
            matches!(
                parse_list_records(&full[..cut], Utc::now()),
                Err(OaiError::Xml(_))
            ),
            "truncated at {cut}"
        );
    }
    assert!(matches!(
        parse_list_records("<html><body>busy</body></html>", Utc::now()),
        Err(OaiError::NotOai(_))
    ));
    assert!(parse_list_records("", Utc::now()).is_err());
}

#[test]
fn atom_entries_become_papers_and_errors_are_reported() {
    let feed = parse_feed(&fixture("atom-two-entries.xml"), Utc::now()).unwrap();
    assert_eq!(feed.total_results, Some(2));
    let papers: Vec<_> = feed
        .entries
        .iter()
        .map(|e| match e {
            AtomEntry::Paper(p) => p,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(papers[0].id.as_str(), "2203.05482");
    assert_eq!(papers[0].latest_version(), 3);
    assert_eq!(
        papers[0].versions[0].created_at.to_rfc3339(),
        "2022-03-10T18:59:05+00:00"
    );
    let cats: Vec<&str> = papers[0].categories.iter().map(|c| c.as_str()).collect();
    assert_eq!(cats, ["cs.LG", "cs.CV"]);
    assert_eq!(
        papers[0].github_repo(),
        Some("https://github.com/mlfoundations/model-soups")
    );
    assert_eq!(papers[0].authors[1].name, "Gabriel Ilharco");
    assert_eq!(papers[1].id.as_str(), "hep-th/9901001");
    assert_eq!(papers[1].authors[0].name, "François Müller");
    assert_eq!(papers[1].doi.as_deref(), Some("10.1000/xyz"));
    assert_eq!(
        papers[1].journal_ref.as_deref(),
        Some("Nucl. Phys. B 1 (1999)")
    );

    let err = parse_feed(&fixture("atom-error.xml"), Utc::now()).unwrap();
    assert!(
        matches!(&err.entries[0], AtomEntry::ApiError { message } if message.contains("incorrect id format"))
    );
}
