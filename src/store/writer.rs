//! Group commit: a box's busy writes (inbound messages, delivery reports,
//! send outcomes) wait in one queue; a writer task takes everything that
//! arrived while it was busy and stores it in one transaction with a few
//! multi-row statements. A caller hears back only after the commit, so
//! "200 means stored" holds for each of them.

use crate::store::batch::Job;
pub(crate) use crate::store::progress::Finish;
use crate::store::{Ingested, StatusUpdate, StoreError};
use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// Messages, reports and outcomes one transaction takes at most.
const GROUP_LIMIT: usize = 2_000;

/// What one transaction produced: outcomes per job, unknown reports per
/// batch of reports.
pub(crate) type GroupOutcome = (Vec<Vec<Ingested>>, Vec<usize>);

/// What one transaction stores.
pub(crate) struct Group<'a> {
    pub jobs: Vec<&'a Job>,
    pub reports: Vec<&'a [StatusUpdate]>,
    pub finishes: Vec<&'a Finish>,
}

/// A backend's way of storing one group in one transaction.
#[async_trait]
pub(crate) trait GroupWrite: Send + 'static {
    async fn write(&mut self, group: &Group<'_>) -> Result<GroupOutcome, StoreError>;
}

/// Stores a group inside the open transaction `$tx` with the calling
/// backend's `ingest` and `progress`, then commits it:
/// the order of the work is the same on every backend.
macro_rules! store_group {
    ($tx:ident, $group:expr) => {{
        let group = $group;
        let outcomes = if group.jobs.is_empty() {
            vec![]
        } else {
            ingest(&mut $tx, &group.jobs).await?
        };
        let unknown = if group.reports.is_empty() && group.finishes.is_empty() {
            vec![]
        } else {
            progress(&mut $tx, &group.reports, &group.finishes).await?
        };
        $tx.commit().await?;
        Ok((outcomes, unknown))
    }};
}

pub(crate) use store_group;

enum Request {
    Ingest {
        job: Job,
        reply: oneshot::Sender<Result<Vec<Ingested>, StoreError>>,
    },
    Statuses {
        updates: Vec<StatusUpdate>,
        reply: oneshot::Sender<Result<usize, StoreError>>,
    },
    Finish {
        finish: Finish,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

impl Request {
    fn size(&self) -> usize {
        match self {
            Request::Ingest { job, .. } => job.messages.len(),
            Request::Statuses { updates, .. } => updates.len(),
            Request::Finish { .. } => 1,
        }
    }

    fn fail(self, error: StoreError) {
        // A caller that went away (its client hung up) needs no answer.
        match self {
            Request::Ingest { reply, .. } => drop(reply.send(Err(error))),
            Request::Statuses { reply, .. } => drop(reply.send(Err(error))),
            Request::Finish { reply, .. } => drop(reply.send(Err(error))),
        }
    }
}

/// The handle callers send their writes through.
#[derive(Clone, Debug)]
pub(crate) struct Writer {
    requests: mpsc::UnboundedSender<Request>,
}

impl Writer {
    /// Starts one task per backend, each taking the next group while the
    /// others write theirs; they end when the last handle is dropped, after
    /// finishing what was sent.
    pub fn start<B: GroupWrite>(backends: impl IntoIterator<Item = B>) -> Self {
        let (requests, queue) = mpsc::unbounded_channel();
        let queue = Arc::new(Mutex::new(queue));
        for backend in backends {
            tokio::spawn(run(backend, Arc::clone(&queue)));
        }
        Self { requests }
    }

    pub async fn ingest(&self, job: Job) -> Result<Vec<Ingested>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Ingest { job, reply })?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    pub async fn apply_statuses(&self, updates: Vec<StatusUpdate>) -> Result<usize, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Statuses { updates, reply })?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    pub async fn finish(&self, finish: Finish) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Finish { finish, reply })?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    fn send(&self, request: Request) -> Result<(), StoreError> {
        self.requests
            .send(request)
            .map_err(|_| StoreError::WriterStopped)
    }
}

async fn run(mut backend: impl GroupWrite, queue: Arc<Mutex<mpsc::UnboundedReceiver<Request>>>) {
    while let Some(mut group) = next_group(&queue).await {
        if let Err(error) = write(&mut backend, &mut group).await {
            // One bad request must not fail the others: each alone.
            if group.len() == 1 {
                if let Some(request) = group.pop() {
                    request.fail(error);
                }
                continue;
            }
            for request in group {
                let mut alone = vec![request];
                if let Err(error) = write(&mut backend, &mut alone).await
                    && let Some(request) = alone.pop()
                {
                    request.fail(error);
                }
            }
        }
    }
}

/// Everything waiting, up to the limit; `None` once every handle is gone.
async fn next_group(queue: &Mutex<mpsc::UnboundedReceiver<Request>>) -> Option<Vec<Request>> {
    let mut queue = queue.lock().await;
    let first = queue.recv().await?;
    let mut size = first.size();
    let mut group = vec![first];
    while size < GROUP_LIMIT {
        let Ok(request) = queue.try_recv() else { break };
        size += request.size();
        group.push(request);
    }
    Some(group)
}

/// Writes the group and answers every request; on error nothing is
/// answered and `group` is left as it was.
async fn write(backend: &mut impl GroupWrite, group: &mut Vec<Request>) -> Result<(), StoreError> {
    let mut parts = Group {
        jobs: vec![],
        reports: vec![],
        finishes: vec![],
    };
    for request in group.iter() {
        match request {
            Request::Ingest { job, .. } => parts.jobs.push(job),
            Request::Statuses { updates, .. } => parts.reports.push(updates.as_slice()),
            Request::Finish { finish, .. } => parts.finishes.push(finish),
        }
    }
    let (outcomes, unknown) = backend.write(&parts).await?;
    let (mut outcomes, mut unknown) = (outcomes.into_iter(), unknown.into_iter());
    for request in group.drain(..) {
        match request {
            Request::Ingest { reply, .. } => {
                drop(reply.send(Ok(outcomes.next().unwrap_or_default())));
            }
            Request::Statuses { reply, .. } => {
                drop(reply.send(Ok(unknown.next().unwrap_or_default())));
            }
            Request::Finish { reply, .. } => drop(reply.send(Ok(()))),
        }
    }
    Ok(())
}
