//! Many groups' committed offsets, fetched and committed through one client: librdkafka's admin
//! ListConsumerGroupOffsets and AlterConsumerGroupOffsets (OffsetFetch and OffsetCommit with
//! generation -1 at each group's coordinator, as Kafka's `kafka-consumer-groups` does). librdkafka
//! takes one group per call, so every group is its own request, up to [`IN_FLIGHT`] outstanding
//! together on one queue. rust-rdkafka wraps neither call; its one-group-per-client
//! `committed_offsets` costs a client start-up and shut-down (~160 ms) per group, which made 1,000
//! groups take minutes (bench/groups.sh).
//!
//! The unsafe code is confined to this file: each librdkafka object is owned by a guard that
//! destroys it, and every pointer librdkafka returns is read before its event is destroyed.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::time::Instant;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError as RdError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use rdkafka_sys as sys;

use super::groups::Committed;
use super::{Connection, Context, KafkaError, TopicPartition};

/// Requests outstanding together: enough to hide the round trips, few enough that none waits
/// behind the others for longer than its timeout.
const IN_FLIGHT: usize = 256;

/// Every committed offset of each group (OffsetFetch for all its partitions, as
/// `kafka-consumer-groups --describe` asks: the broker leaves out topics the principal may not
/// describe). A group without commits has none.
pub fn fetch<G: AsRef<str>>(connection: &Connection, groups: &[G]) -> Result<BTreeMap<String, Vec<Committed>>, KafkaError> {
    let requests: Vec<(&str, Option<TopicPartitionList>)> = groups.iter().map(|g| (g.as_ref(), None)).collect();
    let answers = exchange(connection, Operation::Fetch, &requests)?;
    Ok(answers
        .into_iter()
        .map(|(group, partitions)| {
            let committed = partitions
                .into_iter()
                .filter(|p| p.offset >= 0)
                .map(|p| Committed { partition: (p.topic, p.partition), offset: p.offset, metadata: p.metadata })
                .collect();
            (group, committed)
        })
        .collect())
}

/// Commits each group's offsets without joining it. The broker refuses a commit from outside a
/// group that has members (the caller refuses active groups first; one that gained members since
/// is named here).
pub fn commit<G: AsRef<str>>(connection: &Connection, commits: &BTreeMap<G, Vec<Committed>>) -> Result<(), KafkaError> {
    let mut requests = Vec::new();
    for (group, offsets) in commits.iter().filter(|(_, offsets)| !offsets.is_empty()) {
        let mut list = TopicPartitionList::new();
        for c in offsets {
            list.add_partition_offset(&c.partition.0, c.partition.1, Offset::Offset(c.offset)).map_err(|e| connection.error(e))?;
            if !c.metadata.is_empty()
                && let Some(mut element) = list.find_partition(&c.partition.0, c.partition.1)
            {
                element.set_metadata(c.metadata.clone());
            }
        }
        requests.push((group.as_ref(), Some(list)));
    }
    exchange(connection, Operation::Commit, &requests).map(drop)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Operation {
    Fetch,
    Commit,
}

impl Operation {
    /// The group ACL the request needs.
    fn acl(self) -> &'static str {
        match self {
            Operation::Fetch => "Describe",
            Operation::Commit => "Read",
        }
    }

    fn doing(self) -> &'static str {
        match self {
            Operation::Fetch => "fetching committed offsets",
            Operation::Commit => "committing offsets",
        }
    }
}

/// One partition of a group's answer.
struct PartitionAnswer {
    topic: String,
    partition: i32,
    offset: i64,
    metadata: String,
}

