//! A member's library (saved papers and their tags, public collections),
//! what they told the recommender (feedback, mutes), what they follow, and
//! their private feed tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{ArxivId, PaperId, User, UserId};

use crate::{ListedPaper, StoreError};

/// How a library is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LibrarySort {
    /// Newest saved first.
    #[default]
    Added,
    /// Newest first version first.
    Published,
    Title,
}

impl LibrarySort {
    pub fn parse(s: &str) -> Option<LibrarySort> {
        match s {
            "added" => Some(LibrarySort::Added),
            "published" => Some(LibrarySort::Published),
            "title" => Some(LibrarySort::Title),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LibrarySort::Added => "added",
            LibrarySort::Published => "published",
            LibrarySort::Title => "title",
        }
    }
}

/// Which part of a library.
#[derive(Debug, Clone, Default)]
pub struct LibraryQuery {
    pub tag: Option<String>,
    /// Words the title must contain (case aside).
    pub text: Option<String>,
    pub sort: LibrarySort,
    pub offset: u32,
    pub limit: u32,
}

/// When a paper was saved and with which tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub paper_id: PaperId,
    pub added_at: DateTime<Utc>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagInfo {
    pub tag: String,
    pub public: bool,
    pub papers: i64,
}

/// What a library import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SaveCounts {
    pub added: u64,
    pub already: u64,
}

#[async_trait]
pub trait LibraryStore: Send + Sync + 'static {
    /// Saves a paper with exactly these tags (replacing its earlier ones);
    /// whether it was new to the library.
    async fn save(&self, user: UserId, paper: PaperId, tags: &[String])
        -> Result<bool, StoreError>;
    /// Saves many papers at once, adding `tag` (if any) to each, in one
    /// transaction.
    async fn save_many(
        &self,
        user: UserId,
        papers: &[PaperId],
        tag: Option<&str>,
    ) -> Result<SaveCounts, StoreError>;
    /// Takes a paper out of the library (and its tags); whether it was in.
    async fn unsave(&self, user: UserId, paper: PaperId) -> Result<bool, StoreError>;
    async fn library(&self, user: UserId, q: &LibraryQuery)
        -> Result<Vec<ListedPaper>, StoreError>;
    /// Every saved paper (with `tag`, if given), newest saved first.
    async fn library_ids(
        &self,
        user: UserId,
        tag: Option<&str>,
    ) -> Result<Vec<ArxivId>, StoreError>;
    /// When each of `papers` was saved and its tags (unsaved ones absent).
    async fn saved(&self, user: UserId, papers: &[PaperId]) -> Result<Vec<Saved>, StoreError>;
    /// The member's tags with their paper counts, by name.
    async fn tags(&self, user: UserId) -> Result<Vec<TagInfo>, StoreError>;
    /// `NotFound` when the member has no such tag.
    async fn set_tag_public(&self, user: UserId, tag: &str, public: bool)
        -> Result<(), StoreError>;
    /// Whether the member's tag is a public collection (`NotFound` when there is no such tag).
    async fn tag_public(&self, user: UserId, tag: &str) -> Result<bool, StoreError>;
    /// The members among `emails` (as given, or lowercased) who have saved
    /// a paper or follow something: their email as matched and their id.
    async fn readers_by_email(
        &self,
        emails: &[String],
    ) -> Result<Vec<(String, UserId)>, StoreError>;
    /// Whether any member has saved a paper (digests need the vectors then).
    async fn any_library(&self) -> Result<bool, StoreError>;
    /// Members with at least one saved paper, and how many.
    async fn library_sizes(&self, users: &[UserId]) -> Result<Vec<(UserId, i64)>, StoreError>;
}

/// What a member follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FollowKind {
    Paper,
    Author,
    Search,
}

impl FollowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FollowKind::Paper => "paper",
            FollowKind::Author => "author",
            FollowKind::Search => "search",
        }
    }

    pub fn parse(s: &str) -> Option<FollowKind> {
        match s {
            "paper" => Some(FollowKind::Paper),
            "author" => Some(FollowKind::Author),
            "search" => Some(FollowKind::Search),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follow {
    pub user_id: UserId,
    pub kind: FollowKind,
    pub target: String,
    /// What the member was last told about (for papers: `v3 github`).
    pub state: String,
    pub created_at: DateTime<Utc>,
}

/// "Not interested in" a category or an author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MuteKind {
    Category,
    Author,
}

impl MuteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MuteKind::Category => "category",
            MuteKind::Author => "author",
        }
    }

    pub fn parse(s: &str) -> Option<MuteKind> {
        match s {
            "category" => Some(MuteKind::Category),
            "author" => Some(MuteKind::Author),
            _ => None,
        }
    }
}

#[async_trait]
pub trait TasteStore: Send + Sync + 'static {
    /// 👍 (1), 👎 (-1), or 0 to forget.
    async fn set_feedback(
        &self,
        user: UserId,
        paper: PaperId,
        value: i64,
    ) -> Result<(), StoreError>;
    /// The member's 👍/👎, oldest first.
    async fn feedback(&self, user: UserId) -> Result<Vec<(ArxivId, i64)>, StoreError>;
    async fn mute(
        &self,
        user: UserId,
        kind: MuteKind,
        value: &str,
        on: bool,
    ) -> Result<(), StoreError>;
    async fn mutes(&self, user: UserId) -> Result<Vec<(MuteKind, String)>, StoreError>;

    /// Follows (or, with `on` false, unfollows); `state` is the target as
    /// it is now, so only later changes alert.
    async fn follow(
        &self,
        user: UserId,
        kind: FollowKind,
        target: &str,
        state: &str,
        on: bool,
    ) -> Result<(), StoreError>;
    async fn follows(&self, user: UserId) -> Result<Vec<Follow>, StoreError>;
    /// Every follow of `kind` on one of `targets` (all of the kind when
    /// `targets` is `None`).
    async fn followers(
        &self,
        kind: FollowKind,
        targets: Option<&[String]>,
    ) -> Result<Vec<Follow>, StoreError>;
    async fn set_follow_state(
        &self,
        user: UserId,
        kind: FollowKind,
        target: &str,
        state: &str,
    ) -> Result<(), StoreError>;

    /// Keeps the digest of a new private-feed token.
    async fn add_feed_token(&self, user: UserId, token_hash: &str) -> Result<(), StoreError>;
    /// The member a live token belongs to; `NotFound` once revoked.
    async fn feed_token_user(&self, token_hash: &str) -> Result<User, StoreError>;
    /// Revokes every token of the member; how many.
    async fn revoke_feed_tokens(&self, user: UserId) -> Result<u64, StoreError>;
    async fn has_feed_token(&self, user: UserId) -> Result<bool, StoreError>;

    /// How far the alert pass has read the change feed (`None` before its
    /// first run).
    async fn alert_cursor(&self) -> Result<Option<i64>, StoreError>;
    async fn set_alert_cursor(&self, seq: i64) -> Result<(), StoreError>;
}
