//! A small SMTP client (RFC 5321) with STARTTLS, implicit TLS and AUTH
//! PLAIN. What sets it apart: [`SmtpClient::send`] runs a caller's step
//! after the whole message is transmitted but before the final `.` that
//! makes the server take it, so the outbox can be marked sent first, and a
//! crash can never cause the same message to be accepted twice.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// STARTTLS when the server offers it.
    Opportunistic,
    /// STARTTLS or fail.
    StartTls,
    /// TLS from the first byte (`smtps://`).
    Implicit,
    None,
}

#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub user: Option<String>,
    pub password: Option<String>,
    pub timeout: Duration,
    /// Certificates trusted besides the public roots (`smtp_ca_file`: a
    /// relay with its own or a self-signed certificate).
    pub extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SmtpConfig({}:{} {:?} user={:?})",
            self.host, self.port, self.tls, self.user
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error("temporary failure: {0}")]
    Temporary(String),
    #[error("permanent failure: {0}")]
    Permanent(String),
    #[error("bad SMTP URL: {0}")]
    Config(String),
    /// The server refused our credentials or could not be reached: the
    /// set-up is at fault, not a message.
    #[error("{0}")]
    Setup(String),
    /// The outbox could not be read or updated.
    #[error(transparent)]
    Store(#[from] paperboy_store::StoreError),
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl SmtpConfig {
    /// `smtp://[user:pass@]host[:port][?tls=starttls|none]` or `smtps://…`.
    pub fn parse(url: &str) -> Result<Self, SmtpError> {
        let bad = |why: &str| {
            SmtpError::Config(format!(
                "{why} (expected smtp://[user:pass@]host[:port] or smtps://…)"
            ))
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let rest = rest.trim_end_matches('/');
        let (creds, hostport) = match rest.rsplit_once('@') {
            Some((c, h)) => (Some(c), h),
            None => (None, rest),
        };
        let (user, password) = match creds {
            Some(c) => match c.split_once(':') {
                Some((u, p)) => (Some(pct_decode(u)), Some(pct_decode(p))),
                None => (Some(pct_decode(c)), None),
            },
            None => (None, None),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                Some(p.parse::<u16>().map_err(|_| bad("bad port"))?),
            ),
            None => (hostport.to_string(), None),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let mut tls = match scheme {
            "smtp" => Tls::Opportunistic,
            "smtps" => Tls::Implicit,
            _ => return Err(bad("unknown scheme")),
        };
        for kv in query.split('&').filter(|s| !s.is_empty()) {
            match kv {
                "tls=starttls" => tls = Tls::StartTls,
                "tls=none" => tls = Tls::None,
                "tls=implicit" => tls = Tls::Implicit,
                other => return Err(bad(&format!("unknown option `{other}`"))),
            }
        }
        let port = port.unwrap_or(if tls == Tls::Implicit { 465 } else { 25 });
        Ok(SmtpConfig {
            host,
            port,
            tls,
            user,
            password,
            timeout: Duration::from_secs(60),
            extra_roots: Vec::new(),
        })
    }

    /// Trusts the certificates of the PEM file `path` too.
    pub fn with_ca_file(mut self, path: &std::path::Path) -> Result<Self, SmtpError> {
        use rustls::pki_types::pem::PemObject;
        let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| SmtpError::Config(format!("smtp_ca_file {}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(SmtpError::Config(format!(
                "smtp_ca_file {}: no PEM certificate in it",
                path.display()
            )));
        }
        self.extra_roots.extend(certs);
        Ok(self)
    }
}

/// The connection, plain or TLS; `Closed` only while switching.
enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    Closed,
}

impl AsyncRead for Stream {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Closed => std::task::Poll::Ready(Err(std::io::ErrorKind::NotConnected.into())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => std::pin::Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Closed => std::task::Poll::Ready(Err(std::io::ErrorKind::NotConnected.into())),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => std::pin::Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Closed => std::task::Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Closed => std::task::Poll::Ready(Ok(())),
        }
    }
}

