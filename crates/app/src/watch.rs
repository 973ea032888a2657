//! The library watch: each day, what changed about the papers a reader
//! saved or follows — a new version (what its title and abstract lost and
//! gained, which sections changed), a withdrawal, code released, a new
//! paper citing it (with the sentence where it does). The store records
//! each event once per paper, in the transaction that saw it; this pass
//! (run by the scheduler after the alerts, so by one node) tells each
//! reader keeping the paper, once (dedupe keys), on `/notifications`, from
//! where the digest's "Your library" section and the private feed take
//! them.

use std::collections::HashMap;

use paperboy_core::text::collapse_whitespace;
use paperboy_core::{ArxivId, UserId};
use paperboy_store::{EventKind, NewNotification, PaperEvent};

use crate::{App, AppError};

/// Events read a round.
const BATCH: u32 = 500;
/// The notification kinds the watch writes start with this.
pub const KIND_PREFIX: &str = "watch_";
/// Longest word diff of an abstract, in characters.
const DIFF_CHARS: usize = 400;
/// Longest citing sentence quoted, in characters.
const CONTEXT_CHARS: usize = 300;

/// What changed between two texts, word by word: the changed runs with a
/// few words around them, removed words in `[-…-]` and added in `{+…+}`,
/// cut at `max` characters (on a word).
pub fn word_diff(old: &str, new: &str, max: usize) -> String {
    use similar::{ChangeTag, TextDiff};
    let (old, new) = (collapse_whitespace(old), collapse_whitespace(new));
    let diff = TextDiff::from_words(&old, &new);
    // Runs of words: (tag, text).
    let mut runs: Vec<(ChangeTag, String)> = Vec::new();
    for c in diff.iter_all_changes() {
        match runs.last_mut() {
            Some((tag, text)) if *tag == c.tag() => text.push_str(c.value()),
            _ => runs.push((c.tag(), c.value().to_string())),
        }
    }
    const AROUND: usize = 4;
    let mut out = String::new();
    let last = runs.len().saturating_sub(1);
    for (i, (tag, text)) in runs.iter().enumerate() {
        let piece = match tag {
            ChangeTag::Delete => format!("[-{}-] ", text.trim()),
            ChangeTag::Insert => format!("{{+{}+}} ", text.trim()),
            ChangeTag::Equal => {
                let words: Vec<&str> = text.split_whitespace().collect();
                let (before, after) = (i > 0, i < last);
                if words.len() <= 2 * AROUND {
                    format!("{} ", words.join(" "))
                } else {
                    let head = if before {
                        words[..AROUND].join(" ")
                    } else {
                        String::new()
                    };
                    let tail = if after {
                        words[words.len() - AROUND..].join(" ")
                    } else {
                        String::new()
                    };
                    match (head.is_empty(), tail.is_empty()) {
                        (false, false) => format!("{head} … {tail} "),
                        (false, true) => format!("{head} …"),
                        (true, false) => format!("… {tail} "),
                        (true, true) => String::new(),
                    }
                }
            }
        };
        if out.chars().count() + piece.chars().count() > max {
            out.push('…');
            break;
        }
        out.push_str(&piece);
    }
    out.trim().to_string()
}

fn cut(s: &str, max: usize) -> String {
    let s = collapse_whitespace(s);
    if s.chars().count() <= max {
        return s;
    }
    let mut t: String = s.chars().take(max).collect();
    if let Some(space) = t.rfind(' ') {
        t.truncate(space);
    }
    t.push('…');
    t
}

/// One event as readers are told it: the kind, the sentence, the key that
/// says it once per reader.
struct Told {
    kind: String,
    text: String,
    key: String,
}

impl App {
    /// Tells readers what happened to the papers they keep since the last
    /// pass; how many notifications. The first pass only marks where the
    /// news starts (history is not news).
    pub async fn watch_pass(&self) -> Result<usize, AppError> {
        let mut cursor = match self.store.watch_cursor().await? {
            Some(c) => c,
            None => {
                let now = self.store.last_event_id().await?;
                self.store.set_watch_cursor(now).await?;
                return Ok(0);
            }
        };
        let mut told = 0;
        loop {
            let events = self.store.paper_events(cursor, BATCH).await?;
            let Some(last) = events.last().map(|e| e.event_id) else {
                break;
            };
            told += self.tell(&events).await?;
            cursor = last;
            self.store.set_watch_cursor(cursor).await?;
        }
        Ok(told)
    }

