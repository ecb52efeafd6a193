//! How the group writer keeps the stats rollup: per statement, not per row.
//!
//! Row triggers keep `log_rollup` exact for every writer, one upsert per
//! row and side of a change. The group writer's statements change many
//! rows at once, so it holds the triggers off (a row in `log_rollup_held`,
//! inside its transaction) and moves the counts itself: before its
//! statements it takes away the keys of the messages whose rows they will
//! change, after them it adds the keys those messages have then, each
//! summed per key.

/// `statements`, keeping the rollup of the messages that `changed` selects
/// (existing `inbound` ids) and of the new ones that `added` selects.
pub(super) fn kept(statements: &str, changed: &str, added: Option<&str>) -> String {
    let after = match added {
        Some(added) => format!("{changed} UNION ALL {added}"),
        None => changed.to_owned(),
    };
    format!(
        "INSERT INTO log_rollup_held VALUES (1);
         {};
         {statements};
         {};
         DELETE FROM log_rollup_held",
        count_keys(-1, changed),
        count_keys(1, &after),
    )
}

/// Adds `sign` × the number of messages per rollup key.
fn count_keys(sign: i32, inbound_ids: &str) -> String {
    const KEY: &str = "hour, decision, locale, country, kind, phase, status, delivered, clicked";
    format!(
        "INSERT INTO log_rollup ({KEY}, count)
         SELECT {KEY}, {sign} * COUNT(*) FROM log_rollup_keys WHERE inbound_id IN ({inbound_ids})
         GROUP BY {KEY}
         ON CONFLICT ({KEY}) DO UPDATE SET count = count + excluded.count"
    )
}
