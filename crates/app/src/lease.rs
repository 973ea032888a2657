//! Leases held by long jobs. A job renews its lease between its steps
//! (a harvest page, a batch of digests) and stops at the next step once
//! another node holds it, so two nodes never do the same run at once.

use crate::App;

/// A lease a job holds while it runs.
#[derive(Clone, Debug)]
pub struct JobLease {
    /// The lease's name in the store (one per kind of job).
    pub name: String,
    /// Who holds it: this host and process.
    pub holder: String,
    /// How long it lasts unrenewed.
    pub secs: i64,
}

impl App {
    /// Renews `lease`; false once another node holds it. When the store
    /// cannot answer the job goes on: its writes are idempotent, and a
    /// job stopped by a passing database error would not run again today.
    pub async fn renew_lease(&self, lease: &JobLease) -> bool {
        match self
            .store
            .try_lease(&lease.name, &lease.holder, lease.secs)
            .await
        {
            Ok(true) => true,
            Ok(false) => {
                tracing::warn!(lease = %lease.name, "another node took the lease; stopping here");
                false
            }
            Err(e) => {
                tracing::warn!(lease = %lease.name, error = %e, "cannot renew the lease");
                true
            }
        }
    }
}
