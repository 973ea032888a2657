//! `/about`: what this instance is, and the trending formula.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::html;
use paperboy_app::discussions::{COMMENTS_PER_HOUR, LINKS_PER_COMMENT, NEW_ACCOUNT_DAYS};
use paperboy_app::markdown::MAX_CHARS;
use paperboy_app::stars::{RECENT_DAYS, TRENDING_TOP};
use paperboy_core::trending::{
    CITATION_WEIGHT, GRAVITY, MAX_CATEGORY_SCALE, STAR_GROWTH_DAYS, STAR_WEIGHT, WINDOW_DAYS,
};

use super::Ctx;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/about", get(get_about))
}

async fn get_about(ctx: Ctx, State(state): State<AppState>) -> Response {
    let refined = match state.app.search.as_ref().and_then(|s| s.refinement()) {
        Some(r) => {
            let total = state.app.paper_count().await.unwrap_or(r.covered);
            Some((r, total))
        }
        None => None,
    };
    let texts = match &state.app.texts {
        Some(t) => Some((t.per_day, state.app.text_stats().await.unwrap_or_default())),
        None => None,
    };
    let body = html! {
        article.prose {
            h1 { "About " (ctx.instance) }
            p { (ctx.instance) " is a hub for research papers: it harvests new papers from arXiv, lets its community submit and upvote them, finds papers by keyword and by meaning, and ranks what is trending with the formula below. It runs Paperboy, which is open source." }
            h2 #search { "How search by meaning works" }
            p { "Besides matching words, search compares meanings: every paper's title and abstract becomes a vector, and so does your query; papers whose vectors point the same way come first, merged with the keyword matches. The vectors come from the sentence-transformer " a href="https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2" { "all-MiniLM-L6-v2" } " (Apache License 2.0, by the sentence-transformers authors), built into Paperboy twice: distilled into a static model (one vector per word piece), fast enough to give every paper a vector at once, and the transformer itself, quantised to small integers, which fills in better vectors behind them. Related papers, recommendations, the For-you digest section and the private feed use the same vectors: the transformer's wherever they exist." }
            @if let Some((r, total)) = &refined {
                p #refined {
                    "On this instance the transformer (" code { (r.model) } ") covers "
                    (paperboy_app::scheduler::group_digits(r.covered)) " of " (paperboy_app::scheduler::group_digits(*total)) " papers ("
                    (percent(r.covered, *total)) "); "
                    @if r.filling {
                        "it fills in the rest behind the static vectors, newest papers first."
                    } @else {
                        "new papers get theirs as they arrive."
                    }
                }
            }
            h2 #citations { "Full text and citations" }
            p { "References and cited-by lists come from papers' full text: arXiv's HTML rendering of each paper (made from its TeX source; most papers since December 2023 have one), else the paper's LaTeX source itself, else (where the instance has an OpenAlex key) OpenAlex's record of what the paper cites. arXiv's licence allows indexing with a link back, not copying: Paperboy keeps section titles, the reference list with the sentence each reference is first cited in, and the paragraphs as passages for search inside papers (search results and a paper's own search show snippets around the words looked for, never whole passages), and links to arXiv for reading. A reference counts as a paper here when it names an arXiv id (or arXiv's DOI), or when its title and year match a paper's; the rest stay as text. A paper's citation count is the number of papers here whose reference lists name it." }
            @match &texts {
                Some((per_day, s)) => p #fulltext {
                    "On this instance full texts are fetched one at a time, at most " (paperboy_app::scheduler::group_digits(*per_day)) " a day, papers in readers' libraries and follows first, then the daily list, then the newest. So far: "
                    (paperboy_app::scheduler::group_digits(s.parsed)) " read, "
                    (paperboy_app::scheduler::group_digits(s.missing)) " without full text on arXiv, "
                    (paperboy_app::scheduler::group_digits(s.catalogued)) " with references from OpenAlex, "
                    (paperboy_app::scheduler::group_digits(s.waiting)) " waiting; "
                    (paperboy_app::scheduler::group_digits(s.references)) " references, "
                    (paperboy_app::scheduler::group_digits(s.resolved)) " of them to papers here; "
                    (paperboy_app::scheduler::group_digits(s.passages)) " passages searchable."
                },
                None => p #fulltext { "Fetching full texts is turned off on this instance." },
            }
            h2 #privacy { "What is kept about you" }
            p { "An account keeps its username, email address and a hash of its password, its sessions and API tokens, its library, tags, follows, 👍/👎 feedback and notifications, and its votes and comments. Votes show only as counts. Deleting an account (on " a href="/account" { "your account page" } ") removes the address, the password, sessions, tokens, library, tags, follows, feedback, notifications and the address's email subscription at once; comments stay, shown as by a deleted account, and votes stay in the counts with no name on them. An email subscription keeps only its address and choices, and ends with one click in any digest." }
            h2 #trending { "How trending works" }
            p { "Every paper gets a score; the trending page lists papers by score. In words: a paper's points are its upvotes, plus a tenth of a point for every GitHub star its code gained in the last week, plus a point for every paper here first submitted in the last week that cites it, plus one for simply being there. Points are divided by the paper's age in hours plus two, raised to the power " (GRAVITY) ", so papers sink as they age unless readers keep voting for them. Papers from small fields get a boost of up to " (MAX_CATEGORY_SCALE) "× so they can reach the list too." }
            pre.formula aria-label="The trending formula" {
                "score = (votes + " (STAR_WEIGHT) " · Δstars + " (CITATION_WEIGHT) " · cites + 1) · s(c) / (age_h + 2)^" (GRAVITY) "\n\n"
                "s(c)  = clamp((n_max / n_c)^(1/4), 1, " (MAX_CATEGORY_SCALE) ")"
            }
            ul {
                li { code { "votes" } ": upvotes on this instance" }
                li { code { "Δstars" } ": GitHub stars the paper's repository gained over the last week (0 when unknown)" }
                li { code { "cites" } ": papers here that cite it (read from their full text on arXiv) and were first submitted over the last " (STAR_GROWTH_DAYS) " days" }
                li { code { "age_h" } ": hours since the paper's first arXiv version" }
                li { code { "n_c" } ": papers in the paper's primary category over the last " (WINDOW_DAYS) " days; " code { "n_max" } ": the same for the busiest category" }
            }
            p { "The gravity of " (GRAVITY) " follows Hacker News' published formula. Papers older than " (WINDOW_DAYS) " days leave the running. Scores are stored and refreshed on every vote and every ten minutes, so the list is a plain index scan." }
            h3 #stars { "Where the stars come from" }
            p { "Each paper's code link (the one its approved author set, else the first GitHub link in its arXiv metadata) is looked up on GitHub's API. Every repository gets a snapshot a day at least; repositories of papers from the last " (RECENT_DAYS) " days and of the top " (TRENDING_TOP) " trending papers are looked up every six hours. "
                code { "Δstars" } " is today's count less the first snapshot of the last " (STAR_GROWTH_DAYS) " days: a repository first seen today has gained nothing yet, and one that lost stars counts as zero." }
            h2 #limits { "Discussions and their limits" }
            p { "Every paper has a discussion: comments and one level of replies, written in Markdown (TeX between $…$ is left as typed). Links in comments carry rel=\"nofollow ugc\"." }
            ul {
                li { "A comment has at most " (MAX_CHARS) " characters." }
                li { "Accounts younger than " (NEW_ACCOUNT_DAYS) " days may post " (COMMENTS_PER_HOUR.0) " comments an hour with at most " (LINKS_PER_COMMENT.0) " links each; older accounts " (COMMENTS_PER_HOUR.1) " comments an hour with at most " (LINKS_PER_COMMENT.1) " links." }
                li { "Anyone can report a comment or a daily-list submission; moderators hide comments, lock discussions, remove submissions and suspend members until a date. Every such action, with its reason, is in the " a href="/moderation" { "public moderation log" } "." }
                li { "Authors claim their papers from the paper's page; a moderator approves each claim. An approved author can set the paper's code link and project page (also logged)." }
            }
        }
    };
    ctx.page("About", body)
}

/// `covered` of `total` as a whole percentage, never rounding up to 100 %.
fn percent(covered: u64, total: u64) -> String {
    if total == 0 {
        return "100 %".into();
    }
    let p = covered.min(total) * 100 / total;
    format!("{p} %")
}
