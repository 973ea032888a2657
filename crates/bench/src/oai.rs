//! OAI-PMH parser throughput: one large `arXivRaw` ListRecords response
//! built from generated records, parsed repeatedly on one thread.

use std::time::Instant;

use serde_json::Value;

use crate::gen::Generator;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn list_records_response(g: &mut Generator, n: usize) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\">\n\
         <responseDate>2024-05-02T10:00:00Z</responseDate>\n\
         <request verb=\"ListRecords\" metadataPrefix=\"arXivRaw\">http://export.arxiv.org/oai2</request>\n<ListRecords>\n",
    );
    for _ in 0..n {
        let r = g.next_record();
        let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let mut versions = String::new();
        for v in r["versions"].as_array().into_iter().flatten() {
            versions.push_str(&format!(
                " <version version=\"{}\"><date>{}</date><size>100kb</size><source_type>D</source_type></version>\n",
                v["version"].as_str().unwrap_or("v1"),
                v["created"].as_str().unwrap_or("")
            ));
        }
        xml.push_str(&format!(
            "<record>\n<header>\n <identifier>oai:arXiv.org:{id}</identifier>\n <datestamp>{date}</datestamp>\n <setSpec>cs</setSpec>\n</header>\n\
             <metadata>\n <arXivRaw xmlns=\"http://arxiv.org/OAI/arXivRaw/\">\n <id>{id}</id>\n <submitter>{sub}</submitter>\n{versions}\
             <title>{title}</title>\n <authors>{authors}</authors>\n <categories>{cats}</categories>\n <comments>{comments}</comments>\n\
             <license>{license}</license>\n <abstract>  {abs}\n</abstract>\n </arXivRaw>\n</metadata>\n</record>\n",
            id = s("id"),
            date = s("update_date"),
            sub = esc(&s("submitter")),
            title = esc(&s("title")),
            authors = esc(&s("authors")),
            cats = s("categories"),
            comments = esc(&s("comments")),
            license = s("license"),
            abs = esc(&s("abstract")),
        ));
    }
    xml.push_str("<resumptionToken cursor=\"0\" completeListSize=\"999999\">next|1</resumptionToken>\n</ListRecords>\n</OAI-PMH>\n");
    xml
}

pub fn time_parse(xml: &str, n: usize, runs: usize) -> anyhow::Result<()> {
    let mut times = Vec::new();
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let page = paperboy_arxiv::oai::parse_list_records(xml, chrono::Utc::now())
            .map_err(|e| anyhow::anyhow!("parse failed: {e}"))?;
        let secs = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            page.records.len() == n,
            "parsed {} of {n} records",
            page.records.len()
        );
        let ok = page
            .records
            .iter()
            .filter(|r| matches!(r, paperboy_arxiv::oai::OaiRecord::Live { paper: Ok(_), .. }))
            .count();
        anyhow::ensure!(ok == n, "only {ok} of {n} records became papers");
        times.push(secs);
    }
    times.sort_by(f64::total_cmp);
    let best = times[0];
    let median = times[times.len() / 2];
    println!(
        "oai-parse: {n} records, {:.1} MB: best {:.0} records/s ({:.1} MB/s), median {:.0} records/s",
        xml.len() as f64 / 1e6,
        n as f64 / best,
        xml.len() as f64 / 1e6 / best,
        n as f64 / median
    );
    Ok(())
}
