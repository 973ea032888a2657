//! Accounts, sessions and API tokens.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::Utc;
use paperboy_core::{Role, User, UserId};
use paperboy_store::{AccountStore, NewUser, StoreError};

use crate::columns::{self, ts, USER_COLUMNS};
use crate::conn::Sql;
use crate::{args, Backend, SqlStore};

static CREATE_USER: Sql = Sql::new(
    "INSERT INTO users (username, email, password_hash, role, created_at)
     VALUES ($1, $2, $3, $4, $5) RETURNING user_id",
);
static USER_BY_NAME: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = $1"
    ))
});
static SET_ROLE: Sql = Sql::new("UPDATE users SET role = $2 WHERE username = $1");
static LIST_USERS: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {USER_COLUMNS} FROM users u ORDER BY u.user_id"
    ))
});
static CREATE_SESSION: Sql = Sql::new(
    "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
);
static SESSION_USER: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.user_id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2"
    ))
});
static DELETE_SESSION: Sql = Sql::new("DELETE FROM sessions WHERE token_hash = $1");
static CREATE_TOKEN: Sql = Sql::new(
    "INSERT INTO api_tokens (token_hash, user_id, name, created_at) VALUES ($1, $2, $3, $4)",
);
static TOKEN_USER: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.user_id = t.user_id
         WHERE t.token_hash = $1"
    ))
});

static USER_BY_EMAIL: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1"
    ))
});
static SET_PASSWORD: Sql = Sql::new("UPDATE users SET password_hash = $2 WHERE user_id = $1");
static END_OTHER_SESSIONS: Sql =
    Sql::new("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2");
static CREATE_RESET: Sql =
    Sql::new("INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, $3)");
static TAKE_RESET: Sql = Sql::new(
    "UPDATE password_resets SET used_at = $2
     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
);
static ANONYMISE: Sql = Sql::new(
    "UPDATE users SET username = 'deleted-' || CAST(user_id AS TEXT),
        email = 'deleted-' || CAST(user_id AS TEXT) || '@deleted.invalid',
        password_hash = '!', role = 'member'
     WHERE user_id = $1 RETURNING email",
);
static USER_BY_ID: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.user_id = $1"
    ))
});
static USER_EMAIL: Sql = Sql::new("SELECT email FROM users WHERE user_id = $1");
/// What an account leaves behind is removed table by table (the user row
/// stays, so comments and list entries keep their author).
const PERSONAL: &[&str] = &[
    "DELETE FROM sessions WHERE user_id = $1",
    "DELETE FROM api_tokens WHERE user_id = $1",
    "DELETE FROM library_tags WHERE user_id = $1",
    "DELETE FROM library WHERE user_id = $1",
    "DELETE FROM tags WHERE user_id = $1",
    "DELETE FROM rec_feedback WHERE user_id = $1",
    "DELETE FROM mutes WHERE user_id = $1",
    "DELETE FROM follows WHERE user_id = $1",
    "DELETE FROM feed_tokens WHERE user_id = $1",
    "DELETE FROM notifications WHERE user_id = $1",
    "DELETE FROM password_resets WHERE user_id = $1",
];
static PERSONAL_SQL: LazyLock<Vec<Sql>> = LazyLock::new(|| {
    PERSONAL
        .iter()
        .map(|s| Sql::owned((*s).to_string()))
        .collect()
});
static UNSUBSCRIBE_EMAIL: Sql = Sql::new(
    "UPDATE subscribers SET unsubscribed_at = $2, email = 'deleted-' || CAST(subscriber_id AS TEXT) || '@deleted.invalid'
     WHERE email = $1",
);

impl<B: Backend> SqlStore<B> {
    /// The user `sql` finds by `key`, with their password hash.
    async fn user_with_hash(
        &self,
        sql: &'static Sql,
        key: &str,
    ) -> Result<(User, String), StoreError> {
        let key = key.to_string();
        on!(self, read, |c| {
            c.one(sql, args![&key], |r| {
                Ok((columns::user(r)?, r.text(columns::AFTER_USER)?))
            })
            .await
        })
    }
}

