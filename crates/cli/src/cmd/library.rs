//! `paperboy library import|export` and `paperboy recommend`: a member's
//! library and recommendations from the shell.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use paperboy_app::library::ExportFormat;
use paperboy_app::recommend::RecRequest;
use paperboy_app::App;
use paperboy_core::User;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum Opts {
    /// Add papers to a member's library from BibTeX or a list of arXiv
    /// ids/URLs (one a line); unknown papers are fetched from arXiv; each
    /// entry not imported is named with its line.
    Import {
        #[arg(long)]
        user: String,
        /// Tag every imported paper.
        #[arg(long)]
        tag: Option<String>,
        /// The file (`-` for stdin).
        file: PathBuf,
    },
    /// Print the library (or one tag of it).
    Export {
        #[arg(long)]
        user: String,
        #[arg(long)]
        tag: Option<String>,
        #[arg(long, value_parser = ["bibtex", "json", "csv"])]
        format: String,
    },
}

#[derive(Debug, Args)]
pub struct RecommendOpts {
    #[arg(long)]
    pub user: String,
    #[arg(long)]
    pub tag: Option<String>,
    /// Papers of the last N days; 0 for the whole store.
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print exactly what `GET /api/me/recommendations` answers.
    #[arg(long)]
    pub json: bool,
}

fn msg(e: paperboy_app::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

async fn member(app: &App, name: &str) -> anyhow::Result<User> {
    app.member(name).await.map_err(msg)
}

pub async fn run(opts: Opts, config: Config) -> anyhow::Result<()> {
    match opts {
        Opts::Import { user, tag, file } => {
            let text = if file.as_os_str() == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .context("reading stdin")?;
                s
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?
            };
            // Search for title matching, arXiv for unknown ids.
            let app = crate::wiring::build(&config, crate::wiring::Needs::Keywords)
                .await?
                .app;
            let who = member(&app, &user).await?;
            let bar = Arc::new(indicatif::ProgressBar::new(0));
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} entries ({eta})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix("import");
            let b = bar.clone();
            let report = app
                .import_library(
                    &who,
                    &text,
                    tag.as_deref(),
                    paperboy_app::library::ArxivFetches::Wait,
                    &move |done, total| {
                        b.set_length(total as u64);
                        b.set_position(done as u64);
                    },
                )
                .await
                .map_err(msg)?;
            bar.finish_and_clear();
            for p in &report.problems {
                eprintln!("{}:{}: {}", file.display(), p.line, p.message);
            }
            println!(
                "imported {} new, {} already saved, {} fetched from arXiv, {} not imported ({} entries in {})",
                report.added,
                report.already,
                report.fetched,
                report.problems.len(),
                report.entries,
                file.display()
            );
            Ok(())
        }
        Opts::Export { user, tag, format } => {
            let app = crate::wiring::build(&config, crate::wiring::Needs::Nothing)
                .await?
                .app;
            let who = member(&app, &user).await?;
            let format = ExportFormat::parse(&format).map_err(msg)?;
            let text = app
                .export_library(&who, tag.as_deref(), format)
                .await
                .map_err(msg)?;
            print!("{text}");
            Ok(())
        }
    }
}

pub async fn recommend(opts: RecommendOpts, config: Config) -> anyhow::Result<()> {
    let req = RecRequest::new(opts.tag.as_deref(), opts.days, opts.limit).map_err(msg)?;
    let app = crate::wiring::build(&config, crate::wiring::Needs::Everything)
        .await?
        .app;
    let who = member(&app, &opts.user).await?;
    let recs = app.recommendations(&who, &req).await.map_err(msg)?;
    let views = app.recommendation_views(&recs).await.map_err(msg)?;
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&views)?);
        return Ok(());
    }
    for (i, r) in views.iter().enumerate() {
        println!(
            "{:>2}. {}  {}  ({:.3})",
            i + 1,
            r.paper.id,
            r.paper.title,
            r.score
        );
        println!(
            "    why: close to {}; shares {}",
            r.why.similar_to.join(", "),
            r.why.terms.join(", ")
        );
        if !r.why.cites_library.is_empty() {
            println!(
                "    cites in your library: {}",
                r.why.cites_library.join(", ")
            );
        }
    }
    println!("{} recommendations for {}", views.len(), who.username);
    Ok(())
}