/// Writes the final `.` synchronously, on the thread that has just
/// committed the outbox row, so nothing can stop the process between the
/// two but the write itself. Over TLS the `.` is sealed into its TLS
/// record beforehand, and the record's bytes are what is written: the same
/// single `write` on the same socket as in the clear.
pub struct DotWriter {
    socket: Option<std::net::TcpStream>,
    /// `.\r\n`, or the TLS record that carries it.
    bytes: Arc<Vec<u8>>,
    /// How many of `bytes` went out (read by the sender afterwards).
    written: Arc<std::sync::atomic::AtomicUsize>,
}

impl DotWriter {
    /// Writes what the socket takes now (all of it, normally); returns
    /// how many bytes that was. The sender writes the rest, if any.
    pub fn write_now(&self) -> usize {
        use std::io::Write;
        let Some(s) = &self.socket else { return 0 };
        let mut s = s;
        let n = s.write(&self.bytes).unwrap_or(0);
        self.written.store(n, std::sync::atomic::Ordering::SeqCst);
        n
    }
}

pub struct SmtpClient {
    /// A second handle on the TCP socket (under any TLS) for [`DotWriter`].
    dot: Option<std::net::TcpStream>,
    stream: Stream,
    buf: Vec<u8>,
    timeout: Duration,
}

