//! Storage contracts, one per area, and the types they trade in. No SQL:
//! the SQL is written once in `paperboy-store-sql` and run by the SQLite
//! and PostgreSQL backends.
//!
//! Each consumer asks for the narrow contract it uses (the harvester for
//! [`HarvestStore`], the indexers for [`ChangeFeed`], the mail sender for
//! [`OutboxStore`]). [`Store`] bundles them all for the one place that
//! opens a backend and hands it around as `Arc<dyn Store>`; an
//! `&dyn Store` coerces to any of the narrow contracts.

pub mod accounts;
pub mod citations;
pub mod community;
pub mod delivery;
pub mod discussions;
mod error;
pub mod harvest;
pub mod library;
pub mod moderation;
pub mod notifications;
pub mod papers;
pub mod row;
pub mod stars;
pub mod watch;

pub use accounts::{AccountStore, NewUser};
pub use citations::{
    CitationStore, Citing, NewReference, Passage, StoredReference, TextChange, TextDue, TextFacts,
    TextRecord, TextStats, TextStatus,
};
pub use community::{CommunityStore, DailyEntry, DailySort, ListedPaper, TrendingRow};
pub use delivery::{
    Frequency, OutboxRow, OutboxStore, OutgoingMail, Preferences, SendOutcome, Subscriber,
    SubscriberId, SubscriberStore,
};
pub use discussions::{Comment, DiscussionStore, NewComment};
pub use error::StoreError;
pub use harvest::{HarvestCheckpoint, HarvestCounts, HarvestPage, HarvestStore, LeaseStore};
pub use library::{
    Follow, FollowKind, LibraryQuery, LibrarySort, LibraryStore, MuteKind, SaveCounts, Saved,
    TagInfo, TasteStore,
};
pub use moderation::{Claim, ClaimStatus, ModAction, ModerationStore, Report, ReportKind};
pub use notifications::{NewNotification, Notification, NotificationStore};
pub use papers::{decide_upsert, ChangeFeed, PaperStore, UpsertCounts, UpsertDecision};
pub use row::{NewestCursor, PaperChange, StoredPaper};
pub use stars::{RepoStatus, StarStore, TrackedRepo};
pub use watch::{EventKind, PaperEvent, WatchStore, Watcher};

/// Declares [`Store`] over the contracts, listed once.
macro_rules! store_of {
    ($($contract:ident),+) => {
        /// Every contract at once: what a backend provides.
        pub trait Store: $($contract +)+ {}

        impl<T: $($contract +)+> Store for T {}
    };
}

store_of!(
    PaperStore,
    ChangeFeed,
    HarvestStore,
    LeaseStore,
    AccountStore,
    CommunityStore,
    SubscriberStore,
    OutboxStore,
    DiscussionStore,
    ModerationStore,
    NotificationStore,
    StarStore,
    LibraryStore,
    TasteStore,
    CitationStore,
    WatchStore
);
