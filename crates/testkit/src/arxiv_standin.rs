//! A real HTTP server on loopback that plays arXiv: OAI-PMH `ListRecords`
//! pages joined by resumption tokens, and the Atom API for `id_list`
//! queries. Responses follow arXiv's documented formats; faults (503 with
//! Retry-After, cut-off XML, refused tokens) can be injected per request.
//! It also serves papers' HTML renderings (`/html/{id}v{n}`, LaTeXML's
//! markup as arXiv serves it, with `Last-Modified` and 304s).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// One OAI record, already written out as XML.
#[derive(Debug, Clone)]
pub struct StandinRecord {
    pub id: String,
    /// YYYY-MM-DD.
    pub datestamp: String,
    pub xml: String,
}

/// A fault served once, for the request it is keyed on: a resumption token,
/// or `"start"` for a list request without one.
#[derive(Debug, Clone)]
pub enum Fault {
    Unavailable {
        retry_after_secs: u64,
    },
    ServerError,
    /// The right response, cut off in the middle.
    Truncated,
}

#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub at: Instant,
    pub query: String,
    pub status: u16,
    pub user_agent: String,
}

#[derive(Default)]
struct Inner {
    records: Vec<StandinRecord>,
    page_size: usize,
    faults: HashMap<String, Vec<Fault>>,
    /// Every fault keyed here is served every time (a persistent failure).
    always: HashMap<String, Fault>,
    /// Refuse resumption tokens this many more times.
    refuse_tokens: usize,
    atom_entries: HashMap<String, String>,
    /// `{id}v{n}` → the page.
    html_pages: HashMap<String, String>,
    /// `{id}v{n}` → the LaTeX source (`/e-print/`).
    eprints: HashMap<String, Vec<u8>>,
    requests: Vec<SeenRequest>,
}

/// When every HTML page was last modified (an HTTP date).
pub const HTML_LAST_MODIFIED: &str = "Mon, 02 Dec 2024 10:00:00 GMT";

