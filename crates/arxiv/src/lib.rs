//! Getting arXiv metadata into Paperboy's [`Paper`](paperboy_core::Paper):
//! the metadata snapshot, OAI-PMH harvesting and the Atom API; and papers'
//! full text from arXiv's HTML rendering ([`fulltext`]).

pub mod atom;
pub mod client;
pub mod fulltext;
pub mod harvest;
pub mod latex;
pub mod normalize;
pub mod oai;
pub mod snapshot;
mod xml;

pub use client::{ClientSettings, FetchError, Page, PoliteClient};
pub use normalize::{RawRecord, RecordError};
pub use snapshot::{SnapshotItem, SnapshotReader};
pub use xml::XmlError;
