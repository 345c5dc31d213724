//! What the consumer-groups commands show.

/// One group on one partition: `exact     group g1: orders/0 -> orders/0  12 -> 15  (current 10) commit`.
pub fn describe_group_entry(e: &crate::groups::GroupEntry) -> String {
    use crate::groups::Status;
    let p = &e.position;
    let estimated = if p.records_estimated { "up to " } else { "" };
    let status = match p.status {
        Status::Ahead => format!("AHEAD {estimated}{}", p.records),
        Status::Before => format!("BEFORE {estimated}{}", p.records),
        Status::Unproven => "UNPROVEN".to_owned(),
        other => crate::groups::kebab(&other),
    };
    let target = p.target_offset.map_or("none".to_owned(), |o| o.to_string());
    let current = e.current_offset.map_or("none".to_owned(), |o| o.to_string());
    let checkpoint = e.current_checkpoint.map_or(String::new(), |o| format!(", checkpoint {o}"));
    format!(
        "{status:<10}{}  {} -> {target}  (now {current}{checkpoint})  {}, checkpoint {}\n      {}",
        e.name(),
        e.source_offset,
        crate::groups::kebab(&e.action),
        crate::groups::kebab(&e.checkpoint_action),
        p.detail
    )
}

/// `groups plan`: the clusters, the selection, totals, then every entry.
pub fn render_groups(plan: &crate::groups::GroupsPlan, refusals: &[String]) -> String {
    let mut out = format!(
        "consumer groups of {} translated to {} ({})\n  {:<28}{}\n  {:<28}{} ({})\n",
        plan.replicated,
        plan.data,
        plan.replication_policy,
        "selected by",
        plan.selection.selected_by,
        "groups",
        plan.selection.groups.len(),
        plan.selection.groups.join(", ")
    );
    for x in &plan.selection.excluded {
        out.push_str(&format!("  {:<28}{}: {}\n", "left out", x.group, x.reason));
    }
    out.push_str(&format!("  {:<28}{}\n", "checkpoints", plan.checkpoints_note));
    for a in &plan.active {
        out.push_str(&format!("  {:<28}{} ({} member(s), {})\n", "ACTIVE on the data cluster", a.group, a.members, a.state));
    }
    for (label, totals) in [("status", &plan.statuses), ("action", &plan.actions)] {
        let line: Vec<String> = totals.iter().map(|(k, n)| format!("{k} {n}")).collect();
        out.push_str(&format!("  {:<28}{}\n", format!("partitions by {label}"), if line.is_empty() { "none".to_owned() } else { line.join(", ") }));
    }
    for e in &plan.entries {
        out.push_str(&format!("  {}\n", describe_group_entry(e)));
    }
    for r in refusals {
        out.push_str(&format!("  refused: {r}\n"));
    }
    out
}

/// `groups run`: the plan, then what was written and confirmed.
pub fn render_groups_run(run: &crate::groups::GroupsRun) -> String {
    let mut out = render_groups(&run.plan, &[]);
    out.push_str(&format!(
        "  {:<28}{} offset(s) of {} group(s)\n  {:<28}{}{}\n",
        "committed",
        run.offsets_committed,
        run.groups_committed,
        "checkpoints written",
        run.checkpoints_written,
        if run.checkpoints_topic_created { " (topic created: 1 partition, compacted)" } else { "" }
    ));
    if run.offsets_committed + run.checkpoints_written > 0 {
        out.push_str(&format!("  {:<28}all read back from the data cluster\n", "confirmed"));
    }
    out
}

/// `groups verify`: what differs from the plan.
pub fn render_groups_verify(plan: &crate::groups::GroupsPlan, differences: &[&crate::groups::GroupEntry]) -> String {
    let mut out = format!(
        "groups verify {} against {}: {} group partition(s) checked, {} differ\n",
        plan.data,
        plan.replicated,
        plan.entries.len(),
        differences.len()
    );
    for d in differences {
        out.push_str(&format!("  {}\n", describe_group_entry(d)));
    }
    for a in &plan.active {
        out.push_str(&format!("  active (not checked): {} ({} member(s), {})\n", a.group, a.members, a.state));
    }
    out
}

/// `groups run --follow`: what the rounds after the run wrote, and why it stopped.
pub fn render_groups_follow(f: &crate::groups::FollowSummary) -> String {
    let mut out = format!(
        "follow stopped: {}\n  {:<28}{}\n  {:<28}{}\n  {:<28}{}\n",
        if f.all_passed { "every group has passed the seam; MM2's checkpoints take over" } else { "stopped before every group passed the seam" },
        "rounds",
        f.rounds,
        "offsets committed",
        f.offsets_committed,
        "checkpoints written",
        f.checkpoints_written
    );
    for e in &f.behind_seam {
        out.push_str(&format!("  behind the seam: {e}\n"));
    }
    out
}
