//! A WordPiece tokenizer read from a Hugging Face `tokenizer.json` of the
//! BERT family (BertNormalizer + BertPreTokenizer + WordPiece). Written
//! here rather than taken from the `tokenizers` crate so that static
//! embedding stays fast: ASCII text, most of a corpus, skips Unicode
//! normalisation entirely. Its output is checked against the reference
//! tokenizer's ids in the tests.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use unicode_general_category::{get_general_category, GeneralCategory};
use unicode_normalization::UnicodeNormalization;

use crate::EmbedError;

#[derive(Debug, Clone)]
pub struct WordPiece {
    /// Whole-word pieces.
    head: HashMap<String, u32>,
    /// Continuation pieces, keyed without their `##` prefix.
    tail: HashMap<String, u32>,
    vocab_size: usize,
    unk: u32,
    pub cls: u32,
    pub sep: u32,
    pub pad: u32,
    lowercase: bool,
    strip_accents: bool,
    handle_chinese: bool,
    clean_text: bool,
    max_chars_per_word: usize,
    /// Special tokens matched verbatim in the raw text, as the reference does.
    specials: Vec<(String, u32)>,
}

#[derive(Deserialize)]
struct TokenizerJson {
    #[serde(default)]
    added_tokens: Vec<AddedToken>,
    normalizer: Option<serde_json::Value>,
    model: ModelJson,
}

#[derive(Deserialize)]
struct AddedToken {
    id: u32,
    content: String,
    #[serde(default)]
    special: bool,
}

#[derive(Deserialize)]
struct ModelJson {
    #[serde(rename = "type")]
    kind: String,
    vocab: HashMap<String, u32>,
    unk_token: Option<String>,
    continuing_subword_prefix: Option<String>,
    max_input_chars_per_word: Option<usize>,
}

