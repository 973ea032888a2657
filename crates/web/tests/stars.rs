//! The GitHub star tracker against a stand-in GitHub on loopback: counts
//! on papers and in the API, conditional requests, renames, deletions,
//! rate limits and failures, the budget, and what a star jump does to the
//! trending list.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use paperboy_testkit::app::Builder;
use paperboy_testkit::github_standin::{GitHubFault, GitHubStandin};
use paperboy_testkit::{app_suite, recent_paper, TestApp};

app_suite!(
    counts_reach_papers_and_unchanged_ones_cost_nothing,
    renames_are_followed_and_deletions_marked,
    limits_and_failures_pause_and_retry_without_losing_a_snapshot,
    the_hourly_budget_is_never_exceeded,
    a_star_jump_lifts_a_paper_in_trending,
);

const HOUR: i64 = 3600;

fn paper_with_repo(id: &str, repo: &str) -> paperboy_core::Paper {
    recent_paper(
        id,
        &format!("A paper with code {id}"),
        &format!("We study things. Code: https://github.com/{repo}"),
        "cs.LG",
    )
}

async fn app_with(b: Builder, gh: &GitHubStandin, repos: &[(&str, &str)], budget: u32) -> TestApp {
    let papers = repos.iter().map(|(id, r)| paper_with_repo(id, r)).collect();
    b.papers(papers)
        .github(&gh.base, budget)
        .build(paperboy_web::router)
        .await
        .unwrap()
}

async fn stars_of(t: &TestApp, id: &str) -> serde_json::Value {
    t.client().get(&format!("/api/papers/{id}")).await.json()["githubStars"].clone()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn counts_reach_papers_and_unchanged_ones_cost_nothing(b: Builder) {
    let gh = GitHubStandin::start(5000).await;
    gh.set_stars("ada/soups", 120);
    gh.set_stars("alan/engines", 7);
    let t = app_with(
        b,
        &gh,
        &[("2611.00001", "ada/soups"), ("2611.00002", "alan/engines")],
        5000,
    )
    .await;
    assert_eq!(stars_of(&t, "2611.00001").await, serde_json::Value::Null);

    let step = t.app.refresh_stars(now()).await.unwrap();
    assert_eq!((step.updated, step.spent), (2, 2));
    assert_eq!(stars_of(&t, "2611.00001").await, 120);
    assert_eq!(stars_of(&t, "2611.00002").await, 7);
    let page = t.client().get("/papers/2611.00001").await;
    assert!(page.body.contains("120"), "the page shows the stars");
    assert!(
        gh.requests().iter().all(|r| r.authorized),
        "the token is sent"
    );

    // Nothing is due again before six hours (recent papers).
    let step = t.app.refresh_stars(now() + HOUR).await.unwrap();
    assert_eq!(step.spent + step.unchanged + step.updated, 0);

    // Asked again: the ETag makes unchanged counts 304s, which spend nothing,
    // and still make a snapshot for the day.
    gh.set_stars("alan/engines", 9);
    gh.clear_requests();
    let later = now() + 2 * 24 * HOUR;
    let step = t.app.refresh_stars(later).await.unwrap();
    assert_eq!((step.unchanged, step.updated, step.spent), (1, 1, 1));
    let statuses: Vec<u16> = gh.requests().iter().map(|r| r.status).collect();
    assert!(
        statuses.contains(&304) && statuses.contains(&200),
        "{statuses:?}"
    );
    assert_eq!(stars_of(&t, "2611.00002").await, 9);
    let history = t
        .store()
        .star_history("https://github.com/ada/soups")
        .await
        .unwrap();
    assert_eq!(
        history.len(),
        2,
        "a snapshot a day, 304 or not: {history:?}"
    );
    assert!(history.iter().all(|(_, s)| *s == 120));
}

async fn renames_are_followed_and_deletions_marked(b: Builder) {
    let gh = GitHubStandin::start(5000).await;
    gh.set_stars("ada/old-name", 40);
    gh.set_stars("alan/doomed", 3);
    let t = app_with(
        b,
        &gh,
        &[
            ("2611.00003", "ada/old-name"),
            ("2611.00004", "alan/doomed"),
        ],
        5000,
    )
    .await;
    gh.rename("ada/old-name", "ada-lab/new-name");
    gh.delete("alan/doomed");

    let step = t.app.refresh_stars(now()).await.unwrap();
    assert_eq!((step.moved, step.gone, step.updated), (1, 1, 1));
    assert_eq!(stars_of(&t, "2611.00003").await, 40);
    let repo = t
        .store()
        .tracked_repo("https://github.com/ada/old-name")
        .await
        .unwrap();
    assert_eq!(
        repo.moved_to.as_deref(),
        Some("https://github.com/ada-lab/new-name")
    );
    let gone = t
        .store()
        .tracked_repo("https://github.com/alan/doomed")
        .await
        .unwrap();
    assert_eq!(gone.status, paperboy_store::RepoStatus::Gone);

    // Later asks go straight to the new place; the gone one is not asked.
    gh.clear_requests();
    gh.set_stars("ada-lab/new-name", 55);
    t.app.refresh_stars(now() + 3 * 24 * HOUR).await.unwrap();
    let paths: Vec<String> = gh.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, vec!["/repos/ada-lab/new-name".to_string()]);
    assert_eq!(stars_of(&t, "2611.00003").await, 55);
}

