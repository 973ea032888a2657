//! Digests: per subscriber and period, the papers that match what they
//! asked for and were never sent to them, ranked; and the confirmation mail.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, Utc};
use maud::{html, Markup};
use paperboy_core::{ArxivId, PaperId};
use paperboy_store::{
    DailySort, Frequency, ListedPaper, OutgoingMail, Store, StoreError, Subscriber,
};

use crate::message::{message_id, Message};
use crate::token::Signer;

/// Finds papers for a saved search (the search index).
pub trait Finder: Send + Sync {
    fn find(&self, query: &str, limit: usize) -> Vec<ArxivId>;
}

pub const MAX_PAPERS: usize = 30;

/// The period a digest covers: a day, or an ISO week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub frequency: Frequency,
    pub key: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn ending(frequency: Frequency, day: NaiveDate) -> Period {
        match frequency {
            Frequency::Daily => Period {
                frequency,
                key: day.format("%Y-%m-%d").to_string(),
                from: day,
                to: day,
            },
            Frequency::Weekly => {
                use chrono::Datelike;
                let from = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
                Period {
                    frequency,
                    key: day.format("%G-W%V").to_string(),
                    from,
                    to: from + Duration::days(6),
                }
            }
        }
    }
}

pub struct Composer<'a> {
    pub store: &'a dyn Store,
    pub finder: Option<&'a dyn Finder>,
    pub signer: &'a Signer,
    pub base_url: &'a str,
    pub from: &'a str,
    pub instance: &'a str,
    /// Candidate lists shared by every subscriber of one run.
    cache: HashMap<String, Vec<ListedPaper>>,
}

fn host_of(base_url: &str) -> String {
    base_url
        .split("://")
        .nth(1)
        .unwrap_or(base_url)
        .split(['/', ':'])
        .next()
        .unwrap_or("localhost")
        .to_string()
}

fn trim(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{}…", &cut[..cut.rfind(' ').unwrap_or(cut.len())])
}

impl<'a> Composer<'a> {
    pub fn new(
        store: &'a dyn Store,
        finder: Option<&'a dyn Finder>,
        signer: &'a Signer,
        base_url: &'a str,
        from: &'a str,
        instance: &'a str,
    ) -> Self {
        Composer {
            store,
            finder,
            signer,
            base_url: base_url.trim_end_matches('/'),
            from,
            instance,
            cache: HashMap::new(),
        }
    }

    pub fn unsubscribe_url(&self, sub: &Subscriber) -> String {
        format!(
            "{}/unsubscribe?token={}",
            self.base_url,
            self.signer
                .sign("unsubscribe", sub.subscriber_id, &sub.email, 0)
        )
    }

    async fn cached(
        &mut self,
        key: String,
        period: &Period,
    ) -> Result<Vec<ListedPaper>, StoreError> {
        if let Some(v) = self.cache.get(&key) {
            return Ok(v.clone());
        }
        let since = (period.from - Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp())
            .unwrap_or(0);
        let fresh = |v: Vec<ListedPaper>| -> Vec<ListedPaper> {
            v.into_iter()
                .filter(|l| l.stored.paper.published_at().timestamp() >= since)
                .collect()
        };
        let v = if key == "trending" {
            self.store.trending_papers(0, 100).await?
        } else if key == "daily" {
            self.store
                .daily_papers(period.from, period.to, DailySort::Trending, 0, 100)
                .await?
        } else if let Some(cat) = key.strip_prefix("cat:") {
            fresh(self.store.recent_in_category(cat, 100).await?)
        } else if let Some(q) = key.strip_prefix("q:") {
            let ids: Vec<ArxivId> = self.finder.map(|f| f.find(q, 50)).unwrap_or_default();
            let mut found = self.store.get_papers(&ids).await?;
            found.sort_by_key(|l| ids.iter().position(|i| *i == l.stored.paper.id));
            fresh(found)
        } else {
            Vec::new()
        };
        self.cache.insert(key, v.clone());
        Ok(v)
    }

