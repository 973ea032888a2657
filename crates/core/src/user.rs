//! Accounts and roles.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Moderator,
    Curator,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Moderator => "moderator",
            Role::Curator => "curator",
            Role::Member => "member",
        }
    }

    /// Curators (and admins) curate the daily list.
    pub fn can_curate(self) -> bool {
        matches!(self, Role::Admin | Role::Curator)
    }

    /// Moderators (and admins) act on reports, claims and discussions.
    pub fn can_moderate(self) -> bool {
        matches!(self, Role::Admin | Role::Moderator)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a name, address, password or role was refused; the message is
/// written for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("a username has 3 to 32 characters")]
    UsernameLength,
    #[error("a username may hold only letters, digits, _ and -")]
    UsernameCharacters,
    #[error("`{0}` is not an email address")]
    Email(String),
    #[error("a password has at least 8 characters")]
    PasswordShort,
    #[error("that password is too long")]
    PasswordLong,
    #[error("`{0}` is not a role (admin, moderator, curator, member)")]
    Role(String),
}

impl FromStr for Role {
    type Err = AccountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "moderator" => Ok(Role::Moderator),
            "curator" => Ok(Role::Curator),
            "member" => Ok(Role::Member),
            other => Err(AccountError::Role(other.to_string())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user_id: UserId,
    pub username: String,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    /// A moderator's suspension: no posting, voting or submitting until then.
    pub suspended_until: Option<DateTime<Utc>>,
}

impl User {
    /// The end of a suspension still running at `now`.
    pub fn suspended_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.suspended_until.filter(|until| *until > now)
    }
}

/// Usernames are lowercase ASCII letters, digits, `_` and `-`, 3 to 32
/// long, so they are safe in URLs (`/u/{username}`) and case-insensitive.
pub fn validate_username(raw: &str) -> Result<String, AccountError> {
    let name = raw.trim().to_ascii_lowercase();
    if name.len() < 3 || name.len() > 32 {
        return Err(AccountError::UsernameLength);
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return Err(AccountError::UsernameCharacters);
    }
    Ok(name)
}

/// A deliberately plain check: one `@`, something before it, a dotted
/// domain after it, no spaces or angle brackets. Deliverability is the
/// mail server's to judge.
pub fn validate_email(raw: &str) -> Result<String, AccountError> {
    let email = raw.trim().to_ascii_lowercase();
    let bad = || Err(AccountError::Email(raw.trim().to_string()));
    if email.len() > 254
        || email
            .chars()
            .any(|c| c.is_whitespace() || "<>,;\"()[]\\".contains(c))
    {
        return bad();
    }
    let Some((local, domain)) = email.split_once('@') else {
        return bad();
    };
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return bad();
    }
    Ok(email)
}

pub fn validate_password(pw: &str) -> Result<(), AccountError> {
    if pw.chars().count() < 8 {
        return Err(AccountError::PasswordShort);
    }
    if pw.len() > 1024 {
        return Err(AccountError::PasswordLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_emails() {
        assert_eq!(validate_username(" Alice_1 ").unwrap(), "alice_1");
        assert!(validate_username("ab").is_err());
        assert!(validate_username("no spaces").is_err());
        assert!(validate_username("a/b").is_err());
        assert_eq!(
            validate_email("Ada@Example.org").unwrap(),
            "ada@example.org"
        );
        for bad in [
            "",
            "x",
            "x@",
            "@x.org",
            "x@y",
            "x@@y.org",
            "x y@z.org",
            "x@y..org",
            "<x@y.org>",
        ] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
        assert!(validate_password("short").is_err());
        assert!(validate_password("long enough").is_ok());
        assert_eq!("Curator".parse::<Role>(), Ok(Role::Curator));
    }
}
