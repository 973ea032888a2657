//! Subscribers and the outbox on every backend.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::sync::Arc;

use paperboy_core::PaperId;
use paperboy_store::{Frequency, OutgoingMail, Preferences, SendOutcome, Store, SubscriberId};
use paperboy_testkit::storage_suite;

fn prefs() -> Preferences {
    Preferences {
        frequency: Frequency::Daily,
        trending_top: 5,
        daily_list: true,
        categories: vec!["cs.LG".into()],
        queries: vec!["soups".into()],
    }
}

fn mail(key: &str, sub: SubscriberId) -> OutgoingMail {
    OutgoingMail {
        dedupe_key: key.into(),
        subscriber: Some(sub),
        recipient: "a@example.org".into(),
        message: "Subject: x\r\n\r\nhi".into(),
    }
}

async fn subscribers_confirm_and_unsubscribe(store: Arc<dyn Store>) {
    let s = store
        .upsert_subscriber("a@example.org", &prefs())
        .await
        .unwrap();
    assert!(!s.is_active());
    assert_eq!(s.prefs, prefs());
    assert!(active(&store).await.is_empty(), "unconfirmed");
    store.confirm_subscriber(s.subscriber_id).await.unwrap();
    let again = store
        .upsert_subscriber(
            "a@example.org",
            &Preferences {
                trending_top: 0,
                ..prefs()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        again.subscriber_id, s.subscriber_id,
        "one subscriber per address"
    );
    assert_eq!(
        again.prefs.trending_top, 5,
        "an active subscription is not changed by a stranger's form"
    );
    assert_eq!(active(&store).await.len(), 1);
    assert!(store
        .active_subscribers(Frequency::Weekly, 0, 10)
        .await
        .unwrap()
        .is_empty());
    store.unsubscribe(s.subscriber_id).await.unwrap();
    assert!(active(&store).await.is_empty());
    let back = store
        .upsert_subscriber("a@example.org", &prefs())
        .await
        .unwrap();
    assert!(
        !back.is_active() && back.confirmed_at.is_none(),
        "coming back means confirming again"
    );
}

async fn active(store: &Arc<dyn Store>) -> Vec<paperboy_store::Subscriber> {
    store
        .active_subscribers(Frequency::Daily, 0, 10)
        .await
        .unwrap()
}

async fn outbox_dedupes_claims_once_and_counts_bounces(store: Arc<dyn Store>) {
    let s = store
        .upsert_subscriber("a@example.org", &prefs())
        .await
        .unwrap();
    store.confirm_subscriber(s.subscriber_id).await.unwrap();
    let id = s.subscriber_id;
    assert!(store
        .enqueue_mail(mail("digest:1", id), &[PaperId(1), PaperId(2)])
        .await
        .unwrap());
    assert!(
        !store
            .enqueue_mail(mail("digest:1", id), &[PaperId(3)])
            .await
            .unwrap(),
        "same key queues nothing"
    );
    assert_eq!(
        store
            .unsent_papers(id, &[PaperId(1), PaperId(2), PaperId(3)])
            .await
            .unwrap(),
        vec![PaperId(3)]
    );
    let now = chrono::Utc::now().timestamp() + 1;
    let claimed = store.claim_outbox(now, 60, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        store.claim_outbox(now, 60, 10).await.unwrap().is_empty(),
        "a claimed row is not claimed twice"
    );
    assert_eq!(
        store.claim_outbox(now + 61, 60, 10).await.unwrap().len(),
        1,
        "an expired claim is free again"
    );
    store
        .finish_outbox(
            claimed[0].outbox_id,
            SendOutcome::Retry {
                at: now + 500,
                error: "451".into(),
            },
        )
        .await
        .unwrap();
    assert!(
        store
            .claim_outbox(now + 100, 60, 10)
            .await
            .unwrap()
            .is_empty(),
        "retry waits"
    );
    let row = store
        .claim_outbox(now + 600, 60, 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(row.attempts, 3);
    store
        .finish_outbox(row.outbox_id, SendOutcome::Sent)
        .await
        .unwrap();
    assert!(
        store
            .claim_outbox(i64::MAX / 2, 60, 10)
            .await
            .unwrap()
            .is_empty(),
        "sent is done"
    );
    // Three permanent failures stop mail to the address.
    for k in 0..3 {
        store
            .enqueue_mail(mail(&format!("bounce:{k}"), id), &[])
            .await
            .unwrap();
        let r = store
            .claim_outbox(i64::MAX / 2, 60, 10)
            .await
            .unwrap()
            .remove(0);
        store
            .finish_outbox(
                r.outbox_id,
                SendOutcome::Failed {
                    error: "550 no such user".into(),
                },
            )
            .await
            .unwrap();
    }
    let s = store.subscriber(id).await.unwrap();
    assert_eq!(s.bounces, 3);
    assert!(s.disabled_at.is_some());
    assert!(active(&store).await.is_empty());
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!(
        counts,
        vec![("failed".to_string(), 3), ("sent".to_string(), 1)]
    );
}

storage_suite!(
    subscribers_confirm_and_unsubscribe,
    outbox_dedupes_claims_once_and_counts_bounces
);
