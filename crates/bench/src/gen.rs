//! A deterministic generator of realistic-looking arXiv metadata records.

use std::collections::HashMap;

use paperboy_core::TAXONOMY;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

/// A bigram model over words (frequencies kept by repetition).
pub struct WordModel {
    words: Vec<String>,
    next: Vec<Vec<u32>>,
    /// Words that start a sentence.
    starts: Vec<u32>,
    /// A large vocabulary with Zipfian frequencies that part of the words
    /// come from ([`WordModel::with_zipf`]).
    zipf: Option<Zipf>,
}

/// Terms by rank with the cumulative distribution of a Zipf–Mandelbrot
/// law, p(r) ∝ 1 / (r + 2.7).
struct Zipf {
    terms: Vec<String>,
    cdf: Vec<f64>,
    /// Share of generated words drawn from it.
    share: f64,
}

impl Zipf {
    fn draw(&self, rng: &mut ChaCha8Rng) -> usize {
        let u: f64 = rng.gen();
        self.cdf
            .partition_point(|c| *c < u)
            .min(self.terms.len() - 1)
    }
}

/// The `rank`-th made-up term: syllables spelling the rank in base 30,
/// so every rank gets its own word (coinages, acronyms, names).
fn coined(rank: usize) -> String {
    let mut n = rank;
    let mut s = String::new();
    loop {
        s.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
        if n == 0 {
            break;
        }
    }
    // Every seventh is a name-like or model-like term.
    match rank % 7 {
        0 => format!("{s}net"),
        3 => format!("{s}former"),
        _ => s,
    }
}

impl WordModel {
    /// Learns from a snapshot JSONL file (titles and abstracts) or plain text.
    pub fn learn(text: &str) -> WordModel {
        let mut docs: Vec<String> = Vec::new();
        for line in text.lines() {
            match serde_json::from_str::<Value>(line) {
                Ok(v) if v.is_object() => {
                    for field in ["title", "abstract"] {
                        if let Some(s) = v.get(field).and_then(Value::as_str) {
                            docs.push(s.to_string());
                        }
                    }
                }
                _ => docs.push(line.to_string()),
            }
        }
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut model = WordModel {
            words: Vec::new(),
            next: Vec::new(),
            starts: Vec::new(),
            zipf: None,
        };
        for doc in &docs {
            let mut prev: Option<u32> = None;
            for raw in doc.split_whitespace() {
                if raw.contains("http") || raw.contains('\\') || raw.contains('$') {
                    continue;
                }
                let id = *index.entry(raw.to_string()).or_insert_with(|| {
                    model.words.push(raw.to_string());
                    model.next.push(Vec::new());
                    (model.words.len() - 1) as u32
                });
                match prev {
                    Some(p) => model.next[p as usize].push(id),
                    None => model.starts.push(id),
                }
                prev = if raw.ends_with('.') { None } else { Some(id) };
            }
        }
        if model.starts.is_empty() && !model.words.is_empty() {
            model.starts.push(0);
        }
        model
    }

