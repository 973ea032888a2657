//! Composing mail: a digest from the papers picked for a subscriber, and
//! the double opt-in confirmation. Which papers a digest holds is decided
//! by the application (`paperboy_app::digest`); this renders them.

use chrono::{Duration, NaiveDate, Utc};
use maud::{html, Markup};
use paperboy_core::PaperId;
use paperboy_store::{Frequency, ListedPaper, OutgoingMail, Subscriber};

use crate::message::{message_id, Message};
use crate::token::Signer;

pub const MAX_PAPERS: usize = 30;

/// A pick whose reason starts with this goes in the digest's "For you"
/// section (papers near the subscriber's library), above the rest.
pub const FOR_YOU: &str = "for you: ";

/// A pick whose reason starts with this goes in the digest's "Your
/// library" section (what changed about papers the reader keeps), first.
pub const LIBRARY: &str = "your library: ";

/// A paper of a digest and why it was picked.
type Pick = (ListedPaper, String);

/// One part of a digest: its heading in text and in HTML, and its picks.
struct Section<'p> {
    text: &'static str,
    html: &'static str,
    picks: Vec<&'p Pick>,
}

/// The picks in the order the digest shows them, in sections: Your
/// library, For you, then the rest (empty sections left out).
fn sections(picked: &[Pick]) -> Vec<Section<'_>> {
    let of = |prefix: Option<&str>| -> Vec<&Pick> {
        picked
            .iter()
            .filter(|(_, why)| match prefix {
                Some(p) => why.starts_with(p),
                None => !why.starts_with(LIBRARY) && !why.starts_with(FOR_YOU),
            })
            .collect()
    };
    [
        Section {
            text: "YOUR LIBRARY (what changed)",
            html: "Your library",
            picks: of(Some(LIBRARY)),
        },
        Section {
            text: "FOR YOU (near your library)",
            html: "For you",
            picks: of(Some(FOR_YOU)),
        },
        Section {
            text: "ALSO NEW",
            html: "Also new",
            picks: of(None),
        },
    ]
    .into_iter()
    .filter(|s| !s.picks.is_empty())
    .collect()
}

/// A reason without its section's prefix.
fn reason(why: &str) -> &str {
    why.strip_prefix(LIBRARY)
        .or_else(|| why.strip_prefix(FOR_YOU))
        .unwrap_or(why)
}

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

/// Who a message is from and where its links point.
pub struct Letterhead<'a> {
    pub signer: &'a Signer,
    pub base_url: &'a str,
    pub from: &'a str,
    pub instance: &'a str,
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

