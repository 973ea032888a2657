//! `paperboy user add|role|list|token`: accounts and roles from the shell.

use anyhow::Context;
use clap::Subcommand;
use paperboy_app::accounts::SignUp;
use paperboy_app::AppError;
use paperboy_core::Role;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum Opts {
    /// Create an account. The password is read from PAPERBOY_PASSWORD or
    /// the first line of stdin.
    Add {
        username: String,
        email: String,
        #[arg(long, default_value = "member", value_parser = parse_role)]
        role: Role,
    },
    /// Change an account's role (admin, moderator, curator, member).
    Role {
        username: String,
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// List accounts.
    List,
    /// Create a personal API token (printed once; only its digest is kept).
    Token {
        username: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

fn parse_role(s: &str) -> Result<Role, paperboy_core::AccountError> {
    s.parse()
}

pub async fn run(opts: Opts, config: Config) -> anyhow::Result<()> {
    let app = crate::wiring::build(&config, crate::wiring::Needs::Nothing)
        .await?
        .app;
    let msg = |e: AppError| anyhow::anyhow!("{e}");
    match opts {
        Opts::Add {
            username,
            email,
            role,
        } => {
            let password = match std::env::var("PAPERBOY_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("reading the password from stdin")?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let user = app
                .create_account(SignUp {
                    username,
                    email,
                    password,
                    role,
                })
                .await
                .map_err(msg)?;
            println!("created {} ({})", user.username, user.role);
        }
        Opts::Role { username, role } => {
            app.set_role(&username, role).await.map_err(msg)?;
            println!("{} is now {role}", username.to_ascii_lowercase());
        }
        Opts::List => {
            for u in app.users().await.map_err(msg)? {
                println!(
                    "{}\t{}\t{}\t{}",
                    u.username,
                    u.email,
                    u.role,
                    u.created_at.format("%Y-%m-%d")
                );
            }
        }
        Opts::Token { username, name } => {
            let token = app.create_api_token(&username, &name).await.map_err(msg)?;
            println!("{token}");
        }
    }
    Ok(())
}