    /// The digest for one subscriber and period, or `None` when nothing new
    /// matches (an empty digest is not sent).
    pub async fn digest(
        &mut self,
        sub: &Subscriber,
        period: &Period,
    ) -> Result<Option<(OutgoingMail, Vec<PaperId>)>, StoreError> {
        let mut picked: Vec<(ListedPaper, String)> = Vec::new();
        let push = |list: Vec<ListedPaper>,
                    why: String,
                    n: usize,
                    picked: &mut Vec<(ListedPaper, String)>| {
            for l in list.into_iter().take(n) {
                if !picked
                    .iter()
                    .any(|(p, _)| p.stored.paper_id == l.stored.paper_id)
                {
                    picked.push((l, why.clone()));
                }
            }
        };
        if sub.prefs.trending_top > 0 {
            let v = self.cached("trending".into(), period).await?;
            push(
                v,
                "trending".into(),
                sub.prefs.trending_top as usize,
                &mut picked,
            );
        }
        if sub.prefs.daily_list {
            let v = self.cached("daily".into(), period).await?;
            push(v, "on the daily list".into(), MAX_PAPERS, &mut picked);
        }
        for c in &sub.prefs.categories {
            let v = self.cached(format!("cat:{c}"), period).await?;
            push(v, format!("new in {c}"), 10, &mut picked);
        }
        for q in &sub.prefs.queries {
            let v = self.cached(format!("q:{q}"), period).await?;
            push(v, format!("matches “{q}”"), 10, &mut picked);
        }
        if picked.is_empty() {
            return Ok(None);
        }
        let ids: Vec<PaperId> = picked.iter().map(|(l, _)| l.stored.paper_id).collect();
        let unsent = self.store.unsent_papers(sub.subscriber_id, &ids).await?;
        picked.retain(|(l, _)| unsent.contains(&l.stored.paper_id));
        picked.truncate(MAX_PAPERS);
        if picked.is_empty() {
            return Ok(None);
        }
        let key = format!("digest:{}:{}", sub.subscriber_id.0, period.key);
        let unsubscribe = self.unsubscribe_url(sub);
        let what = match period.frequency {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
        };
        let subject = format!(
            "{}: {} new paper{} for you ({what}, {})",
            self.instance,
            picked.len(),
            if picked.len() == 1 { "" } else { "s" },
            period.key
        );
        let text = self.digest_text(&picked, &unsubscribe);
        let html = self
            .digest_html(&subject, &picked, &unsubscribe)
            .into_string();
        let message = Message {
            from: self.from,
            to: &sub.email,
            subject: &subject,
            message_id: message_id(&key, &host_of(self.base_url)),
            text: &text,
            html: &html,
            headers: vec![
                ("List-Unsubscribe", format!("<{unsubscribe}>")),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into()),
                ("X-Paperboy-Digest", key.clone()),
            ],
        }
        .render(Utc::now());
        let papers: Vec<PaperId> = picked.iter().map(|(l, _)| l.stored.paper_id).collect();
        Ok(Some((
            OutgoingMail {
                dedupe_key: key,
                subscriber: Some(sub.subscriber_id),
                recipient: sub.email.clone(),
                message,
            },
            papers,
        )))
    }

    fn paper_url(&self, l: &ListedPaper) -> String {
        format!("{}/papers/{}", self.base_url, l.stored.paper.id)
    }

    fn authors(l: &ListedPaper) -> String {
        let a: Vec<&str> = l
            .stored
            .paper
            .authors
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        if a.len() > 5 {
            format!("{} et al.", a[..5].join(", "))
        } else {
            a.join(", ")
        }
    }

    fn digest_text(&self, picked: &[(ListedPaper, String)], unsubscribe: &str) -> String {
        let mut t = String::new();
        for (i, (l, why)) in picked.iter().enumerate() {
            let p = &l.stored.paper;
            t.push_str(&format!(
                "{}. {}\n   {}\n   {} · {}\n",
                i + 1,
                p.title,
                Self::authors(l),
                p.id,
                why
            ));
            t.push_str(&format!("   {}\n", trim(&p.abstract_text, 300)));
            if let Some(code) = p
                .github_repo()
                .or(p.code_links.first().map(|c| c.url.as_str()))
            {
                t.push_str(&format!("   Code: {code}\n"));
            }
            t.push_str(&format!("   {}\n\n", self.paper_url(l)));
        }
        t.push_str(&format!(
            "You receive this because you subscribed on {}.\nUnsubscribe: {unsubscribe}\n",
            self.base_url
        ));
        t
    }

    fn digest_html(
        &self,
        subject: &str,
        picked: &[(ListedPaper, String)],
        unsubscribe: &str,
    ) -> Markup {
        html! {
            html { body style="font-family: sans-serif; max-width: 40rem" {
                h1 style="font-size: 1.2rem" { (subject) }
                @for (l, why) in picked {
                    @let p = &l.stored.paper;
                    div style="margin: 1.2rem 0" {
                        a href=(self.paper_url(l)) style="font-weight: bold; font-size: 1.05rem" { (p.title) }
                        div style="color: #555" { (Self::authors(l)) " · " (p.id) " · " (why) }
                        p { (trim(&p.abstract_text, 300)) }
                        @if let Some(code) = p.github_repo().or(p.code_links.first().map(|c| c.url.as_str())) { div { "Code: " a href=(code) { (code) } } }
                    }
                }
                hr;
                p style="color: #555; font-size: .9rem" {
                    "You receive this because you subscribed on " a href=(self.base_url) { (self.instance) } ". "
                    a href=(unsubscribe) { "Unsubscribe" } " with one click."
                }
            } }
        }
    }

    /// The double opt-in mail; the link expires after a week.
    pub fn confirmation(&self, sub: &Subscriber) -> OutgoingMail {
        let now = Utc::now();
        let token = self.signer.sign(
            "confirm",
            sub.subscriber_id,
            &sub.email,
            (now + Duration::days(7)).timestamp(),
        );
        let url = format!("{}/subscribe/confirm?token={token}", self.base_url);
        // One confirmation per subscriber and hour: a double click sends one.
        let key = format!("confirm:{}:{}", sub.subscriber_id.0, now.format("%Y%m%d%H"));
        let subject = format!("Confirm your subscription to {}", self.instance);
        let text = format!(
            "Someone (hopefully you) asked to receive papers from {} at this address.\n\nConfirm: {url}\n\nThe link works for 7 days. If it was not you, ignore this mail: nothing will be sent.\n",
            self.instance
        );
        let html = html! {
            p { "Someone (hopefully you) asked to receive papers from " (self.instance) " at this address." }
            p { a href=(url) { "Confirm your subscription" } }
            p style="color: #555" { "The link works for 7 days. If it was not you, ignore this mail: nothing will be sent." }
        }
        .into_string();
        let message = Message {
            from: self.from,
            to: &sub.email,
            subject: &subject,
            message_id: message_id(&key, &host_of(self.base_url)),
            text: &text,
            html: &html,
            headers: vec![],
        }
        .render(now);
        OutgoingMail {
            dedupe_key: key,
            subscriber: None,
            recipient: sub.email.clone(),
            message,
        }
    }
}
