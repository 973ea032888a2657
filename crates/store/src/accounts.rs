//! Accounts, sessions and API tokens.

use async_trait::async_trait;
use paperboy_core::{Role, User, UserId};

use crate::StoreError;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
}

/// Sessions and API tokens are stored as digests only; the store never
/// sees a token itself.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// `Conflict` on `users_username_key` or `users_email_key`.
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError>;
    /// The user and their password hash.
    async fn user_by_name(&self, username: &str) -> Result<(User, String), StoreError>;
    async fn set_role(&self, username: &str, role: Role) -> Result<(), StoreError>;
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;
    async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// The session's user; `NotFound` when unknown or expired at `now`.
    async fn session_user(&self, token_hash: &str, now: i64) -> Result<User, StoreError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
    async fn create_api_token(
        &self,
        token_hash: &str,
        user: UserId,
        name: &str,
    ) -> Result<(), StoreError>;
    async fn api_token_user(&self, token_hash: &str) -> Result<User, StoreError>;
    /// The user with this (lowercased) email address and their password hash.
    async fn user_by_email(&self, email: &str) -> Result<(User, String), StoreError>;
    /// A new password hash; every session but `keep` (the one changing
    /// it) ends.
    async fn set_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep: Option<&str>,
    ) -> Result<(), StoreError>;
    /// A reset link's digest for `user`, valid until `expires_at`.
    async fn create_password_reset(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// Uses a reset link once: its user, `NotFound` when unknown, used or
    /// expired at `now`.
    async fn take_password_reset(&self, token_hash: &str, now: i64) -> Result<User, StoreError>;
    /// Ends an account: name and address replaced (`deleted-N`), password,
    /// sessions, tokens, library, tags, follows, feedback, mutes, feed
    /// tokens, notifications, reset links and the address's subscription
    /// gone, in one transaction. Comments stay (their author shows as
    /// deleted); votes stay in the counts, with no name left on them.
    async fn delete_account(&self, user: UserId) -> Result<(), StoreError>;
}
