//! Accounts: sign-up, log-in and sessions, personal API tokens, roles.
//!
//! Session and API tokens are random 256-bit values; the store keeps only
//! their SHA-256 digests. Passwords are hashed with Argon2 on the blocking
//! pool (a hash takes tens of milliseconds).

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use paperboy_core::user::{validate_email, validate_password, validate_username};
use paperboy_core::{Role, User};
use paperboy_store::{NewUser, StoreError};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{App, AppError};

pub const SESSION_DAYS: i64 = 30;

pub fn hash_password(pw: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing a password: {e}")))
}

pub fn verify_password(pw: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
}

/// How long a password reset link works.
const RESET_SECS: i64 = 3600;

/// A fresh random token, hex encoded.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// What the store keeps of a token.
pub fn token_digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(format!("a password task stopped: {e}")))
}

/// A new account, as someone typed it.
pub struct SignUp {
    pub username: String,
    pub email: String,
    pub password: String,
    pub role: Role,
}

/// A session to hand to the browser: the token (for the cookie) and how
/// long it lasts.
pub struct Session {
    pub token: String,
    pub max_age_secs: i64,
}

impl App {
    /// Creates an account. Every field's problem is reported at once
    /// (`Fields`); a taken name or address is a `Conflict` saying which.
    pub async fn create_account(&self, s: SignUp) -> Result<User, AppError> {
        let mut problems = Vec::new();
        let username = validate_username(&s.username)
            .map_err(|e| problems.push(e.to_string()))
            .ok();
        let email = validate_email(&s.email)
            .map_err(|e| problems.push(e.to_string()))
            .ok();
        if let Err(e) = validate_password(&s.password) {
            problems.push(e.to_string());
        }
        let (Some(username), Some(email), true) = (username, email, problems.is_empty()) else {
            return Err(AppError::Fields(problems));
        };
        let password = s.password;
        let password_hash = blocking(move || hash_password(&password)).await??;
        let new = NewUser {
            username,
            email,
            password_hash,
            role: s.role,
        };
        self.store.create_user(new).await.map_err(|e| match e {
            StoreError::Conflict { constraint } if constraint.contains("email") => {
                AppError::Conflict(
                    "An account with that email address exists; log in instead.".into(),
                )
            }
            StoreError::Conflict { .. } => {
                AppError::Conflict("That username is taken; choose another.".into())
            }
            other => other.into(),
        })
    }

    /// Sign-up from the web: rate-limited per client address, then a session.
    pub async fn sign_up(&self, client: &str, s: SignUp) -> Result<(User, Session), AppError> {
        self.limit("sign-up", client, self.settings.limits.signup)
            .await?;
        let user = self.create_account(s).await?;
        let session = self.start_session(&user).await?;
        Ok((user, session))
    }

    /// Checks a name and password; `Unauthorized` says only that one of
    /// them is wrong.
    pub async fn log_in(
        &self,
        client: &str,
        username: &str,
        password: &str,
    ) -> Result<(User, Session), AppError> {
        self.limit("log-in", client, self.settings.limits.login)
            .await?;
        // A username or the account's email address.
        let name = username.trim().to_ascii_lowercase();
        let wrong = || AppError::Unauthorized("Wrong username or password.".into());
        let found = if name.contains('@') {
            self.store.user_by_email(&name).await
        } else {
            self.store.user_by_name(&name).await
        };
        let (user, hash) = match found {
            Ok(found) => found,
            Err(StoreError::NotFound) => return Err(wrong()),
            Err(e) => return Err(e.into()),
        };
        let password = password.to_string();
        if !blocking(move || verify_password(&password, &hash)).await? {
            return Err(wrong());
        }
        let session = self.start_session(&user).await?;
        Ok((user, session))
    }

    /// A new password for a logged-in member who knows the current one;
    /// their other sessions end (this one, `session_token`, stays).
    pub async fn change_password(
        &self,
        user: &User,
        session_token: Option<&str>,
        current: &str,
        new: &str,
    ) -> Result<(), AppError> {
        self.limit("log-in", &user.username, self.settings.limits.login)
            .await?;
        let (_, hash) = self.store.user_by_name(&user.username).await?;
        let current = current.to_string();
        if !blocking(move || verify_password(&current, &hash)).await? {
            return Err(AppError::Fields(vec![
                "The current password is not right.".into()
            ]));
        }
        self.set_password(user, session_token, new).await
    }

    async fn set_password(
        &self,
        user: &User,
        session_token: Option<&str>,
        new: &str,
    ) -> Result<(), AppError> {
        validate_password(new).map_err(|e| AppError::Fields(vec![e.to_string()]))?;
        let new = new.to_string();
        let hash = blocking(move || hash_password(&new)).await??;
        let keep = session_token.map(token_digest);
        self.store
            .set_password(user.user_id, &hash, keep.as_deref())
            .await?;
        Ok(())
    }

