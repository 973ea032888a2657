//! Discussions on papers: comments and one level of replies, edits with
//! their history, deletions that leave a placeholder, upvotes, and the
//! notices that reach the other participants.

use chrono::{DateTime, Duration, Utc};
use paperboy_core::{ArxivId, CommentId, User};
use paperboy_store::{Comment, NewComment, NewNotification, StoreError, StoredPaper};

use paperboy_mail::compose::CommentNotice;

use crate::markdown::{self, MAX_CHARS};
use crate::{App, AppError};

/// Accounts younger than this are new: fewer comments an hour, fewer links.
pub const NEW_ACCOUNT_DAYS: i64 = 7;
/// Comments an hour: (new account, established account).
pub const COMMENTS_PER_HOUR: (i64, i64) = (5, 60);
/// Links in one comment: (new account, established account).
pub const LINKS_PER_COMMENT: (usize, usize) = (2, 10);

/// A top-level comment and its replies, oldest first.
pub struct ThreadEntry {
    pub comment: Comment,
    pub replies: Vec<Comment>,
}

/// A paper's discussion as a reader sees it.
pub struct Discussion {
    pub entries: Vec<ThreadEntry>,
    pub locked: bool,
    /// Comments the reader upvoted.
    pub voted: Vec<CommentId>,
}

/// Groups a paper's comments into top-level entries with their replies.
pub fn thread(comments: Vec<Comment>) -> Vec<ThreadEntry> {
    let (tops, replies): (Vec<Comment>, Vec<Comment>) =
        comments.into_iter().partition(|c| c.parent_id.is_none());
    let mut entries: Vec<ThreadEntry> = tops
        .into_iter()
        .map(|comment| ThreadEntry {
            comment,
            replies: Vec::new(),
        })
        .collect();
    for r in replies {
        if let Some(e) = entries
            .iter_mut()
            .find(|e| Some(e.comment.comment_id) == r.parent_id)
        {
            e.replies.push(r);
        }
    }
    entries
}

/// Text as stored: NUL characters (which PostgreSQL's text cannot hold
/// and no one types) are dropped.
pub(crate) fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') {
        s.replace('\0', "").into()
    } else {
        s.into()
    }
}

fn is_new(user: &User, now: DateTime<Utc>) -> bool {
    now - user.created_at < Duration::days(NEW_ACCOUNT_DAYS)
}

impl App {
    /// Refuses a suspended member, naming when the suspension ends.
    pub(crate) fn check_not_suspended(&self, user: &User) -> Result<(), AppError> {
        match user.suspended_at(Utc::now()) {
            Some(until) => Err(AppError::Forbidden(format!(
                "Your account is suspended until {}.",
                until.format("%B %-d, %Y %H:%M UTC")
            ))),
            None => Ok(()),
        }
    }

    /// A paper's discussion, for a reader (or a visitor).
    pub async fn discussion(
        &self,
        id: &ArxivId,
        viewer: Option<&User>,
    ) -> Result<Discussion, AppError> {
        let paper = self.paper(id).await?;
        self.discussion_of(&paper, viewer).await
    }

    pub(crate) async fn discussion_of(
        &self,
        paper: &StoredPaper,
        viewer: Option<&User>,
    ) -> Result<Discussion, AppError> {
        let comments = self.store.comments_of(paper.paper_id).await?;
        let voted = match viewer {
            Some(u) => {
                let ids: Vec<CommentId> = comments.iter().map(|c| c.comment_id).collect();
                self.store.comment_votes(u.user_id, &ids).await?
            }
            None => Vec::new(),
        };
        let locked = self.store.thread_locked(paper.paper_id).await?;
        Ok(Discussion {
            entries: thread(comments),
            locked,
            voted,
        })
    }

    /// Checks a body: not empty, not too long, and (for new accounts) not
    /// too many links. The rendered HTML.
    fn checked_body(&self, user: &User, body: &str) -> Result<String, AppError> {
        // Counted as sent, so the limit is the one the API states.
        let chars = body.chars().count();
        let body = body.trim();
        if body.is_empty() {
            return Err(AppError::Invalid("A comment needs some text.".into()));
        }
        if chars > MAX_CHARS {
            return Err(AppError::TooLarge(format!(
                "A comment has at most {MAX_CHARS} characters; this one has {chars}."
            )));
        }
        let new = is_new(user, Utc::now());
        let max_links = if new {
            LINKS_PER_COMMENT.0
        } else {
            LINKS_PER_COMMENT.1
        };
        if markdown::count_links(body) > max_links {
            return Err(AppError::Forbidden(format!(
                "A comment holds at most {max_links} links{}.",
                if new { " while an account is new" } else { "" }
            )));
        }
        Ok(markdown::render(body))
    }