impl WordPiece {
    pub fn from_file(path: &Path) -> Result<Self, EmbedError> {
        let text = std::fs::read_to_string(path).map_err(|e| EmbedError::io(path, e))?;
        Self::from_json(&text).map_err(|e| match e {
            EmbedError::Model(m) => EmbedError::Model(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    pub fn from_json(text: &str) -> Result<Self, EmbedError> {
        let bad = |m: &str| EmbedError::Model(m.to_string());
        let t: TokenizerJson =
            serde_json::from_str(text).map_err(|e| EmbedError::Model(e.to_string()))?;
        if t.model.kind != "WordPiece" {
            return Err(EmbedError::Model(format!(
                "the tokenizer is {}, only WordPiece (BERT family) tokenizers are supported",
                t.model.kind
            )));
        }
        let prefix = t
            .model
            .continuing_subword_prefix
            .unwrap_or_else(|| "##".into());
        let unk_token = t.model.unk_token.unwrap_or_else(|| "[UNK]".into());
        let vocab_size = t
            .model
            .vocab
            .values()
            .map(|&i| i as usize + 1)
            .max()
            .unwrap_or(0);
        let id = |name: &str| t.model.vocab.get(name).copied();
        let unk = id(&unk_token).ok_or_else(|| bad("the vocabulary has no unknown token"))?;
        let cls = id("[CLS]").ok_or_else(|| bad("the vocabulary has no [CLS]"))?;
        let sep = id("[SEP]").ok_or_else(|| bad("the vocabulary has no [SEP]"))?;
        let pad = id("[PAD]").unwrap_or(0);
        let mut head = HashMap::new();
        let mut tail = HashMap::new();
        for (piece, &i) in &t.model.vocab {
            match piece.strip_prefix(prefix.as_str()) {
                Some(rest) if !rest.is_empty() => tail.insert(rest.to_string(), i),
                _ => head.insert(piece.clone(), i),
            };
        }
        let norm = t.normalizer.unwrap_or(serde_json::Value::Null);
        let flag =
            |k: &str, default: bool| norm.get(k).and_then(|v| v.as_bool()).unwrap_or(default);
        let lowercase = flag("lowercase", true);
        // `strip_accents: null` follows `lowercase`, as in the reference.
        let strip_accents = flag("strip_accents", lowercase);
        Ok(WordPiece {
            head,
            tail,
            vocab_size,
            unk,
            cls,
            sep,
            pad,
            lowercase,
            strip_accents,
            handle_chinese: flag("handle_chinese_chars", true),
            clean_text: flag("clean_text", true),
            max_chars_per_word: t.model.max_input_chars_per_word.unwrap_or(100),
            specials: t
                .added_tokens
                .into_iter()
                .filter(|a| a.special)
                .map(|a| (a.content, a.id))
                .collect(),
        })
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    pub fn unk(&self) -> u32 {
        self.unk
    }

    /// Every piece of the vocabulary by id, continuation pieces with `##`.
    pub fn pieces(&self) -> Vec<String> {
        let mut out = vec![String::new(); self.vocab_size];
        for (p, &i) in &self.head {
            out[i as usize] = p.clone();
        }
        for (p, &i) in &self.tail {
            out[i as usize] = format!("##{p}");
        }
        out
    }

    /// Token ids of `text` without special tokens, at most `max` of them.
    pub fn encode(&self, text: &str, max: usize, out: &mut Vec<u32>) {
        let mut rest = text;
        while !rest.is_empty() && out.len() < max {
            // Special tokens written out in the text are kept whole.
            let cut = self.next_special(rest);
            let (plain, special) = match cut {
                Some((at, len, id)) => (&rest[..at], Some((len, id, at))),
                None => (rest, None),
            };
            self.encode_plain(plain, max, out);
            match special {
                Some((len, id, at)) => {
                    if out.len() < max {
                        out.push(id);
                    }
                    rest = &rest[at + len..];
                }
                None => break,
            }
        }
        out.truncate(max);
    }

    fn next_special(&self, text: &str) -> Option<(usize, usize, u32)> {
        if self.specials.is_empty() || !text.contains('[') {
            return None;
        }
        self.specials
            .iter()
            .filter_map(|(s, id)| text.find(s.as_str()).map(|at| (at, s.len(), *id)))
            .min_by_key(|&(at, len, _)| (at, usize::MAX - len))
    }

    fn encode_plain(&self, text: &str, max: usize, out: &mut Vec<u32>) {
        let mut word = String::new();
        if text.is_ascii() {
            for b in text.bytes() {
                if out.len() >= max {
                    return;
                }
                let c = b as char;
                let control = b == 0 || (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r'));
                if self.clean_text && control {
                    // Removed before splitting, so it joins its neighbours.
                } else if c.is_whitespace() {
                    self.flush(&mut word, out);
                } else if c.is_ascii_punctuation() {
                    self.flush(&mut word, out);
                    word.push(c);
                    self.flush(&mut word, out);
                } else {
                    word.push(if self.lowercase {
                        c.to_ascii_lowercase()
                    } else {
                        c
                    });
                }
            }
            self.flush(&mut word, out);
            return;
        }
        for c in self.normalize(text).chars() {
            if out.len() >= max {
                return;
            }
            if c.is_whitespace() {
                self.flush(&mut word, out);
            } else if is_punctuation(c) || (self.handle_chinese && is_cjk(c)) {
                self.flush(&mut word, out);
                word.push(c);
                self.flush(&mut word, out);
            } else {
                word.push(c);
            }
        }
        self.flush(&mut word, out);
    }

    /// BertNormalizer on non-ASCII text.
    fn normalize(&self, text: &str) -> String {
        let cleaned: String = text
            .chars()
            .filter(|&c| !(self.clean_text && (c == '\0' || c == '\u{fffd}' || is_control(c))))
            .map(|c| {
                if self.clean_text && is_bert_whitespace(c) {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        let stripped: String = if self.strip_accents {
            cleaned
                .nfd()
                .filter(|&c| get_general_category(c) != GeneralCategory::NonspacingMark)
                .collect()
        } else {
            cleaned
        };
        if self.lowercase {
            stripped.to_lowercase()
        } else {
            stripped
        }
    }

    fn flush(&self, word: &mut String, out: &mut Vec<u32>) {
        if word.is_empty() {
            return;
        }
        self.word_pieces(word, out);
        word.clear();
    }

    /// Greedy longest-match-first, as WordPiece does.
    fn word_pieces(&self, word: &str, out: &mut Vec<u32>) {
        if word.chars().count() > self.max_chars_per_word {
            out.push(self.unk);
            return;
        }
        let mark = out.len();
        let mut start = 0;
        while start < word.len() {
            let table = if start == 0 { &self.head } else { &self.tail };
            let mut end = word.len();
            let mut found = None;
            while end > start {
                if word.is_char_boundary(end) {
                    if let Some(&id) = table.get(&word[start..end]) {
                        found = Some(id);
                        break;
                    }
                }
                end -= 1;
            }
            match found {
                Some(id) => {
                    out.push(id);
                    start = end;
                }
                None => {
                    out.truncate(mark);
                    out.push(self.unk);
                    return;
                }
            }
        }
    }
}

fn is_bert_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
        || get_general_category(c) == GeneralCategory::SpaceSeparator
}

fn is_control(c: char) -> bool {
    if matches!(c, '\t' | '\n' | '\r') {
        return false;
    }
    matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate
            | GeneralCategory::Unassigned
    )
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            get_general_category(c),
            GeneralCategory::ConnectorPunctuation
                | GeneralCategory::DashPunctuation
                | GeneralCategory::OpenPunctuation
                | GeneralCategory::ClosePunctuation
                | GeneralCategory::InitialPunctuation
                | GeneralCategory::FinalPunctuation
                | GeneralCategory::OtherPunctuation
        )
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B820..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

/// A `tokenizer.json` without fixed-length padding and truncation (the
/// models Paperboy packs take texts of any length up to their own limit).
pub(crate) fn without_padding(path: &Path) -> Result<serde_json::Value, EmbedError> {
    let text = std::fs::read_to_string(path).map_err(|e| EmbedError::io(path, e))?;
    let mut tok: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| EmbedError::Model(format!("{}: {e}", path.display())))?;
    if let Some(o) = tok.as_object_mut() {
        o.insert("truncation".into(), serde_json::Value::Null);
        o.insert("padding".into(), serde_json::Value::Null);
    }
    Ok(tok)
}

/// [`without_padding`] as compact JSON, as the packed models carry it.
pub(crate) fn compact_json(path: &Path) -> Result<String, EmbedError> {
    serde_json::to_string(&without_padding(path)?).map_err(|e| EmbedError::Model(e.to_string()))
}
