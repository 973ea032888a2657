//! arXiv subject categories (`cs.LG`, `hep-th`, `cond-mat.str-el`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The arXiv category taxonomy (current categories).
pub const TAXONOMY: &[&str] = &[
    "cs.AI",
    "cs.AR",
    "cs.CC",
    "cs.CE",
    "cs.CG",
    "cs.CL",
    "cs.CR",
    "cs.CV",
    "cs.CY",
    "cs.DB",
    "cs.DC",
    "cs.DL",
    "cs.DM",
    "cs.DS",
    "cs.ET",
    "cs.FL",
    "cs.GL",
    "cs.GR",
    "cs.GT",
    "cs.HC",
    "cs.IR",
    "cs.IT",
    "cs.LG",
    "cs.LO",
    "cs.MA",
    "cs.MM",
    "cs.MS",
    "cs.NA",
    "cs.NE",
    "cs.NI",
    "cs.OH",
    "cs.OS",
    "cs.PF",
    "cs.PL",
    "cs.RO",
    "cs.SC",
    "cs.SD",
    "cs.SE",
    "cs.SI",
    "cs.SY",
    "econ.EM",
    "econ.GN",
    "econ.TH",
    "eess.AS",
    "eess.IV",
    "eess.SP",
    "eess.SY",
    "math.AC",
    "math.AG",
    "math.AP",
    "math.AT",
    "math.CA",
    "math.CO",
    "math.CT",
    "math.CV",
    "math.DG",
    "math.DS",
    "math.FA",
    "math.GM",
    "math.GN",
    "math.GR",
    "math.GT",
    "math.HO",
    "math.IT",
    "math.KT",
    "math.LO",
    "math.MG",
    "math.MP",
    "math.NA",
    "math.NT",
    "math.OA",
    "math.OC",
    "math.PR",
    "math.QA",
    "math.RA",
    "math.RT",
    "math.SG",
    "math.SP",
    "math.ST",
    "astro-ph.CO",
    "astro-ph.EP",
    "astro-ph.GA",
    "astro-ph.HE",
    "astro-ph.IM",
    "astro-ph.SR",
    "cond-mat.dis-nn",
    "cond-mat.mes-hall",
    "cond-mat.mtrl-sci",
    "cond-mat.other",
    "cond-mat.quant-gas",
    "cond-mat.soft",
    "cond-mat.stat-mech",
    "cond-mat.str-el",
    "cond-mat.supr-con",
    "gr-qc",
    "hep-ex",
    "hep-lat",
    "hep-ph",
    "hep-th",
    "math-ph",
    "nucl-ex",
    "nucl-th",
    "quant-ph",
    "nlin.AO",
    "nlin.CD",
    "nlin.CG",
    "nlin.PS",
    "nlin.SI",
    "physics.acc-ph",
    "physics.ao-ph",
    "physics.app-ph",
    "physics.atm-clus",
    "physics.atom-ph",
    "physics.bio-ph",
    "physics.chem-ph",
    "physics.class-ph",
    "physics.comp-ph",
    "physics.data-an",
    "physics.ed-ph",
    "physics.flu-dyn",
    "physics.gen-ph",
    "physics.geo-ph",
    "physics.hist-ph",
    "physics.ins-det",
    "physics.med-ph",
    "physics.optics",
    "physics.plasm-ph",
    "physics.pop-ph",
    "physics.soc-ph",
    "physics.space-ph",
    "q-bio.BM",
    "q-bio.CB",
    "q-bio.GN",
    "q-bio.MN",
    "q-bio.NC",
    "q-bio.OT",
    "q-bio.PE",
    "q-bio.QM",
    "q-bio.SC",
    "q-bio.TO",
    "q-fin.CP",
    "q-fin.EC",
    "q-fin.GN",
    "q-fin.MF",
    "q-fin.PM",
    "q-fin.PR",
    "q-fin.RM",
    "q-fin.ST",
    "q-fin.TR",
    "stat.AP",
    "stat.CO",
    "stat.ME",
    "stat.ML",
    "stat.OT",
    "stat.TH",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an arXiv category (expected e.g. cs.LG or hep-th)")]
pub struct CategoryError(pub String);

/// A syntactically valid category. Old and retired categories (`cmp-lg`,
/// `q-alg`, `solv-int`) appear in real metadata, so membership in
/// [`TAXONOMY`] is not required.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Category(String);

impl Category {
    pub fn parse(s: &str) -> Result<Self, CategoryError> {
        let err = || CategoryError(s.to_string());
        let (archive, subject) = match s.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let archive_ok = archive.starts_with(|c: char| c.is_ascii_lowercase())
            && archive.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
        let subject_ok = subject.is_none_or(|sub| {
            sub.starts_with(|c: char| c.is_ascii_alphabetic())
                && sub.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
        });
        if archive_ok && subject_ok && s.len() <= 32 {
            Ok(Category(s.to_string()))
        } else {
            Err(err())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The archive part: `cs` for `cs.LG`, `hep-th` for `hep-th`.
    pub fn archive(&self) -> &str {
        self.0.split('.').next().unwrap_or(&self.0)
    }

    pub fn is_current(&self) -> bool {
        TAXONOMY.contains(&self.0.as_str())
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Category {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Category::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taxonomy_entries_are_valid_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in TAXONOMY {
            assert!(Category::parse(c).is_ok(), "{c}");
            assert!(seen.insert(c), "duplicate {c}");
        }
    }

    #[test]
    fn parses_current_and_retired_categories() {
        for c in ["cs.LG", "hep-th", "cond-mat.str-el", "cmp-lg", "q-alg"] {
            assert!(Category::parse(c).is_ok(), "{c}");
        }
        assert_eq!(Category::parse("cs.LG").unwrap().archive(), "cs");
        assert!(Category::parse("cmp-lg").map(|c| !c.is_current()).unwrap());
        for c in ["", "CS.LG", "cs.", "cs.LG extra", "1cs", "cs.L1"] {
            assert!(Category::parse(c).is_err(), "{c:?}");
        }
    }
}
