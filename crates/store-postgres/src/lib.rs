//! PostgreSQL store: the path to several web nodes sharing one database.

mod community;
mod delivery;
mod harvest;
mod migrate;
mod papers;

use async_trait::async_trait;
use chrono::NaiveDate;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use paperboy_core::{ArxivId, Paper, PaperId, Role, User, UserId};
use paperboy_store::{
    DailyEntry, DailySort, Frequency, HarvestCheckpoint, HarvestCounts, HarvestPage, ListedPaper,
    NewUser, OutboxRow, OutgoingMail, PaperChange, Preferences, SendOutcome, Store, StoreError,
    StoredPaper, Subscriber, SubscriberId, TrendingRow, UpsertCounts,
};
use tokio_postgres::NoTls;

pub struct PostgresStore {
    pool: Pool,
}

pub(crate) fn db_err(e: tokio_postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        if db.code() == &tokio_postgres::error::SqlState::UNIQUE_VIOLATION
            || db.code() == &tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION
        {
            return StoreError::Conflict {
                constraint: db.constraint().unwrap_or("unknown").to_string(),
            };
        }
    }
    match e.as_db_error() {
        Some(db) => StoreError::Database(format!("{}: {}", db.code().code(), db.message())),
        None => StoreError::Database(e.to_string()),
    }
}

pub(crate) fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => db_err(e),
        other => StoreError::Database(format!("connection pool: {other}")),
    }
}

impl PostgresStore {
    /// Connects to a `postgres://` URL and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_pool_size(url, 16).await
    }

    pub async fn connect_with_pool_size(url: &str, max_size: usize) -> Result<Self, StoreError> {
        let open_err = |reason: String| StoreError::Open {
            url: redact(url),
            reason,
        };
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| open_err(e.to_string()))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_size)
            .build()
            .map_err(|e| open_err(e.to_string()))?;
        let mut client = pool.get().await.map_err(|e| open_err(e.to_string()))?;
        migrate::run(&mut client).await?;
        drop(client);
        Ok(PostgresStore { pool })
    }

    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pool_err)
    }
}

