//! The pipeline every command shares: live source records → plugin (in batches) → target
//! records partitioned like Kafka's Java producer, with a report of what happened to each record.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use mm2_plugin_sdk::{connect, jackson};
use std::io::BufRead;

use crate::compaction::{CompactionStats, Compactor};
use crate::input::{self, InputError};
use crate::partition::partition_for_key;
use crate::plugin::{Plugin, PluginError, wit};
use crate::record::{SourceRecord, TargetRecord};

#[derive(Debug, Clone)]
pub struct TranslateOptions {
    /// Records per plugin call.
    pub batch_size: usize,
    /// Partitions of the target offsets topic.
    pub target_partitions: u32,
    /// Report invalid records and go on, instead of stopping at the first.
    pub skip_invalid: bool,
}

impl Default for TranslateOptions {
    fn default() -> Self {
        TranslateOptions { batch_size: 256, target_partitions: 25, skip_invalid: false }
    }
}

/// One record that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordIssue {
    pub origin: String,
    pub message: String,
}

/// What happened to the input.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Report {
    pub records_read: u64,
    pub tombstones: u64,
    pub superseded: u64,
    pub deleted: u64,
    pub out_of_order: u64,
    pub keys_in_several_partitions: u64,
    pub live_keys: u64,
    pub records_out: u64,
    /// Identical output records produced more than once, written once.
    pub duplicate_outputs: u64,
    /// Records not migrated, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Invalid records skipped with `--skip-invalid`.
    pub invalid: Vec<RecordIssue>,
}

impl Report {
    fn add_compaction(&mut self, stats: &CompactionStats, live_keys: usize) {
        self.tombstones = stats.tombstones;
        self.superseded = stats.superseded;
        self.deleted = stats.deleted;
        self.out_of_order = stats.out_of_order;
        self.keys_in_several_partitions = stats.keys_in_several_partitions;
        self.live_keys = live_keys as u64;
    }

    fn skip(&mut self, reason: &str) {
        *self.skipped.entry(reason.to_owned()).or_default() += 1;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TranslateError {
    #[error("{origin}: {message}\n(nothing was written; --skip-invalid reports such records and goes on)")]
    InvalidRecord { origin: String, message: String },
    #[error("{origin}: the plugin's output is not a valid offset record: {message}")]
    BadOutput { origin: String, message: String },
    #[error(
        "{second} and {first} both map to key {key} of {topic} with different values; \
         refusing to pick one (narrow the plugin configuration so each offset has one source)"
    )]
    Conflict { topic: String, key: String, first: String, second: String },
    #[error("{origin}: the policy does not allow reading topic {topic:?} (topics.source)")]
    SourceTopic { origin: String, topic: String },
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Input(#[from] InputError),
}

/// Runs live records through the plugin and collects the target records.
pub struct Translator<'p> {
    plugin: &'p mut Plugin,
    options: TranslateOptions,
    report: Report,
    batch: Vec<SourceRecord>,
    output: Vec<TargetRecord>,
    by_key: HashMap<(String, Vec<u8>), usize>,
}

impl<'p> Translator<'p> {
    pub fn new(plugin: &'p mut Plugin, mut options: TranslateOptions) -> Translator<'p> {
        options.skip_invalid |= plugin.policy().skips_bad_records();
        Translator {
            plugin,
            options,
            report: Report::default(),
            batch: Vec::new(),
            output: Vec::new(),
            by_key: HashMap::new(),
        }
    }

    /// Reports (or, without `skip_invalid`, fails on) a record that cannot be used.
    pub fn invalid(&mut self, origin: String, message: String) -> Result<(), TranslateError> {
        if !self.options.skip_invalid {
            return Err(TranslateError::InvalidRecord { origin, message });
        }
        tracing::warn!("skipping invalid record at {origin}: {message}");
        self.report.skip("invalid");
        self.report.invalid.push(RecordIssue { origin, message });
        Ok(())
    }

    /// Queues a live record, running a batch when it is full.
    pub fn push(&mut self, record: SourceRecord) -> Result<(), TranslateError> {
        if let Some(topic) = record.topic.as_ref().filter(|t| !self.plugin.policy().may_read(t)) {
            return Err(TranslateError::SourceTopic { origin: record.origin.clone(), topic: topic.clone() });
        }
        self.batch.push(record);
        if self.batch.len() >= self.options.batch_size.max(1) {
            self.run_batch()?;
        }
        Ok(())
    }

    fn run_batch(&mut self) -> Result<(), TranslateError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let (origins, input): (Vec<String>, Vec<wit::KafkaRecord>) =
            std::mem::take(&mut self.batch).into_iter().map(SourceRecord::into_wit).unzip();
        let outcomes = self.plugin.apply(&input)?;
        for (origin, outcome) in origins.into_iter().zip(outcomes) {
            match outcome {
                wit::Outcome::Emit(records) => {
                    for record in records {
                        self.accept(&origin, record)?;
                    }
                }
                wit::Outcome::Skipped(skip) => {
                    tracing::debug!("{origin}: skipped ({}): {}", skip.reason, skip.detail);
                    self.report.skip(&skip.reason);
                }
                wit::Outcome::Invalid(message) => self.invalid(origin, message)?,
            }
        }
        Ok(())
    }

