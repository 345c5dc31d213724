//! The pipeline every command shares: live source records → plugin (in batches) → target
//! records partitioned like Kafka's Java producer, with a report of what happened to each record.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use std::io::BufRead;
use std::sync::Arc;

use crate::model::compaction::{CompactionStats, Compactor, KeyHasher, Rejected};
use crate::input::{self, InputError};
use crate::plugin::output;
use connect_offsets::partition::partition_for_key;
use crate::plugin::{Plugin, PluginError, wit};
use crate::model::{MappedRecord, Origin, SourceRecord, TargetRecord};

#[derive(Debug, Clone)]
pub struct TranslateOptions {
    /// Records per plugin call.
    pub batch_size: usize,
    /// Partitions of the target offsets topic (the offline path; a live command reads them).
    pub target_partitions: u32,
    /// Report invalid records and go on, instead of stopping at the first.
    pub skip_invalid: bool,
    /// Pass on tombstones a plugin emits (they delete MM2's offset); refused otherwise.
    pub allow_delete: bool,
}

impl Default for TranslateOptions {
    fn default() -> Self {
        TranslateOptions { batch_size: 256, target_partitions: 25, skip_invalid: false, allow_delete: false }
    }
}

/// One record that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordIssue {
    pub origin: String,
    pub message: String,
}

impl From<Rejected> for RecordIssue {
    fn from(rejected: Rejected) -> RecordIssue {
        match rejected {
            Rejected::Keyless(record) => RecordIssue { origin: record.origin.to_string(), message: "record has no key".to_owned() },
            Rejected::SamePosition { origin, earlier, partition, offset } => RecordIssue {
                origin: origin.to_string(),
                message: format!(
                    "a different record at partition {partition} offset {offset} than {earlier}; a log holds one \
                     record per offset, so the input is not one offsets topic read once"
                ),
            },
        }
    }
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
    /// The same record read again at the same position (taken once).
    pub repeated: u64,
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
        self.repeated = stats.repeated;
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
    #[error(
        "{origin}: the plugin emitted a tombstone for {key}, which would delete MM2's offset so that MM2 \
         copies the partition again from auto.offset.reset; refused (allow it with --allow-delete)"
    )]
    Deletion { origin: String, key: String },
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
    output: Vec<MappedRecord>,
    /// By topic, then key: the output record's index (a topic's name is not copied per record).
    by_key: HashMap<String, HashMap<Vec<u8>, usize, KeyHasher>>,
}