    /// Distinct words, cleaned of punctuation.
    pub fn vocabulary(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .words
            .iter()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Half the words drawn from a vocabulary of `terms` terms with
    /// Zipfian frequencies, as real text has: the learned words by how
    /// often they occur first, then coined ones (a long tail of rare
    /// terms, names and acronyms); the other half from the bigram model.
    pub fn with_zipf(mut self, terms: usize) -> WordModel {
        let mut freq: HashMap<String, usize> = HashMap::new();
        let mut count = |id: u32| {
            let w = self.words[id as usize]
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            if w.len() > 2 {
                *freq.entry(w).or_default() += 1;
            }
        };
        for next in &self.next {
            next.iter().copied().for_each(&mut count);
        }
        self.starts.iter().copied().for_each(&mut count);
        let mut known: Vec<(String, usize)> = freq.into_iter().collect();
        known.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut terms_list: Vec<String> = known.into_iter().map(|(w, _)| w).collect();
        let mut rank = 0;
        while terms_list.len() < terms {
            terms_list.push(coined(rank));
            rank += 1;
        }
        terms_list.truncate(terms.max(1));
        let mut cdf = Vec::with_capacity(terms_list.len());
        let mut total = 0.0;
        for r in 0..terms_list.len() {
            total += 1.0 / (r as f64 + 2.7);
            cdf.push(total);
        }
        cdf.iter_mut().for_each(|c| *c /= total);
        self.zipf = Some(Zipf {
            terms: terms_list,
            cdf,
            share: 0.5,
        });
        self
    }

    /// A word a reader might search for: from the Zipfian vocabulary by
    /// frequency (past its 50 commonest terms) when there is one, else
    /// uniformly from the learned words.
    pub fn query_word(&self, rng: &mut ChaCha8Rng, learned: &[String]) -> String {
        match &self.zipf {
            Some(z) => loop {
                let r = z.draw(rng);
                if r >= 50 {
                    return z.terms[r].clone();
                }
            },
            None => learned[rng.gen_range(0..learned.len())].clone(),
        }
    }

    fn words(&self, rng: &mut ChaCha8Rng, n: usize) -> Vec<&str> {
        let mut out = Vec::with_capacity(n);
        let mut cur = self.starts[rng.gen_range(0..self.starts.len())];
        while out.len() < n {
            if let Some(z) = &self.zipf {
                if rng.gen_bool(z.share) {
                    out.push(z.terms[z.draw(rng)].as_str());
                    continue;
                }
            }
            out.push(self.words[cur as usize].as_str());
            let next = &self.next[cur as usize];
            cur = if next.is_empty() || rng.gen_bool(0.05) {
                self.starts[rng.gen_range(0..self.starts.len())]
            } else {
                next[rng.gen_range(0..next.len())]
            };
        }
        out
    }
}

const SYLLABLES: &[&str] = &[
    "an", "ber", "chi", "da", "el", "fu", "ga", "hen", "io", "ja", "ko", "li", "ma", "no", "or",
    "pe", "qui", "ra", "sa", "ta", "un", "vi", "wa", "xi", "ya", "zo", "mar", "tin", "son", "lee",
];

/// Archives an old-style id may use, by category prefix.
const OLD_STYLE_ARCHIVES: &[&str] = &[
    "astro-ph", "cond-mat", "cs", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math",
    "math-ph", "nlin", "nucl-ex", "nucl-th", "physics", "q-bio", "quant-ph",
];

pub struct Generator {
    model: WordModel,
    rng: ChaCha8Rng,
    /// Next number per id prefix (`2203.` or `hep-th/0301`).
    counters: HashMap<String, u32>,
    /// Descending uniform order statistics, so records come out in date
    /// (and so id) order, as the real snapshot does.
    order_stat: f64,
    remaining: usize,
    /// The newest date generated (unix seconds).
    end: i64,
}

/// arXiv's first day and the end of the generated range, in unix seconds.
const START: i64 = 681_004_800; // 1991-08-01
const END: i64 = 1_790_812_800; // 2026-10-01

impl Generator {
    /// Dates end at `end` (unix seconds) instead of 2026-10-01 (benchmarks
    /// of "the last 7 days" want papers up to now).
    pub fn ending(mut self, end: i64) -> Generator {
        self.end = end.max(START + 86_400);
        self
    }

    /// A generator of `n` records.
    pub fn new(model: WordModel, seed: u64, n: usize) -> Generator {
        Generator {
            model,
            rng: ChaCha8Rng::seed_from_u64(seed),
            counters: HashMap::new(),
            order_stat: 1.0,
            remaining: n.max(1),
            end: END,
        }
    }

    /// The next of `n` sorted uniform draws: the largest of k uniforms is
    /// U^(1/k), so walking down from the maximum yields them in order.
    fn next_uniform(&mut self) -> f64 {
        let k = self.remaining.max(1) as f64;
        self.order_stat *= self.rng.gen::<f64>().powf(1.0 / k);
        self.remaining = self.remaining.saturating_sub(1);
        1.0 - self.order_stat
    }

    fn name(&mut self) -> String {
        let part = |rng: &mut ChaCha8Rng| {
            let n = rng.gen_range(2..4);
            let mut s: String = (0..n)
                .map(|_| SYLLABLES[rng.gen_range(0..SYLLABLES.len())])
                .collect();
            if let Some(first) = s.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            s
        };
        let first = part(&mut self.rng);
        let last = part(&mut self.rng);
        format!("{first}|{last}")
    }