async fn limits_and_failures_pause_and_retry_without_losing_a_snapshot(b: Builder) {
    let gh = GitHubStandin::start(5000).await;
    for r in ["a/one", "b/two", "c/three"] {
        gh.set_stars(r, 10);
    }
    let t = app_with(
        b,
        &gh,
        &[
            ("2611.00005", "a/one"),
            ("2611.00006", "b/two"),
            ("2611.00007", "c/three"),
        ],
        5000,
    )
    .await;
    let t0 = now();
    t.app.refresh_stars(t0).await.unwrap();

    // Two days on: a secondary limit on the first repository asked pauses
    // the tracker for the time GitHub names.
    for r in ["a/one", "b/two", "c/three"] {
        gh.set_stars(r, 20);
        gh.fault_once(
            r,
            GitHubFault::SecondaryLimit {
                retry_after_secs: 120,
            },
        );
    }
    let t1 = t0 + 2 * 24 * HOUR;
    let step = t.app.refresh_stars(t1).await.unwrap();
    assert!(step.rate_limited);
    assert_eq!(step.updated, 0);
    assert!(
        t.app.refresh_stars(t1 + 60).await.unwrap().rate_limited,
        "still paused"
    );
    // After the pause: the others still have their fault queued, so the
    // tracker pauses again on each, until all are through.
    let mut at = t1 + 121;
    let mut updated = 0;
    for _ in 0..10 {
        let s = t.app.refresh_stars(at).await.unwrap();
        updated += s.updated;
        at += 121;
    }
    assert_eq!(updated, 3);
    assert_eq!(stars_of(&t, "2611.00006").await, 20);

    // 5xx then a cut-off body: retried at once, within the step.
    gh.set_stars("a/one", 30);
    gh.fault_once("a/one", GitHubFault::ServerError);
    gh.fault_once("a/one", GitHubFault::Truncated);
    let t2 = t1 + 3 * 24 * HOUR;
    let s = t.app.refresh_stars(t2).await.unwrap();
    assert_eq!(
        (s.failed, s.updated, s.unchanged),
        (0, 1, 2),
        "the others answer 304"
    );
    assert_eq!(stars_of(&t, "2611.00005").await, 30);

    // Three bad answers in a row: recorded as a failure, asked again later;
    // the count and every snapshot stay.
    for _ in 0..3 {
        gh.fault_once("b/two", GitHubFault::ServerError);
    }
    let history = || async {
        t.store()
            .star_history("https://github.com/b/two")
            .await
            .unwrap()
    };
    let before = history().await;
    let t3 = t2 + 2 * 24 * HOUR;
    let s = t.app.refresh_stars(t3).await.unwrap();
    assert_eq!(s.failed, 1);
    assert_eq!(stars_of(&t, "2611.00006").await, 20);
    assert_eq!(history().await, before, "a failure keeps every snapshot");
    gh.set_stars("b/two", 25);
    let s = t.app.refresh_stars(t3 + 600).await.unwrap();
    assert_eq!(
        (s.updated, s.failed),
        (1, 0),
        "asked again after the backoff"
    );
    assert_eq!(stars_of(&t, "2611.00006").await, 25);

    // The primary limit spent (403, remaining 0): paused until the reset
    // GitHub names, without asking in the meantime.
    let t4 = t3 + 3 * 24 * HOUR;
    gh.advance(t4 - now());
    gh.exhaust();
    let s = t.app.refresh_stars(t4).await.unwrap();
    assert!(s.rate_limited);
    let until = t.app.stars.as_ref().unwrap().paused_until().await;
    assert!(until > t4 + 600, "paused until GitHub's reset, not {until}");
    gh.clear_requests();
    assert!(t.app.refresh_stars(t4 + 600).await.unwrap().rate_limited);
    assert!(gh.requests().is_empty(), "no request while paused");
    assert_eq!(stars_of(&t, "2611.00007").await, 20, "nothing was lost");
}

