//! The thread that drives SQLite's write transactions.
//!
//! SQLite has one writer connection, so a write transaction holds every other writer off from
//! its `BEGIN` to its `COMMIT`. sqlx runs each statement on the connection's own thread and
//! wakes the waiting task when it is done; woken from outside the runtime, that task joins the
//! runtime's shared queue, which a busy worker looks at only every so many tasks (rendering
//! emails, answering requests). Each of a booking's round trips then waited there while the
//! writer sat idle, and the transaction's time, not the CPU, set the rate of bookings.
//!
//! The transactions the visitors and the outbox make by the thousand run here instead: a
//! runtime of their own, on a thread of their own, that does nothing but send the next
//! statement, so a transaction holds the writer for its statements and the switches of
//! threads between them, no longer. The copies of the log into the database file run here too,
//! after the writes (see [`super::checkpoints`]).

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Notify, oneshot};

use crate::StoreResult;
use crate::shared::guard::to_the_end_on;

use super::checkpoints::{LogCopier, copy_when_told};

/// A handle on the writes thread; the thread ends when the last handle is dropped.
#[derive(Clone)]
pub(super) struct Writes(Arc<Thread>);

struct Thread {
    runtime: tokio::runtime::Handle,
    /// Told after each write, so that the log is copied into the database file.
    copy_log: Arc<Notify>,
    /// Dropped with the last handle, which ends the thread's runtime.
    _stop: oneshot::Sender<()>,
}

impl Writes {
    /// Starts the thread, which copies the log into the database file with `log_copier`.
    pub(super) fn start(log_copier: LogCopier) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            // sqlx's pool times its waits for a connection.
            .enable_time()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let copy_log = Arc::new(Notify::new());
        runtime.spawn(copy_when_told(log_copier, copy_log.clone()));
        std::thread::Builder::new()
            .name("guidance-sqlite-writes".into())
            .spawn(move || {
                // Runs the spawned transactions until every handle is gone; a transaction still
                // running holds a handle (through its store), so none is cut off.
                let _ = runtime.block_on(stopped);
            })?;
        Ok(Self(Arc::new(Thread {
            runtime: handle,
            copy_log,
            _stop: stop,
        })))
    }

    /// Runs `write` to its end on the writes thread, as [`crate::shared::guard::to_the_end`]
    /// does on the caller's runtime: dropping the caller (a request whose client hung up)
    /// cannot cut it between its statements. A panic in it is the caller's panic.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        write: impl Future<Output = StoreResult<T>> + Send + 'static,
    ) -> StoreResult<T> {
        let written = to_the_end_on(&self.0.runtime, write).await;
        self.0.copy_log.notify_one();
        written
    }
}
