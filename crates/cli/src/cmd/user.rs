//! `paperboy user add|role|list|token`: accounts and roles from the shell.

use anyhow::Context;
use clap::Subcommand;
use paperboy_core::user::{validate_email, validate_password, validate_username};
use paperboy_core::Role;
use paperboy_store::NewUser;

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
    /// Change an account's role (admin, curator, member).
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

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

pub async fn run(opts: Opts, config: Config) -> anyhow::Result<()> {
    let store = crate::store::open(&config).await?;
    match opts {
        Opts::Add {
            username,
            email,
            role,
        } => {
            let username = validate_username(&username).map_err(anyhow::Error::msg)?;
            let email = validate_email(&email).map_err(anyhow::Error::msg)?;
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
            validate_password(&password).map_err(anyhow::Error::msg)?;
            let password_hash =
                paperboy_web::auth::hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
            let user = store
                .create_user(NewUser {
                    username,
                    email,
                    password_hash,
                    role,
                })
                .await
                .map_err(|e| match e {
                    paperboy_store::StoreError::Conflict { constraint }
                        if constraint.contains("email") =>
                    {
                        anyhow::anyhow!("an account with that email exists")
                    }
                    paperboy_store::StoreError::Conflict { .. } => {
                        anyhow::anyhow!("that username is taken")
                    }
                    other => other.into(),
                })?;
            println!("created {} ({})", user.username, user.role);
        }
        Opts::Role { username, role } => {
            let name = username.to_ascii_lowercase();
            store.set_role(&name, role).await.map_err(|e| match e {
                paperboy_store::StoreError::NotFound => anyhow::anyhow!("no user {username}"),
                other => other.into(),
            })?;
            println!("{name} is now {role}");
        }
        Opts::List => {
            for u in store.list_users().await? {
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
            let (user, _) = store
                .user_by_name(&username.to_ascii_lowercase())
                .await
                .map_err(|e| match e {
                    paperboy_store::StoreError::NotFound => anyhow::anyhow!("no user {username}"),
                    other => other.into(),
                })?;
            let token = paperboy_web::auth::new_token();
            store
                .create_api_token(
                    &paperboy_web::auth::token_digest(&token),
                    user.user_id,
                    &name,
                )
                .await?;
            println!("{token}");
        }
    }
    Ok(())
}