    async fn tell(&self, events: &[PaperEvent]) -> Result<usize, AppError> {
        let mut papers: Vec<_> = events.iter().map(|e| e.paper_id).collect();
        papers.sort_unstable_by_key(|p| p.0);
        papers.dedup();
        let mut keepers: HashMap<i64, Vec<(UserId, chrono::DateTime<chrono::Utc>)>> =
            HashMap::new();
        for w in self.store.watchers(&papers).await? {
            keepers
                .entry(w.paper_id.0)
                .or_default()
                .push((w.user_id, w.since));
        }
        if keepers.is_empty() {
            return Ok(0);
        }
        // Titles of the papers named (kept ones, and those citing them).
        let mut ids: Vec<ArxivId> = Vec::new();
        for e in events
            .iter()
            .filter(|e| keepers.contains_key(&e.paper_id.0))
        {
            ids.push(e.arxiv_id.clone());
            if let EventKind::Cited { citing, .. } = &e.kind {
                ids.push(citing.clone());
            }
        }
        let now: HashMap<ArxivId, (String, String)> = self
            .papers_by_id(&ids)
            .await?
            .into_iter()
            .map(|(id, l)| {
                let p = &l.stored.paper;
                (id, (collapse_whitespace(&p.title), p.abstract_text.clone()))
            })
            .collect();
        let mut n = 0;
        for e in events {
            let Some(readers) = keepers.get(&e.paper_id.0) else {
                continue;
            };
            // A reader who kept the paper after it happened is not told.
            let users: Vec<UserId> = readers
                .iter()
                .filter(|(_, since)| *since <= e.at)
                .map(|(u, _)| *u)
                .collect();
            let Some(paper) = now.get(&e.arxiv_id) else {
                continue; // deleted since
            };
            if users.is_empty() {
                continue;
            }
            let t = told_of(e, paper, &now);
            self.store
                .notify(
                    &users,
                    NewNotification {
                        kind: t.kind,
                        paper_id: Some(e.paper_id),
                        comment_id: None,
                        actor_id: None,
                        text: t.text,
                        dedupe_key: Some(t.key),
                    },
                )
                .await?;
            n += users.len();
        }
        Ok(n)
    }
}

/// `paper`: the kept paper's title and abstract now; `now`: those of the
/// papers named.
fn told_of(
    e: &PaperEvent,
    (title, abstract_text): &(String, String),
    now: &HashMap<ArxivId, (String, String)>,
) -> Told {
    let id = &e.arxiv_id;
    let (kind, text, key) = match &e.kind {
        EventKind::Version {
            version,
            old_title,
            old_abstract,
        } => {
            let mut text = format!("New version v{version} of “{title}”");
            if collapse_whitespace(old_title) != *title {
                text.push_str(&format!(
                    "; title: {}",
                    word_diff(old_title, title, DIFF_CHARS / 2)
                ));
            }
            if collapse_whitespace(old_abstract) != collapse_whitespace(abstract_text) {
                text.push_str(&format!(
                    "; abstract: {}",
                    word_diff(old_abstract, abstract_text, DIFF_CHARS)
                ));
            }
            ("version", text, format!("paper:{id}:v{version}"))
        }
        EventKind::Withdrawn => (
            "withdrawn",
            format!("“{title}” was withdrawn by its authors"),
            format!("withdrawn:{id}"),
        ),
        EventKind::Code { repo } => (
            "code",
            format!("“{title}” now links its code: {repo}"),
            format!("code:{id}:{repo}"),
        ),
        EventKind::Venue { said } => (
            "venue",
            format!("“{title}” at a venue: {}", cut(said, CONTEXT_CHARS)),
            format!("venue:{id}:{}", cut(said, 200)),
        ),
        EventKind::Sections { version, titles } => (
            "sections",
            format!(
                "Version v{version} of “{title}” changed its sections: {}",
                cut(&titles.join("; "), DIFF_CHARS)
            ),
            format!("sections:{id}:v{version}"),
        ),
        EventKind::Cited { citing, context } => {
            let by = now
                .get(citing)
                .map(|(t, _)| format!("{citing} “{t}”"))
                .unwrap_or_else(|| citing.to_string());
            let mut text = format!("“{title}” is cited by {by}");
            if let Some(c) = context.as_deref().filter(|c| !c.trim().is_empty()) {
                text.push_str(&format!(": “{}”", cut(c, CONTEXT_CHARS)));
            }
            ("cited", text, format!("cites:{id}:{citing}"))
        }
    };
    Told {
        kind: format!("{KIND_PREFIX}{kind}"),
        text,
        key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_diff_shows_what_changed_with_context() {
        let d = word_diff(
            "We average the weights of fine-tuned models to improve accuracy.",
            "We average the weights of many fine-tuned models to improve robustness.",
            400,
        );
        assert!(d.contains("{+many+}"), "{d}");
        assert!(d.contains("[-accuracy.-]"), "{d}");
        assert!(d.contains("{+robustness.+}"), "{d}");
    }

    #[test]
    fn word_diff_is_cut_on_long_texts() {
        let old = "a ".repeat(2000);
        let new = "b ".repeat(2000);
        let d = word_diff(&old, &new, 100);
        assert!(d.chars().count() <= 110, "{}", d.len());
        assert!(d.ends_with('…'));
    }

    #[test]
    fn unchanged_text_has_an_empty_diff_of_changes() {
        let d = word_diff("same words here", "same   words here", 100);
        assert!(!d.contains("[-") && !d.contains("{+"), "{d}");
    }
}
