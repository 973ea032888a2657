//! Paperboy's domain: arXiv identifiers, papers and their parts, code links.
//!
//! Pure on purpose: no IO, no async, nothing of ours below it.

pub mod arxiv_id;
pub mod category;
pub mod code_link;
pub mod days;
pub mod fulltext;
pub mod paper;
pub mod search;
pub mod text;
pub mod trending;
pub mod user;

pub use arxiv_id::{ArxivId, ArxivIdError, VersionedId};
pub use category::{Category, CategoryError, TAXONOMY};
pub use code_link::{extract_code_links, CodeLink, CodeLinkKind};
pub use days::{DayError, DayRange};
pub use paper::{
    says_accepted, says_withdrawn, Author, CommentId, Paper, PaperError, PaperId, Version,
};
pub use trending::{trending_score, TrendingInput};
pub use user::{AccountError, Role, User, UserId};