    /// Mails a one-use reset link (an hour) to the account with this
    /// address, when there is one and this instance sends mail. Answers
    /// the same either way: whether an address has an account is not told.
    pub async fn request_password_reset(&self, client: &str, email: &str) -> Result<(), AppError> {
        self.limit("password-reset", client, self.settings.limits.signup)
            .await?;
        let email = email.trim().to_ascii_lowercase();
        let (Ok((user, _)), true) = (self.store.user_by_email(&email).await, self.sends_mail())
        else {
            return Ok(());
        };
        let token = new_token();
        let expires = chrono::Utc::now().timestamp() + RESET_SECS;
        self.store
            .create_password_reset(&token_digest(&token), user.user_id, expires)
            .await?;
        let mail = self.mail_settings()?;
        let msg = mail
            .letterhead(self)
            .password_reset(&user.email, &user.username, &token);
        let key = msg.dedupe_key.clone();
        self.store.enqueue_mail(msg, &[]).await?;
        if let (Some(mailer), Some(id)) = (&mail.mailer, self.store.outbox_id(&key).await?) {
            if let Err(e) = mailer.send_now(id).await {
                tracing::warn!(error = %e, "a password reset mail is not sent yet");
            }
        }
        Ok(())
    }

    /// A new password from a reset link (used once, within the hour);
    /// every session of the account ends, and a new one starts.
    pub async fn reset_password(
        &self,
        token: &str,
        new: &str,
    ) -> Result<(User, Session), AppError> {
        validate_password(new).map_err(|e| AppError::Fields(vec![e.to_string()]))?;
        let now = chrono::Utc::now().timestamp();
        let user = self
            .store
            .take_password_reset(&token_digest(token), now)
            .await
            .map_err(|e| {
                AppError::or_not_found(e, || {
                    "This reset link is not valid: it was used already, or it is older than an hour. Ask for a new one.".into()
                })
            })?;
        self.set_password(&user, None, new).await?;
        let session = self.start_session(&user).await?;
        Ok((user, session))
    }

    /// Deletes the member's account as the privacy note on /about says:
    /// their address, password, sessions, tokens, library, follows,
    /// feedback and subscription go; comments stay under "deleted-N" and
    /// votes stay in the counts. Asks for the password first.
    pub async fn delete_account(&self, user: &User, password: &str) -> Result<(), AppError> {
        let (_, hash) = self.store.user_by_name(&user.username).await?;
        let password = password.to_string();
        if !blocking(move || verify_password(&password, &hash)).await? {
            return Err(AppError::Fields(vec![
                "The password is not right; the account stays.".into(),
            ]));
        }
        self.store.delete_account(user.user_id).await?;
        Ok(())
    }

    async fn start_session(&self, user: &User) -> Result<Session, AppError> {
        let token = new_token();
        let max_age_secs = SESSION_DAYS * 86_400;
        let expires = chrono::Utc::now().timestamp() + max_age_secs;
        self.store
            .create_session(&token_digest(&token), user.user_id, expires)
            .await?;
        Ok(Session {
            token,
            max_age_secs,
        })
    }

    pub async fn log_out(&self, session_token: &str) -> Result<(), AppError> {
        Ok(self
            .store
            .delete_session(&token_digest(session_token))
            .await?)
    }

    /// The user of a session cookie; `None` when unknown or expired.
    pub async fn session_user(&self, session_token: &str) -> Result<Option<User>, AppError> {
        let now = chrono::Utc::now().timestamp();
        match self
            .store
            .session_user(&token_digest(session_token), now)
            .await
        {
            Ok(u) => Ok(Some(u)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The user of an API token; `Unauthorized` when it is not valid.
    pub async fn token_user(&self, api_token: &str) -> Result<User, AppError> {
        match self
            .store
            .api_token_user(&token_digest(api_token.trim()))
            .await
        {
            Ok(u) => Ok(u),
            Err(StoreError::NotFound) => {
                Err(AppError::Unauthorized("that API token is not valid".into()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A new personal API token for `username` (returned once; only its
    /// digest is kept).
    pub async fn create_api_token(&self, username: &str, name: &str) -> Result<String, AppError> {
        let (user, _) = self
            .store
            .user_by_name(&username.to_ascii_lowercase())
            .await
            .map_err(|e| AppError::or_not_found(e, || format!("no user {username}")))?;
        let token = new_token();
        self.store
            .create_api_token(&token_digest(&token), user.user_id, name)
            .await?;
        Ok(token)
    }

    pub async fn set_role(&self, username: &str, role: Role) -> Result<(), AppError> {
        let name = username.to_ascii_lowercase();
        self.store
            .set_role(&name, role)
            .await
            .map_err(|e| AppError::or_not_found(e, || format!("no user {username}")))
    }

    /// The member named `username` (`NotFound` naming them when there is none).
    pub async fn member(&self, username: &str) -> Result<User, AppError> {
        self.store
            .user_by_name(username)
            .await
            .map(|(u, _)| u)
            .map_err(|e| AppError::or_not_found(e, || format!("no member named `{username}`")))
    }

    pub async fn users(&self) -> Result<Vec<User>, AppError> {
        Ok(self.store.list_users().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_tokens() {
        let h = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
        let t = new_token();
        assert_eq!(t.len(), 64);
        assert_ne!(t, new_token());
        assert_eq!(
            token_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
