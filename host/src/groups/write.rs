//! `groups run` and `--follow`: one gate for every write (refusals, then checkpoints, then group
//! offsets, then the read-back).

use super::model::{GroupEntry, GroupsPlan, refusals};
use super::{GroupsError, GroupsOptions, plan};
use crate::target::GroupsTarget;

/// What `groups run` wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupsRun {
    pub plan: GroupsPlan,
    pub groups_committed: usize,
    pub offsets_committed: usize,
    pub checkpoints_written: usize,
    pub checkpoints_topic_created: bool,
}

/// Plans, refuses what is unsafe, writes checkpoints then group offsets, and reads both back.
pub fn run(options: &GroupsOptions) -> Result<GroupsRun, GroupsError> {
    if options.checkpoints && options.source_alias.is_none() {
        return Err(GroupsError::Usage(
            "writing MM2's checkpoints needs the source alias that names <alias>.checkpoints.internal: give --source-alias, \
             or --mm2-config / --strimzi / --connect-url (or leave checkpoints alone with --no-checkpoints)"
                .into(),
        ));
    }
    write(options, plan(options)?)
}

/// The one gate of every groups write (`run` and each `--follow` round): refuses what is unsafe,
/// then writes exactly the plan's writes and reads them back.
fn write(options: &GroupsOptions, plan: GroupsPlan) -> Result<GroupsRun, GroupsError> {
    let refused = refusals(&plan, options);
    if !refused.is_empty() {
        return Err(GroupsError::Refused(refused));
    }
    let commits = plan.commits(options.allow_rewind);
    let offsets_committed: usize = commits.values().map(Vec::len).sum();
    let checkpoints = plan.checkpoint_records()?;
    // Only where there are checkpoints to write (there are none without a checkpoints topic).
    let target = GroupsTarget { data: &options.data, checkpoints_topic: plan.checkpoints_topic.as_deref().filter(|_| !checkpoints.is_empty()) };
    let ready = target.prepare().map_err(GroupsError::from)?;
    let _graceful = crate::interrupt::Graceful::begin();
    target.write(&ready, &checkpoints, &commits).map_err(GroupsError::from)?;
    tracing::info!("committed {offsets_committed} offset(s) for {} group(s)", commits.len());
    let created = ready.created_topic;
    Ok(GroupsRun {
        groups_committed: commits.len(),
        offsets_committed,
        checkpoints_written: checkpoints.len(),
        checkpoints_topic_created: created,
        plan,
    })
}

/// What `groups run --follow` did after the run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FollowSummary {
    pub rounds: u64,
    pub offsets_committed: usize,
    pub checkpoints_written: usize,
    /// Every group passed the seam on every partition: MM2's checkpoints take over.
    pub all_passed: bool,
    /// Group partitions still behind the seam when it stopped.
    pub behind_seam: Vec<String>,
}

/// After a run: keeps translating as the groups commit on the replicated cluster, every `interval`,
/// forward only and active groups skipped, until every group has passed the seam (the last copy
/// when the run planned) or SIGINT/SIGTERM.
pub fn follow(options: &GroupsOptions, first: &GroupsRun, interval: std::time::Duration) -> Result<FollowSummary, GroupsError> {
    let options = GroupsOptions { skip_active: true, allow_rewind: false, ..options.clone() };
    let seams = &first.plan.last_copies;
    let mut summary = FollowSummary::default();
    let mut behind: Vec<String> = first.plan.behind_seam(seams).map(GroupEntry::name).collect();
    let _graceful = crate::interrupt::Graceful::begin();
    while !behind.is_empty() && !crate::interrupt::requested() {
        let until = std::time::Instant::now() + interval;
        while std::time::Instant::now() < until && !crate::interrupt::requested() {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        if crate::interrupt::requested() {
            break;
        }
        let mut plan = plan(&options)?;
        plan.forward_only();
        let round = write(&options, plan)?;
        summary.rounds += 1;
        summary.offsets_committed += round.offsets_committed;
        summary.checkpoints_written += round.checkpoints_written;
        behind = round.plan.behind_seam(seams).map(GroupEntry::name).collect();
        tracing::info!(
            "round {}: {} offset(s) committed, {} checkpoint(s); {} group partition(s) behind the seam",
            summary.rounds,
            round.offsets_committed,
            round.checkpoints_written,
            behind.len()
        );
    }
    summary.all_passed = behind.is_empty();
    summary.behind_seam = behind;
    Ok(summary)
}
