//! Libraries, collections, recommendations, feedback, follows and alerts,
//! private feeds, driven through the pages and the JSON API in-process.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use axum::body::Body;
use axum::http::Method;
use paperboy_testkit::app::Builder;
use paperboy_testkit::{app_suite, recent_paper, Client, TestApp};
use serde_json::json;

app_suite!(
    saving_tagging_listing_and_exporting,
    libraries_and_private_tags_stay_private,
    bad_library_requests_get_clear_errors,
    recommendations_explain_themselves_and_learn_from_feedback,
    follows_bring_alerts_once,
    private_feed_answers_until_revoked,
    import_form_reports_lines_and_keeps_the_rest,
    save_buttons_on_lists_and_pages,
    digests_open_with_picks_and_alerts_for_members,
    comma_separated_tags_and_removing_one,
    feedback_on_for_you_is_confirmed_and_can_be_undone,
);

/// 👍/👎 on /for-you have text labels, say what was noted (and that 👍
/// does not save), and can be undone.
async fn feedback_on_for_you_is_confirmed_and_can_be_undone(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    assert!(save(&ada, SOUPS, &[]).await.status < 300);
    let page = ada.get("/for-you?days=0").await.body;
    assert!(
        page.contains("More like this") && page.contains("Less like this"),
        "{page}"
    );
    let r = ada
        .post_form(
            "/for-you/feedback",
            &[("id", TASKS), ("value", "1"), ("next", "/for-you?days=0")],
        )
        .await;
    assert_eq!(r.status, 303);
    let back = r.header("location").unwrap().to_string();
    assert!(back.contains(&format!("rated={TASKS}")), "{back}");
    let page = ada.get(&back).await.body;
    assert!(page.contains("Noted: more like"), "{page}");
    assert!(page.contains("does not save"), "{page}");
    assert!(page.contains(">Undo<"), "{page}");
    let r = ada
        .post_form(
            "/for-you/feedback",
            &[("id", TASKS), ("value", "0"), ("next", "/for-you?days=0")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(!r.header("location").unwrap().contains("rated="));
    let page = ada.get("/for-you?days=0").await.body;
    assert!(page.contains(TASKS), "undone: recommended again: {page}");
}

const SOUPS: &str = "2203.05482";
const TASKS: &str = "2407.02880";
const ROUTE: &str = "2402.05859";

async fn app(b: Builder) -> TestApp {
    b.seed().build(paperboy_web::router).await.unwrap()
}

async fn member(t: &TestApp, name: &str) -> Client {
    let c = t.client();
    c.sign_up(name).await;
    c
}

async fn save(c: &Client, id: &str, tags: &[&str]) -> paperboy_testkit::Resp {
    c.api(
        Method::PUT,
        &format!("/api/me/library/{id}"),
        Some(json!({ "tags": tags })),
    )
    .await
}

fn ids(v: &serde_json::Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e[key]["id"].as_str().unwrap().to_string())
        .collect()
}

async fn saving_tagging_listing_and_exporting(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    let r = save(&ada, SOUPS, &["Merging", "read"]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["added"], true);
    assert_eq!(r.json()["tags"], json!(["merging", "read"]));
    assert_eq!(save(&ada, SOUPS, &["merging"]).await.json()["added"], false);
    save(&ada, TASKS, &["merging"]).await;
    save(&ada, ROUTE, &[]).await;

    let all = ada.get("/api/me/library").await;
    assert_eq!(all.status, 200);
    assert_eq!(
        ids(&all.json(), "paper"),
        vec![ROUTE, TASKS, SOUPS],
        "newest saved first"
    );
    let tagged = ada.get("/api/me/library?tag=merging").await.json();
    assert_eq!(ids(&tagged, "paper").len(), 2);
    assert_eq!(tagged[0]["tags"], json!(["merging"]));
    let by_title = ada.get("/api/me/library?sort=title&q=soups").await.json();
    assert_eq!(ids(&by_title, "paper"), vec![SOUPS]);

    // BibTeX a standard parser reads, that imports back to the same papers.
    let bib = ada.get("/api/me/library/export?format=bibtex").await;
    assert_eq!(bib.status, 200);
    assert!(bib
        .header("content-type")
        .unwrap()
        .starts_with("application/x-bibtex"));
    let parsed = paperboy_testkit::python(
        "import sys, bibtexparser\nlib = bibtexparser.load(open(sys.argv[1]))\nprint(' '.join(sorted(e['eprint'] for e in lib.entries)))",
        &[write_temp(&bib.body).as_os_str()],
        "`python3 -m pip install bibtexparser` (scripts/test.sh does)",
    );
    let mut want = [SOUPS, TASKS, ROUTE];
    want.sort();
    assert_eq!(String::from_utf8_lossy(&parsed).trim(), want.join(" "));
    let bob = member(&t, "bob").await;
    let user = t.store().user_by_name("bob").await.unwrap().0;
    let report = t
        .app
        .import_library(
            &user,
            &bib.body,
            Some("from-ada"),
            paperboy_app::library::ArxivFetches::Wait,
            &|_, _| {},
        )
        .await
        .unwrap();
    assert_eq!(
        (report.added, report.problems.len()),
        (3, 0),
        "{:?}",
        report.problems
    );
    assert_eq!(
        ids(
            &bob.get("/api/me/library?tag=from-ada").await.json(),
            "paper"
        )
        .len(),
        3
    );

    let csv = ada
        .get("/api/me/library/export?format=csv&tag=merging")
        .await;
    assert!(csv.body.starts_with("id,title,authors"), "{}", csv.body);
    assert_eq!(csv.body.lines().count(), 3, "a header and two papers");
    let js = ada.get("/api/me/library/export?format=json").await.json();
    assert_eq!(js.as_array().unwrap().len(), 3);

    let gone = ada
        .api(Method::DELETE, &format!("/api/me/library/{SOUPS}"), None)
        .await;
    assert_eq!(gone.json()["removed"], true);
    let again = ada
        .api(Method::DELETE, &format!("/api/me/library/{SOUPS}"), None)
        .await;
    assert_eq!(again.json()["removed"], false);
    assert_eq!(
        ids(&ada.get("/api/me/library").await.json(), "paper").len(),
        2
    );
}

fn write_temp(text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("paperboy-bib-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{:x}.bib", xxhash(text)));
    std::fs::write(&p, text).unwrap();
    p
}