impl<'p> Translator<'p> {
    pub fn new(plugin: &'p mut Plugin, options: TranslateOptions) -> Translator<'p> {
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
        if let Some(topic) = &record.topic {
            check_source(self.plugin, &record.origin, topic)?;
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
        let (origins, input): (Vec<Origin>, Vec<wit::KafkaRecord>) =
            std::mem::take(&mut self.batch).into_iter().map(into_wit).unzip();
        let outcomes = self.plugin.apply(input)?;
        for (origin, outcome) in origins.into_iter().zip(outcomes) {
            match outcome {
                wit::Outcome::Emit(records) if records.is_empty() => {
                    tracing::debug!("{origin}: the plugin emitted nothing for it");
                    self.report.skip("emitted-nothing");
                }
                wit::Outcome::Emit(records) => {
                    for record in records {
                        self.accept(&origin, record)?;
                    }
                }
                wit::Outcome::Skipped(skip) => {
                    tracing::debug!("{origin}: skipped ({}): {}", skip.reason, skip.detail);
                    self.report.skip(&skip.reason);
                }
                wit::Outcome::Invalid(message) => self.invalid(origin.to_string(), message)?,
            }
        }
        Ok(())
    }

    /// Admits one output record (`plugin::output`).
    fn accept(&mut self, origin: &Origin, record: wit::KafkaRecord) -> Result<(), TranslateError> {
        let bad = |message: String| TranslateError::BadOutput { origin: origin.to_string(), message };
        let key = record.key.ok_or_else(|| bad("it has no key".to_owned()))?;
        let mm2_key = output::mm2_key(&key).map_err(|e| bad(e.to_string()))?;
        match &record.value {
            Some(value) => {
                output::mm2_offset(value).map_err(|e| bad(e.to_string()))?;
            }
            None if self.options.allow_delete => {}
            None => {
                let key = format!("{}:{}/{}", mm2_key.cluster, mm2_key.topic, mm2_key.partition);
                return Err(TranslateError::Deletion { origin: origin.to_string(), key });
            }
        }
        let target = MappedRecord {
            topic: record.topic,
            key,
            value: record.value,
            declared_partition: record.partition,
            origin: origin.to_string(),
        };
        let by_key = match self.by_key.get_mut(&target.topic) {
            Some(by_key) => by_key,
            None => self.by_key.entry(target.topic.clone()).or_default(),
        };
        match by_key.entry(target.key.clone()) {
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

    /// Runs the last batch and returns the mapped records in input order, with the report.
    pub fn finish(mut self) -> Result<(Vec<MappedRecord>, Report), TranslateError> {
        self.run_batch()?;
        self.report.records_out = self.output.len() as u64;
        Ok((self.output, self.report))
    }

    /// Compacts `records` the way Connect reads an offsets topic, then translates the live ones.
    pub fn translate_snapshot(
        self,
        records: impl IntoIterator<Item = Result<Result<SourceRecord, RecordIssue>, TranslateError>>,
    ) -> Result<(Vec<MappedRecord>, Report), TranslateError> {
        let mut compactor = Compactor::new();
        let mut issues = Vec::new();
        for record in records {
            match record? {
                Ok(record) => match compactor.add(record) {
                    Ok(()) => {}
                    Err(same @ Rejected::SamePosition { .. }) => {
                        // Two different records cannot both be the one at an offset: whichever
                        // were picked, the result would be a guess.
                        let issue = RecordIssue::from(same);
                        return Err(TranslateError::InvalidRecord { origin: issue.origin, message: issue.message });
                    }
                    Err(rejected) => issues.push(RecordIssue::from(rejected)),
                },
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
    ) -> Result<(Vec<MappedRecord>, Report), TranslateError> {
        let issues: Vec<RecordIssue> = issues.into_iter().collect();
        self.report.records_read = compactor.stats().records + issues.len() as u64;
        for issue in issues {
            self.invalid(issue.origin, issue.message)?;
        }
        let live_keys = compactor.live_keys();
        self.report.add_compaction(compactor.stats(), live_keys);
        // Most mappings emit one record per live key.
        self.output.reserve(live_keys);
        for record in compactor.into_live() {
            self.push(record)?;
        }
        self.finish()
    }
}

/// The policy's `topics.source` rule, for a record of `topic` from `origin`.
pub fn check_source(plugin: &Plugin, origin: &Origin, topic: &str) -> Result<(), TranslateError> {
    if plugin.policy().may_read(topic) {
        Ok(())
    } else {
        Err(TranslateError::SourceTopic { origin: origin.to_string(), topic: topic.to_owned() })
    }
}

/// Partitions admitted records for a topic of `partitions` partitions, as Connect's producer does:
/// by key. A record anywhere else is never compacted away and can win over MM2's own record at a
/// restart, so a plugin that names another partition is refused.
pub fn partition(records: Vec<MappedRecord>, partitions: u32) -> Result<Vec<TargetRecord>, TranslateError> {
    records
        .into_iter()
        .map(|r| {
            let partition = partition_for_key(&r.key, partitions);
            if let Some(p) = r.declared_partition.filter(|p| *p != partition) {
                let message = format!("partition {p} is not the key's partition {partition} of {partitions}");
                return Err(TranslateError::BadOutput { origin: r.origin, message });
            }
            Ok(TargetRecord { topic: r.topic, partition, key: r.key, value: r.value, origin: r.origin })
        })
        .collect()
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
    let mut positions = LastPositions::default();
    let records = lines.map(move |item| {
        let record = item?.map_err(|e| RecordIssue { origin: Origin::Line(e.line).to_string(), message: e.reason });
        if let Ok(r) = &record {
            positions.check(r)?;
        }
        Ok(record)
    });
    let partitions = options.target_partitions;
    let (records, report) = Translator::new(plugin, options).translate_snapshot(records)?;
    Ok((partition(records, partitions)?, report))
}

/// Per partition of the input, the last position read: a different key at the same partition
/// and offset is refused (the compactor refuses a different record for the same key at any
/// position). Keys are compared by hash, so nothing is copied per record.
#[derive(Default)]
struct LastPositions {
    /// By topic (a dump holds one or a few: searched in order, not hashed), then partition.
    topics: Vec<(Option<Arc<str>>, Partitions)>,
    hasher: KeyHasher,
}

/// By partition, the last position read: offset, the key's hash, the record's origin.
type Partitions = HashMap<i32, (i64, u64, Origin), KeyHasher>;

impl LastPositions {
    fn check(&mut self, record: &SourceRecord) -> Result<(), TranslateError> {
        let (Some(partition), Some(offset)) = (record.partition, record.offset) else {
            return Ok(());
        };
        let key = std::hash::BuildHasher::hash_one(&self.hasher, &record.key);
        let at = match self.topics.iter().position(|(topic, _)| *topic == record.topic) {
            Some(at) => at,
            None => {
                self.topics.push((record.topic.clone(), HashMap::default()));
                self.topics.len() - 1
            }
        };
        let slot = self.topics[at].1.entry(partition).or_insert((-1, key, Origin::Line(0)));
        if slot.0 == offset && slot.1 != key {
            let same = Rejected::SamePosition { origin: record.origin.clone(), earlier: slot.2.clone(), partition, offset };
            let issue = RecordIssue::from(same);
            return Err(TranslateError::InvalidRecord { origin: issue.origin, message: issue.message });
        }
        *slot = (offset, key, record.origin.clone());
        Ok(())
    }
}

/// A record as it crosses the contract, and its origin (kept for messages).
fn into_wit(record: SourceRecord) -> (Origin, wit::KafkaRecord) {
    let origin = record.origin;
    let record = wit::KafkaRecord {
        topic: record.topic.as_deref().unwrap_or_default().to_owned(),
        partition: record.partition,
        offset: record.offset,
        timestamp: record.timestamp,
        key: record.key,
        value: record.value,
        headers: Vec::new(),
    };
    (origin, record)
}
