//! arXiv identifiers in both schemes.
//!
//! * new (April 2007 on): `YYMM.NNNN` (until 1412) or `YYMM.NNNNN` (from 1501),
//!   optionally followed by a version `vN`;
//! * old (1991 – March 2007): `archive[.SUBJ]/YYMMNNN`, e.g. `hep-th/9901001`,
//!   `math.GT/0309136`.
//!
//! An [`ArxivId`] never carries a version: parsing splits it off into
//! [`VersionedId::version`], so one paper has one key however it was cited.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Archives of the old identifier scheme (the part before the slash).
const OLD_ARCHIVES: &[&str] = &[
    "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an", "chao-dyn",
    "chem-ph", "cmp-lg", "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an", "gr-qc", "hep-ex",
    "hep-lat", "hep-ph", "hep-th", "math", "math-ph", "mtrl-th", "nlin", "nucl-ex", "nucl-th",
    "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio", "quant-ph", "solv-int", "supr-con",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArxivIdError {
    #[error("empty arXiv id")]
    Empty,
    #[error("`{0}` is not an arXiv id (expected YYMM.NNNNN or archive/YYMMNNN)")]
    Malformed(String),
    #[error("`{id}`: {reason}")]
    Invalid { id: String, reason: &'static str },
}

/// A validated, version-less arXiv identifier, as arXiv writes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArxivId(String);

/// An identifier together with the version it was cited with, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedId {
    pub id: ArxivId,
    pub version: Option<u32>,
}

impl ArxivId {
    /// Parses a bare identifier (a trailing `vN` is accepted and dropped).
    pub fn parse(s: &str) -> Result<Self, ArxivIdError> {
        Ok(VersionedId::parse(s)?.id)
    }

    /// Accepts what people paste: `arXiv:2203.05482v2`, an abs or pdf URL,
    /// surrounding whitespace.
    pub fn parse_loose(s: &str) -> Result<VersionedId, ArxivIdError> {
        let mut t = s.trim();
        for prefix in ["arxiv:", "arXiv:", "ARXIV:"] {
            if let Some(rest) = t.strip_prefix(prefix) {
                t = rest.trim();
            }
        }
        if let Some(pos) = t.find("arxiv.org/") {
            let path = &t[pos + "arxiv.org/".len()..];
            let path = path.split(['?', '#']).next().unwrap_or(path);
            let path = ["abs/", "pdf/", "html/", "format/"]
                .iter()
                .find_map(|p| path.strip_prefix(p))
                .ok_or_else(|| ArxivIdError::Malformed(s.trim().to_string()))?;
            let path = path.trim_end_matches('/');
            let path = path.strip_suffix(".pdf").unwrap_or(path);
            return VersionedId::parse(path);
        }
        VersionedId::parse(t)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_old_style(&self) -> bool {
        self.0.contains('/')
    }

    /// Year and month the identifier was issued in (every arXiv id encodes it).
    pub fn year_month(&self) -> (i32, u32) {
        let digits = match self.0.split_once('/') {
            Some((_, n)) => &n[..4],
            None => &self.0[..4],
        };
        let yy: i32 = digits[..2].parse().unwrap_or(0);
        let mm: u32 = digits[2..4].parse().unwrap_or(1);
        let year = if self.is_old_style() && yy >= 91 {
            1900 + yy
        } else {
            2000 + yy
        };
        (year, mm)
    }

    pub fn abs_url(&self) -> String {
        format!("https://arxiv.org/abs/{}", self.0)
    }

    pub fn pdf_url(&self) -> String {
        format!("https://arxiv.org/pdf/{}", self.0)
    }
}

impl VersionedId {
    pub fn parse(s: &str) -> Result<Self, ArxivIdError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ArxivIdError::Empty);
        }
        let (base, version) = split_version(s)?;
        if base.contains('/') {
            validate_old(base)?;
        } else {
            validate_new(base)?;
        }
        Ok(VersionedId {
            id: ArxivId(base.to_string()),
            version,
        })
    }
}

fn split_version(s: &str) -> Result<(&str, Option<u32>), ArxivIdError> {
    // The version is `v` followed by digits at the very end; ids themselves
    // never contain a `v` after their last digit group.
    if let Some(pos) = s.rfind('v') {
        let digits = &s[pos + 1..];
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            let base = &s[..pos];
            if base.ends_with(|c: char| c.is_ascii_digit()) {
                let v: u32 = digits.parse().map_err(|_| ArxivIdError::Invalid {
                    id: s.to_string(),
                    reason: "version number too large",
                })?;
                if v == 0 {
                    return Err(ArxivIdError::Invalid {
                        id: s.to_string(),
                        reason: "versions start at v1",
                    });
                }
                return Ok((base, Some(v)));
            }
        }
    }
    Ok((s, None))
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn check_month(id: &str, mm: &str) -> Result<(), ArxivIdError> {
    match mm.parse::<u32>() {
        Ok(1..=12) => Ok(()),
        _ => Err(ArxivIdError::Invalid {
            id: id.to_string(),
            reason: "month must be 01-12",
        }),
    }
}