async fn the_hourly_budget_is_never_exceeded(b: Builder) {
    let gh = GitHubStandin::start(100_000).await;
    let names: Vec<String> = (0..150).map(|i| format!("lab{i}/repo")).collect();
    for n in &names {
        gh.set_stars(n, 1);
    }
    let ids: Vec<String> = (0..150).map(|i| format!("2611.{:05}", 100 + i)).collect();
    let repos: Vec<(&str, &str)> = ids
        .iter()
        .map(String::as_str)
        .zip(names.iter().map(String::as_str))
        .collect();
    // Without a token GitHub grants 60 requests an hour.
    let t = app_with(b, &gh, &repos, 60).await;
    let t0 = now();
    let mut spent_at = Vec::new();
    for minute in 0..(3 * 60) {
        let at = t0 + minute * 60;
        let s = t.app.refresh_stars(at).await.unwrap();
        spent_at.extend(std::iter::repeat_n(at, s.spent as usize));
    }
    let worst = spent_at
        .iter()
        .map(|start| {
            spent_at
                .iter()
                .filter(|t| **t >= *start && **t < start + HOUR)
                .count()
        })
        .max()
        .unwrap();
    assert!(worst <= 54, "at most 90% of 60 an hour, saw {worst}");
    assert!(
        spent_at.len() >= 150,
        "all 150 asked within 3 hours: {}",
        spent_at.len()
    );
    let plan = t.app.stars.as_ref().unwrap().plan().await.unwrap();
    assert!(plan.steady_per_hour() <= 54.0 + 1e-9, "{plan:?}");
}

async fn a_star_jump_lifts_a_paper_in_trending(b: Builder) {
    let gh = GitHubStandin::start(5000).await;
    gh.set_stars("ada/steady", 500);
    gh.set_stars("alan/rising", 10);
    let t = app_with(
        b,
        &gh,
        &[("2611.00011", "ada/steady"), ("2611.00012", "alan/rising")],
        5000,
    )
    .await;
    // Five members upvote the steady one.
    for i in 0..5 {
        let c = t.client();
        c.sign_up(&format!("fan{i}")).await;
        c.post_form("/papers/2611.00011/upvote", &[("action", "add")])
            .await;
    }
    let t0 = now();
    t.app.refresh_stars(t0 - 6 * 24 * HOUR).await.unwrap();
    let order = |v: serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["paper"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    paperboy_app::trending::refresh_all(&**t.store(), &t.app.scales, chrono::Utc::now())
        .await
        .unwrap();
    let before = order(t.client().get("/api/trending").await.json());
    assert_eq!(before[0], "2611.00011", "five votes lead: {before:?}");

    // 100 new stars in the week: w = 0.1, worth ten upvotes (> 5).
    gh.set_stars("alan/rising", 110);
    t.app.refresh_stars(t0).await.unwrap();
    paperboy_app::trending::refresh_all(&**t.store(), &t.app.scales, chrono::Utc::now())
        .await
        .unwrap();
    let after = order(t.client().get("/api/trending").await.json());
    assert_eq!(after[0], "2611.00012", "the star jump leads: {after:?}");

    // 40 new stars (worth 4 upvotes) would not have been enough.
    gh.set_stars("alan/rising", 50);
    t.app.refresh_stars(t0 + 7 * HOUR).await.unwrap();
    paperboy_app::trending::refresh_all(&**t.store(), &t.app.scales, chrono::Utc::now())
        .await
        .unwrap();
    let again = order(t.client().get("/api/trending").await.json());
    assert_eq!(again[0], "2611.00011", "{again:?}");
}