#[async_trait]
impl<B: Backend> AccountStore for SqlStore<B> {
    async fn create_user(&self, u: NewUser) -> Result<User, StoreError> {
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            let id = c
                .scalar(
                    &CREATE_USER,
                    args![
                        &u.username,
                        &u.email,
                        &u.password_hash,
                        u.role.as_str(),
                        now
                    ],
                )
                .await?;
            Ok(User {
                user_id: UserId(id),
                username: u.username,
                email: u.email,
                role: u.role,
                created_at: ts(now),
                suspended_until: None,
            })
        })
    }

    async fn user_by_name(&self, username: &str) -> Result<(User, String), StoreError> {
        self.user_with_hash(&USER_BY_NAME, username).await
    }

    async fn set_role(&self, username: &str, role: Role) -> Result<(), StoreError> {
        let name = username.to_string();
        on!(self, write, |c| {
            match c.execute(&SET_ROLE, args![&name, role.as_str()]).await? {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        on!(self, read, |c| {
            c.all(&LIST_USERS, &[], columns::user).await
        })
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let t = token_hash.to_string();
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            c.execute(&CREATE_SESSION, args![&t, user.0, now, expires_at])
                .await
                .map(drop)
        })
    }

    async fn session_user(&self, token_hash: &str, now: i64) -> Result<User, StoreError> {
        let t = token_hash.to_string();
        on!(self, read, |c| {
            c.one(&SESSION_USER, args![&t, now], columns::user).await
        })
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let t = token_hash.to_string();
        on!(self, write, |c| {
            c.execute(&DELETE_SESSION, args![&t]).await.map(drop)
        })
    }

    async fn create_api_token(
        &self,
        token_hash: &str,
        user: UserId,
        name: &str,
    ) -> Result<(), StoreError> {
        let (t, n) = (token_hash.to_string(), name.to_string());
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            c.execute(&CREATE_TOKEN, args![&t, user.0, &n, now])
                .await
                .map(drop)
        })
    }

    async fn api_token_user(&self, token_hash: &str) -> Result<User, StoreError> {
        let t = token_hash.to_string();
        on!(self, read, |c| {
            c.one(&TOKEN_USER, args![&t], columns::user).await
        })
    }

    async fn user_by_email(&self, email: &str) -> Result<(User, String), StoreError> {
        self.user_with_hash(&USER_BY_EMAIL, email).await
    }

    async fn set_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep: Option<&str>,
    ) -> Result<(), StoreError> {
        let (hash, keep) = (password_hash.to_string(), keep.unwrap_or("").to_string());
        on!(self, write, |c| {
            if c.execute(&SET_PASSWORD, args![user.0, &hash]).await? == 0 {
                return Err(StoreError::NotFound);
            }
            c.execute(&END_OTHER_SESSIONS, args![user.0, &keep]).await?;
            Ok(())
        })
    }

    async fn create_password_reset(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let t = token_hash.to_string();
        on!(self, write, |c| {
            c.execute(&CREATE_RESET, args![&t, user.0, expires_at])
                .await
                .map(drop)
        })
    }

    async fn take_password_reset(&self, token_hash: &str, now: i64) -> Result<User, StoreError> {
        let t = token_hash.to_string();
        on!(self, write, |c| {
            let id = c.one(&TAKE_RESET, args![&t, now], |r| r.i64(0)).await?;
            c.one(&USER_BY_ID, args![id], columns::user).await
        })
    }

    async fn delete_account(&self, user: UserId) -> Result<(), StoreError> {
        on!(self, write, |c| {
            let email = c.one(&USER_EMAIL, args![user.0], |r| r.text(0)).await?;
            for sql in PERSONAL_SQL.iter() {
                c.execute(sql, args![user.0]).await?;
            }
            let now = Utc::now().timestamp();
            c.execute(&UNSUBSCRIBE_EMAIL, args![&email, now]).await?;
            c.one(&ANONYMISE, args![user.0], |r| r.text(0)).await?;
            Ok(())
        })
    }
}