impl Letterhead<'_> {
    fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }

    /// The whole message: `parts` are the subject, text and HTML.
    fn render(
        &self,
        key: &str,
        to: &str,
        [subject, text, html]: [&str; 3],
        headers: Vec<(&'static str, String)>,
        at: chrono::DateTime<Utc>,
    ) -> String {
        Message {
            from: self.from,
            to,
            subject,
            message_id: message_id(key, &host_of(self.base())),
            text,
            html,
            headers,
        }
        .render(at)
    }

    pub fn unsubscribe_url(&self, sub: &Subscriber) -> String {
        format!(
            "{}/unsubscribe?token={}",
            self.base(),
            self.signer
                .sign("unsubscribe", sub.subscriber_id, &sub.email, 0)
        )
    }

    /// The digest of `picked` (papers and why each was picked) for one
    /// subscriber and period, and the papers it records as sent.
    pub fn digest(
        &self,
        sub: &Subscriber,
        period: &Period,
        picked: &[(ListedPaper, String)],
    ) -> (OutgoingMail, Vec<PaperId>) {
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
        let text = self.digest_text(picked, &unsubscribe);
        let html = self
            .digest_html(&subject, picked, &unsubscribe)
            .into_string();
        let headers = vec![
            ("List-Unsubscribe", format!("<{unsubscribe}>")),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into()),
            ("X-Paperboy-Digest", key.clone()),
        ];
        let message = self.render(
            &key,
            &sub.email,
            [&subject, &text, &html],
            headers,
            Utc::now(),
        );
        let papers: Vec<PaperId> = picked.iter().map(|(l, _)| l.stored.paper_id).collect();
        (
            OutgoingMail {
                dedupe_key: key,
                subscriber: Some(sub.subscriber_id),
                recipient: sub.email.clone(),
                message,
            },
            papers,
        )
    }

    fn paper_url(&self, l: &ListedPaper) -> String {
        format!("{}/papers/{}", self.base(), l.stored.paper.id)
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
        let parts = sections(picked);
        // A digest of new papers only needs no heading.
        let headed = parts.len() > 1 || parts.first().is_some_and(|s| s.text != "ALSO NEW");
        let mut i = 0;
        for part in &parts {
            if headed {
                t.push_str(part.text);
                t.push_str("\n\n");
            }
            for (l, why) in &part.picks {
                i += 1;
                let why = reason(why);
                let p = &l.stored.paper;
                t.push_str(&format!(
                    "{}. {}\n   {}\n   {} · {}\n",
                    i,
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
        }
        t.push_str(&format!(
            "You receive this because you subscribed on {}.\nUnsubscribe: {unsubscribe}\n",
            self.base()
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
                @let parts = sections(picked);
                @let headed = parts.len() > 1 || parts.first().is_some_and(|s| s.html != "Also new");
                @for part in &parts {
                    @if headed { h2 style="font-size: 1.1rem" { (part.html) } }
                    @for item in &part.picks { (self.digest_item(item)) }
                }
                hr;
                p style="color: #555; font-size: .9rem" {
                    "You receive this because you subscribed on " a href=(self.base()) { (self.instance) } ". "
                    a href=(unsubscribe) { "Unsubscribe" } " with one click."
                }
            } }
        }
    }

    fn digest_item(&self, (l, why): &(ListedPaper, String)) -> Markup {
        let p = &l.stored.paper;
        let why = reason(why);
        html! {
            div style="margin: 1.2rem 0" {
                a href=(self.paper_url(l)) style="font-weight: bold; font-size: 1.05rem" { (p.title) }
                div style="color: #555" { (Self::authors(l)) " · " (p.id) " · " (why) }
                p { (trim(&p.abstract_text, 300)) }
                @if let Some(code) = p.github_repo().or(p.code_links.first().map(|c| c.url.as_str())) { div { "Code: " a href=(code) { (code) } } }
            }
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
        let url = format!("{}/subscribe/confirm?token={token}", self.base());
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
        let message = self.render(&key, &sub.email, [&subject, &text, &html], vec![], now);
        OutgoingMail {
            dedupe_key: key,
            subscriber: None,
            recipient: sub.email.clone(),
            message,
        }
    }
}

impl Letterhead<'_> {
    /// A password reset link for the account at `to` (`token` works once,
    /// for an hour).
    pub fn password_reset(&self, to: &str, username: &str, token: &str) -> OutgoingMail {
        let now = Utc::now();
        let url = format!("{}/password/reset?token={token}", self.base());
        let key = format!("reset:{}", &token[..token.len().min(16)]);
        let subject = format!("Reset your password on {}", self.instance);
        let text = format!(
            "Someone (hopefully you) asked to reset the password of the account {username} on {}.\n\nChoose a new password: {url}\n\nThe link works once, for one hour. If it was not you, ignore this mail: your password stays as it is.\n",
            self.instance
        );
        let html = html! {
            p { "Someone (hopefully you) asked to reset the password of the account " strong { (username) } " on " (self.instance) "." }
            p { a href=(url) { "Choose a new password" } }
            p style="color: #555" { "The link works once, for one hour. If it was not you, ignore this mail: your password stays as it is." }
        }
        .into_string();
        let message = self.render(&key, to, [&subject, &text, &html], vec![], now);
        OutgoingMail {
            dedupe_key: key,
            subscriber: None,
            recipient: to.to_string(),
            message,
        }
    }

    /// A new comment in a discussion `to` took part in (sent to members who
    /// asked for mail about replies). The comment is quoted as typed: plain
    /// text, escaped in the HTML part.
    pub fn comment_notice(&self, to: &str, notice: &CommentNotice<'_>) -> OutgoingMail {
        let now = Utc::now();
        let key = format!("comment:{}:{to}", notice.comment_id);
        let url = format!(
            "{}/papers/{}#comment-{}",
            self.base(),
            notice.arxiv_id,
            notice.comment_id
        );
        let settings = format!("{}/account", self.base());
        let title = trim(notice.paper_title, 120);
        let subject = format!("{} commented on “{title}”", notice.author);
        let quoted = trim(notice.body, 2_000);
        let text = format!(
            "{} commented on “{title}”:\n\n{quoted}\n\nThe discussion: {url}\n\nYou receive this because you took part in this discussion on {} and asked for mail about replies. Turn it off: {settings}\n",
            notice.author, self.instance
        );
        let html = html! {
            p { (notice.author) " commented on “" (title) "”:" }
            blockquote style="white-space: pre-wrap; border-left: 3px solid #ccc; margin: 0; padding-left: 1em" { (quoted) }
            p { a href=(url) { "Read the discussion" } }
            p style="color: #555" {
                "You receive this because you took part in this discussion on " (self.instance)
                " and asked for mail about replies. " a href=(settings) { "Turn it off" } "."
            }
        }
        .into_string();
        let message = self.render(&key, to, [&subject, &text, &html], vec![], now);
        OutgoingMail {
            dedupe_key: key,
            subscriber: None,
            recipient: to.to_string(),
            message,
        }
    }
}

/// What a comment notice tells.
pub struct CommentNotice<'a> {
    pub author: &'a str,
    pub paper_title: &'a str,
    pub arxiv_id: &'a str,
    pub comment_id: i64,
    pub body: &'a str,
}
