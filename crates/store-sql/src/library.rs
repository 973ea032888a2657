//! Libraries, tags and collections; feedback, mutes, follows and private
//! feed tokens.

use std::collections::HashMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::Utc;
use paperboy_core::{ArxivId, PaperId, User, UserId};
use paperboy_store::{
    Follow, FollowKind, LibraryQuery, LibraryStore, ListedPaper, MuteKind, SaveCounts, Saved,
    StoreError, TagInfo, TasteStore,
};

use crate::columns::{self, ts, USER_COLUMNS};
use crate::conn::{Conn, Sql, SqlRow, Value};
use crate::papers::listed_select;
use crate::{args, Backend, SqlStore};

static SAVE: Sql = Sql::new(
    "INSERT INTO library (user_id, paper_id, added_at, arxiv_id)
     SELECT CAST($1 AS BIGINT), p.paper_id, CAST($3 AS BIGINT), p.arxiv_id
     FROM papers p WHERE p.paper_id = $2
     ON CONFLICT (user_id, paper_id) DO NOTHING",
);
static CLEAR_TAGS: Sql = Sql::new("DELETE FROM library_tags WHERE user_id = $1 AND paper_id = $2");
static ADD_TAG: Sql = Sql::new(
    "INSERT INTO library_tags (user_id, tag, paper_id) VALUES ($1, $2, $3)
     ON CONFLICT (user_id, tag, paper_id) DO NOTHING",
);
static MAKE_TAG: Sql = Sql::new(
    "INSERT INTO tags (user_id, tag, public, created_at) VALUES ($1, $2, 0, $3)
     ON CONFLICT (user_id, tag) DO NOTHING",
);
static UNSAVE: Sql = Sql::new("DELETE FROM library WHERE user_id = $1 AND paper_id = $2");
/// The library, one page: `$2` a tag or NULL, `$3` a LIKE pattern on the
/// lowercased title ('' for any), `$4` the sort.
static LIBRARY: LazyLock<Sql> = LazyLock::new(|| {
    listed_select(
        "JOIN library l ON l.paper_id = p.paper_id AND l.user_id = $1
         WHERE p.deleted_at IS NULL
           AND (CAST($2 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM library_tags t
                WHERE t.user_id = $1 AND t.tag = $2 AND t.paper_id = p.paper_id))
           AND ($3 = '' OR lower(p.title) LIKE $3)
         ORDER BY CASE WHEN $4 = 'title' THEN lower(p.title) END,
                  CASE WHEN $4 = 'published' THEN p.published_at END DESC,
                  l.added_at DESC, p.paper_id DESC
         LIMIT $5 OFFSET $6",
    )
});
/// From `library_added_idx` alone (the id kept with each saved paper, the
/// withdrawn papers from their own small index); a row saved by a node of
/// the previous version reads its id from `papers`.
static LIBRARY_IDS: Sql = Sql::new(
    "SELECT COALESCE(l.arxiv_id, (SELECT p.arxiv_id FROM papers p WHERE p.paper_id = l.paper_id))
     FROM library l
     WHERE l.user_id = $1
       AND l.paper_id NOT IN (SELECT d.paper_id FROM papers d WHERE d.deleted_at IS NOT NULL)
     ORDER BY l.added_at DESC, l.paper_id DESC",
);
static LIBRARY_IDS_TAGGED: Sql = Sql::new(
    "SELECT COALESCE(l.arxiv_id, (SELECT p.arxiv_id FROM papers p WHERE p.paper_id = l.paper_id))
     FROM library l JOIN library_tags t
        ON t.user_id = l.user_id AND t.paper_id = l.paper_id AND t.tag = $2
     WHERE l.user_id = $1
       AND l.paper_id NOT IN (SELECT d.paper_id FROM papers d WHERE d.deleted_at IS NOT NULL)
     ORDER BY l.added_at DESC, l.paper_id DESC",
);
static SAVED: Sql =
    Sql::new("SELECT paper_id, added_at FROM library WHERE user_id = $1 AND paper_id = ANY($2)");