fn tls_connector(
    extra: &[rustls::pki_types::CertificateDer<'static>],
) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let (added, ignored) = roots.add_parsable_certificates(extra.iter().cloned());
    if ignored > 0 {
        tracing::warn!(
            added,
            ignored,
            "some smtp_ca_file certificates could not be used"
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|_| {
            rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        });
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

fn temp(e: impl std::fmt::Display) -> SmtpError {
    SmtpError::Temporary(e.to_string())
}

impl SmtpClient {
    pub async fn connect(config: &SmtpConfig) -> Result<Self, SmtpError> {
        let tcp = tokio::time::timeout(
            config.timeout,
            TcpStream::connect((config.host.as_str(), config.port)),
        )
        .await
        .map_err(|_| {
            temp(format!(
                "connecting to {}:{} timed out",
                config.host, config.port
            ))
        })?
        .map_err(|e| {
            temp(format!(
                "connecting to {}:{}: {e}",
                config.host, config.port
            ))
        })?;
        let _ = tcp.set_nodelay(true);
        let (tcp, dot) = match tcp.into_std() {
            Ok(std) => {
                let dot = std.try_clone().ok();
                (TcpStream::from_std(std).map_err(temp)?, dot)
            }
            Err(e) => return Err(temp(e)),
        };
        let stream = if config.tls == Tls::Implicit {
            Stream::Tls(Box::new(Self::tls(tcp, config).await?))
        } else {
            Stream::Plain(tcp)
        };
        let mut c = SmtpClient {
            dot,
            stream,
            buf: Vec::new(),
            timeout: config.timeout,
        };
        c.expect(&[220]).await?;
        let mut ehlo = c.command("EHLO paperboy").await?;
        if ehlo.0 != 250 {
            return Err(temp(format!("EHLO refused: {} {}", ehlo.0, ehlo.1)));
        }
        let offers_tls = ehlo.1.to_ascii_uppercase().contains("STARTTLS");
        let want_tls =
            matches!(config.tls, Tls::StartTls) || (config.tls == Tls::Opportunistic && offers_tls);
        if want_tls {
            if !offers_tls {
                return Err(SmtpError::Permanent(
                    "the server does not offer STARTTLS".into(),
                ));
            }
            c.command_expect("STARTTLS", &[220]).await?;
            let Stream::Plain(tcp) = std::mem::replace(&mut c.stream, Stream::Closed) else {
                return Err(temp("STARTTLS on a connection that is already encrypted"));
            };
            c.stream = Stream::Tls(Box::new(Self::tls(tcp, config).await?));
            c.dot = None;
            c.buf.clear();
            ehlo = c.command("EHLO paperboy").await?;
            if ehlo.0 != 250 {
                return Err(temp(format!("EHLO after STARTTLS refused: {}", ehlo.1)));
            }
        }
        if let Some(user) = &config.user {
            use base64::Engine;
            let pass = config.password.clone().unwrap_or_default();
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"));
            let r = c.command(&format!("AUTH PLAIN {token}")).await?;
            if r.0 != 235 {
                // The account, not the message: no message is at fault,
                // and every one stays queued until the setting is fixed.
                return Err(SmtpError::Setup(format!(
                    "SMTP authentication as `{user}` at {}:{} failed: {} {}",
                    config.host, config.port, r.0, r.1
                )));
            }
        }
        Ok(c)
    }

    async fn tls(
        tcp: TcpStream,
        config: &SmtpConfig,
    ) -> Result<tokio_rustls::client::TlsStream<TcpStream>, SmtpError> {
        let host = &config.host;
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|e| SmtpError::Config(format!("host `{host}`: {e}")))?;
        tokio::time::timeout(
            config.timeout,
            tls_connector(&config.extra_roots).connect(name, tcp),
        )
        .await
        .map_err(|_| temp(format!("TLS with {host}:{} timed out", config.port)))?
        .map_err(|e| temp(format!("TLS with {host}:{}: {e}", config.port)))
    }

    /// Reads one (possibly multi-line) reply.
    async fn reply(&mut self) -> Result<(u16, String), SmtpError> {
        let mut text = String::new();
        loop {
            let line = loop {
                if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                    let line: Vec<u8> = self.buf.drain(..pos + 2).collect();
                    break String::from_utf8_lossy(&line[..pos]).into_owned();
                }
                let mut chunk = [0u8; 4096];
                let n = tokio::time::timeout(self.timeout, self.stream.read(&mut chunk))
                    .await
                    .map_err(|_| temp("the server did not answer in time"))?
                    .map_err(temp)?;
                if n == 0 {
                    return Err(temp("the server closed the connection"));
                }
                self.buf.extend_from_slice(&chunk[..n]);
            };
            if line.len() < 3 {
                return Err(temp(format!("malformed reply `{line}`")));
            }
            let code: u16 = line[..3]
                .parse()
                .map_err(|_| temp(format!("malformed reply `{line}`")))?;
            text.push_str(line.get(4..).unwrap_or(""));
            text.push('\n');
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok((code, text.trim_end().to_string()));
            }
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), SmtpError> {
        tokio::time::timeout(self.timeout, self.stream.write_all(bytes))
            .await
            .map_err(|_| temp("writing to the server timed out"))?
            .map_err(temp)?;
        self.stream.flush().await.map_err(temp)
    }

    /// The bytes that carry the final `.\r\n`: itself in the clear, or a
    /// TLS record sealed now (rustls counts it as sent; nothing else is
    /// written before it).
    fn seal_dot(&mut self) -> Result<Vec<u8>, SmtpError> {
        use std::io::Write;
        match &mut self.stream {
            Stream::Tls(tls) => {
                let (_, conn) = tls.get_mut();
                conn.writer().write_all(b".\r\n").map_err(temp)?;
                let mut sealed = Vec::new();
                while conn.wants_write() {
                    conn.write_tls(&mut sealed).map_err(temp)?;
                }
                Ok(sealed)
            }
            _ => Ok(b".\r\n".to_vec()),
        }
    }

    /// Writes `bytes` to the TCP socket under any TLS layer; only the
    /// part the [`DotWriter`] did not write is sent. With no socket clone
    /// this is the whole of it.
    async fn write_raw(&mut self, bytes: &[u8]) -> Result<(), SmtpError> {
        let tcp: &mut TcpStream = match &mut self.stream {
            Stream::Plain(t) => t,
            Stream::Tls(tls) => tls.get_mut().0,
            Stream::Closed => return Err(temp("the connection is closed")),
        };
        tokio::time::timeout(self.timeout, tcp.write_all(bytes))
            .await
            .map_err(|_| temp("writing to the server timed out"))?
            .map_err(temp)?;
        tcp.flush().await.map_err(temp)
    }

    async fn command(&mut self, cmd: &str) -> Result<(u16, String), SmtpError> {
        self.write(format!("{cmd}\r\n").as_bytes()).await?;
        self.reply().await
    }

    async fn expect(&mut self, ok: &[u16]) -> Result<(), SmtpError> {
        let (code, text) = self.reply().await?;
        classify(code, &text, ok)
    }

    async fn command_expect(&mut self, cmd: &str, ok: &[u16]) -> Result<(), SmtpError> {
        let (code, text) = self.command(cmd).await?;
        classify(code, &text, ok)
    }

    /// Sends one message. `commit` runs once the message is transmitted
    /// and before the final `.`; it gets a [`DotWriter`] to write the dot
    /// itself right after its commit and returns how many of its bytes it
    /// wrote. If it fails, the transaction is abandoned (the connection
    /// dropped) and the server keeps nothing.
    pub async fn send<F, Fut>(
        &mut self,
        from: &str,
        to: &str,
        message: &str,
        commit: F,
    ) -> Result<(), SmtpError>
    where
        F: FnOnce(DotWriter) -> Fut,
        Fut: Future<Output = Result<usize, SmtpError>>,
    {
        self.command_expect(&format!("MAIL FROM:<{}>", envelope(from)), &[250])
            .await?;
        self.command_expect(&format!("RCPT TO:<{}>", envelope(to)), &[250, 251])
            .await?;
        self.command_expect("DATA", &[354]).await?;
        let mut body = String::with_capacity(message.len() + 64);
        for line in message.split("\r\n") {
            if line.starts_with('.') {
                body.push('.');
            }
            body.push_str(line);
            body.push_str("\r\n");
        }
        self.write(body.as_bytes()).await?;
        let bytes = Arc::new(self.seal_dot()?);
        let written = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let dot = DotWriter {
            socket: self.dot.as_ref().and_then(|s| s.try_clone().ok()),
            bytes: bytes.clone(),
            written: written.clone(),
        };
        commit(dot).await?;
        let done = written.load(std::sync::atomic::Ordering::SeqCst);
        if done < bytes.len() {
            // What the synchronous write did not take (all of it when the
            // socket could not be cloned) goes on the same socket, as is.
            self.write_raw(&bytes[done..]).await?;
        }
        match self.reply().await {
            Ok((code, text)) => classify(code, &text, &[250]),
            // The server has the whole message and may have taken it; the
            // outbox already says sent, and sending again could duplicate.
            Err(e) => {
                tracing::warn!(error = %e, "no reply after the final dot; counting the message as sent");
                Ok(())
            }
        }
    }

    pub async fn reset(&mut self) -> Result<(), SmtpError> {
        self.command_expect("RSET", &[250]).await
    }

    pub async fn quit(mut self) {
        let _ = self.command("QUIT").await;
    }
}

