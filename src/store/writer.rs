//! Group commit: a box's busy writes (inbound messages, delivery reports,
//! send outcomes and, on SQLite, the sender's claims and send slots) wait
//! in one queue; a writer task takes everything that arrived while it was
//! busy and stores it in one transaction with a few multi-row statements.
//! A caller hears back only after the commit, so "200 means stored" holds
//! for each of them.

use crate::domain::message::InboundMessage;
use crate::store::batch::Job;
use crate::store::progress::Finish;
use crate::store::{
    AttemptOutcome, DueNotice, IngestContext, Ingested, SendSlots, StatusUpdate, StoreError,
};
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// Messages, reports and outcomes one transaction takes at most.
const GROUP_LIMIT: usize = 2_000;

/// The sender asking for due notices.
pub(crate) struct Claim {
    pub now: Timestamp,
    pub lease: SignedDuration,
    pub pair_spacing: SignedDuration,
    pub limit: u32,
}

/// The sender asking for `count` send slots of one business number.
pub(crate) struct Reservation {
    pub phone_number_id: String,
    pub count: u32,
    pub interval: SignedDuration,
    pub now: Timestamp,
}

/// What one transaction stores, each kind in arrival order.
#[derive(Default)]
pub(crate) struct Group<'a> {
    pub jobs: Vec<&'a Job>,
    pub reports: Vec<&'a [StatusUpdate]>,
    pub finishes: Vec<&'a Finish>,
    pub claims: Vec<&'a Claim>,
    pub reservations: Vec<&'a Reservation>,
}

/// What one transaction produced, in the order of [`Group`]'s parts: the
/// decisions per job, the unknown reports per batch of reports, the
/// notices per claim and the first slot per reservation.
#[derive(Default)]
pub(crate) struct GroupOutcome {
    pub decided: Vec<Vec<Ingested>>,
    pub unknown: Vec<usize>,
    pub claimed: Vec<Vec<DueNotice>>,
    pub slots: Vec<SendSlots>,
}

/// A backend's way of storing one group in one transaction.
#[async_trait]
pub(crate) trait GroupWrite: Send + 'static {
    async fn write(&mut self, group: &Group<'_>) -> Result<GroupOutcome, StoreError>;
}

/// One caller's write.
enum Work {
    Ingest(Job),
    Statuses(Vec<StatusUpdate>),
    Finish(Finish),
    Claim(Claim),
    Reserve(Reservation),
}

/// The answer to a [`Work`], of the same kind.
enum Answer {
    Decided(Vec<Ingested>),
    Unknown(usize),
    Recorded,
    Claimed(Vec<DueNotice>),
    Slots(SendSlots),
}

struct Request {
    work: Work,
    reply: oneshot::Sender<Result<Answer, StoreError>>,
}

impl Request {
    fn size(&self) -> usize {
        match &self.work {
            Work::Ingest(job) => job.messages.len(),
            Work::Statuses(updates) => updates.len(),
            Work::Finish(_) | Work::Claim(_) | Work::Reserve(_) => 1,
        }
    }

    fn answer(self, answer: Result<Answer, StoreError>) {
        // A caller that went away (its client hung up) needs no answer.
        drop(self.reply.send(answer));
    }
}

/// Unwraps the answer of the kind the work asked for.
macro_rules! expect_answer {
    ($answer:expr, $kind:path) => {
        match $answer? {
            $kind(value) => Ok(value),
            _ => unreachable!("the writer answers each work with its own kind"),
        }
    };
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

    /// Decides and stores the messages; the work that needs no stored
    /// state is done here, by the caller, before the writer sees them.
    pub async fn ingest(
        &self,
        messages: Vec<InboundMessage>,
        ctx: &IngestContext<'_>,
    ) -> Result<Vec<Ingested>, StoreError> {
        let job = Job::new(messages, ctx);
        expect_answer!(self.ask(Work::Ingest(job)).await, Answer::Decided)
    }

    pub async fn apply_statuses(&self, updates: &[StatusUpdate]) -> Result<usize, StoreError> {
        let work = Work::Statuses(updates.to_vec());
        expect_answer!(self.ask(work).await, Answer::Unknown)
    }

    pub async fn finish(
        &self,
        notice_id: i64,
        outcome: &AttemptOutcome,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let finish = Finish {
            notice_id,
            outcome: outcome.clone(),
            now,
        };
        match self.ask(Work::Finish(finish)).await? {
            Answer::Recorded => Ok(()),
            _ => unreachable!("the writer answers each work with its own kind"),
        }
    }

    pub async fn claim(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        pair_spacing: SignedDuration,
        limit: u32,
    ) -> Result<Vec<DueNotice>, StoreError> {
        let claim = Claim {
            now,
            lease,
            pair_spacing,
            limit,
        };
        expect_answer!(self.ask(Work::Claim(claim)).await, Answer::Claimed)
    }

    pub async fn reserve(
        &self,
        phone_number_id: &str,
        count: u32,
        interval: SignedDuration,
        now: Timestamp,
    ) -> Result<SendSlots, StoreError> {
        let wanted = Reservation {
            phone_number_id: phone_number_id.to_owned(),
            count,
            interval,
            now,
        };
        expect_answer!(self.ask(Work::Reserve(wanted)).await, Answer::Slots)
    }

    async fn ask(&self, work: Work) -> Result<Answer, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { work, reply })
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn run(mut backend: impl GroupWrite, queue: Arc<Mutex<mpsc::UnboundedReceiver<Request>>>) {
    while let Some(mut group) = next_group(&queue).await {
        if let Err(error) = write(&mut backend, &mut group).await {
            // One bad request must not fail the others: each alone.
            if group.len() == 1 {
                if let Some(request) = group.pop() {
                    request.answer(Err(error));
                }
                continue;
            }
            for request in group {
                let mut alone = vec![request];
                if let Err(error) = write(&mut backend, &mut alone).await
                    && let Some(request) = alone.pop()
                {
                    request.answer(Err(error));
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
    let mut parts = Group::default();
    for request in group.iter() {
        match &request.work {
            Work::Ingest(job) => parts.jobs.push(job),
            Work::Statuses(updates) => parts.reports.push(updates.as_slice()),
            Work::Finish(finish) => parts.finishes.push(finish),
            Work::Claim(claim) => parts.claims.push(claim),
            Work::Reserve(wanted) => parts.reservations.push(wanted),
        }
    }
    let outcome = backend.write(&parts).await?;
    let complete = outcome.decided.len() == parts.jobs.len()
        && outcome.unknown.len() == parts.reports.len()
        && outcome.claimed.len() == parts.claims.len()
        && outcome.slots.len() == parts.reservations.len();
    if !complete {
        return Err(StoreError::Corrupt("a group came back incomplete".into()));
    }
    let mut decided = outcome.decided.into_iter();
    let mut unknown = outcome.unknown.into_iter();
    let mut claimed = outcome.claimed.into_iter();
    let mut slots = outcome.slots.into_iter();
    for request in group.drain(..) {
        let answer = match &request.work {
            Work::Ingest(_) => Answer::Decided(decided.next().unwrap_or_default()),
            Work::Statuses(_) => Answer::Unknown(unknown.next().unwrap_or_default()),
            Work::Finish(_) => Answer::Recorded,
            Work::Claim(_) => Answer::Claimed(claimed.next().unwrap_or_default()),
            Work::Reserve(_) => Answer::Slots(slots.next().unwrap_or_default()),
        };
        request.answer(Ok(answer));
    }
    Ok(())
}
