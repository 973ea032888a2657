//! Getting arXiv metadata into Paperboy's [`Paper`](paperboy_core::Paper).

pub mod normalize;
pub mod snapshot;

pub use normalize::{RawRecord, RecordError};
pub use snapshot::{SnapshotItem, SnapshotReader};