    pub fn sentence_text(&mut self, words: usize) -> String {
        let w = self.model.words(&mut self.rng, words);
        let mut s = w.join(" ");
        if let Some(first) = s.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        s
    }

    /// The id for a paper first submitted at `t`, unique in this run.
    fn id_for(&mut self, t: i64, primary: &str) -> String {
        let date = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
        let yymm = date.format("%y%m").to_string();
        let stamp: u32 = yymm.parse().unwrap_or(0);
        let old_style =
            date < chrono::DateTime::from_timestamp(1_175_385_600, 0).unwrap_or_default(); // 2007-04-01
        if old_style {
            let archive = primary.split('.').next().unwrap_or("hep-th");
            let archive = if OLD_STYLE_ARCHIVES.contains(&archive) {
                archive
            } else {
                "hep-th"
            };
            for candidate in std::iter::once(archive).chain(OLD_STYLE_ARCHIVES.iter().copied()) {
                let key = format!("{candidate}/{yymm}");
                let n = self.counters.entry(key.clone()).or_insert(0);
                if *n < 999 {
                    *n += 1;
                    return format!("{key}{:03}", *n);
                }
            }
        } else {
            let key = format!("{yymm}.");
            let width = if stamp <= 1412 { 4 } else { 5 };
            let max = if width == 4 { 9999 } else { 99999 };
            let n = self.counters.entry(key.clone()).or_insert(0);
            if *n < max {
                *n += 1;
                return format!("{key}{:0width$}", *n, width = width);
            }
        }
        // The month is full: try the next one.
        self.id_for(t + 31 * 86_400, primary)
    }

