//! The subscription workflow: subscribe (double opt-in: a confirmation
//! mail first, sent at once), confirm, change preferences, and one-click
//! unsubscribe. Answers never reveal whether an address was subscribed.

use chrono::Utc;
use paperboy_core::user::validate_email;
use paperboy_core::User;
use paperboy_mail::compose::Letterhead;
use paperboy_store::{Preferences, StoreError, Subscriber, SubscriberId};

use crate::ports::SendError;
use crate::{App, AppError, MailSettings};

/// At most this many saved searches, each at most this long.
pub const MAX_QUERIES: usize = 5;
pub const MAX_QUERY_CHARS: usize = 200;

/// What is wrong with a subscription's preferences, one sentence each.
pub fn check_preferences(p: &Preferences) -> Vec<String> {
    let mut problems = Vec::new();
    if p.queries.len() > MAX_QUERIES {
        problems.push(format!("at most {MAX_QUERIES} saved searches"));
    }
    if p.queries
        .iter()
        .any(|q| q.chars().count() > MAX_QUERY_CHARS)
    {
        problems.push(format!(
            "a saved search has at most {MAX_QUERY_CHARS} characters"
        ));
    }
    if p.trending_top > 50 {
        problems.push("trending papers: choose none, 5, 10 or 20".into());
    }
    if p.trending_top == 0 && !p.daily_list && p.categories.is_empty() && p.queries.is_empty() {
        problems.push("choose at least one thing to receive".into());
    }
    problems
}

#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    /// The mail server refused the address for good (its reply is logged).
    #[error("We could not deliver mail to {0}.")]
    Undeliverable(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StoreError> for SubscribeError {
    fn from(e: StoreError) -> Self {
        SubscribeError::App(e.into())
    }
}

/// What changing preferences did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsOutcome {
    /// An active subscription now follows the new preferences.
    Saved,
    /// Not subscribed yet: a confirmation mail went out, as for anyone.
    ConfirmationSent,
}

impl MailSettings {
    pub(crate) fn letterhead<'a>(&'a self, app: &'a App) -> Letterhead<'a> {
        Letterhead {
            signer: &self.signer,
            base_url: &app.settings.base_url,
            from: &self.from,
            instance: &app.settings.instance_name,
        }
    }
}

impl App {
    /// Subscribes `email` (rate-limited per client address). A new or
    /// returning reader gets a confirmation mail, sent at once when this
    /// instance can send; an active subscriber is left as they were.
    pub async fn subscribe(
        &self,
        client: &str,
        email: &str,
        prefs: &Preferences,
    ) -> Result<(), SubscribeError> {
        self.limit("subscription", client, self.settings.limits.subscribe)
            .await?;
        let mut problems = Vec::new();
        let email = validate_email(email)
            .map_err(|e| problems.push(e.to_string()))
            .ok();
        problems.extend(check_preferences(prefs));
        let Some(email) = email.filter(|_| problems.is_empty()) else {
            return Err(AppError::Fields(problems).into());
        };
        let mail = self.mail_settings()?;
        let sub = self.store.upsert_subscriber(&email, prefs).await?;
        if sub.is_active() {
            return Ok(());
        }
        let msg = mail.letterhead(self).confirmation(&sub);
        let key = msg.dedupe_key.clone();
        self.store.enqueue_mail(msg, &[]).await?;
        let (Some(mailer), Some(id)) = (&mail.mailer, self.store.outbox_id(&key).await?) else {
            return Ok(());
        };
        match mailer.send_now(id).await {
            Ok(()) => Ok(()),
            Err(SendError::Refused(reply)) => {
                tracing::warn!(%email, %reply, "the mail server refused a confirmation");
                Err(SubscribeError::Undeliverable(email))
            }
            // Queued; the outbox job retries it.
            Err(e) => {
                tracing::warn!(error = %e, "confirmation mail not sent yet");
                Ok(())
            }
        }
    }

    /// The subscription of a member's address, if any.
    pub async fn subscription_of(&self, user: &User) -> Result<Option<Subscriber>, AppError> {
        Ok(self.store.subscriber_by_email(&user.email).await?)
    }

    /// A member changes what they receive: saved at once when subscribed,
    /// otherwise the same double opt-in as anyone.
    pub async fn update_subscription(
        &self,
        client: &str,
        user: &User,
        prefs: &Preferences,
    ) -> Result<SettingsOutcome, SubscribeError> {
        match self.store.subscriber_by_email(&user.email).await? {
            Some(s) if s.is_active() => {
                let problems = check_preferences(prefs);
                if !problems.is_empty() {
                    return Err(AppError::Fields(problems).into());
                }
                self.store.set_preferences(s.subscriber_id, prefs).await?;
                Ok(SettingsOutcome::Saved)
            }
            _ => {
                self.subscribe(client, &user.email, prefs).await?;
                Ok(SettingsOutcome::ConfirmationSent)
            }
        }
    }

    /// The one-click unsubscribe token of an active subscriber.
    pub fn unsubscribe_token(&self, sub: &Subscriber) -> Option<String> {
        let mail = self.mail.as_ref()?;
        sub.is_active().then(|| {
            mail.signer
                .sign("unsubscribe", sub.subscriber_id, &sub.email, 0)
        })
    }

    /// Reads the subscriber a signed link names, then checks the link
    /// against their address (so it cannot be replayed for another).
    async fn subscriber_for(&self, token: &str, purpose: &str) -> Result<SubscriberId, AppError> {
        let mail = self.mail_settings()?;
        let claimed = token
            .split('.')
            .nth(1)
            .and_then(|s| s.parse::<i64>().ok())
            .map(SubscriberId);
        let email = match claimed {
            Some(id) => match self.store.subscriber(id).await {
                Ok(s) => Some(s.email),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        mail.signer
            .verify(token, purpose, Utc::now().timestamp(), |_| email)
            .map_err(|e| AppError::Invalid(format!("{e}.")))
    }

    /// Confirms the subscription a confirmation link names.
    pub async fn confirm_subscription(&self, token: &str) -> Result<(), AppError> {
        let id = self.subscriber_for(token, "confirm").await?;
        match self.store.confirm_subscriber(id).await {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(AppError::Invalid(
                "This subscription was cancelled; subscribe again.".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks an unsubscribe link without acting on it (the page that
    /// offers the button).
    pub async fn check_unsubscribe(&self, token: &str) -> Result<(), AppError> {
        self.subscriber_for(token, "unsubscribe").await.map(drop)
    }

    /// RFC 8058 one-click unsubscribe: the signed link is the authority.
    pub async fn unsubscribe(&self, token: &str) -> Result<(), AppError> {
        let id = self.subscriber_for(token, "unsubscribe").await?;
        Ok(self.store.unsubscribe(id).await?)
    }
}
