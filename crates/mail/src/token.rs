//! Signed, expiring links: `purpose.subscriber.expiry.mac`. The MAC covers
//! the address too, so a token cannot be replayed for another subscriber,
//! and cannot be forged without the instance's secret.

use hmac::{Hmac, Mac};
use paperboy_store::SubscriberId;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct Signer {
    secret: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("this link is malformed")]
    Malformed,
    #[error("this link has expired")]
    Expired,
    #[error("this link is not valid")]
    BadSignature,
}

impl Signer {
    pub fn new(secret: &[u8]) -> Self {
        Signer {
            secret: secret.to_vec(),
        }
    }

    fn mac(&self, purpose: &str, id: i64, email: &str, expiry: i64) -> String {
        let mut m = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes any key length");
        m.update(
            format!(
                "{purpose}\x1f{id}\x1f{}\x1f{expiry}",
                email.to_ascii_lowercase()
            )
            .as_bytes(),
        );
        m.finalize()
            .into_bytes()
            .iter()
            .take(20)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// `expiry` in unix seconds; 0 never expires.
    pub fn sign(&self, purpose: &str, id: SubscriberId, email: &str, expiry: i64) -> String {
        format!(
            "{purpose}.{}.{expiry}.{}",
            id.0,
            self.mac(purpose, id.0, email, expiry)
        )
    }

    /// The subscriber a token names, if it is a valid `purpose` token. The
    /// caller supplies the subscriber's address through `email_of`.
    pub fn verify(
        &self,
        token: &str,
        purpose: &str,
        now: i64,
        email_of: impl FnOnce(SubscriberId) -> Option<String>,
    ) -> Result<SubscriberId, TokenError> {
        let parts: Vec<&str> = token.trim().split('.').collect();
        let [p, id, expiry, mac] = parts.as_slice() else {
            return Err(TokenError::Malformed);
        };
        if *p != purpose {
            return Err(TokenError::Malformed);
        }
        let id: i64 = id.parse().map_err(|_| TokenError::Malformed)?;
        let expiry: i64 = expiry.parse().map_err(|_| TokenError::Malformed)?;
        let email = email_of(SubscriberId(id)).ok_or(TokenError::BadSignature)?;
        let want = self.mac(purpose, id, &email, expiry);
        let same = want.len() == mac.len()
            && want
                .bytes()
                .zip(mac.bytes())
                .fold(0u8, |a, (x, y)| a | (x ^ y))
                == 0;
        if !same {
            return Err(TokenError::BadSignature);
        }
        if expiry != 0 && now > expiry {
            return Err(TokenError::Expired);
        }
        Ok(SubscriberId(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_refuse_forgery_replay_and_age() {
        let s = Signer::new(b"secret");
        let t = s.sign("confirm", SubscriberId(7), "a@x.org", 100);
        assert_eq!(
            s.verify(&t, "confirm", 50, |_| Some("a@x.org".into())),
            Ok(SubscriberId(7))
        );
        assert_eq!(
            s.verify(&t, "confirm", 101, |_| Some("a@x.org".into())),
            Err(TokenError::Expired)
        );
        assert_eq!(
            s.verify(&t, "unsubscribe", 50, |_| Some("a@x.org".into())),
            Err(TokenError::Malformed)
        );
        // Another address (or another subscriber id) does not match the MAC.
        assert_eq!(
            s.verify(&t, "confirm", 50, |_| Some("b@x.org".into())),
            Err(TokenError::BadSignature)
        );
        let other = t.replacen(".7.", ".8.", 1);
        assert_eq!(
            s.verify(&other, "confirm", 50, |_| Some("a@x.org".into())),
            Err(TokenError::BadSignature)
        );
        let forged = Signer::new(b"guess").sign("confirm", SubscriberId(7), "a@x.org", 100);
        assert_eq!(
            s.verify(&forged, "confirm", 50, |_| Some("a@x.org".into())),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            s.verify("junk", "confirm", 50, |_| None),
            Err(TokenError::Malformed)
        );
        let forever = s.sign("unsubscribe", SubscriberId(7), "a@x.org", 0);
        assert!(s
            .verify(&forever, "unsubscribe", i64::MAX, |_| Some(
                "a@x.org".into()
            ))
            .is_ok());
    }
}