static SAVED_TAGS: Sql = Sql::new(
    "SELECT paper_id, tag FROM library_tags WHERE user_id = $1 AND paper_id = ANY($2)
     ORDER BY tag",
);
static TAGS: Sql = Sql::new(
    "SELECT t.tag, t.public, count(l.paper_id) FROM tags t
     JOIN library_tags l ON l.user_id = t.user_id AND l.tag = t.tag
     WHERE t.user_id = $1 GROUP BY t.tag, t.public ORDER BY t.tag",
);
static SET_PUBLIC: Sql = Sql::new("UPDATE tags SET public = $3 WHERE user_id = $1 AND tag = $2");
static TAG_PUBLIC: Sql = Sql::new("SELECT public FROM tags WHERE user_id = $1 AND tag = $2");
static READERS: Sql = Sql::new(
    "SELECT u.email, u.user_id FROM users u WHERE u.email = ANY($1)
        AND (EXISTS (SELECT 1 FROM library l WHERE l.user_id = u.user_id)
             OR EXISTS (SELECT 1 FROM follows f WHERE f.user_id = u.user_id))",
);
static ANY_LIBRARY: Sql = Sql::new("SELECT count(*) FROM (SELECT 1 FROM library LIMIT 1) x");
static SIZES: Sql =
    Sql::new("SELECT user_id, count(*) FROM library WHERE user_id = ANY($1) GROUP BY user_id");

static SET_FEEDBACK: Sql = Sql::new(
    "INSERT INTO rec_feedback (user_id, paper_id, value, created_at, seq)
     VALUES ($1, $2, $3, $4,
        (SELECT COALESCE(MAX(seq), 0) + 1 FROM rec_feedback WHERE user_id = $1))
     ON CONFLICT (user_id, paper_id) DO UPDATE SET value = EXCLUDED.value,
        created_at = EXCLUDED.created_at, seq = EXCLUDED.seq",
);
static FORGET_FEEDBACK: Sql =
    Sql::new("DELETE FROM rec_feedback WHERE user_id = $1 AND paper_id = $2");
static FEEDBACK: Sql = Sql::new(
    "SELECT p.arxiv_id, f.value FROM rec_feedback f JOIN papers p ON p.paper_id = f.paper_id
     WHERE f.user_id = $1 ORDER BY f.created_at, f.seq, f.paper_id",
);
static ALERT_CURSOR: Sql = Sql::new("SELECT value FROM store_meta WHERE key = 'alerts_seq'");
static SET_ALERT_CURSOR: Sql = Sql::new(
    "INSERT INTO store_meta (key, value) VALUES ('alerts_seq', $1)
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
);
static MUTE: Sql = Sql::new(
    "INSERT INTO mutes (user_id, kind, value, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (user_id, kind, value) DO NOTHING",
);
static UNMUTE: Sql = Sql::new("DELETE FROM mutes WHERE user_id = $1 AND kind = $2 AND value = $3");
static MUTES: Sql =
    Sql::new("SELECT kind, value FROM mutes WHERE user_id = $1 ORDER BY kind, value");

static FOLLOW: Sql = Sql::new(
    "INSERT INTO follows (user_id, kind, target, state, created_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (user_id, kind, target) DO NOTHING",
);
static UNFOLLOW: Sql =
    Sql::new("DELETE FROM follows WHERE user_id = $1 AND kind = $2 AND target = $3");
const FOLLOW_COLUMNS: &str = "SELECT user_id, kind, target, state, created_at FROM follows";
static FOLLOWS: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "{FOLLOW_COLUMNS} WHERE user_id = $1 ORDER BY kind, created_at, target"
    ))
});
static FOLLOWERS_ALL: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "{FOLLOW_COLUMNS} WHERE kind = $1 ORDER BY target, user_id"
    ))
});
static FOLLOWERS_OF: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "{FOLLOW_COLUMNS} WHERE kind = $1 AND target = ANY($2) ORDER BY target, user_id"
    ))
});
static SET_STATE: Sql =
    Sql::new("UPDATE follows SET state = $4 WHERE user_id = $1 AND kind = $2 AND target = $3");

static ADD_TOKEN: Sql =
    Sql::new("INSERT INTO feed_tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)");
static TOKEN_USER: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {USER_COLUMNS} FROM feed_tokens f JOIN users u ON u.user_id = f.user_id
         WHERE f.token_hash = $1 AND f.revoked_at IS NULL"
    ))
});
static REVOKE: Sql =
    Sql::new("UPDATE feed_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL");
