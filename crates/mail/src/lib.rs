//! Delivering papers by email: signed links, message composition, a small
//! SMTP client and the outbox sender.

pub mod compose;
pub mod message;
pub mod sender;
pub mod smtp;
pub mod token;

pub use sender::{drain_outbox, drain_outbox_with_lease, send_one, DrainSummary};
pub use smtp::{SmtpConfig, SmtpError};
pub use token::Signer;
