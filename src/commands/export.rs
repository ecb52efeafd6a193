//! `sunset export`: the whole log, or a time range of it, as CSV or JSON
//! Lines, read page by page so memory stays flat on millions of rows.

use crate::export::{PAGE_ROWS, csv_chunk, jsonl_chunk};
use crate::store::{LogQuery, Store};
use jiff::Timestamp;
use std::io::Write;

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

/// Creates (or empties) the file an export goes to, readable by its owner
/// alone: the log is personal data, clear ids too with `--reveal`.
pub fn create_output(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Writes every log row received in `[since, until)` to `out`; returns
/// how many rows were written.
pub async fn run(
    store: &dyn Store,
    format: Format,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    reveal: bool,
    out: &mut dyn Write,
) -> anyhow::Result<u64> {
    let query = LogQuery {
        limit: PAGE_ROWS,
        since,
        until,
        ..LogQuery::default()
    };
    let mut written = 0;
    let mut first = true;
    let mut page = store.log_page(&query).await?;
    loop {
        let rows = page.rows()?;
        // While this page is written out, the database reads the next.
        let next = match rows.last() {
            Some(last) if rows.len() == PAGE_ROWS as usize => Some(LogQuery {
                after_id: last.id,
                ..query.clone()
            }),
            _ => None,
        };
        let fetch = async {
            match &next {
                Some(next) => store.log_page(next).await.map(Some),
                None => Ok(None),
            }
        };
        let write = async {
            let bytes = match format {
                Format::Csv => csv_chunk(&rows, reveal, first)?,
                Format::Jsonl => jsonl_chunk(&rows, reveal)?,
            };
            out.write_all(&bytes)?;
            anyhow::Ok(())
        };
        let (fetched, wrote) = tokio::join!(fetch, write);
        wrote?;
        first = false;
        written += rows.len() as u64;
        match fetched? {
            Some(fetched) => page = fetched,
            None => break,
        }
    }
    out.flush()?;
    Ok(written)
}