static HAS_TOKEN: Sql =
    Sql::new("SELECT count(*) FROM feed_tokens WHERE user_id = $1 AND revoked_at IS NULL");

/// Tags a paper (creating each tag, private, on first use).
async fn tag_in(
    c: &mut dyn Conn,
    user: UserId,
    tag: &str,
    papers: &[i64],
    now: i64,
) -> Result<(), StoreError> {
    c.execute(&MAKE_TAG, args![user.0, tag, now]).await?;
    let rows: Vec<Vec<Value<'_>>> = papers
        .iter()
        .map(|p| args![user.0, tag, *p].to_vec())
        .collect();
    c.execute_many(&ADD_TAG, &rows).await?;
    Ok(())
}

fn follow_row(r: &dyn SqlRow) -> Result<Follow, StoreError> {
    let kind = r.text(1)?;
    Ok(Follow {
        user_id: UserId(r.i64(0)?),
        kind: FollowKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
            key: "follows.kind".into(),
            reason: kind.clone(),
        })?,
        target: r.text(2)?,
        state: r.text(3)?,
        created_at: ts(r.i64(4)?),
    })
}

/// Title words as a LIKE pattern ('' for none): every word, in order.
fn title_pattern(text: Option<&str>) -> String {
    let words: Vec<String> = text
        .unwrap_or("")
        .split_whitespace()
        .map(|w| {
            w.to_lowercase()
                .chars()
                .filter(|c| !matches!(c, '%' | '_' | '\\'))
                .collect()
        })
        .filter(|w: &String| !w.is_empty())
        .collect();
    if words.is_empty() {
        String::new()
    } else {
        format!("%{}%", words.join("%"))
    }
}