/// Sends every request, [`IN_FLIGHT`] at a time, and collects each group's partitions. The first
/// failure (of a request, a group or a partition) fails the whole exchange, named.
fn exchange(
    connection: &Connection,
    operation: Operation,
    requests: &[(&str, Option<TopicPartitionList>)],
) -> Result<BTreeMap<String, Vec<PartitionAnswer>>, KafkaError> {
    let mut answers = BTreeMap::new();
    if requests.is_empty() {
        return Ok(answers);
    }
    // A client with a group (never joined): librdkafka's OffsetFetch answer handler asks the
    // client's own group to look up its coordinator again after a coordinator error, and crashes
    // on a client without one (librdkafka 2.12, rdkafka_request.c, rd_kafka_handle_OffsetFetch).
    let client = connection.consumer()?;
    let queue = Queue::new(&client);
    let send_one = |index: usize| {
        let (group, partitions) = &requests[index];
        send(connection, &client, &queue, operation, index, group, partitions.as_ref())
    };
    for (first, chunk) in requests.chunks(IN_FLIGHT).enumerate().map(|(i, c)| (i * IN_FLIGHT, c)) {
        // Requests a coordinator turned away for a moment (moved, still loading its groups: a
        // broker that has just started, a restart) are asked again until the timeout, as Kafka's
        // own admin client does; librdkafka's admin calls give up at once.
        let retry_until = Instant::now() + connection.timeout;
        let mut sent: Vec<usize> = (first..first + chunk.len()).collect();
        while !sent.is_empty() {
            for &index in &sent {
                send_one(index)?;
            }
            // librdkafka answers every request, a timed-out one with an error; the deadline
            // only guards against waiting forever.
            let deadline = Instant::now() + connection.timeout * 2;
            let mut again = Vec::new();
            for _ in 0..sent.len() {
                let event = queue.poll_until(deadline).ok_or_else(|| KafkaError::Unreachable {
                    role: connection.role,
                    bootstrap: connection.bootstrap.clone(),
                    detail: format!("no answer {}", operation.doing()),
                    secs: connection.timeout.as_secs(),
                })?;
                let index = event.opaque();
                let group = requests.get(index).map_or("?", |(g, _)| *g);
                match event.answer(operation) {
                    Ok(partitions) => {
                        answers.insert(group.to_owned(), partitions);
                    }
                    Err(problem) if problem.coordinator_busy() && Instant::now() < retry_until => {
                        tracing::debug!("consumer group {group:?}: {}: asked again", problem.message);
                        again.push(index);
                    }
                    Err(problem) => return Err(failure(connection, &client, operation, group, problem)),
                }
            }
            if !again.is_empty() {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            sent = again;
        }
    }
    Ok(answers)
}

fn send(
    connection: &Connection,
    client: &BaseConsumer<Context>,
    queue: &Queue,
    operation: Operation,
    index: usize,
    group: &str,
    partitions: Option<&TopicPartitionList>,
) -> Result<(), KafkaError> {
    let name = CString::new(group).map_err(|_| KafkaError::Client {
        role: connection.role,
        bootstrap: connection.bootstrap.clone(),
        detail: format!("consumer group {group:?}: a group name cannot hold a NUL character"),
    })?;
    let rk = client.client().native_ptr();
    let timeout_ms = c_int::try_from(connection.timeout.as_millis()).unwrap_or(c_int::MAX);
    let mut errstr = [0 as c_char; 256];
    // A null list asks for every partition of the group (a commit always names its partitions).
    let list = partitions.map_or(std::ptr::null_mut(), TopicPartitionList::ptr);
    // SAFETY: `rk` outlives these calls (`client` is borrowed); the options and the request are
    // destroyed here after librdkafka copied them into its own operation (rdkafka_admin.c copies
    // both); the opaque is a plain index, never dereferenced.
    unsafe {
        let api = match operation {
            Operation::Fetch => sys::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS,
            Operation::Commit => sys::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS,
        };
        let options = sys::rd_kafka_AdminOptions_new(rk, api);
        sys::rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, errstr.as_mut_ptr(), errstr.len());
        sys::rd_kafka_AdminOptions_set_opaque(options, index as *mut c_void);
        match operation {
            Operation::Fetch => {
                let mut request = sys::rd_kafka_ListConsumerGroupOffsets_new(name.as_ptr(), list);
                sys::rd_kafka_ListConsumerGroupOffsets(rk, &mut request, 1, options, queue.0);
                sys::rd_kafka_ListConsumerGroupOffsets_destroy(request);
            }
            Operation::Commit => {
                let mut request = sys::rd_kafka_AlterConsumerGroupOffsets_new(name.as_ptr(), list);
                sys::rd_kafka_AlterConsumerGroupOffsets(rk, &mut request, 1, options, queue.0);
                sys::rd_kafka_AlterConsumerGroupOffsets_destroy(request);
            }
        }
        sys::rd_kafka_AdminOptions_destroy(options);
    }
    Ok(())
}

/// What went wrong with one group's request: librdkafka's code and words, and the partition
/// it concerns, if any.
struct Problem {
    code: RDKafkaErrorCode,
    message: String,
    partition: Option<TopicPartition>,
}

impl Problem {
    /// The group's coordinator moved or is still loading: worth asking again.
    fn coordinator_busy(&self) -> bool {
        matches!(
            self.code,
            RDKafkaErrorCode::NotCoordinator | RDKafkaErrorCode::CoordinatorNotAvailable | RDKafkaErrorCode::CoordinatorLoadInProgress
        )
    }
}

/// A failed request as the error the operator reads: the group, the partition, the ACL it needs.
fn failure(connection: &Connection, client: &BaseConsumer<Context>, operation: Operation, group: &str, problem: Problem) -> KafkaError {
    let (role, bootstrap) = (connection.role, connection.bootstrap.clone());
    let at = problem.partition.as_ref().map(|(t, p)| format!(" on {t}/{p}")).unwrap_or_default();
    match problem.code {
        RDKafkaErrorCode::GroupAuthorizationFailed => KafkaError::Authorization {
            role,
            bootstrap,
            detail: format!("consumer group {group:?}: {} (the {} ACL on the group is needed)", problem.message, operation.acl()),
        },
        RDKafkaErrorCode::TopicAuthorizationFailed => KafkaError::Authorization {
            role,
            bootstrap,
            detail: format!(
                "consumer group {group:?}{at}: {} (the Read ACL on the topic {:?} is needed)",
                problem.message,
                problem.partition.as_ref().map_or("", |(t, _)| t.as_str())
            ),
        },
        RDKafkaErrorCode::UnknownMemberId | RDKafkaErrorCode::IllegalGeneration | RDKafkaErrorCode::RebalanceInProgress
            if operation == Operation::Commit =>
        {
            KafkaError::Client {
                role,
                bootstrap,
                detail: format!(
                    "consumer group {group:?}{at}: the broker refused the commit ({}): the group has members now; \
                     a consumer joined it after the plan, and only a group without members takes a commit from outside",
                    problem.message
                ),
            }
        }
        // A refused login or certificate surfaces as a timeout: `fail` reads what librdkafka logged.
        code => connection
            .fail(client, RdError::AdminOp(code))
            .with_context(&format!("consumer group {group:?}{at}: {}: {}", operation.doing(), problem.message)),
    }
}

