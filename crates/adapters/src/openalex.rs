//! OpenAlex: the references and cited-by count of papers whose full
//! text arXiv does not have.

use std::sync::Arc;

use async_trait::async_trait;
use paperboy_app::ports::{Catalogue, CatalogueFetch, CatalogueReference};
use paperboy_core::ArxivId;

/// OpenAlex (`https://api.openalex.org`, or a stand-in): a paper found by
/// arXiv's DOI (`/works/doi:10.48550/arXiv.{id}`), then the works it cites
/// fifty at a time (`/works?filter=openalex:W1|W2…`), with the API key,
/// through the polite client.
pub struct OpenAlex {
    pub client: Arc<paperboy_arxiv::PoliteClient>,
    pub base_url: String,
    pub api_key: String,
}

/// The parts of an OpenAlex work read here.
#[derive(Debug, serde::Deserialize)]
struct OpenAlexWork {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    doi: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    publication_year: Option<i32>,
    #[serde(default)]
    cited_by_count: Option<i64>,
    #[serde(default)]
    referenced_works: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
struct OpenAlexList {
    results: Vec<OpenAlexWork>,
}

/// Works of a reference list asked for at once.
const OPENALEX_BATCH: usize = 50;
/// References read of one paper (as from a full text).
const OPENALEX_MAX_REFERENCES: usize = 2_000;
/// The largest answer read.
const OPENALEX_MAX_BYTES: usize = 8 * 1024 * 1024;

impl OpenAlex {
    fn url(&self, path_and_query: &str) -> String {
        let sep = if path_and_query.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{path_and_query}{sep}api_key={}",
            self.base_url.trim_end_matches('/'),
            url::form_urlencoded::byte_serialize(self.api_key.as_bytes()).collect::<String>()
        )
    }

    /// One GET, parsed; `Ok(None)` for a 404.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path_and_query: &str,
    ) -> Result<Option<T>, CatalogueFetch> {
        use paperboy_arxiv::Page;
        let url = self.url(path_and_query);
        // The key stays out of messages.
        let shown = format!("{}{path_and_query}", self.base_url.trim_end_matches('/'));
        let refused = |reason: String, retry_after| CatalogueFetch::Refused {
            reason,
            retry_after,
        };
        match self.client.get_page(&url, None, OPENALEX_MAX_BYTES).await {
            Ok(Page::Body { body, .. }) => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|e| refused(format!("{shown}: not an OpenAlex answer: {e}"), None)),
            Ok(Page::Missing) => Ok(None),
            Ok(Page::Refused {
                status,
                retry_after,
            }) => Err(refused(format!("{shown}: HTTP {status}"), retry_after)),
            Ok(Page::TooLarge { bytes }) => Err(refused(
                format!("{shown}: an answer of {bytes} bytes, more than read"),
                None,
            )),
            Ok(Page::NotModified) => Ok(None),
            Err(e) => Err(refused(e.to_string().replace(&self.api_key, "***"), None)),
        }
    }
}

#[async_trait]
impl Catalogue for OpenAlex {
    async fn work(&self, id: &ArxivId) -> CatalogueFetch {
        let path = format!(
            "/works/doi:10.48550/arXiv.{id}?select=id,doi,title,publication_year,cited_by_count,referenced_works"
        );
        let work: OpenAlexWork = match self.get(&path).await {
            Ok(Some(w)) => w,
            Ok(None) => return CatalogueFetch::Missing,
            Err(refused) => return refused,
        };
        let mut references = Vec::new();
        let cited: Vec<&str> = work
            .referenced_works
            .iter()
            .take(OPENALEX_MAX_REFERENCES)
            .map(|w| w.rsplit('/').next().unwrap_or(w))
            .filter(|w| w.starts_with('W') && w[1..].bytes().all(|b| b.is_ascii_digit()))
            .collect();
        for batch in cited.chunks(OPENALEX_BATCH) {
            let path = format!(
                "/works?filter=openalex:{}&select=id,doi,title,publication_year&per-page={}",
                batch.join("|"),
                OPENALEX_BATCH
            );
            let mut list: OpenAlexList = match self.get(&path).await {
                Ok(Some(l)) => l,
                Ok(None) => continue,
                Err(refused) => return refused,
            };
            // In the paper's order, whatever order OpenAlex answers in.
            let place = |w: &OpenAlexWork| {
                let id = w.id.as_deref().unwrap_or("");
                let id = id.rsplit('/').next().unwrap_or(id);
                batch.iter().position(|b| *b == id).unwrap_or(usize::MAX)
            };
            list.results.sort_by_key(place);
            references.extend(list.results.into_iter().map(|w| {
                CatalogueReference {
                    title: w.title.filter(|t| !t.trim().is_empty()),
                    doi: w
                        .doi
                        .map(|d| d.trim_start_matches("https://doi.org/").to_string()),
                    year: w.publication_year,
                }
            }));
        }
        CatalogueFetch::Found {
            cited_by: work.cited_by_count.unwrap_or(0),
            references,
        }
    }
}