/// Hides a password in a URL before it reaches a message or a log.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.client()
            .await?
            .simple_query("SELECT 1")
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn upsert_papers(&self, papers: Vec<Paper>) -> Result<UpsertCounts, StoreError> {
        let mut client = self.client().await?;
        papers::upsert(&mut client, papers).await
    }

    async fn get_paper(&self, id: &ArxivId) -> Result<StoredPaper, StoreError> {
        papers::get(&**self.client().await?, id.as_str()).await
    }

    async fn delete_paper(&self, id: &ArxivId) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        papers::delete(&mut client, id.as_str()).await
    }

    async fn count_papers(&self) -> Result<u64, StoreError> {
        let row = self
            .client()
            .await?
            .query_one("SELECT count(*) FROM papers WHERE deleted_at IS NULL", &[])
            .await
            .map_err(db_err)?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    async fn change_seq(&self) -> Result<i64, StoreError> {
        let row = self
            .client()
            .await?
            .query_one("SELECT value FROM store_meta WHERE key = 'change_seq'", &[])
            .await
            .map_err(db_err)?;
        Ok(row.get(0))
    }

    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<PaperChange>, StoreError> {
        papers::changes_since(&**self.client().await?, after, limit).await
    }

    async fn harvest_checkpoint(
        &self,
        set_spec: &str,
    ) -> Result<Option<HarvestCheckpoint>, StoreError> {
        harvest::checkpoint(&**self.client().await?, set_spec).await
    }

    async fn apply_harvest_page(&self, page: HarvestPage) -> Result<HarvestCounts, StoreError> {
        let mut client = self.client().await?;
        harvest::apply_page(&mut client, page).await
    }

    async fn try_lease(&self, name: &str, holder: &str, ttl_secs: i64) -> Result<bool, StoreError> {
        harvest::try_lease(&**self.client().await?, name, holder, ttl_secs).await
    }

    async fn get_papers(&self, ids: &[ArxivId]) -> Result<Vec<ListedPaper>, StoreError> {
        let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        community::get_papers(&**self.client().await?, &ids).await
    }

    async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        community::create_user(&**self.client().await?, user).await
    }

    async fn user_by_name(&self, username: &str) -> Result<(User, String), StoreError> {
        community::user_by_name(&**self.client().await?, username).await
    }

    async fn set_role(&self, username: &str, role: Role) -> Result<(), StoreError> {
        community::set_role(&**self.client().await?, username, role).await
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        community::list_users(&**self.client().await?).await
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        community::create_session(&**self.client().await?, token_hash, user, expires_at).await
    }

    async fn session_user(&self, token_hash: &str, now: i64) -> Result<User, StoreError> {
        community::session_user(&**self.client().await?, token_hash, now).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        community::delete_session(&**self.client().await?, token_hash).await
    }

    async fn create_api_token(
        &self,
        token_hash: &str,
        user: UserId,
        name: &str,
    ) -> Result<(), StoreError> {
        community::create_api_token(&**self.client().await?, token_hash, user, name).await
    }

    async fn api_token_user(&self, token_hash: &str) -> Result<User, StoreError> {
        community::api_token_user(&**self.client().await?, token_hash).await
    }

    async fn set_vote(&self, user: UserId, paper: PaperId, up: bool) -> Result<i64, StoreError> {
        let mut client = self.client().await?;
        community::set_vote(&mut client, user, paper, up).await
    }

    async fn voted(&self, user: UserId, papers: &[PaperId]) -> Result<Vec<PaperId>, StoreError> {
        community::voted(&**self.client().await?, user, papers).await
    }

    async fn submit_daily(
        &self,
        paper: PaperId,
        day: NaiveDate,
        user: UserId,
    ) -> Result<DailyEntry, StoreError> {
        community::submit_daily(&**self.client().await?, paper, day, user).await
    }

    async fn daily_entry(&self, paper: PaperId) -> Result<Option<DailyEntry>, StoreError> {
        community::daily_entry(&**self.client().await?, paper).await
    }

    async fn daily_papers(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        sort: DailySort,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError> {
        community::daily_papers(&**self.client().await?, from, to, sort, offset, limit).await
    }

    async fn trending_papers(
        &self,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError> {
        community::trending_papers(&**self.client().await?, offset, limit).await
    }

    async fn trending_rows(&self, since: i64) -> Result<Vec<TrendingRow>, StoreError> {
        community::trending_rows(&**self.client().await?, since).await
    }

    async fn set_trending_scores(
        &self,
        scores: Vec<(PaperId, f64)>,
        zero_before: i64,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        community::set_trending_scores(&mut client, scores, zero_before).await
    }

    async fn recent_in_category(
        &self,
        category: &str,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError> {
        community::recent_in_category(&**self.client().await?, category, limit).await
    }

    async fn user_submissions(
        &self,
        user: UserId,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError> {
        community::user_submissions(&**self.client().await?, user, limit).await
    }

    async fn user_upvoted(&self, user: UserId, limit: u32) -> Result<Vec<ListedPaper>, StoreError> {
        community::user_upvoted(&**self.client().await?, user, limit).await
    }

    async fn upsert_subscriber(
        &self,
        email: &str,
        prefs: &Preferences,
    ) -> Result<Subscriber, StoreError> {
        let mut c = self.client().await?;
        delivery::upsert_subscriber(&mut c, email, prefs).await
    }

    async fn set_preferences(
        &self,
        id: SubscriberId,
        prefs: &Preferences,
    ) -> Result<(), StoreError> {
        delivery::set_preferences(&**self.client().await?, id, prefs).await
    }

    async fn subscriber_by_email(&self, email: &str) -> Result<Option<Subscriber>, StoreError> {
        delivery::by_email(&**self.client().await?, email).await
    }

    async fn subscriber(&self, id: SubscriberId) -> Result<Subscriber, StoreError> {
        delivery::subscriber(&**self.client().await?, id).await
    }

    async fn confirm_subscriber(&self, id: SubscriberId) -> Result<(), StoreError> {
        delivery::confirm(&**self.client().await?, id).await
    }

    async fn unsubscribe(&self, id: SubscriberId) -> Result<(), StoreError> {
        delivery::unsubscribe(&**self.client().await?, id).await
    }

    async fn active_subscribers(
        &self,
        frequency: Frequency,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Subscriber>, StoreError> {
        delivery::active(&**self.client().await?, frequency, after, limit).await
    }

    async fn unsent_papers(
        &self,
        subscriber: SubscriberId,
        papers: &[PaperId],
    ) -> Result<Vec<PaperId>, StoreError> {
        delivery::unsent(&**self.client().await?, subscriber, papers).await
    }

    async fn enqueue_mail(
        &self,
        mail: OutgoingMail,
        papers: &[PaperId],
    ) -> Result<bool, StoreError> {
        let mut c = self.client().await?;
        delivery::enqueue(&mut c, mail, papers).await
    }

    async fn claim_outbox(
        &self,
        now: i64,
        lease_secs: i64,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        delivery::claim(&**self.client().await?, now, lease_secs, limit).await
    }

    async fn claim_outbox_row(
        &self,
        outbox_id: i64,
        now: i64,
        lease_secs: i64,
    ) -> Result<Option<OutboxRow>, StoreError> {
        delivery::claim_one(&**self.client().await?, outbox_id, now, lease_secs).await
    }

    async fn outbox_id(&self, dedupe_key: &str) -> Result<Option<i64>, StoreError> {
        delivery::outbox_id(&**self.client().await?, dedupe_key).await
    }

    async fn finish_outbox(&self, outbox_id: i64, outcome: SendOutcome) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        delivery::finish(&mut c, outbox_id, outcome).await
    }

    async fn finish_outbox_sent_then(
        &self,
        outbox_id: i64,
        after_commit: Box<dyn FnOnce() -> usize + Send>,
    ) -> Result<usize, StoreError> {
        let mut c = self.client().await?;
        delivery::finish(&mut c, outbox_id, SendOutcome::Sent).await?;
        Ok(after_commit())
    }

    async fn outbox_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        delivery::counts(&**self.client().await?).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