/// An admin result queue of one client.
struct Queue(*mut sys::rd_kafka_queue_t);

impl Queue {
    fn new(client: &BaseConsumer<Context>) -> Queue {
        // SAFETY: a new queue on a live client; destroyed on drop, before the client (declared
        // after it in `exchange`).
        Queue(unsafe { sys::rd_kafka_queue_new(client.client().native_ptr()) })
    }

    /// The next event, or `None` once `deadline` passed.
    fn poll_until(&self, deadline: Instant) -> Option<Event> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let ms = c_int::try_from(left.as_millis().min(1000)).unwrap_or(1000);
            // SAFETY: the queue is live; a non-null event is ours to destroy.
            let event = unsafe { sys::rd_kafka_queue_poll(self.0, ms) };
            if !event.is_null() {
                return Some(Event(event));
            }
        }
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        // SAFETY: created by rd_kafka_queue_new, destroyed once.
        unsafe { sys::rd_kafka_queue_destroy(self.0) }
    }
}

/// One admin result event.
struct Event(*mut sys::rd_kafka_event_t);

impl Event {
    /// The index the request was sent with.
    fn opaque(&self) -> usize {
        // SAFETY: a live event; the opaque is the index `send` set, never a pointer.
        unsafe { sys::rd_kafka_event_opaque(self.0) as usize }
    }

    /// The group's partitions, or the first problem of the request, the group or a partition.
    fn answer(&self, operation: Operation) -> Result<Vec<PartitionAnswer>, Problem> {
        // SAFETY: every pointer read here belongs to the event, which outlives this call; strings
        // and metadata are copied out before it returns.
        unsafe {
            let code = RDKafkaErrorCode::from(sys::rd_kafka_event_error(self.0));
            if code != RDKafkaErrorCode::NoError {
                return Err(Problem { code, message: text(sys::rd_kafka_event_error_string(self.0)), partition: None });
            }
            let mut count = 0usize;
            let groups = match operation {
                Operation::Fetch => {
                    let result = sys::rd_kafka_event_ListConsumerGroupOffsets_result(self.0);
                    sys::rd_kafka_ListConsumerGroupOffsets_result_groups(result, &mut count)
                }
                Operation::Commit => {
                    let result = sys::rd_kafka_event_AlterConsumerGroupOffsets_result(self.0);
                    sys::rd_kafka_AlterConsumerGroupOffsets_result_groups(result, &mut count)
                }
            };
            let mut out = Vec::new();
            for i in 0..count {
                let group = *groups.add(i);
                let error = sys::rd_kafka_group_result_error(group);
                if !error.is_null() {
                    let code = RDKafkaErrorCode::from(sys::rd_kafka_error_code(error));
                    // A group the coordinator does not know has no commits.
                    if code == RDKafkaErrorCode::GroupIdNotFound && operation == Operation::Fetch {
                        continue;
                    }
                    return Err(Problem { code, message: text(sys::rd_kafka_error_string(error)), partition: None });
                }
                let list = sys::rd_kafka_group_result_partitions(group);
                if list.is_null() {
                    continue;
                }
                let count = usize::try_from((*list).cnt).unwrap_or(0);
                for j in 0..count {
                    let element = &*(*list).elems.add(j);
                    let topic = text(element.topic);
                    let code = RDKafkaErrorCode::from(element.err);
                    if code != RDKafkaErrorCode::NoError {
                        return Err(Problem { code, message: code.to_string(), partition: Some((topic, element.partition)) });
                    }
                    let metadata = match element.metadata.is_null() || element.metadata_size == 0 {
                        true => String::new(),
                        false => {
                            let bytes = std::slice::from_raw_parts(element.metadata.cast::<u8>(), element.metadata_size);
                            String::from_utf8_lossy(bytes).into_owned()
                        }
                    };
                    out.push(PartitionAnswer { topic, partition: element.partition, offset: element.offset, metadata });
                }
            }
            Ok(out)
        }
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: polled from the queue, destroyed once.
        unsafe { sys::rd_kafka_event_destroy(self.0) }
    }
}

/// A C string librdkafka owns, copied (empty for null).
///
/// # Safety
/// `s` is null or a NUL-terminated string that lives for the call.
unsafe fn text(s: *const c_char) -> String {
    if s.is_null() {
        return String::new();
    }
    // SAFETY: the caller's promise.
    unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned()
}
