//! A TCP relay in front of a server (PostgreSQL in the outage tests) that a test can cut and
//! restore, to play a network that stops carrying packets for a while.
//!
//! While cut, every relayed connection is closed at once, and new ones are accepted but never
//! answered (held open, as a dropped route looks to the client: its connect "succeeds" and then
//! nothing comes back), so a client must rely on its own timeouts. Restoring closes those held
//! connections and relays new ones again; the upstream server itself is never touched.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running relay on `127.0.0.1:<port>`; stops when dropped.
pub struct Relay {
    port: u16,
    open: watch::Sender<bool>,
    accept: JoinHandle<()>,
}

impl Relay {
    /// Starts relaying `127.0.0.1:<free port>` to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
        let port = listener.local_addr().expect("relay address").port();
        let upstream = upstream.to_owned();
        let (open, _) = watch::channel(true);
        let state = open.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, upstream.clone(), state.subscribe()));
            }
        });
        Relay { port, open, accept }
    }

    /// The port the relay listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The relay's address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Cuts the line: open connections are closed, new ones hang unanswered.
    pub fn cut(&self) {
        self.open.send_replace(false);
    }

    /// Restores the line: held connections are closed, new ones are relayed.
    pub fn restore(&self) {
        self.open.send_replace(true);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
        // Closes every relayed connection and wakes (and so closes) every held one.
        self.open.send_replace(false);
    }
}

/// Relays one client until the line is cut (or either side closes); a client arriving while
/// the line is cut is held until it is restored, then closed.
async fn serve(mut client: TcpStream, upstream: String, mut open: watch::Receiver<bool>) {
    if !*open.borrow_and_update() {
        let _ = open.changed().await;
        return;
    }
    let Ok(mut server) = TcpStream::connect(&upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = open.wait_for(|open| !*open) => {}
    }
    // Dropping both sockets closes them: the client sees its connection end mid-use.
}