    pub fn next_record(&mut self) -> Value {
        // arXiv grew steadily: later years are likelier (density ∝ t).
        let f: f64 = self.next_uniform().sqrt();
        let rng = &mut self.rng;
        let t0 = START + ((self.end - START) as f64 * f) as i64;
        let n_cats = [1, 1, 1, 2, 2, 3, 4][rng.gen_range(0..7)];
        let mut cats: Vec<&str> = Vec::new();
        while cats.len() < n_cats {
            let c = if rng.gen_bool(0.4) {
                ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML"][rng.gen_range(0..5)]
            } else {
                TAXONOMY[rng.gen_range(0..TAXONOMY.len())]
            };
            if !cats.contains(&c) {
                cats.push(c);
            }
        }
        let n_versions = [1, 1, 1, 2, 2, 3, 4, 5][rng.gen_range(0..8)];
        let n_authors = if rng.gen_bool(0.9) {
            rng.gen_range(1..8)
        } else {
            rng.gen_range(8..31)
        };
        let title_len = rng.gen_range(6..16);
        let abstract_len = rng.gen_range(80..301);
        let with_code = rng.gen_bool(0.1);
        let with_comments = rng.gen_bool(0.5);

        let id = self.id_for(t0, cats[0]);
        let title = self
            .sentence_text(title_len)
            .trim_end_matches('.')
            .to_string();
        let mut abstract_text = String::new();
        let mut remaining = abstract_len;
        while remaining > 0 {
            let n = remaining.min(self.rng.gen_range(12..30));
            if !abstract_text.is_empty() {
                abstract_text.push(' ');
            }
            abstract_text.push_str(self.sentence_text(n).trim_end_matches('.'));
            abstract_text.push('.');
            remaining -= n;
        }
        if with_code {
            let owner = self.name().replace('|', "").to_lowercase();
            let repo = self.model.words(&mut self.rng, 1)[0]
                .trim_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_lowercase();
            let debris = ["", ".", "}.", ")."][self.rng.gen_range(0..4)];
            abstract_text.push_str(&format!(
                " Code is available at https://github.com/{owner}/{repo}-{}{debris}",
                self.rng.gen_range(0..1000)
            ));
        }
        let names: Vec<String> = (0..n_authors).map(|_| self.name()).collect();
        let authors = names
            .iter()
            .map(|n| n.replace('|', " "))
            .collect::<Vec<_>>()
            .join(", ");
        let authors_parsed: Vec<Value> = names
            .iter()
            .map(|n| {
                let (first, last) = n.split_once('|').unwrap_or((n, ""));
                json!([last, first, ""])
            })
            .collect();
        let mut t = t0;
        let mut versions = Vec::new();
        for v in 1..=n_versions {
            let date = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
            versions.push(json!({
                "version": format!("v{v}"),
                "created": date.format("%a, %-d %b %Y %H:%M:%S GMT").to_string(),
            }));
            t = (t + self.rng.gen_range(86_400..200 * 86_400)).min(self.end);
        }
        let last = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
        let comments = with_comments.then(|| {
            format!(
                "{} pages, {} figures",
                self.rng.gen_range(4..40),
                self.rng.gen_range(1..12)
            )
        });
        json!({
            "id": id,
            "submitter": names[0].replace('|', " "),
            "authors": authors,
            "title": title,
            "comments": comments,
            "journal-ref": null,
            "doi": null,
            "report-no": null,
            "categories": cats.join(" "),
            "license": "http://creativecommons.org/licenses/by/4.0/",
            "abstract": abstract_text,
            "versions": versions,
            "update_date": last.format("%Y-%m-%d").to_string(),
            "authors_parsed": authors_parsed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "We study the generalization of fine-tuned models. Averaging weights of models improves accuracy. Robust fine-tuning of large pre-trained models helps out-of-distribution performance.";

    #[test]
    fn a_zipfian_vocabulary_has_a_long_tail_of_rare_terms() {
        let distinct = |model: WordModel| {
            let mut g = Generator::new(model, 5, 2000);
            let mut seen: HashMap<String, usize> = HashMap::new();
            for _ in 0..2000 {
                let r = g.next_record();
                for w in r["abstract"].as_str().unwrap().split_whitespace() {
                    *seen.entry(w.to_lowercase()).or_default() += 1;
                }
            }
            seen
        };
        let small = distinct(WordModel::learn(TEXT));
        let large = distinct(WordModel::learn(TEXT).with_zipf(100_000));
        assert!(
            large.len() > 20_000 && large.len() > 20 * small.len(),
            "{} vs {}",
            large.len(),
            small.len()
        );
        // Most terms are rare (seen once or twice), a few are everywhere.
        let rare = large.values().filter(|n| **n <= 2).count();
        assert!(rare * 2 > large.len(), "{rare} of {}", large.len());
        assert!(large.values().any(|n| *n > 5_000));
        assert_eq!(coined(0), "annet");
        assert_ne!(coined(31), coined(1));
    }

    #[test]
    fn same_seed_same_corpus_and_valid_shapes() {
        let mut a = Generator::new(WordModel::learn(TEXT), 42, 500);
        let mut b = Generator::new(WordModel::learn(TEXT), 42, 500);
        let mut ids = std::collections::HashSet::new();
        let mut last_date = chrono::DateTime::<chrono::Utc>::MIN_UTC;
        for _ in 0..500 {
            let ra = a.next_record();
            assert_eq!(ra, b.next_record());
            let id = ra["id"].as_str().unwrap();
            assert!(paperboy_core::ArxivId::parse(id).is_ok(), "{id}");
            assert!(ids.insert(id.to_string()), "duplicate {id}");
            let title_words = ra["title"].as_str().unwrap().split_whitespace().count();
            assert!((6..=15).contains(&title_words));
            let abs_words = ra["abstract"].as_str().unwrap().split_whitespace().count();
            assert!((80..=310).contains(&abs_words), "{abs_words}");
            let n_authors = ra["authors_parsed"].as_array().unwrap().len();
            assert!((1..=30).contains(&n_authors));
            let n_versions = ra["versions"].as_array().unwrap().len();
            let created = ra["versions"][0]["created"].as_str().unwrap();
            let date = chrono::DateTime::parse_from_rfc2822(created)
                .unwrap()
                .to_utc();
            assert!(date >= last_date, "records come in date order");
            assert!(date.timestamp() >= START && date.timestamp() <= END);
            last_date = date;
            assert!((1..=5).contains(&n_versions));
        }
        let mut c = Generator::new(WordModel::learn(TEXT), 43, 500);
        assert_ne!(
            c.next_record(),
            Generator::new(WordModel::learn(TEXT), 42, 500).next_record()
        );
    }
}
