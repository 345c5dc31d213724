//! `run --follow`: new offset records of the source topic forwarded after the run, until stopped.

use std::time::Duration;

use super::{Admitted, Batch, LiveError, LiveOptions, RunOutcome, admit, translate_options};
use crate::kafka;
use crate::plan;
use crate::plugin::Plugin;
use crate::translate::Translator;

/// Why `--follow` is refused with `--connect-url`: it would write the offsets topic itself, and
/// Connect alters a connector's offsets only while it is stopped.
pub const FOLLOW_THROUGH_CONNECT: &str = "--follow keeps writing while the old replicator runs, but through Connect the \
     connector stays stopped while its offsets change: run once after the old replicator has stopped";

/// Why `--follow` cannot work with these options (exit 2): `run --follow` asks before anything
/// connects, and [`follow`] again.
pub fn follow_usage(source_group: bool, through_connect: bool) -> Result<(), LiveError> {
    if source_group {
        return Err(LiveError::FollowUsage("--follow reads an offsets topic; with --source-group, run again after the old replicator stops"));
    }
    if through_connect {
        return Err(LiveError::FollowUsage(FOLLOW_THROUGH_CONNECT));
    }
    Ok(())
}

/// What `--follow` did until it was stopped.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct FollowSummary {
    pub records_seen: u64,
    pub forwarded: u64,
    pub unchanged: u64,
    pub refused: Vec<plan::Refusal>,
    pub skipped: std::collections::BTreeMap<String, u64>,
}

/// After a run: keeps forwarding new source offset records until SIGINT or SIGTERM. Each round
/// passes the gate `run` passed ([`admit`]: MM2's flow, the run's target topic and no other,
/// MM2's offsets there read again, its partitions) and the plan rules, and is written and read
/// back as `run` writes.
pub fn follow(
    plugin: &mut Plugin,
    options: &LiveOptions,
    after: &RunOutcome,
) -> Result<FollowSummary, LiveError> {
    follow_usage(options.source_group.is_some(), options.target.is_connect())?;
    let mut summary = FollowSummary::default();
    let tail = kafka::Tail::from_ends(&options.source, &options.source_topic, &after.plan.source_ranges)?;
    // The topic the run wrote: a plugin that names another one later is refused, not followed.
    let mut target = options.target.pinned_to(after.plan.target.topic.as_deref());
    tracing::info!("following {} from its end; stop with Ctrl-C or SIGTERM", options.source_topic);

    // Misplacement (a stray copy in another partition) was refused, or allowed, by the run.
    let overrides = plan::Overrides { misplaced: true, ..options.overrides };
    let ready = options.target.prepare()?; // the same connection, whatever topic is pinned
    let _graceful = crate::interrupt::Graceful::begin();
    while !crate::interrupt::requested() {
        let batch = tail.next_batch(options.batch_size, Duration::from_millis(200))?;
        if batch.is_empty() {
            continue;
        }
        summary.records_seen += batch.len() as u64;
        let mut translator = Translator::new(plugin, translate_options(options));
        for record in batch {
            if record.key.is_none() {
                translator.invalid(record.origin.to_string(), "record has no key".to_owned())?;
            } else if record.value.is_none() {
                // Deleting the old tool's offset says nothing about MM2's: keep MM2's.
                *summary.skipped.entry("source-tombstone".to_owned()).or_default() += 1;
            } else {
                translator.push(record)?;
            }
        }
        let (records, report) = translator.finish()?;
        for (reason, n) in report.skipped {
            *summary.skipped.entry(reason).or_default() += n;
        }
        let Admitted { target: current, entries, .. } = admit(options, &target, latest_per_key(records), Batch::Follow)?;
        let mut to_write = Vec::new();
        for entry in entries {
            let refused = plan::refusal(&entry, overrides);
            if !refused.is_empty() {
                for r in &refused {
                    tracing::warn!("not forwarded: {r}");
                }
                summary.refused.extend(refused);
            } else if entry.change == plan::Change::Unchanged {
                summary.unchanged += 1;
            } else {
                to_write.push(entry.record);
            }
        }
        if to_write.is_empty() {
            continue;
        }
        target.write(&ready, &current, &to_write)?;
        // A run that wrote nothing named no topic: the first one followed is the only one after it.
        target = target.pinned_to(current.topic.as_deref());
        for r in &to_write {
            tracing::info!("forwarded {} from {}", plan::describe_key(&r.key), r.origin);
        }
        summary.forwarded += to_write.len() as u64;
    }
    Ok(summary)
}

/// The last record of each key in a round: the old tool's offsets in the order it committed
/// them, so that one round judged against MM2's offsets never writes an earlier one after a later.
fn latest_per_key(records: Vec<crate::model::MappedRecord>) -> Vec<crate::model::MappedRecord> {
    let mut seen = std::collections::HashSet::new();
    let mut latest: Vec<_> = records.into_iter().rev().filter(|r| seen.insert((r.topic.clone(), r.key.clone()))).collect();
    latest.reverse();
    latest
}
