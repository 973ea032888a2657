//! The production adapters of the application's ports (`paperboy_app::ports`
//! and the star tracker's source): the search engine, arXiv, SMTP,
//! OpenAlex and GitHub. The CLI wires them into the App; testkit wires the
//! same ones against stand-in servers. Kept out of `paperboy-app` so the
//! use cases (and the web crate above them) build without the engine's
//! index and model libraries.

pub mod arxiv;
pub mod github;
pub mod openalex;
pub mod search;
pub mod smtp;

pub use arxiv::{ArxivFetcher, ArxivHarvest, ArxivHtml};
pub use github::GitHubStars;
pub use openalex::OpenAlex;
pub use search::EngineSearch;
pub use smtp::SmtpMailer;