#[derive(Clone)]
pub struct ArxivStandin {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

/// The state of a stand-in, even after a handler panicked holding it.
pub(crate) fn lock<T>(inner: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    inner.lock().unwrap_or_else(|p| p.into_inner())
}

/// Serves `app` on a free loopback port; its base URL.
pub(crate) async fn serve_on_loopback(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind stand-in");
    let addr = listener.local_addr().expect("stand-in address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

impl ArxivStandin {
    pub async fn start(records: Vec<StandinRecord>, page_size: usize) -> ArxivStandin {
        let inner = Arc::new(Mutex::new(Inner {
            records,
            page_size: page_size.max(1),
            ..Default::default()
        }));
        let app = Router::new()
            .route("/oai", get(oai))
            .route("/api/query", get(api))
            .route("/html/{*path}", get(html_page))
            .route("/e-print/{*path}", get(eprint))
            .with_state(inner.clone());
        ArxivStandin {
            base: serve_on_loopback(app).await,
            inner,
        }
    }

    pub fn oai_url(&self) -> String {
        format!("{}/oai", self.base)
    }

    pub fn api_url(&self) -> String {
        format!("{}/api/query", self.base)
    }

    pub fn fault_once(&self, key: &str, fault: Fault) {
        lock(&self.inner)
            .faults
            .entry(key.to_string())
            .or_default()
            .push(fault);
    }

    pub fn fault_always(&self, key: &str, fault: Fault) {
        lock(&self.inner).always.insert(key.to_string(), fault);
    }

    pub fn refuse_tokens(&self, times: usize) {
        lock(&self.inner).refuse_tokens = times;
    }

    pub fn add_records(&self, mut more: Vec<StandinRecord>) {
        lock(&self.inner).records.append(&mut more);
    }

    pub fn add_atom_entry(&self, id: &str, entry_xml: String) {
        lock(&self.inner)
            .atom_entries
            .insert(id.to_string(), entry_xml);
    }

    /// Serves `bytes` (an e-print: see [`latex_eprint`]) at
    /// `/e-print/{id}v{version}`. Faults are keyed `eprint:{id}v{version}`.
    pub fn add_eprint(&self, id: &str, version: u32, bytes: Vec<u8>) {
        lock(&self.inner)
            .eprints
            .insert(format!("{id}v{version}"), bytes);
    }

    /// Serves `html` at `/html/{id}v{version}`. Faults are keyed
    /// `html:{id}v{version}`.
    pub fn add_html(&self, id: &str, version: u32, html: String) {
        lock(&self.inner)
            .html_pages
            .insert(format!("{id}v{version}"), html);
    }

    pub fn requests(&self) -> Vec<SeenRequest> {
        lock(&self.inner).requests.clone()
    }

    /// The resumption token of the page starting at `offset`.
    pub fn token(offset: usize, from: &str) -> String {
        format!("{offset}|{from}")
    }
}

fn xml_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn envelope(request_attrs: &str, inner: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd\">\n\
         <responseDate>2024-05-02T10:00:00Z</responseDate>\n<request {request_attrs}>http://export.arxiv.org/oai2</request>\n{inner}\n</OAI-PMH>\n"
    )
}

fn oai_error(code: &str, message: &str) -> String {
    envelope(
        "verb=\"ListRecords\"",
        &format!("<error code=\"{code}\">{message}</error>"),
    )
}

async fn oai(
    State(inner): State<Arc<Mutex<Inner>>>,
    Query(q): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> Response {
    let mut st = lock(&inner);
    let query = {
        let mut pairs: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.sort();
        pairs.join("&")
    };
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (status, body, retry_after) = respond(&mut st, &q);
    st.requests.push(SeenRequest {
        at: Instant::now(),
        query,
        status: status.as_u16(),
        user_agent,
    });
    let mut resp = xml_response(status, body);
    if let Some(secs) = retry_after {
        if let Ok(v) = secs.to_string().parse() {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

fn respond(st: &mut Inner, q: &HashMap<String, String>) -> (StatusCode, String, Option<u64>) {
    if q.get("verb").map(String::as_str) != Some("ListRecords") {
        return (
            StatusCode::OK,
            oai_error("badVerb", "only ListRecords is played here"),
            None,
        );
    }
    let key = q
        .get("resumptionToken")
        .cloned()
        .unwrap_or_else(|| "start".to_string());
    let fault = match st.faults.get_mut(&key) {
        Some(list) if !list.is_empty() => Some(list.remove(0)),
        _ => st.always.get(&key).cloned(),
    };
    let (offset, from) = match q.get("resumptionToken") {
        Some(token) => {
            if st.refuse_tokens > 0 {
                st.refuse_tokens -= 1;
                return (
                    StatusCode::OK,
                    oai_error(
                        "badResumptionToken",
                        "The value of the resumptionToken argument is invalid or expired.",
                    ),
                    None,
                );
            }
            let Some((off, from)) = token.split_once('|') else {
                return (
                    StatusCode::OK,
                    oai_error("badResumptionToken", "unknown token"),
                    None,
                );
            };
            (off.parse::<usize>().unwrap_or(0), from.to_string())
        }
        None => (0, q.get("from").cloned().unwrap_or_default()),
    };
    let matching: Vec<&StandinRecord> = st
        .records
        .iter()
        .filter(|r| from.is_empty() || r.datestamp.as_str() >= from.as_str())
        .collect();
    if matching.is_empty() {
        return (
            StatusCode::OK,
            oai_error("noRecordsMatch", "The combination of the values of the from, until, set and metadataPrefix arguments results in an empty list."),
            None,
        );
    }
    let end = (offset + st.page_size).min(matching.len());
    let mut inner = String::from("<ListRecords>\n");
    for r in &matching[offset.min(end)..end] {
        inner.push_str(&r.xml);
        inner.push('\n');
    }
    if end < matching.len() {
        inner.push_str(&format!(
            "<resumptionToken cursor=\"{offset}\" completeListSize=\"{}\">{}</resumptionToken>\n",
            matching.len(),
            ArxivStandin::token(end, &from)
        ));
    } else if offset > 0 {
        inner.push_str(&format!(
            "<resumptionToken cursor=\"{offset}\" completeListSize=\"{}\"/>\n",
            matching.len()
        ));
    }
    inner.push_str("</ListRecords>");
    let body = envelope("verb=\"ListRecords\" metadataPrefix=\"arXivRaw\"", &inner);
    match fault {
        None => (StatusCode::OK, body, None),
        Some(Fault::Unavailable { retry_after_secs }) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "<html>Retry later</html>".into(),
            Some(retry_after_secs),
        ),
        Some(Fault::ServerError) => (StatusCode::INTERNAL_SERVER_ERROR, "oops".into(), None),
        Some(Fault::Truncated) => {
            let cut = body.len() * 2 / 3;
            let cut = (0..=cut)
                .rev()
                .find(|&i| body.is_char_boundary(i))
                .unwrap_or(0);
            (StatusCode::OK, body[..cut].to_string(), None)
        }
    }
}

async fn api(
    State(inner): State<Arc<Mutex<Inner>>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let st = lock(&inner);
    let ids: Vec<&str> = q
        .get("id_list")
        .map(|s| s.split(',').collect())
        .unwrap_or_default();
    let entries: Vec<&String> = ids
        .iter()
        .filter_map(|id| st.atom_entries.get(*id))
        .collect();
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         <link href=\"http://arxiv.org/api/query?id_list={}\" rel=\"self\" type=\"application/atom+xml\"/>\n\
         <title type=\"html\">ArXiv Query: id_list={}</title>\n<id>http://arxiv.org/api/standin</id>\n\
         <updated>2024-05-02T00:00:00-04:00</updated>\n\
         <opensearch:totalResults xmlns:opensearch=\"http://a9.com/-/spec/opensearch/1.1/\">{}</opensearch:totalResults>\n\
         <opensearch:startIndex xmlns:opensearch=\"http://a9.com/-/spec/opensearch/1.1/\">0</opensearch:startIndex>\n",
        ids.join(","),
        ids.join(","),
        entries.len()
    );
    for e in entries {
        body.push_str(e);
        body.push('\n');
    }
    body.push_str("</feed>\n");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn html_page(
    State(inner): State<Arc<Mutex<Inner>>>,
    axum::extract::Path(path): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let mut st = lock(&inner);
    let fault = st.take_fault(&format!("html:{path}"));
    let agent = user_agent(&headers);
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let resp = match fault {
        Some(Fault::Unavailable { retry_after_secs }) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, retry_after_secs.to_string())],
            "busy",
        )
            .into_response(),
        Some(Fault::ServerError) => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        Some(Fault::Truncated) | None => match st.html_pages.get(&path) {
            Some(_) if since.as_deref() == Some(HTML_LAST_MODIFIED) => {
                StatusCode::NOT_MODIFIED.into_response()
            }
            Some(page) => {
                let body = match fault {
                    Some(Fault::Truncated) => page[..page.len() / 2].to_string(),
                    _ => page.clone(),
                };
                (
                    StatusCode::OK,
                    [
                        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                        (header::LAST_MODIFIED, HTML_LAST_MODIFIED),
                    ],
                    body,
                )
                    .into_response()
            }
            None => (StatusCode::NOT_FOUND, "No HTML for this paper").into_response(),
        },
    };
    st.requests.push(SeenRequest {
        at: Instant::now(),
        query: format!("/html/{path}"),
        status: resp.status().as_u16(),
        user_agent: agent,
    });
    resp
}

impl Inner {
    /// The next fault queued for `key`, else the one served every time.
    fn take_fault(&mut self, key: &str) -> Option<Fault> {
        match self.faults.get_mut(key) {
            Some(list) if !list.is_empty() => Some(list.remove(0)),
            _ => self.always.get(key).cloned(),
        }
    }
}

fn user_agent(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// arXiv's `/e-print/`: the submission's source as arXiv sends it (a
/// gzipped tar), or a 404 for a paper without one.
async fn eprint(
    State(inner): State<Arc<Mutex<Inner>>>,
    axum::extract::Path(path): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let mut st = lock(&inner);
    let fault = st.take_fault(&format!("eprint:{path}"));
    let agent = user_agent(&headers);
    let resp = match (fault, st.eprints.get(&path)) {
        (Some(Fault::Unavailable { retry_after_secs }), _) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, retry_after_secs.to_string())],
            "busy",
        )
            .into_response(),
        (Some(Fault::ServerError), _) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response()
        }
        (_, Some(bytes)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/x-eprint-tar"),
                (header::LAST_MODIFIED, HTML_LAST_MODIFIED),
            ],
            bytes.clone(),
        )
            .into_response(),
        (_, None) => (StatusCode::NOT_FOUND, "No source for this paper").into_response(),
    };
    st.requests.push(SeenRequest {
        at: Instant::now(),
        query: format!("/e-print/{path}"),
        status: resp.status().as_u16(),
        user_agent: agent,
    });
    resp
}

