//! The subscription workflow (double opt-in, digests, one-click
//! unsubscribe, settings) with the in-memory mailer, and a snapshot of a
//! digest.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use paperboy_app::lease::JobLease;
use paperboy_testkit::app::{Builder, TestApp, BASE_URL};
use paperboy_testkit::{app_suite, recent_paper};

app_suite!(
    subscribe_confirm_digest_unsubscribe,
    members_manage_their_subscription_in_settings,
    refused_addresses_are_named_without_the_servers_reply,
    without_a_mail_server_the_pages_promise_no_mail,
    a_digest_run_stops_when_another_node_holds_its_lease,
);

/// The scheduler's digest run renews its lease before each batch of
/// subscribers and stops once another node holds it: the run that lost
/// the lease queues nothing, the node holding it queues the digest once.
async fn a_digest_run_stops_when_another_node_holds_its_lease(b: Builder) {
    let t = with_fresh_papers(b).await;
    let c = t.client();
    let form = [
        ("email", "reader@example.org"),
        ("frequency", "daily"),
        ("trending_top", "0"),
        ("categories", "cs.LG"),
    ];
    assert_eq!(c.post_form("/subscribe", &form).await.status, 200);
    let confirm = t.mailer.sent()[0].link(&format!("{BASE_URL}/subscribe/confirm?token="));
    assert_eq!(
        c.get(confirm.trim_start_matches(BASE_URL)).await.status,
        200
    );

    let lease = |holder: &str| JobLease {
        name: "scheduler".into(),
        holder: holder.into(),
        secs: 120,
    };
    assert!(t.app.renew_lease(&lease("node-b")).await, "node b holds it");
    let a = t
        .app
        .compose_due_digests(Some(&lease("node-a")))
        .await
        .unwrap();
    assert!(a.handed_over, "{a:?}");
    assert_eq!(a.queued, 0, "node a stops before its first batch");
    t.mailer.drain_now().await;
    assert_eq!(t.mailer.sent().len(), 1, "only the confirmation");

    let b = t
        .app
        .compose_due_digests(Some(&lease("node-b")))
        .await
        .unwrap();
    assert!(!b.handed_over, "{b:?}");
    assert_eq!(b.queued, 1);
    t.mailer.drain_now().await;
    assert_eq!(t.mailer.sent().len(), 2, "the digest, once");
    let again = t
        .app
        .compose_due_digests(Some(&lease("node-b")))
        .await
        .unwrap();
    assert_eq!((again.queued, again.handed_over), (0, false));
}

/// No mail server set up: `/subscribe` says plainly that this instance
/// sends no email (and where the papers come instead), a posted form
/// stores nothing and promises nothing, and the notifications page offers
/// no "Email me too".
async fn without_a_mail_server_the_pages_promise_no_mail(b: Builder) {
    let t = b.without_mail().build(paperboy_web::router).await.unwrap();
    let c = t.client();
    let page = c.get("/subscribe").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("sends no email"), "{}", page.body);
    assert!(page.body.contains("/feeds/trending.atom"));
    assert!(!page.body.contains("Check your inbox"));
    assert!(
        !page.body.contains("name=\"email\""),
        "no form that cannot work"
    );
    c.sign_up("ada").await;
    let r = c
        .post_form(
            "/subscribe",
            &[("email", "ada@example.org"), ("frequency", "daily")],
        )
        .await;
    assert!(!r.body.contains("Check your inbox"), "{}", r.body);
    assert!(r.body.contains("sends no email"));
    let notes = c.get("/notifications").await.body;
    assert!(!notes.contains("Email me too"), "{notes}");
}

fn fresh_papers() -> Vec<paperboy_core::Paper> {
    vec![
        recent_paper(
            "2511.00101",
            "Fresh soup of models",
            "We study weight averaging of fine-tuned models. Code at https://github.com/lab/soup.",
            "cs.LG",
        ),
        recent_paper(
            "2511.00102",
            "A fresh physics result",
            "Strings on branes at strong coupling.",
            "hep-th",
        ),
    ]
}

/// The seed and today's papers.
async fn with_fresh_papers(b: Builder) -> TestApp {
    b.seed()
        .papers(fresh_papers())
        .build(paperboy_web::router)
        .await
        .unwrap()
}

