//! Harvest bookkeeping: where each OAI-PMH set's harvest stands.

use chrono::NaiveDate;
use paperboy_core::{ArxivId, Paper};

use crate::UpsertCounts;

/// How far the harvest of one set has got. Saved in the same transaction
/// as the papers of the page it follows, so a kill at any point resumes
/// exactly where the store stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HarvestCheckpoint {
    pub set_spec: String,
    /// Every record up to this datestamp (inclusive) has been harvested by
    /// a completed run; the next run asks `from` this day.
    pub last_datestamp: Option<NaiveDate>,
    /// A run in progress: the `from` it started with (to restart from on a
    /// bad resumption token) …
    pub run_from: Option<NaiveDate>,
    /// … the token of the next page …
    pub resumption_token: Option<String>,
    /// … and the newest datestamp it has seen so far.
    pub run_max_datestamp: Option<NaiveDate>,
}

impl HarvestCheckpoint {
    pub fn new(set_spec: &str) -> Self {
        HarvestCheckpoint {
            set_spec: set_spec.to_string(),
            ..Default::default()
        }
    }

    pub fn in_progress(&self) -> bool {
        self.resumption_token.is_some()
    }
}

/// One harvested page, applied atomically with its checkpoint.
#[derive(Debug, Clone, Default)]
pub struct HarvestPage {
    pub papers: Vec<Paper>,
    pub deleted: Vec<ArxivId>,
    pub checkpoint: HarvestCheckpoint,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HarvestCounts {
    pub papers: UpsertCounts,
    pub deleted: u64,
}

pub(crate) fn date_to_text(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

impl HarvestCheckpoint {
    /// Columns as both SQL stores keep them: (last, run_from, token, run_max).
    pub fn to_columns(
        &self,
    ) -> (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) {
        (
            date_to_text(self.last_datestamp),
            date_to_text(self.run_from),
            self.resumption_token.clone(),
            date_to_text(self.run_max_datestamp),
        )
    }

    pub fn from_columns(
        set_spec: String,
        last: Option<String>,
        run_from: Option<String>,
        token: Option<String>,
        run_max: Option<String>,
    ) -> Result<Self, crate::StoreError> {
        let parse = |s: Option<String>| -> Result<Option<NaiveDate>, crate::StoreError> {
            s.map(|s| {
                NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| crate::StoreError::Corrupt {
                    key: format!("harvest checkpoint {set_spec}"),
                    reason: format!("date `{s}`: {e}"),
                })
            })
            .transpose()
        };
        Ok(HarvestCheckpoint {
            last_datestamp: parse(last)?,
            run_from: parse(run_from)?,
            resumption_token: token,
            run_max_datestamp: parse(run_max)?,
            set_spec,
        })
    }
}
