//! A TCP relay on loopback that a test can cut: every open connection is
//! closed and new ones are refused until it is restored. Put between a
//! node and its PostgreSQL server, it plays the database going away (a
//! restart, a network partition) without touching the real server.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct TcpProxy {
    port: u16,
    up: Arc<AtomicBool>,
    /// Bumped on every cut; relays of an older generation stop.
    cuts: watch::Sender<u64>,
    generation: Arc<AtomicU64>,
}

impl TcpProxy {
    /// Relays 127.0.0.1:<port> to `target` ("host:port").
    pub async fn start(target: &str) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let up = Arc::new(AtomicBool::new(true));
        let (cuts, _) = watch::channel(0u64);
        let generation = Arc::new(AtomicU64::new(0));
        let target = target.to_string();
        let (up2, cuts2, gen2) = (up.clone(), cuts.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mine = gen2.load(Ordering::SeqCst);
                let mut cut = cuts2.subscribe();
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    let (mut c, mut s) = (client, server);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut c, &mut s) => {}
                        _ = cut.wait_for(|g| *g > mine) => {}
                    }
                });
            }
        });
        TcpProxy {
            port,
            up,
            cuts,
            generation,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Closes every relayed connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        let g = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.cuts.send(g);
    }

    /// Accepts and relays again.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}
