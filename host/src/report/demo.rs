//! The demo's report: each step of the migration on the in-process broker.

use super::{describe_entry, render_plan};
use crate::demo::{DemoOutcome, TARGET_TOPIC};

/// The demo as JSON: the plan and the run in full, the verify and the second run as counts.
pub fn demo_json(demo: &DemoOutcome) -> serde_json::Value {
    serde_json::json!({
        "command": "demo",
        "bootstrap": demo.bootstrap,
        "plan": demo.plan,
        "run": demo.run,
        "verify": { "checked": demo.verify.entries.len(), "differences": demo.differences() },
        "second_run_written": demo.second_run.written.len(),
    })
}

/// The demo as text: the four steps, and where MM2 resumes.
pub fn render_demo(demo: &DemoOutcome) -> String {
    let mut out = format!(
        "mm2-migrate demo: Confluent Replicator -> MirrorMaker 2 on an in-process broker ({})\n\n\
         1. plan: what would be written to {TARGET_TOPIC}\n",
        demo.bootstrap
    );
    out.push_str(&render_plan(&demo.plan, true));
    out.push_str(&format!("\n2. run: {} records written, all read back from the topic\n", demo.run.written.len()));
    for d in &demo.run.written {
        out.push_str(&format!("  {} -> {}/{}@{}\n", d.origin, TARGET_TOPIC, d.partition, d.offset));
    }
    out.push_str(&format!("\n3. verify: {} records checked, {} differ\n", demo.verify.entries.len(), demo.differences()));
    for e in &demo.verify.entries {
        out.push_str(&format!("  {}\n", describe_entry(e)));
    }
    out.push_str(&format!(
        "\n4. run again: {} records written (nothing changed)\n\n\
         MM2 started now resumes each partition at offset V+1: orders/0 at 58, orders/1 at 100, payments/0 at 50;\n\
         orders/2 has no offset (Replicator's record was deleted), so MM2 starts it from auto.offset.reset.\n",
        demo.second_run.written.len()
    ));
    out
}
