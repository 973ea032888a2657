//! `paperboy`: one binary, one module per subcommand.

mod cmd;
mod config;
mod embedding;
mod indexes;
mod progress;
mod wiring;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Import and indexing hand many small allocations from a parsing thread to
// a writing one; mimalloc handles that without glibc's arena lock contention.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "paperboy",
    version,
    about = "A self-hostable hub for research papers"
)]
pub struct Cli {
    /// TOML configuration file (defaults → this file → PAPERBOY_* environment).
    #[arg(long, global = true, env = "PAPERBOY_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (and the scheduler).
    Serve(cmd::serve::Opts),
    /// Import arXiv metadata snapshot records (JSON lines, .gz too, - for stdin).
    Import(cmd::import::Opts),
    /// Harvest arXiv over OAI-PMH (and the Atom API for single ids).
    Ingest(cmd::ingest::Opts),
    /// Compose the digests due now and send them (drains the outbox).
    Digest(cmd::digest::Opts),
    /// Search quality on relevance judgments (nDCG@10, MRR, Recall@10 per mode).
    Eval(cmd::eval::Opts),
    /// Search papers, as the web does.
    Search(cmd::search::Opts),
    /// Rebuild the derived indexes from the store.
    Reindex,
    /// Compute missing embeddings (resumable).
    Embed,
    /// Embedding models.
    #[command(subcommand)]
    Model(cmd::model::Opts),
    /// Accounts and roles (admin, moderator, curator, member).
    #[command(subcommand)]
    User(cmd::user::Opts),
    /// A member's library: import a BibTeX file or a list of ids, export it.
    #[command(subcommand)]
    Library(cmd::library::Opts),
    /// Recommendations for a member from their library.
    Recommend(cmd::library::RecommendOpts),
    /// GitHub stars of papers' code links: the tracker's plan, and
    /// `--refresh` to ask GitHub now.
    Stars(cmd::stars::Opts),
    /// Read papers' full text from arXiv now (references, citations), as
    /// the server's fetcher does: same order, spacing and daily budget.
    Fulltext(cmd::fulltext::Opts),
    /// A consistent copy of the SQLite store, made while the server runs.
    Backup(cmd::backup::BackupOpts),
    /// Put a backup in place of an empty store, then rebuild the indexes.
    Restore(cmd::backup::RestoreOpts),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print a commented example configuration.
    DefaultConfig,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::DefaultConfig = cli.command {
        print!("{}", config::EXAMPLE);
        return ExitCode::SUCCESS;
    }
    let config = match config::Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(opts) => cmd::serve::run(opts, config).await,
            Command::Import(opts) => cmd::import::run(opts, config).await,
            Command::Ingest(opts) => cmd::ingest::run(opts, config).await,
            Command::User(opts) => cmd::user::run(opts, config).await,
            Command::Library(opts) => cmd::library::run(opts, config).await,
            Command::Recommend(opts) => cmd::library::recommend(opts, config).await,
            Command::Search(opts) => cmd::search::run(opts, config).await,
            Command::Digest(opts) => cmd::digest::run(opts, config).await,
            Command::Eval(opts) => cmd::eval::run(opts, config).await,
            Command::Reindex => cmd::search::reindex(config).await,
            Command::Embed => cmd::search::embed(config).await,
            Command::Model(opts) => cmd::model::run(opts).await,
            Command::Migrate => cmd::migrate(config).await,
            Command::Backup(opts) => cmd::backup::backup(opts, config).await,
            Command::Restore(opts) => cmd::backup::restore(opts, config).await,
            Command::Stars(opts) => cmd::stars::run(opts, config).await,
            Command::Fulltext(opts) => cmd::fulltext::run(opts, config).await,
            Command::DefaultConfig => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PAPERBOY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