fn validate_new(s: &str) -> Result<(), ArxivIdError> {
    let malformed = || ArxivIdError::Malformed(s.to_string());
    let (yymm, num) = s.split_once('.').ok_or_else(malformed)?;
    if yymm.len() != 4 || !all_digits(yymm) || !all_digits(num) {
        return Err(malformed());
    }
    check_month(s, &yymm[2..])?;
    let stamp: u32 = yymm.parse().map_err(|_| malformed())?;
    if stamp < 704 {
        return Err(ArxivIdError::Invalid {
            id: s.to_string(),
            reason: "new-style ids start in April 2007 (0704)",
        });
    }
    let expected = if stamp <= 1412 { 4 } else { 5 };
    if num.len() != expected {
        return Err(ArxivIdError::Invalid {
            id: s.to_string(),
            reason: if expected == 4 {
                "ids from 0704 to 1412 have a 4-digit number"
            } else {
                "ids from 1501 on have a 5-digit number"
            },
        });
    }
    Ok(())
}

fn validate_old(s: &str) -> Result<(), ArxivIdError> {
    let malformed = || ArxivIdError::Malformed(s.to_string());
    let (archive_subj, num) = s.split_once('/').ok_or_else(malformed)?;
    let (archive, subject) = match archive_subj.split_once('.') {
        Some((a, subj)) => (a, Some(subj)),
        None => (archive_subj, None),
    };
    if !OLD_ARCHIVES.contains(&archive) {
        return Err(ArxivIdError::Invalid {
            id: s.to_string(),
            reason: "unknown archive",
        });
    }
    if let Some(subj) = subject {
        if subj.is_empty() || !subj.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-') {
            return Err(malformed());
        }
    }
    if num.len() != 7 || !all_digits(num) {
        return Err(malformed());
    }
    check_month(s, &num[2..4])?;
    let yy: u32 = num[..2].parse().map_err(|_| malformed())?;
    let yymm: u32 = num[..4].parse().map_err(|_| malformed())?;
    let in_range = (91..=99).contains(&yy) || yymm <= 703;
    if !in_range {
        return Err(ArxivIdError::Invalid {
            id: s.to_string(),
            reason: "old-style ids run from 1991 to March 2007",
        });
    }
    Ok(())
}

impl FromStr for ArxivId {
    type Err = ArxivIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ArxivId::parse(s)
    }
}

impl fmt::Display for ArxivId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ArxivId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for ArxivId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ArxivId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ArxivId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> (String, Option<u32>) {
        let v = VersionedId::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        (v.id.to_string(), v.version)
    }

    #[test]
    fn new_style_ids_parse_and_drop_version() {
        assert_eq!(ok("2203.05482"), ("2203.05482".into(), None));
        assert_eq!(ok("2203.05482v3"), ("2203.05482".into(), Some(3)));
        assert_eq!(ok("0704.0001"), ("0704.0001".into(), None));
        assert_eq!(ok("1412.9999v12"), ("1412.9999".into(), Some(12)));
    }

    #[test]
    fn old_style_ids_keep_archive_and_subject() {
        assert_eq!(ok("hep-th/9901001"), ("hep-th/9901001".into(), None));
        assert_eq!(ok("math.GT/0309136v2"), ("math.GT/0309136".into(), Some(2)));
        assert_eq!(ok("cond-mat/0703999"), ("cond-mat/0703999".into(), None));
        let id = ArxivId::parse("hep-th/9901001").unwrap();
        assert!(id.is_old_style());
        assert_eq!(id.year_month(), (1999, 1));
        assert_eq!(
            ArxivId::parse("math.GT/0309136").unwrap().year_month(),
            (2003, 9)
        );
        assert_eq!(
            ArxivId::parse("2203.05482").unwrap().year_month(),
            (2022, 3)
        );
    }

    #[test]
    fn malformed_and_impossible_ids_are_rejected() {
        for bad in [
            "",
            "2203",
            "2203.",
            "22030.5482",
            "2213.05482",
            "2203.0548",
            "1412.00001",
            "0612.0001",
            "2203.05482v0",
            "2203.05482vx",
            "hep-th/99010",
            "nope/9901001",
            "hep-th/9913001",
            "hep-th/0801001",
            "math./0309136",
            "2203.05482 extra",
        ] {
            assert!(
                VersionedId::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn loose_parsing_accepts_urls_and_prefixes() {
        let cases = [
            ("arXiv:2203.05482v2", "2203.05482", Some(2)),
            ("https://arxiv.org/abs/2203.05482", "2203.05482", None),
            (
                "https://arxiv.org/pdf/2203.05482v1.pdf",
                "2203.05482",
                Some(1),
            ),
            (
                "http://arxiv.org/abs/hep-th/9901001v1",
                "hep-th/9901001",
                Some(1),
            ),
            ("  2203.05482  ", "2203.05482", None),
        ];
        for (input, id, v) in cases {
            let got = ArxivId::parse_loose(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!((got.id.as_str(), got.version), (id, v), "{input}");
        }
        assert!(ArxivId::parse_loose("https://example.org/abs/2203.05482").is_err());
    }
}