    /// Posts a comment (or, with `parent`, a reply) on a paper.
    pub async fn post_comment(
        &self,
        user: &User,
        id: &ArxivId,
        body: &str,
        parent: Option<CommentId>,
    ) -> Result<Comment, AppError> {
        self.check_not_suspended(user)?;
        let body = &clean(body);
        let html = self.checked_body(user, body)?;
        let paper = self.paper(id).await?;
        if self.store.thread_locked(paper.paper_id).await? {
            return Err(AppError::Forbidden(
                "This discussion is locked by a moderator.".into(),
            ));
        }
        // Replies go one level deep: a reply to a reply joins the thread
        // of the comment it answers.
        let parent = match parent {
            None => None,
            Some(parent) => match self.store.comment(parent).await {
                Ok(p) if p.paper_id == paper.paper_id => Some(p.parent_id.unwrap_or(parent)),
                Ok(_) | Err(StoreError::NotFound) => {
                    return Err(AppError::NotFound(format!(
                        "There is no comment {} on {id} to reply to.",
                        parent.0
                    )))
                }
                Err(e) => return Err(e.into()),
            },
        };
        let now = Utc::now();
        let per_hour = if is_new(user, now) {
            COMMENTS_PER_HOUR.0
        } else {
            COMMENTS_PER_HOUR.1
        };
        let hour_ago = (now - Duration::hours(1)).timestamp();
        if self.store.comments_since(user.user_id, hour_ago).await? >= per_hour {
            return Err(AppError::RateLimited {
                message: format!(
                    "At most {per_hour} comments an hour{}; try again later.",
                    if is_new(user, now) {
                        " while an account is new"
                    } else {
                        ""
                    }
                ),
                retry_after_secs: 600,
            });
        }
        let comment = self
            .store
            .add_comment(NewComment {
                paper_id: paper.paper_id,
                parent_id: parent,
                author_id: user.user_id,
                body: body.trim().to_string(),
                html,
            })
            .await?;
        if let Err(e) = self.tell_participants(user, &paper, &comment).await {
            // The comment stands; the notices are a courtesy.
            tracing::warn!(error = %e, "notifying a discussion's participants failed");
        }
        // After the participants: a participant who also follows hears
        // of a reply as a reply (one notice per member and comment).
        if let Err(e) = self.tell_followers(user, &paper, &comment).await {
            tracing::warn!(error = %e, "notifying a paper's followers failed");
        }
        Ok(comment)
    }

    /// Notices for the members following the paper (its participants hear
    /// of it their own way; one notice per member and comment).
    async fn tell_followers(
        &self,
        author: &User,
        paper: &StoredPaper,
        comment: &Comment,
    ) -> Result<(), AppError> {
        let target = vec![paper.paper.id.as_str().to_string()];
        let followers: Vec<paperboy_core::UserId> = self
            .store
            .followers(paperboy_store::FollowKind::Paper, Some(&target))
            .await?
            .into_iter()
            .map(|f| f.user_id)
            .filter(|u| *u != author.user_id)
            .collect();
        if followers.is_empty() {
            return Ok(());
        }
        let n = NewNotification {
            kind: "follow_paper".into(),
            paper_id: Some(paper.paper_id),
            comment_id: Some(comment.comment_id),
            actor_id: Some(author.user_id),
            text: format!(
                "{} commented on “{}”, which you follow",
                author.username, paper.paper.title
            ),
            dedupe_key: Some(format!("comment:{}", comment.comment_id.0)),
        };
        self.store.notify(&followers, n).await?;
        Ok(())
    }