fn xxhash(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

async fn libraries_and_private_tags_stay_private(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    save(&ada, SOUPS, &["secret", "shared"]).await;
    ada.api(
        Method::POST,
        &format!("/api/me/recommendations/{SOUPS}/feedback"),
        Some(json!({"value": 1})),
    )
    .await;
    let bob = member(&t, "bob").await;
    assert!(bob
        .get("/api/me/library")
        .await
        .json()
        .as_array()
        .unwrap()
        .is_empty());
    let anon = t.client();
    assert_eq!(anon.get("/api/me/library").await.status, 401);
    assert_eq!(anon.get("/api/me/recommendations").await.status, 401);
    // A private tag is not found, by anyone but its owner.
    for c in [&bob, &anon] {
        assert_eq!(c.get("/api/users/ada/collections/secret").await.status, 404);
        assert_eq!(c.get("/u/ada/secret").await.status, 404);
        assert_eq!(c.get("/feeds/collection/ada/secret.atom").await.status, 404);
    }
    // Someone else's tag cannot be made public.
    let r = bob
        .api(
            Method::PUT,
            "/api/users/ada/collections/secret",
            Some(json!({"public": true})),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = ada
        .api(
            Method::PUT,
            "/api/users/ada/collections/shared",
            Some(json!({"public": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = anon.get("/api/users/ada/collections/shared").await;
    assert_eq!(c.status, 200);
    assert_eq!(
        c.json()["papers"][0]["tags"],
        json!(["shared"]),
        "the private tag stays hidden: {}",
        c.body
    );
    let page = anon.get("/u/ada/shared").await;
    assert!(page.body.contains("Model soups"));
    assert!(
        !page.body.contains("secret"),
        "the private tag's name never shows"
    );
    let feed = anon.get("/feeds/collection/ada/shared.atom").await;
    assert_eq!(feed.status, 200);
    assert!(feed.body.contains("Model soups"));
    // Nothing of ada's shows on her public profile or bob's pages.
    let profile = anon.get("/u/ada").await.body;
    assert!(!profile.contains("secret"));
    assert!(!bob.get("/library").await.body.contains("Model soups"));
    assert!(!bob.get("/for-you").await.body.contains("secret"));
}

async fn bad_library_requests_get_clear_errors(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    let r = save(&ada, "2501.99999", &[]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("2501.99999"));
    let r = ada
        .api(
            Method::POST,
            "/api/me/recommendations/2501.99999/feedback",
            Some(json!({"value": -1})),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = ada
        .api(
            Method::POST,
            &format!("/api/me/recommendations/{SOUPS}/feedback"),
            Some(json!({"value": 3})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    for bad in ["<script>", "a/b", ""] {
        let r = save(&ada, SOUPS, &[bad]).await;
        assert_eq!(r.status, 400, "{bad:?}: {}", r.body);
        assert!(r.json()["error"]["message"].as_str().is_some());
    }
    let r = save(&ada, SOUPS, &vec!["t"; 21]).await;
    assert_eq!(r.status, 400);
    for q in ["days=-1", "days=99999", "limit=0", "tag=%3Cx%3E", "bogus=1"] {
        let r = ada.get(&format!("/api/me/recommendations?{q}")).await;
        assert_eq!(r.status, 400, "{q}: {}", r.body);
    }
    let r = ada.get("/api/me/library/export?format=docx").await;
    assert_eq!(r.status, 400);
    let r = ada.get("/api/users/nobody/collections/x").await;
    assert_eq!(r.status, 404);
}

async fn recommendations_explain_themselves_and_learn_from_feedback(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    for id in [SOUPS, TASKS, ROUTE] {
        save(&ada, id, &["merging"]).await;
    }
    let r = ada.get("/api/me/recommendations?days=0&limit=10").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let recs = r.json();
    let list = recs.as_array().unwrap();
    assert!(!list.is_empty());
    let library = [SOUPS, TASKS, ROUTE];
    for rec in list {
        let id = rec["paper"]["id"].as_str().unwrap();
        assert!(!library.contains(&id), "a saved paper is never recommended");
        let near = rec["why"]["similarTo"].as_array().unwrap();
        assert!(!near.is_empty(), "{rec}");
        assert!(near.iter().all(|n| library.contains(&n.as_str().unwrap())));
        assert!(rec["score"].as_f64().is_some());
    }
    assert!(
        list.iter()
            .any(|r| !r["why"]["terms"].as_array().unwrap().is_empty()),
        "shared terms are named: {recs}"
    );
    // The morning view: only recent papers. A new paper on merging shows.
    t.add_papers(vec![recent_paper(
        "2611.00001",
        "Merging fine-tuned models by averaging weights: soups of task vectors",
        "We average the weights of several fine-tuned models (model soups) and add task vectors; merging experts improves accuracy without more inference cost.",
        "cs.LG",
    )])
    .await;
    let week = ada.get("/api/me/recommendations?days=7").await.json();
    assert_eq!(ids(&week, "paper"), vec!["2611.00001"]);

    // 👎 takes it away at once, and the page says why the others are there.
    let top = ids(&recs, "paper")[0].clone();
    let r = ada
        .api(
            Method::POST,
            &format!("/api/me/recommendations/{top}/feedback"),
            Some(json!({"value": -1})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after = ids(
        &ada.get("/api/me/recommendations?days=0&limit=10")
            .await
            .json(),
        "paper",
    );
    assert!(!after.contains(&top));
    let page = ada.get("/for-you?days=0").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Why: close to"), "{}", page.body);
    assert!(!page.body.contains(&format!("data-arxiv-id=\"{top}\"")));

    // Not interested in a category: none of its papers come back.
    let cat = ada
        .get("/api/me/recommendations?days=0&limit=10")
        .await
        .json()[0]["paper"]["categories"][0]
        .as_str()
        .map(str::to_string);
    if let Some(cat) = cat {
        ada.post_form("/for-you/mute", &[("kind", "category"), ("value", &cat)])
            .await;
        let again = ada
            .get("/api/me/recommendations?days=0&limit=20")
            .await
            .json();
        for rec in again.as_array().unwrap() {
            let cats: Vec<&str> = rec["paper"]["categories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            assert!(!cats.contains(&cat.as_str()), "{cat} was muted: {rec}");
        }
    }
    // A tag's recommendations come from that tag alone.
    let r = ada.get("/api/me/recommendations?days=0&tag=nothing").await;
    assert_eq!(r.status, 200);
    assert!(r.json().as_array().unwrap().is_empty());
}

async fn follows_bring_alerts_once(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    // The first pass only marks where the news starts.
    assert_eq!(t.app.alert_pass().await.unwrap(), 0);
    let r = ada
        .post_form(
            "/follow",
            &[
                ("kind", "author"),
                ("target", "Grace Hopper"),
                ("next", "/notifications"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    ada.post_form("/follow", &[("kind", "paper"), ("target", SOUPS)])
        .await;
    ada.post_form(
        "/follow",
        &[("kind", "search"), ("target", "optimal transport")],
    )
    .await;
    let mut new_paper = recent_paper(
        "2611.00002",
        "Optimal transport for merging",
        "We use optimal transport.",
        "cs.LG",
    );
    new_paper.authors = vec![paperboy_core::Author {
        name: "Grace Hopper".into(),
    }];
    let mut soups = t
        .app
        .paper(&paperboy_core::ArxivId::parse(SOUPS).unwrap())
        .await
        .unwrap()
        .paper;
    // The seed record lists no versions (one, as the store counts); two
    // is a new one.
    for n in soups.versions.len() + 1..=2 {
        soups.versions.push(paperboy_core::Version {
            number: n as u32,
            created_at: chrono::Utc::now(),
        });
    }
    t.add_papers(vec![new_paper, soups]).await;
    let n = t.app.alert_pass().await.unwrap();
    assert_eq!(n, 3, "an author, a search and a new version");
    assert_eq!(
        t.app.alert_pass().await.unwrap(),
        0,
        "nothing new, nothing said"
    );
    let page = ada.get("/notifications").await.body;
    assert!(page.contains("New paper by Grace Hopper"), "{page}");
    assert!(page.contains("New match for “optimal transport”"), "{page}");
    assert!(page.contains("New version v"), "{page}");
    // Another member hears nothing of ada's follows.
    let bob = member(&t, "bob").await;
    assert!(!bob
        .get("/notifications")
        .await
        .body
        .contains("Grace Hopper"));
    // A comment on the followed paper reaches ada.
    bob.api(
        Method::POST,
        &format!("/api/papers/{SOUPS}/comments"),
        Some(json!({"body": "Nice soups"})),
    )
    .await;
    assert!(ada
        .get("/notifications")
        .await
        .body
        .contains("bob commented"));
    // Unfollowing stops it.
    ada.post_form(
        "/follow",
        &[
            ("kind", "author"),
            ("target", "Grace Hopper"),
            ("action", "unfollow"),
        ],
    )
    .await;
    assert!(t
        .app
        .follows(&t.store().user_by_name("ada").await.unwrap().0)
        .await
        .unwrap()
        .iter()
        .all(|f| f.target != "grace hopper"));
}

async fn private_feed_answers_until_revoked(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    save(&ada, SOUPS, &[]).await;
    let page = ada
        .form_answers("/library/feed", &[("action", "new")], 200, "/for-you.atom")
        .await;
    let start = page.body.find("/feeds/u/").unwrap();
    let end = page.body[start..].find("/for-you.atom").unwrap();
    let path = format!("{}/for-you.atom", &page.body[start..start + end]);
    let anon = t.client();
    let feed = anon.get(&path).await;
    assert_eq!(feed.status, 200, "{}", feed.body);
    assert!(feed.body.contains("<feed"));
    assert_eq!(feed.header("cache-control"), Some("private, no-store"));
    assert_eq!(
        anon.get("/feeds/u/notatoken/for-you.atom").await.status,
        404
    );
    ada.form_answers(
        "/library/feed",
        &[("action", "revoke")],
        200,
        "Revoked 1 feed address",
    )
    .await;
    assert_eq!(anon.get(&path).await.status, 404, "revoked at once");
}

/// A multipart body with the fields a browser sends for the import form.
fn multipart(csrf: &str, tag: &str, file: &str) -> (String, String) {
    let b = "----paperboy-test-boundary";
    let body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\n{tag}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"lib.bib\"\r\nContent-Type: text/plain\r\n\r\n{file}\r\n\
         --{b}--\r\n"
    );
    (format!("multipart/form-data; boundary={b}"), body)
}

async fn import_form_reports_lines_and_keeps_the_rest(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    let bib = "@article{soups, title={Model soups}, eprint={2203.05482}, archivePrefix={arXiv}}\n\
               @misc{dup, url={https://arxiv.org/abs/2203.05482v2}}\n\
               @misc{title, title={Towards a Unified View of Parameter-Efficient Transfer Learning}}\n\
               @misc{none, author={Nobody}}\n\
               @misc{broken, title = \"unclosed\n";
    let csrf = ada.csrf().await;
    let (ct, body) = multipart(&csrf, "imported", bib);
    let r = ada
        .request(
            Method::POST,
            "/library/import",
            &[("content-type", &ct)],
            Body::from(body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Imported 2 new papers"), "{}", r.body);
    assert!(
        r.body.contains("line 2: the same paper as line 1"),
        "{}",
        r.body
    );
    assert!(r.body.contains("line 4: entry `none`"), "{}", r.body);
    assert!(
        r.body
            .contains("line 5: malformed BibTeX entry: its braces do not pair"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("ContextError"), "words, not a debug print");
    let lib = ada.get("/api/me/library?tag=imported").await.json();
    let mut got = ids(&lib, "paper");
    got.sort();
    assert_eq!(got, vec!["2110.04366", SOUPS]);
    // Without the CSRF token nothing is imported.
    let (ct, body) = multipart("wrong", "x", "2407.02880\n");
    let r = ada
        .request(
            Method::POST,
            "/library/import",
            &[("content-type", &ct)],
            Body::from(body),
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(ada
        .get("/api/me/library?tag=x")
        .await
        .json()
        .as_array()
        .unwrap()
        .is_empty());
}

async fn save_buttons_on_lists_and_pages(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    let page = ada.get(&format!("/papers/{SOUPS}")).await.body;
    assert!(page.contains(&format!("action=\"/papers/{SOUPS}/save\"")));
    assert!(page.contains("Follow this paper"));
    let r = ada
        .post_form(
            &format!("/papers/{SOUPS}/save"),
            &[("action", "add"), ("next", "/search?q=soups")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/search?q=soups"));
    let r = ada
        .post_form(
            &format!("/papers/{SOUPS}/save"),
            &[("next", "https://evil.example/")],
        )
        .await;
    assert_eq!(
        r.header("location"),
        Some(&*format!("/papers/{SOUPS}")),
        "never sent off-site"
    );
    assert!(ada
        .get(&format!("/papers/{SOUPS}"))
        .await
        .body
        .contains("★ Saved"));
    let search = ada.get("/search?q=soups").await.body;
    assert!(search.contains("★ Saved"), "lists show what is saved");
    assert!(search.contains("Follow this search"));
    let author = ada.get("/authors/Mitchell%20Wortsman").await.body;
    assert!(author.contains("Follow Mitchell Wortsman"), "{author}");
    // A visitor is sent to log in.
    let anon = t.client();
    let r = anon.post_form(&format!("/papers/{SOUPS}/save"), &[]).await;
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().starts_with("/login"));
}

/// "merging, weight averaging" in the tag box is two tags, and a tag comes
/// off a paper with its own button, the paper and its other tags staying.
async fn comma_separated_tags_and_removing_one(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    let save = |fields: Vec<(&'static str, String)>| {
        let ada = &ada;
        async move {
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            ada.post_form(&format!("/papers/{SOUPS}/save"), &f).await
        }
    };
    let r = save(vec![
        ("action", "add".into()),
        ("tags", "merging, weight averaging".into()),
        ("next", "/library".into()),
    ])
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let tags_of = |v: serde_json::Value| -> Vec<String> {
        let mut t: Vec<String> = v.as_array().unwrap()[0]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect();
        t.sort();
        t
    };
    let lib = ada.get("/api/me/library").await.json();
    assert_eq!(tags_of(lib), vec!["merging", "weight-averaging"]);
    let page = ada.get("/library").await.body;
    assert!(page.contains("Remove the tag merging"), "{page}");
    let r = save(vec![
        ("action", "untag".into()),
        ("tags", "merging".into()),
        ("next", "/library".into()),
    ])
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let lib = ada.get("/api/me/library").await.json();
    assert_eq!(
        tags_of(lib),
        vec!["weight-averaging"],
        "the paper stays saved"
    );
}

/// A subscriber who is a member gets a For-you section: the period's new
/// papers near their library, and their alerts.
async fn digests_open_with_picks_and_alerts_for_members(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    for id in [SOUPS, TASKS, ROUTE] {
        save(&ada, id, &[]).await;
    }
    assert_eq!(t.app.alert_pass().await.unwrap(), 0);
    ada.post_form("/follow", &[("kind", "author"), ("target", "Grace Hopper")])
        .await;
    let mut by_grace = recent_paper(
        "2611.00003",
        "Compilers for everyone",
        "A compiler paper.",
        "cs.PL",
    );
    by_grace.authors = vec![paperboy_core::Author {
        name: "Grace Hopper".into(),
    }];
    t.add_papers(vec![
        recent_paper(
            "2611.00004",
            "Averaging the weights of fine-tuned models, with task vectors",
            "Model soups and task vectors: merging fine-tuned models by averaging their weights, routing among experts.",
            "cs.LG",
        ),
        recent_paper("2611.00005", "Galaxy clusters at high redshift", "We observe galaxy clusters.", "astro-ph.CO"),
        by_grace,
    ])
    .await;
    assert_eq!(t.app.alert_pass().await.unwrap(), 1);
    {
        let prefs = paperboy_testkit::daily_prefs(&["math.AG"], &[]);
        let s = t
            .store()
            .upsert_subscriber("ada@example.org", &prefs)
            .await
            .unwrap();
        t.store().confirm_subscriber(s.subscriber_id).await.unwrap();
        let s = t
            .store()
            .upsert_subscriber("stranger@example.org", &prefs)
            .await
            .unwrap();
        t.store().confirm_subscriber(s.subscriber_id).await.unwrap();
    }
    let s = t.compose_daily().await;
    assert_eq!(s.queued, 1, "only the member has anything: {s:?}");
    t.mailer.drain_now().await;
    let mail = t
        .mailer
        .sent()
        .into_iter()
        .find(|m| m.to() == "ada@example.org")
        .unwrap();
    assert!(
        mail.text.starts_with("FOR YOU (near your library)"),
        "{}",
        mail.text
    );
    assert!(
        mail.text
            .contains("Averaging the weights of fine-tuned models"),
        "{}",
        mail.text
    );
    assert!(
        mail.text.contains("New paper by Grace Hopper"),
        "{}",
        mail.text
    );
    assert!(!mail.text.contains("Galaxy clusters"), "{}", mail.text);
}
