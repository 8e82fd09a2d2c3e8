//! A TCP proxy in front of one of the stack's services, which a test or a
//! bench can pause (as `kill -STOP` would the service, for this proxy's
//! clients only) or slow down. Tests share one stack and run at once, so
//! stopping the real Postgres or emulator would fault every other test too;
//! each test puts its own console behind its own proxies instead.
//!
//! Paused, it behaves like a stopped server: connections are made (the
//! kernel's backlog would take them) and bytes already sent are kept, but
//! nothing is answered. Resumed, what it kept flows on, so a request the
//! client gave up on still reaches the service, as it would after
//! `kill -CONT`.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream, tcp::OwnedReadHalf, tcp::OwnedWriteHalf},
    sync::watch,
    task::JoinHandle,
};

/// What the proxy does to traffic now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mode {
    paused: bool,
    /// Added before each answer: the first bytes from the service after
    /// bytes from the client, as a distant service's round trip would.
    latency: Duration,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    counts: Arc<Counts>,
    accepting: JoinHandle<()>,
}

#[derive(Default)]
struct Counts {
    /// Connections not yet closed on both sides.
    open: AtomicUsize,
    /// Requests held by the pause: bytes from a client waiting to be passed on.
    stalled: AtomicUsize,
}

impl FaultProxy {
    /// Listens on a free local port and passes everything on to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (mode, watching) = watch::channel(Mode { paused: false, latency: Duration::ZERO });
        let counts = Arc::new(Counts::default());
        let counted = counts.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (watching, counts) = (watching.clone(), counted.clone());
                counts.open.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let _ = relay(client, upstream, watching, &counts).await;
                    counts.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Ok(FaultProxy { addr, mode, counts, accepting })
    }

    /// `url` with its `host:port` (after any `user:pass@`) replaced by the
    /// proxy's, whatever name the URL gave the host.
    pub fn url_for(&self, url: &str) -> String {
        match host_port_span(url) {
            Some((start, end)) => format!("{}{}{}", &url[..start], self.addr, &url[end..]),
            None => url.to_owned(),
        }
    }

    pub fn pause(&self) {
        self.mode.send_modify(|m| m.paused = true);
    }

    pub fn resume(&self) {
        self.mode.send_modify(|m| m.paused = false);
    }

    pub fn set_latency(&self, latency: Duration) {
        self.mode.send_modify(|m| m.latency = latency);
    }

    /// Waits until every connection has closed (for at most `limit`), so
    /// what a paused proxy kept has reached the service. Returns how many
    /// are still open.
    pub async fn settle(&self, limit: Duration) -> usize {
        self.wait_until(limit, |c| c.open.load(Ordering::SeqCst) == 0).await;
        self.counts.open.load(Ordering::SeqCst)
    }

    /// Waits (for at most `limit`) until at least `n` requests are held by
    /// the pause at once; says whether they were.
    pub async fn wait_for_stalled(&self, n: usize, limit: Duration) -> bool {
        self.wait_until(limit, |c| c.stalled.load(Ordering::SeqCst) >= n).await
    }

    async fn wait_until(&self, limit: Duration, done: impl Fn(&Counts) -> bool) -> bool {
        let until = tokio::time::Instant::now() + limit;
        loop {
            if done(&self.counts) {
                return true;
            }
            if tokio::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// The host and port of `url`'s authority (after any `user:pass@`).
pub fn authority(url: &str) -> Option<SocketAddr> {
    let (start, end) = host_port_span(url)?;
    url[start..end].replacen("localhost", "127.0.0.1", 1).parse().ok()
}

/// Where `host:port` stands in `url`.
fn host_port_span(url: &str) -> Option<(usize, usize)> {
    let start = url.find("://")? + 3;
    let end = url[start..].find(['/', '?']).map_or(url.len(), |i| start + i);
    let host_start = url[start..end].rfind('@').map_or(start, |i| start + i + 1);
    Some((host_start, end))
}

impl FaultProxy {
    /// A proxy in front of the service at `url`, and the URL to reach it by.
    pub async fn in_front_of(url: &str) -> std::io::Result<(FaultProxy, String)> {
        let upstream = authority(url)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("no host:port in {url:?}")))?;
        let proxy = FaultProxy::start(upstream).await?;
        let proxied = proxy.url_for(url);
        Ok((proxy, proxied))
    }
}

async fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    mode: watch::Receiver<Mode>,
    counts: &Counts,
) -> std::io::Result<()> {
    let server = TcpStream::connect(upstream).await?;
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    // Which side sent last, so the latency is added once per answer.
    let client_spoke = std::sync::atomic::AtomicBool::new(true);
    let up =
        pass(client_read, server_write, mode.clone(), Side::Client { stalled: &counts.stalled, spoke: &client_spoke });
    let down = pass(server_read, client_write, mode, Side::Service { client_spoke: &client_spoke });
    // When either side is done, the other direction may still carry what
    // was kept (a request the client gave up on); each ends on its own.
    let _ = tokio::join!(up, down);
    Ok(())
}

/// Which way `pass` carries bytes.
#[derive(Clone, Copy)]
enum Side<'a> {
    /// From the client: counts the requests a pause holds.
    Client { stalled: &'a AtomicUsize, spoke: &'a std::sync::atomic::AtomicBool },
    /// From the service: its answers get the latency.
    Service { client_spoke: &'a std::sync::atomic::AtomicBool },
}

/// Passes bytes on, holding them while paused.
async fn pass(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
    side: Side<'_>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        let held = match side {
            Side::Client { stalled, .. } if n > 0 && mode.borrow().paused => Some(stalled),
            _ => None,
        };
        if let Some(s) = held {
            s.fetch_add(1, Ordering::SeqCst);
        }
        let latency = wait_for_resume(&mut mode).await;
        if let Some(s) = held {
            s.fetch_sub(1, Ordering::SeqCst);
        }
        if n == 0 {
            return to.shutdown().await;
        }
        match side {
            Side::Client { spoke, .. } => spoke.store(true, Ordering::SeqCst),
            // The first bytes of an answer.
            Side::Service { client_spoke } => {
                if client_spoke.swap(false, Ordering::SeqCst) && !latency.is_zero() {
                    tokio::time::sleep(latency).await;
                }
            }
        }
        to.write_all(&buf[..n]).await?;
    }
}

/// Returns once the proxy is not paused, with the latency to add.
async fn wait_for_resume(mode: &mut watch::Receiver<Mode>) -> Duration {
    match mode.wait_for(|m| !m.paused).await {
        Ok(m) => m.latency,
        // The proxy is gone: pass on unhindered.
        Err(_) => Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authority_of_service_urls() {
        assert_eq!(authority("http://127.0.0.1:5000"), Some("127.0.0.1:5000".parse().unwrap()));
        assert_eq!(authority("postgres://easel:pw@127.0.0.1:54321/db?x=1"), Some("127.0.0.1:54321".parse().unwrap()));
        assert_eq!(authority("postgres://localhost:5432/db"), Some("127.0.0.1:5432".parse().unwrap()));
        assert_eq!(authority("not a url"), None);
    }

    #[tokio::test]
    async fn a_proxied_url_keeps_everything_but_the_host_and_port() {
        let (proxy, url) = FaultProxy::in_front_of("postgres://easel:pw@localhost:5432/db?x=1").await.unwrap();
        assert_eq!(url, format!("postgres://easel:pw@{}/db?x=1", proxy.addr));
        assert_eq!(proxy.url_for("smtp://127.0.0.1:25"), format!("smtp://{}", proxy.addr));
    }

    #[tokio::test]
    async fn paused_it_keeps_what_was_sent_and_passes_it_on_when_resumed() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = echo.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = echo.accept().await.unwrap();
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf).await.unwrap();
        });
        let proxy = FaultProxy::start(upstream).await.unwrap();
        proxy.pause();
        let mut client = TcpStream::connect(proxy.addr).await.unwrap();
        client.write_all(b"hello").await.unwrap();
        let mut got = [0u8; 5];
        let waited = tokio::time::timeout(Duration::from_millis(200), client.read_exact(&mut got)).await;
        assert!(waited.is_err(), "a paused proxy answered");
        proxy.resume();
        client.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello");
        drop(client);
        assert_eq!(proxy.settle(Duration::from_secs(5)).await, 0);
    }
}