    /// Notices for everyone else in the discussion (the parent's author
    /// hears of a reply), and mail for those who asked for it.
    async fn tell_participants(
        &self,
        author: &User,
        paper: &StoredPaper,
        comment: &Comment,
    ) -> Result<(), AppError> {
        let others: Vec<User> = self
            .store
            .participants(paper.paper_id, false)
            .await?
            .into_iter()
            .filter(|u| u.user_id != author.user_id)
            .collect();
        if others.is_empty() {
            return Ok(());
        }
        let parent_author = match comment.parent_id {
            Some(p) => Some(self.store.comment(p).await?.author_id),
            None => None,
        };
        let title = &paper.paper.title;
        for u in &others {
            let text = if Some(u.user_id) == parent_author {
                format!("{} replied to your comment on “{title}”", author.username)
            } else {
                format!("{} commented on “{title}”", author.username)
            };
            let n = NewNotification {
                kind: if Some(u.user_id) == parent_author {
                    "reply"
                } else {
                    "comment"
                }
                .into(),
                paper_id: Some(paper.paper_id),
                comment_id: Some(comment.comment_id),
                actor_id: Some(author.user_id),
                text: text.clone(),
                dedupe_key: Some(format!("comment:{}", comment.comment_id.0)),
            };
            self.store.notify(&[u.user_id], n).await?;
        }
        self.mail_participants(author, paper, comment).await
    }

    /// Mail to the participants who opted in (queued in the outbox, once
    /// per comment and reader).
    async fn mail_participants(
        &self,
        author: &User,
        paper: &StoredPaper,
        comment: &Comment,
    ) -> Result<(), AppError> {
        let Some(mail) = &self.mail else {
            return Ok(());
        };
        let readers = self.store.participants(paper.paper_id, true).await?;
        let letterhead = mail.letterhead(self);
        for r in readers.iter().filter(|u| u.user_id != author.user_id) {
            let msg = letterhead.comment_notice(
                &r.email,
                &CommentNotice {
                    author: &author.username,
                    paper_title: &paper.paper.title,
                    arxiv_id: paper.paper.id.as_str(),
                    comment_id: comment.comment_id.0,
                    body: &comment.body,
                },
            );
            self.store.enqueue_mail(msg, &[]).await?;
        }
        Ok(())
    }

    /// The author edits their comment; the earlier body is kept.
    pub async fn edit_comment(
        &self,
        user: &User,
        id: CommentId,
        body: &str,
    ) -> Result<Comment, AppError> {
        self.check_not_suspended(user)?;
        let c = self.live_comment(id).await?;
        if c.author_id != user.user_id {
            return Err(AppError::Forbidden(
                "Only its author can edit a comment.".into(),
            ));
        }
        let body = &clean(body);
        let html = self.checked_body(user, body)?;
        Ok(self.store.edit_comment(id, body.trim(), &html).await?)
    }

    /// Its author (or a moderator) deletes a comment; a placeholder stays.
    pub async fn delete_comment(&self, user: &User, id: CommentId) -> Result<Comment, AppError> {
        let c = self.live_comment(id).await?;
        if c.author_id != user.user_id && !user.role.can_moderate() {
            return Err(AppError::Forbidden(
                "Only its author or a moderator can delete a comment.".into(),
            ));
        }
        self.store.delete_comment(id).await?;
        Ok(self.store.comment(id).await?)
    }

    pub async fn vote_comment(
        &self,
        user: &User,
        id: CommentId,
        up: bool,
    ) -> Result<i64, AppError> {
        self.check_not_suspended(user)?;
        self.limit("vote", &user.username, self.settings.limits.vote)
            .await?;
        self.live_comment(id).await?;
        Ok(self.store.vote_comment(user.user_id, id, up).await?)
    }

    /// A comment; `NotFound` names it.
    pub async fn comment_by(&self, id: CommentId) -> Result<Comment, AppError> {
        self.store
            .comment(id)
            .await
            .map_err(|e| AppError::or_not_found(e, || format!("There is no comment {}.", id.0)))
    }

    /// A comment not deleted: a deleted one is gone for every action
    /// (its place in the thread stays).
    pub async fn live_comment(&self, id: CommentId) -> Result<Comment, AppError> {
        let c = self.comment_by(id).await?;
        if c.deleted_at.is_some() {
            return Err(AppError::NotFound(format!("Comment {} was deleted.", id.0)));
        }
        Ok(c)
    }

    /// The paper a comment is on.
    pub async fn paper_of_comment(&self, c: &Comment) -> Result<StoredPaper, AppError> {
        self.store
            .paper_by_key(c.paper_id)
            .await
            .map_err(|e| AppError::or_not_found(e, || "That comment's paper is gone.".into()))
    }
}
