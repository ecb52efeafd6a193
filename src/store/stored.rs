//! What a group reads before it decides. Either store reads it in one
//! result whose rows are tagged, in a `part` column, with the part they
//! fill.

use crate::store::StoreError;
use crate::store::batch::UserRecord;
use crate::store::log::StoredRow;
use crate::store::progress::NoticeProgress;
use std::collections::HashSet;

#[derive(Debug, Default)]
pub(crate) struct Stored {
    /// The group's message ids already stored.
    pub seen: HashSet<String>,
    /// The records the group's senders may be.
    pub users: Vec<UserRecord>,
    /// Free ids of users and inbound rows.
    pub next_ids: Vec<(i64, i64)>,
    /// The notices the group's reports and outcomes name.
    pub notices: Vec<NoticeProgress>,
}

impl Stored {
    /// Sorts the rows by part: `seen` (`message_id`), `user`, `next`
    /// (`users`, `inbound`) and `notice`.
    pub fn from_rows<R: StoredRow>(rows: &[R]) -> Result<Self, StoreError> {
        let mut stored = Self::default();
        for row in rows {
            match row.text("part")?.as_str() {
                "seen" => {
                    stored.seen.insert(row.text("message_id")?);
                }
                "user" => stored.users.push(UserRecord::from_row(row)?),
                "next" => stored
                    .next_ids
                    .push((row.int("users")?, row.int("inbound")?)),
                "notice" => stored.notices.push(NoticeProgress::from_row(row)?),
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "a group read a row of {other}"
                    )));
                }
            }
        }
        Ok(stored)
    }
}