async fn subscribe_confirm_digest_unsubscribe(b: Builder) {
    let t = with_fresh_papers(b).await;
    let c = t.client();
    let bad = [
        ("email", "not-an-email"),
        ("frequency", "daily"),
        ("categories", "cs.LG"),
    ];
    c.form_answers("/subscribe", &bad, 422, "not an email address")
        .await;
    let nothing = [("email", "r@example.org"), ("trending_top", "0")];
    c.form_answers("/subscribe", &nothing, 422, "choose at least one thing")
        .await;
    let form = [
        ("email", "reader@example.org"),
        ("frequency", "daily"),
        ("trending_top", "0"),
        ("categories", "cs.LG"),
        ("queries", "weight averaging"),
    ];
    let ok = c.post_form("/subscribe", &form).await;
    assert_eq!(ok.status, 200);
    assert!(ok.body.contains("Check your inbox"));

    // The confirmation goes out at once.
    let mails = t.mailer.sent();
    assert_eq!(mails.len(), 1, "one confirmation");
    assert_eq!(mails[0].to(), "reader@example.org");
    assert!(mails[0].subject().starts_with("Confirm your subscription"));
    let confirm = mails[0].link(&format!("{BASE_URL}/subscribe/confirm?token="));

    let s = t.compose_daily().await;
    assert_eq!(s.queued, 0, "nothing before the address confirms");

    let r = c.get(confirm.trim_start_matches(BASE_URL)).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("You are subscribed"));
    let forged = c
        .get("/subscribe/confirm?token=confirm.1.9999999999.00")
        .await;
    assert_eq!(forged.status, 400);

    let s = t.compose_daily().await;
    assert_eq!(s.queued, 1);
    t.mailer.drain_now().await;
    let mails = t.mailer.sent();
    assert_eq!(mails.len(), 2);
    let digest = &mails[1];
    assert_eq!(digest.to(), "reader@example.org");
    assert!(
        digest.text.contains("Fresh soup of models"),
        "{}",
        digest.text
    );
    assert!(digest.text.contains("Code: https://github.com/lab/soup"));
    assert!(
        !digest.text.contains("A fresh physics result"),
        "not asked for"
    );
    assert!(
        !digest.text.contains("Model soups"),
        "old papers are not new"
    );
    assert_eq!(
        digest.header("list-unsubscribe-post"),
        "List-Unsubscribe=One-Click"
    );
    let unsub = digest
        .header("list-unsubscribe")
        .trim_matches(['<', '>'])
        .to_string();
    assert!(unsub.starts_with(&format!("{BASE_URL}/unsubscribe?token=")));

    // Composing again queues nothing; subscribing again sends nothing.
    let s = t.compose_daily().await;
    assert_eq!(
        (s.queued, s.already),
        (0, 0),
        "every paper was sent already"
    );
    let again = c.post_form("/subscribe", &form).await;
    assert_eq!(
        again.body, ok.body,
        "the same answer, whether subscribed or not"
    );
    assert_eq!(t.mailer.sent().len(), 2);

    // One-click unsubscribe (RFC 8058): no session, no CSRF token.
    let path = unsub.trim_start_matches(BASE_URL);
    assert!(t
        .client()
        .get(path)
        .await
        .body
        .contains("Stop sending me papers"));
    let r = t
        .client()
        .post_form_raw(path, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert_eq!(r.status, 200);
    t.add_papers(vec![recent_paper(
        "2511.00103",
        "Another fresh cs.LG paper",
        "More.",
        "cs.LG",
    )])
    .await;
    let s = t.compose_daily().await;
    assert_eq!(s.queued, 0, "nothing after unsubscribing");
}

async fn members_manage_their_subscription_in_settings(b: Builder) {
    let t = b.build(paperboy_web::router).await.unwrap();
    let c = t.client();
    assert_eq!(c.get("/settings").await.status, 303, "log in first");
    c.sign_up("sam").await;
    let page = c.get("/settings").await.body;
    assert!(page.contains("sam@example.org is not subscribed"), "{page}");
    let r = c
        .post_form(
            "/settings",
            &[("frequency", "daily"), ("trending_top", "5")],
        )
        .await;
    assert!(r.body.contains("Check your inbox"), "{}", r.body);
    let mails = t.mailer.sent();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to(), "sam@example.org");
    let confirm = mails[0].link(&format!("{BASE_URL}/subscribe/confirm?token="));
    c.get(confirm.trim_start_matches(BASE_URL)).await;
    let r = c
        .post_form(
            "/settings",
            &[
                ("frequency", "weekly"),
                ("trending_top", "10"),
                ("categories", "cs.CL"),
            ],
        )
        .await;
    assert!(r.body.contains("Saved"), "{}", r.body);
    let page = c.get("/settings").await.body;
    assert!(
        page.contains("is subscribed (weekly)") && page.contains("value=\"cs.CL\""),
        "{page}"
    );
    assert_eq!(
        t.mailer.sent().len(),
        1,
        "changing settings sends no new confirmation"
    );
    let bad = [("frequency", "hourly"), ("categories", "not a cat")];
    c.form_answers("/settings", &bad, 422, "not a frequency")
        .await;
}

async fn refused_addresses_are_named_without_the_servers_reply(b: Builder) {
    let t = b.build(paperboy_web::router).await.unwrap();
    t.mailer.refuse("nobody@example.org");
    let form = [("email", "nobody@example.org"), ("trending_top", "5")];
    let says = "We could not deliver mail to nobody@example.org.";
    let r = t
        .client()
        .form_answers("/subscribe", &form, 422, says)
        .await;
    // The stand-in answers "550 no such user: …"; a bare "550" could turn
    // up by chance in a random token on the page, so look for the reply.
    assert!(
        !r.body.contains("no such user"),
        "the server's reply stays in the log"
    );
}