#[async_trait]
impl<B: Backend> LibraryStore for SqlStore<B> {
    async fn save(
        &self,
        user: UserId,
        paper: PaperId,
        tags: &[String],
    ) -> Result<bool, StoreError> {
        let tags = tags.to_vec();
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            let added = c.execute(&SAVE, args![user.0, paper.0, now]).await? > 0;
            c.execute(&CLEAR_TAGS, args![user.0, paper.0]).await?;
            for tag in &tags {
                tag_in(c, user, tag, &[paper.0], now).await?;
            }
            Ok(added)
        })
    }

    async fn save_many(
        &self,
        user: UserId,
        papers: &[PaperId],
        tag: Option<&str>,
    ) -> Result<SaveCounts, StoreError> {
        let papers: Vec<i64> = papers.iter().map(|p| p.0).collect();
        let tag = tag.map(str::to_string);
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            let rows: Vec<Vec<Value<'_>>> = papers
                .iter()
                .map(|p| args![user.0, *p, now].to_vec())
                .collect();
            let added = c.execute_many(&SAVE, &rows).await?;
            if let Some(tag) = &tag {
                tag_in(c, user, tag, &papers, now).await?;
            }
            Ok(SaveCounts {
                added,
                already: papers.len() as u64 - added,
            })
        })
    }

    async fn unsave(&self, user: UserId, paper: PaperId) -> Result<bool, StoreError> {
        on!(self, write, |c| {
            c.execute(&CLEAR_TAGS, args![user.0, paper.0]).await?;
            Ok(c.execute(&UNSAVE, args![user.0, paper.0]).await? > 0)
        })
    }

    async fn library(
        &self,
        user: UserId,
        q: &LibraryQuery,
    ) -> Result<Vec<ListedPaper>, StoreError> {
        let q = q.clone();
        on!(self, read, |c| {
            let pattern = title_pattern(q.text.as_deref());
            c.all(
                &LIBRARY,
                args![
                    user.0,
                    q.tag.as_deref(),
                    pattern.as_str(),
                    q.sort.as_str(),
                    q.limit,
                    q.offset
                ],
                columns::listed,
            )
            .await
        })
    }

    async fn library_ids(
        &self,
        user: UserId,
        tag: Option<&str>,
    ) -> Result<Vec<ArxivId>, StoreError> {
        let tag = tag.map(str::to_string);
        on!(self, read, |c| {
            let rows = match &tag {
                Some(t) => {
                    c.all(&LIBRARY_IDS_TAGGED, args![user.0, t], |r| r.text(0))
                        .await?
                }
                None => c.all(&LIBRARY_IDS, args![user.0], |r| r.text(0)).await?,
            };
            Ok(rows.iter().filter_map(|s| ArxivId::parse(s).ok()).collect())
        })
    }

    async fn saved(&self, user: UserId, papers: &[PaperId]) -> Result<Vec<Saved>, StoreError> {
        let papers: Vec<i64> = papers.iter().map(|p| p.0).collect();
        on!(self, read, |c| {
            let list = papers.as_slice();
            let rows = c
                .all(&SAVED, args![user.0, list], |r| Ok((r.i64(0)?, r.i64(1)?)))
                .await?;
            let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
            for (p, t) in c
                .all(&SAVED_TAGS, args![user.0, list], |r| {
                    Ok((r.i64(0)?, r.text(1)?))
                })
                .await?
            {
                tags.entry(p).or_default().push(t);
            }
            Ok(rows
                .into_iter()
                .map(|(p, at)| Saved {
                    paper_id: PaperId(p),
                    added_at: ts(at),
                    tags: tags.remove(&p).unwrap_or_default(),
                })
                .collect())
        })
    }

    async fn tags(&self, user: UserId) -> Result<Vec<TagInfo>, StoreError> {
        on!(self, read, |c| {
            c.all(&TAGS, args![user.0], |r| {
                Ok(TagInfo {
                    tag: r.text(0)?,
                    public: r.i64(1)? != 0,
                    papers: r.i64(2)?,
                })
            })
            .await
        })
    }

    async fn set_tag_public(
        &self,
        user: UserId,
        tag: &str,
        public: bool,
    ) -> Result<(), StoreError> {
        let tag = tag.to_string();
        on!(self, write, |c| {
            match c
                .execute(&SET_PUBLIC, args![user.0, &tag, i64::from(public)])
                .await?
            {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
    }

    async fn tag_public(&self, user: UserId, tag: &str) -> Result<bool, StoreError> {
        let tag = tag.to_string();
        on!(self, read, |c| {
            Ok(c.scalar(&TAG_PUBLIC, args![user.0, &tag]).await? != 0)
        })
    }

    async fn readers_by_email(
        &self,
        emails: &[String],
    ) -> Result<Vec<(String, UserId)>, StoreError> {
        let mut all: Vec<String> = emails.to_vec();
        all.extend(emails.iter().map(|e| e.to_lowercase()));
        all.sort();
        all.dedup();
        on!(self, read, |c| {
            c.all(&READERS, args![all.as_slice()], |r| {
                Ok((r.text(0)?, UserId(r.i64(1)?)))
            })
            .await
        })
    }

    async fn any_library(&self) -> Result<bool, StoreError> {
        on!(self, read, |c| {
            Ok(c.scalar(&ANY_LIBRARY, &[]).await? > 0)
        })
    }

    async fn library_sizes(&self, users: &[UserId]) -> Result<Vec<(UserId, i64)>, StoreError> {
        let users: Vec<i64> = users.iter().map(|u| u.0).collect();
        on!(self, read, |c| {
            c.all(&SIZES, args![users.as_slice()], |r| {
                Ok((UserId(r.i64(0)?), r.i64(1)?))
            })
            .await
        })
    }
}

#[async_trait]
impl<B: Backend> TasteStore for SqlStore<B> {
    async fn set_feedback(
        &self,
        user: UserId,
        paper: PaperId,
        value: i64,
    ) -> Result<(), StoreError> {
        on!(self, write, |c| {
            if value == 0 {
                c.execute(&FORGET_FEEDBACK, args![user.0, paper.0]).await?;
            } else {
                let now = Utc::now().timestamp();
                c.execute(&SET_FEEDBACK, args![user.0, paper.0, value.signum(), now])
                    .await?;
            }
            Ok(())
        })
    }

    async fn feedback(&self, user: UserId) -> Result<Vec<(ArxivId, i64)>, StoreError> {
        on!(self, read, |c| {
            let rows = c
                .all(&FEEDBACK, args![user.0], |r| Ok((r.text(0)?, r.i64(1)?)))
                .await?;
            Ok(rows
                .into_iter()
                .filter_map(|(s, v)| ArxivId::parse(&s).ok().map(|id| (id, v)))
                .collect())
        })
    }

    async fn mute(
        &self,
        user: UserId,
        kind: MuteKind,
        value: &str,
        on: bool,
    ) -> Result<(), StoreError> {
        let value = value.to_string();
        on!(self, write, |c| {
            if on {
                let now = Utc::now().timestamp();
                c.execute(&MUTE, args![user.0, kind.as_str(), &value, now])
                    .await?;
            } else {
                c.execute(&UNMUTE, args![user.0, kind.as_str(), &value])
                    .await?;
            }
            Ok(())
        })
    }

    async fn mutes(&self, user: UserId) -> Result<Vec<(MuteKind, String)>, StoreError> {
        on!(self, read, |c| {
            let rows = c
                .all(&MUTES, args![user.0], |r| Ok((r.text(0)?, r.text(1)?)))
                .await?;
            Ok(rows
                .into_iter()
                .filter_map(|(k, v)| MuteKind::parse(&k).map(|k| (k, v)))
                .collect())
        })
    }

    async fn follow(
        &self,
        user: UserId,
        kind: FollowKind,
        target: &str,
        state: &str,
        on: bool,
    ) -> Result<(), StoreError> {
        let (target, state) = (target.to_string(), state.to_string());
        on!(self, write, |c| {
            if on {
                let now = Utc::now().timestamp();
                c.execute(&FOLLOW, args![user.0, kind.as_str(), &target, &state, now])
                    .await?;
            } else {
                c.execute(&UNFOLLOW, args![user.0, kind.as_str(), &target])
                    .await?;
            }
            Ok(())
        })
    }

    async fn follows(&self, user: UserId) -> Result<Vec<Follow>, StoreError> {
        on!(self, read, |c| {
            c.all(&FOLLOWS, args![user.0], follow_row).await
        })
    }

    async fn followers(
        &self,
        kind: FollowKind,
        targets: Option<&[String]>,
    ) -> Result<Vec<Follow>, StoreError> {
        let targets = targets.map(<[String]>::to_vec);
        on!(self, read, |c| {
            match &targets {
                Some(t) => {
                    c.all(
                        &FOLLOWERS_OF,
                        args![kind.as_str(), t.as_slice()],
                        follow_row,
                    )
                    .await
                }
                None => {
                    c.all(&FOLLOWERS_ALL, args![kind.as_str()], follow_row)
                        .await
                }
            }
        })
    }

    async fn set_follow_state(
        &self,
        user: UserId,
        kind: FollowKind,
        target: &str,
        state: &str,
    ) -> Result<(), StoreError> {
        let (target, state) = (target.to_string(), state.to_string());
        on!(self, write, |c| {
            c.execute(&SET_STATE, args![user.0, kind.as_str(), &target, &state])
                .await
                .map(drop)
        })
    }

    async fn add_feed_token(&self, user: UserId, token_hash: &str) -> Result<(), StoreError> {
        let hash = token_hash.to_string();
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            c.execute(&ADD_TOKEN, args![&hash, user.0, now])
                .await
                .map(drop)
        })
    }

    async fn feed_token_user(&self, token_hash: &str) -> Result<User, StoreError> {
        let hash = token_hash.to_string();
        on!(self, read, |c| {
            c.one(&TOKEN_USER, args![&hash], columns::user).await
        })
    }

    async fn revoke_feed_tokens(&self, user: UserId) -> Result<u64, StoreError> {
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            c.execute(&REVOKE, args![user.0, now]).await
        })
    }

    async fn has_feed_token(&self, user: UserId) -> Result<bool, StoreError> {
        on!(self, read, |c| {
            Ok(c.scalar(&HAS_TOKEN, args![user.0]).await? > 0)
        })
    }

    async fn alert_cursor(&self) -> Result<Option<i64>, StoreError> {
        on!(self, read, |c| {
            c.opt(&ALERT_CURSOR, &[], |r| r.i64(0)).await
        })
    }

    async fn set_alert_cursor(&self, seq: i64) -> Result<(), StoreError> {
        on!(self, write, |c| {
            c.execute(&SET_ALERT_CURSOR, args![seq]).await.map(drop)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::title_pattern;

    #[test]
    fn title_words_become_one_pattern() {
        assert_eq!(title_pattern(None), "");
        assert_eq!(title_pattern(Some("  ")), "");
        assert_eq!(title_pattern(Some("Model SOUPS")), "%model%soups%");
        assert_eq!(title_pattern(Some("100%_x")), "%100x%");
    }
}