/// A submission's source as arXiv's e-print serves it: the files in a
/// gzipped tar.
pub fn latex_eprint(files: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let mut tar = tar::Builder::new(Vec::new());
    for (name, text) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, name, text.as_bytes())
            .expect("a tar in memory");
    }
    let raw = tar.into_inner().expect("a tar in memory");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).expect("gzip in memory");
    gz.finish().expect("gzip in memory")
}

/// One entry of a generated reference list.
#[derive(Debug, Clone, Default)]
pub struct HtmlReference {
    pub authors: String,
    pub title: String,
    /// Venue, year, identifiers: the entry's last block.
    pub venue: String,
    /// The sentence citing it (`{}` is where the citation goes), if cited.
    pub cited_in: Option<String>,
}

/// A paper's HTML as arXiv's LaTeXML writes it: title, an abstract, the
/// sections with paragraphs citing references, a figure, the bibliography.
pub fn latexml_page(title: &str, sections: &[(&str, &str)], refs: &[HtmlReference]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{t}</title></head>\n\
         <body><div class=\"ltx_page_main\"><div class=\"ltx_page_content\">\n\
         <article class=\"ltx_document ltx_authors_1line\">\n\
         <h1 class=\"ltx_title ltx_title_document\">{t}</h1>\n\
         <div class=\"ltx_abstract\"><h6 class=\"ltx_title ltx_title_abstract\">Abstract</h6>\n\
         <p class=\"ltx_p\">We study {t}.</p></div>\n",
        t = esc(title)
    );
    for (i, (name, text)) in sections.iter().enumerate() {
        let n = i + 1;
        out.push_str(&format!(
            "<section id=\"S{n}\" class=\"ltx_section\">\n\
             <h2 class=\"ltx_title ltx_title_section\"><span class=\"ltx_tag ltx_tag_section\">{n} </span>{}</h2>\n\
             <div id=\"S{n}.p1\" class=\"ltx_para\"><p class=\"ltx_p\">{}</p></div>\n",
            esc(name),
            esc(text)
        ));
        if n == 1 {
            for (j, r) in refs.iter().enumerate() {
                if let Some(sentence) = &r.cited_in {
                    let cite = format!(
                        "<cite class=\"ltx_cite ltx_citemacro_cite\">[<a href=\"#bib.bib{k}\" title=\"\" class=\"ltx_ref\">{k}</a>]</cite>",
                        k = j + 1
                    );
                    let p = esc(sentence).replace("{}", &cite);
                    out.push_str(&format!(
                        "<div id=\"S{n}.p{}\" class=\"ltx_para\"><p class=\"ltx_p\">{p}</p></div>\n",
                        j + 2
                    ));
                }
            }
            out.push_str(
                "<figure id=\"S1.F1\" class=\"ltx_figure\"><img src=\"x1.png\" class=\"ltx_graphics\" alt=\"\">\n\
                 <figcaption class=\"ltx_caption ltx_centering\"><span class=\"ltx_tag ltx_tag_figure\">Figure 1: </span>An overview.</figcaption></figure>\n",
            );
        }
        out.push_str("</section>\n");
    }
    out.push_str(
        "<section id=\"bib\" class=\"ltx_bibliography\">\n\
         <h2 class=\"ltx_title ltx_title_bibliography\">References</h2>\n<ul class=\"ltx_biblist\">\n",
    );
    for (j, r) in refs.iter().enumerate() {
        let k = j + 1;
        out.push_str(&format!(
            "<li id=\"bib.bib{k}\" class=\"ltx_bibitem\">\n\
             <span class=\"ltx_tag ltx_role_refnum ltx_tag_bibitem\">[{k}]</span>\n\
             <span class=\"ltx_bibblock\">{}</span>\n\
             <span class=\"ltx_bibblock\">{}</span>\n\
             <span class=\"ltx_bibblock\">{}</span>\n</li>\n",
            esc(&r.authors),
            esc(&r.title),
            esc(&r.venue)
        ));
    }
    out.push_str("</ul>\n</section>\n</article>\n</div></div></body>\n</html>\n");
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An `arXivRaw` record as arXiv's OAI-PMH serves it.
pub fn raw_record(
    id: &str,
    datestamp: &str,
    title: &str,
    authors: &str,
    categories: &str,
    abstract_text: &str,
    versions: &[&str],
) -> StandinRecord {
    let mut v = String::new();
    for (i, date) in versions.iter().enumerate() {
        v.push_str(&format!(
            " <version version=\"v{}\"><date>{date}</date><size>100kb</size><source_type>D</source_type></version>\n",
            i + 1
        ));
    }
    let xml = format!(
        "<record>\n<header>\n <identifier>oai:arXiv.org:{id}</identifier>\n <datestamp>{datestamp}</datestamp>\n <setSpec>cs</setSpec>\n</header>\n\
         <metadata>\n <arXivRaw xmlns=\"http://arxiv.org/OAI/arXivRaw/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://arxiv.org/OAI/arXivRaw/ http://arxiv.org/OAI/arXivRaw.xsd\">\n <id>{id}</id>\n <submitter>{}</submitter>\n{v}\
         <title>{}</title>\n <authors>{}</authors>\n <categories>{categories}</categories>\n \
         <license>http://creativecommons.org/licenses/by/4.0/</license>\n <abstract>  {}\n</abstract>\n </arXivRaw>\n</metadata>\n</record>",
        esc(authors.split(',').next().unwrap_or("")),
        esc(title),
        esc(authors),
        esc(abstract_text)
    );
    StandinRecord {
        id: id.to_string(),
        datestamp: datestamp.to_string(),
        xml,
    }
}