fn classify(code: u16, text: &str, ok: &[u16]) -> Result<(), SmtpError> {
    if ok.contains(&code) {
        Ok(())
    } else if (500..600).contains(&code) {
        Err(SmtpError::Permanent(format!("{code} {text}")))
    } else {
        Err(SmtpError::Temporary(format!("{code} {text}")))
    }
}

/// The bare address of `Name <addr>` or `addr`.
pub fn envelope(addr: &str) -> &str {
    match (addr.rfind('<'), addr.rfind('>')) {
        (Some(a), Some(b)) if a < b => &addr[a + 1..b],
        _ => addr.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let c = SmtpConfig::parse("smtp://127.0.0.1:1025").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.tls.clone(), c.user.clone()),
            ("127.0.0.1", 1025, Tls::Opportunistic, None)
        );
        let c = SmtpConfig::parse("smtps://me%40x.org:p%3Ass@mail.x.org").unwrap();
        assert_eq!((c.port, c.tls.clone()), (465, Tls::Implicit));
        assert_eq!(
            (c.user.as_deref(), c.password.as_deref()),
            (Some("me@x.org"), Some("p:ss"))
        );
        assert_eq!(
            SmtpConfig::parse("smtp://h:587?tls=starttls").unwrap().tls,
            Tls::StartTls
        );
        assert!(SmtpConfig::parse("http://h").is_err());
        assert!(SmtpConfig::parse("smtp://h:x").is_err());
        assert!(
            !format!("{:?}", SmtpConfig::parse("smtp://u:secret@h").unwrap()).contains("secret")
        );
        assert_eq!(envelope("Paperboy <pb@x.org>"), "pb@x.org");
    }
}
