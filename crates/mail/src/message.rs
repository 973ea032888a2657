//! RFC 5322 messages: headers, a text and an HTML part, base64 bodies,
//! RFC 2047 subjects.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

pub struct Message<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    /// Derived from the outbox key: a resend carries the same id.
    pub message_id: String,
    pub text: &'a str,
    pub html: &'a str,
    /// Extra headers (List-Unsubscribe …), already valid header values.
    pub headers: Vec<(&'a str, String)>,
}

/// `<hash-of-key@host>`: stable for one outbox row.
pub fn message_id(key: &str, host: &str) -> String {
    let h: String = Sha256::digest(key.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("<{h}@{host}>")
}

fn encode_header(s: &str) -> String {
    if s.is_ascii() && !s.contains(['\r', '\n']) {
        s.to_string()
    } else {
        // One encoded word per ~45 bytes keeps lines short.
        let clean: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        let mut words = Vec::new();
        let mut chunk = String::new();
        for c in clean.chars() {
            if chunk.len() + c.len_utf8() > 45 {
                words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(chunk.as_bytes())));
                chunk.clear();
            }
            chunk.push(c);
        }
        if !chunk.is_empty() {
            words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(chunk.as_bytes())));
        }
        words.join("\r\n ")
    }
}

fn body_base64(s: &str) -> String {
    let enc = STANDARD.encode(s.as_bytes());
    enc.as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n")
}

impl Message<'_> {
    pub fn render(&self, date: chrono::DateTime<chrono::Utc>) -> String {
        let boundary = format!(
            "pb-{}",
            &self
                .message_id
                .trim_matches(['<', '>'])
                .split('@')
                .next()
                .unwrap_or("b")
        );
        let mut m = String::new();
        m.push_str(&format!("From: {}\r\n", self.from));
        m.push_str(&format!("To: {}\r\n", self.to));
        m.push_str(&format!("Subject: {}\r\n", encode_header(self.subject)));
        m.push_str(&format!(
            "Date: {}\r\n",
            date.format("%a, %d %b %Y %H:%M:%S +0000")
        ));
        m.push_str(&format!("Message-ID: {}\r\n", self.message_id));
        m.push_str("MIME-Version: 1.0\r\n");
        for (k, v) in &self.headers {
            m.push_str(&format!("{k}: {v}\r\n"));
        }
        m.push_str(&format!(
            "Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n"
        ));
        m.push_str(&format!("--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"));
        m.push_str(&body_base64(self.text));
        m.push_str(&format!("\r\n--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"));
        m.push_str(&body_base64(self.html));
        m.push_str(&format!("\r\n--{boundary}--\r\n"));
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_and_bodies_are_encoded() {
        assert_eq!(encode_header("plain"), "plain");
        assert!(encode_header("Papiers über Müller").starts_with("=?UTF-8?B?"));
        let m = Message {
            from: "Paperboy <pb@example.org>",
            to: "a@example.org",
            subject: "Hi",
            message_id: message_id("digest:1:2024-05-01", "example.org"),
            text: "hello",
            html: "<p>hello</p>",
            headers: vec![("List-Unsubscribe", "<https://x/u>".into())],
        }
        .render(chrono::DateTime::UNIX_EPOCH);
        assert!(m.contains("Message-ID: <") && m.contains("List-Unsubscribe: <https://x/u>\r\n"));
        assert!(m.contains(&STANDARD.encode("hello")));
        assert_eq!(message_id("k", "h"), message_id("k", "h"));
        assert_ne!(message_id("k", "h"), message_id("k2", "h"));
    }
}