/// A cs.LG record first announced on `day` (its datestamp and its v1).
pub fn dated_record(
    id: &str,
    day: chrono::NaiveDate,
    title: &str,
    authors: &str,
    abstract_text: &str,
) -> StandinRecord {
    let version = day.format("%a, %-d %b %Y 10:00:00 GMT").to_string();
    raw_record(
        id,
        &day.to_string(),
        title,
        authors,
        "cs.LG",
        abstract_text,
        &[&version],
    )
}

/// A deleted record: a header with `status="deleted"` and no metadata.
pub fn deleted_record(id: &str, datestamp: &str) -> StandinRecord {
    let xml = format!(
        "<record>\n<header status=\"deleted\">\n <identifier>oai:arXiv.org:{id}</identifier>\n <datestamp>{datestamp}</datestamp>\n <setSpec>cs</setSpec>\n</header>\n</record>"
    );
    StandinRecord {
        id: id.to_string(),
        datestamp: datestamp.to_string(),
        xml,
    }
}

/// An Atom API entry for one paper.
pub fn atom_entry(
    id: &str,
    version: u32,
    title: &str,
    summary: &str,
    authors: &[&str],
    categories: &[&str],
    published: &str,
    updated: &str,
) -> String {
    let mut a = String::new();
    for name in authors {
        a.push_str(&format!(
            "    <author><name>{}</name></author>\n",
            esc(name)
        ));
    }
    let mut c = String::new();
    for cat in categories {
        c.push_str(&format!(
            "    <category term=\"{cat}\" scheme=\"http://arxiv.org/schemas/atom\"/>\n"
        ));
    }
    format!(
        "  <entry>\n    <id>http://arxiv.org/abs/{id}v{version}</id>\n    <updated>{updated}</updated>\n    <published>{published}</published>\n\
         <title>{}</title>\n    <summary>{}</summary>\n{a}\
         <link href=\"http://arxiv.org/abs/{id}v{version}\" rel=\"alternate\" type=\"text/html\"/>\n\
         <link title=\"pdf\" href=\"http://arxiv.org/pdf/{id}v{version}\" rel=\"related\" type=\"application/pdf\"/>\n\
         <arxiv:primary_category xmlns:arxiv=\"http://arxiv.org/schemas/atom\" term=\"{}\" scheme=\"http://arxiv.org/schemas/atom\"/>\n{c}  </entry>",
        esc(title),
        esc(summary),
        categories.first().unwrap_or(&"cs.LG")
    )
}
