//! Getting arXiv metadata into Paperboy's [`Paper`](paperboy_core::Paper):
//! the metadata snapshot, OAI-PMH harvesting and the Atom API.

pub mod atom;
pub mod client;
pub mod harvest;
pub mod normalize;
pub mod oai;
pub mod snapshot;
mod xml;

pub use client::{ClientSettings, FetchError, PoliteClient};
pub use normalize::{RawRecord, RecordError};
pub use snapshot::{SnapshotItem, SnapshotReader};
pub use xml::XmlError;