    /// Checks one output record and partitions it.
    fn accept(&mut self, origin: &str, record: wit::KafkaRecord) -> Result<(), TranslateError> {
        let bad = |message: String| TranslateError::BadOutput { origin: origin.to_owned(), message };
        let partitions = self.options.target_partitions;
        let key = record.key.ok_or_else(|| bad("it has no key".to_owned()))?;
        if record.topic.is_empty() {
            return Err(bad("it has no topic".to_owned()));
        }
        mm2_plugin_sdk::jackson::check_compact_json(&key).map_err(|e| bad(format!("key: {e}")))?;
        if let Some(value) = &record.value {
            mm2_plugin_sdk::jackson::check_compact_json(value).map_err(|e| bad(format!("value: {e}")))?;
        }
        // An MM2 source-offset key is only ever found by its exact bytes, and MM2's task throws on an
        // offset that is not a JSON integer >= 0: whatever plugin wrote it, hold it to MM2's form.
        if let Some((connector, cluster, topic, partition)) = connect::parse_mm2_source_key(&key) {
            if key != jackson::mm2_source_key(&connector, &cluster, &topic, partition) {
                return Err(bad("key: an MM2 source-offset key not in MM2's field order (cluster, partition, topic)".to_owned()));
            }
            if let Some(value) = &record.value {
                connect::parse_offset_value(value).map_err(|e| bad(format!("value of an MM2 source offset: {e}")))?;
            }
        }
        // Connect's producer partitions by key; a record anywhere else is never compacted away
        // and can win over MM2's own record at a restart, so a plugin cannot choose another.
        let partition = partition_for_key(&key, partitions);
        if let Some(p) = record.partition.filter(|p| *p != partition) {
            return Err(bad(format!("partition {p} is not the key's partition {partition} of {partitions}")));
        }
        let target = TargetRecord { topic: record.topic, partition, key, value: record.value, origin: origin.to_owned() };
        match self.by_key.entry((target.topic.clone(), target.key.clone())) {
            Entry::Occupied(e) if self.output[*e.get()].value == target.value => self.report.duplicate_outputs += 1,
            Entry::Occupied(e) => {
                return Err(TranslateError::Conflict {
                    topic: target.topic,
                    key: String::from_utf8_lossy(&target.key).into_owned(),
                    first: self.output[*e.get()].origin.clone(),
                    second: target.origin,
                });
            }
            Entry::Vacant(e) => {
                e.insert(self.output.len());
                self.output.push(target);
            }
        }
        Ok(())
    }

    /// Runs the last batch and returns the target records in input order, with the report.
    pub fn finish(mut self) -> Result<(Vec<TargetRecord>, Report), TranslateError> {
        self.run_batch()?;
        self.report.records_out = self.output.len() as u64;
        Ok((self.output, self.report))
    }

    /// Compacts `records` the way Connect reads an offsets topic, then translates the live ones.
    pub fn translate_snapshot(
        self,
        records: impl IntoIterator<Item = Result<Result<SourceRecord, RecordIssue>, TranslateError>>,
    ) -> Result<(Vec<TargetRecord>, Report), TranslateError> {
        let mut compactor = Compactor::new();
        let mut issues = Vec::new();
        for record in records {
            match record? {
                Ok(record) => {
                    if let Err(keyless) = compactor.add(record) {
                        issues.push(RecordIssue { origin: keyless.origin, message: "record has no key".to_owned() });
                    }
                }
                Err(issue) => {
                    if !self.options.skip_invalid {
                        return Err(TranslateError::InvalidRecord { origin: issue.origin, message: issue.message });
                    }
                    issues.push(issue);
                }
            }
        }
        self.translate_compacted(compactor, issues)
    }

    /// Translates the live records of `compactor`; `issues` are records that could not be read.
    pub fn translate_compacted(
        mut self,
        compactor: Compactor,
        issues: impl IntoIterator<Item = RecordIssue>,
    ) -> Result<(Vec<TargetRecord>, Report), TranslateError> {
        let issues: Vec<RecordIssue> = issues.into_iter().collect();
        self.report.records_read = compactor.stats().records + issues.len() as u64;
        for issue in issues {
            self.invalid(issue.origin, issue.message)?;
        }
        self.report.add_compaction(compactor.stats(), compactor.live_keys());
        for record in compactor.into_live() {
            self.push(record)?;
        }
        self.finish()
    }
}

/// The offline path: a kcat `-J` dump in, target records out.
pub fn translate_dump(
    plugin: &mut Plugin,
    reader: impl BufRead,
    options: TranslateOptions,
) -> Result<(Vec<TargetRecord>, Report), TranslateError> {
    translate_lines(plugin, input::envelopes(reader), options)
}

/// The offline path for consumer-group offsets exported as `topic,partition,offset` lines.
pub fn translate_group_offsets(
    plugin: &mut Plugin,
    reader: impl BufRead,
    group: String,
    options: TranslateOptions,
) -> Result<(Vec<TargetRecord>, Report), TranslateError> {
    translate_lines(plugin, input::group_offset_lines(reader, group), options)
}

fn translate_lines(
    plugin: &mut Plugin,
    lines: impl Iterator<Item = Result<Result<SourceRecord, input::MalformedLine>, InputError>>,
    options: TranslateOptions,
) -> Result<(Vec<TargetRecord>, Report), TranslateError> {
    let records = lines.map(|item| {
        item.map(|r| r.map_err(|e| RecordIssue { origin: format!("line {}", e.line), message: e.reason }))
            .map_err(TranslateError::from)
    });
    Translator::new(plugin, options).translate_snapshot(records)
}
