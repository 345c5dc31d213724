//! The old tool: a Kafka Connect connector the cut-over stops (and, on `--rollback`, resumes)
//! through the REST API, or a process the operator stopped (`--old-stopped`). Either way its
//! progress is read twice, some seconds apart, before anything is written.

use std::time::Duration;

use crate::connect::{ConnectError, ConnectTarget, Transition};
use crate::kafka::{self, Connection, KafkaError, OffsetQuery, Unauthorized, Windows};

use super::journal::Progress;

/// How the old tool is controlled.
#[derive(Debug, Clone)]
pub enum OldTool {
    /// A connector on a Connect cluster (Confluent Replicator, Mirus, an MM2 under another alias).
    Connector(ConnectTarget),
    /// MirrorMaker 1, uReplicator, a dedicated-mode MM2: the operator says it is stopped.
    Stopped,
}

/// Where the old tool's progress is read: its offsets topic, or its consumer group.
#[derive(Debug, Clone, Copy)]
pub enum ProgressSource<'a> {
    Topic { connection: &'a Connection, topic: &'a str },
    Group { connection: &'a Connection, group: &'a str },
}

impl OldTool {
    pub fn describe(&self) -> String {
        match self {
            OldTool::Connector(c) => format!("connector {:?} at {}", c.connector, c.client.url()),
            OldTool::Stopped => "the old tool (stopped by the operator: --old-stopped)".to_owned(),
        }
    }

    /// Its state, for the journal and the messages (`None` for a process the tool cannot see).
    pub fn state(&self) -> Result<Option<crate::connect::ConnectorState>, ConnectError> {
        match self {
            OldTool::Connector(c) => c.status().map(Some),
            OldTool::Stopped => Ok(None),
        }
    }

    /// Stops the connector: `PUT .../stop` (Kafka >= 3.5), or pause on a worker without it.
    /// Returns how, or `None` when it was stopped already (or is not a connector).
    pub fn stop(&self) -> Result<Option<Transition>, ConnectError> {
        let OldTool::Connector(connector) = self else { return Ok(None) };
        let state = connector.status()?;
        if Transition::Stop.reached(&state) {
            return Ok(None);
        }
        match connector.client.transition(&connector.connector, Transition::Stop) {
            Ok(()) => Ok(Some(Transition::Stop)),
            // The connector exists (its status answered): a 404 or 405 here is a worker older
            // than Kafka 3.5, without the stop endpoint.
            Err(e) if matches!(e.status(), Some(404 | 405)) => {
                tracing::warn!("{}: no stop endpoint (Kafka < 3.5): pausing instead", self.describe());
                connector.transition(Transition::Pause)?;
                Ok(Some(Transition::Pause))
            }
            Err(e) => Err(e),
        }
    }

    /// Whether the connector is still stopped (or paused) as the cut-over left it.
    pub fn still_stopped(&self, how: Transition) -> Result<Option<bool>, ConnectError> {
        match self {
            OldTool::Connector(c) => {
                let state = c.status()?;
                Ok(Some(Transition::Stop.reached(&state) || (how == Transition::Pause && Transition::Pause.reached(&state))))
            }
            OldTool::Stopped => Ok(None),
        }
    }

    /// `--rollback`: resumes the connector the cut-over stopped.
    pub fn resume(&self) -> Result<(), ConnectError> {
        match self {
            OldTool::Connector(c) => c.transition(Transition::Resume),
            OldTool::Stopped => Ok(()),
        }
    }

    /// The old tool's progress now: for a connector, the offsets Connect holds for it (its
    /// offsets topic may be a worker's, shared with other connectors); otherwise where its
    /// offsets topic ends, or its group's commits.
    pub fn progress(&self, source: ProgressSource<'_>) -> Result<Progress, ProgressError> {
        if let OldTool::Connector(c) = self {
            return Ok(c.offsets_text()?.into_iter().map(|(partition, offset)| (format!("connector offset {partition}"), offset)).collect());
        }
        let mut progress: Progress = match source {
            ProgressSource::Topic { connection, topic } => {
                let windows = Windows::new(connection)?;
                let partitions = windows.topic_partitions(&[topic.to_owned()], Unauthorized::Fail)?;
                let queries: Vec<_> = partitions
                    .get(topic)
                    .into_iter()
                    .flatten()
                    .map(|p| ((topic.to_owned(), *p), OffsetQuery::End))
                    .collect();
                let ends = windows.list_offsets(&queries)?;
                ends.into_iter().map(|((t, p), end)| (format!("{t}/{p} end"), end.map_or("-".to_owned(), |e| e.to_string()))).collect()
            }
            ProgressSource::Group { connection, group } => kafka::fetch_group_offsets(connection, &[group])?
                .into_values()
                .flatten()
                .map(|c| (format!("group {group} {}/{}", c.partition.0, c.partition.1), c.offset.to_string()))
                .collect(),
        };
        progress.sort();
        Ok(progress)
    }

    /// Reads the progress twice, `interval` apart: the second reading when both are equal,
    /// else what moved (`None` when a signal cut the wait short).
    pub fn settle(&self, source: ProgressSource<'_>, interval: Duration) -> Result<Option<Result<Progress, Vec<String>>>, ProgressError> {
        let first = self.progress(source)?;
        if !crate::interrupt::pause(interval) {
            return Ok(None);
        }
        let second = self.progress(source)?;
        Ok(Some(if first == second { Ok(second) } else { Err(moved(&first, &second)) }))
    }
}

/// What differs between two readings, for the refusal (at most 5 named).
pub fn moved(before: &Progress, after: &Progress) -> Vec<String> {
    let mut out: Vec<String> = after
        .iter()
        .filter(|entry| !before.contains(entry))
        .map(|(what, now)| {
            let was = before.iter().find(|(w, _)| w == what).map_or("absent", |(_, v)| v.as_str());
            format!("{} {was} -> {now}", crate::plugin::untrusted::text(what, 200))
        })
        .collect();
    out.extend(before.iter().filter(|(w, _)| !after.iter().any(|(a, _)| a == w)).map(|(w, v)| format!("{w} {v} -> absent")));
    out.truncate(5);
    out
}

#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};

    use super::*;
    use crate::connect::ConnectClient;

    /// A worker older than Kafka 3.5: no stop endpoint (404), a pause that works.
    fn worker_without_stop() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let mut state = "RUNNING";
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                reader.read_line(&mut request).unwrap();
                let mut header = String::new();
                while reader.read_line(&mut header).unwrap() > 2 {
                    header.clear();
                }
                let (status, body) = match request.split_whitespace().take(2).collect::<Vec<_>>()[..] {
                    ["GET", "/connectors/old/status"] => {
                        (200, format!(r#"{{"name":"old","connector":{{"state":"{state}","worker_id":"w"}},"tasks":[]}}"#))
                    }
                    ["PUT", "/connectors/old/pause"] => {
                        state = "PAUSED";
                        (202, String::new())
                    }
                    _ => (404, r#"{"error_code":404,"message":"HTTP 404 Not Found"}"#.to_owned()),
                };
                let answer = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(answer.as_bytes()).unwrap();
            }
        });
        url
    }

    #[test]
    fn a_worker_without_the_stop_endpoint_gets_its_connector_paused() {
        let client = ConnectClient::new(&worker_without_stop(), &[], Duration::from_secs(5)).unwrap();
        let old = OldTool::Connector(ConnectTarget { client, connector: "old".into(), stop_connector: true });
        assert_eq!(old.stop().unwrap(), Some(Transition::Pause));
        assert_eq!(old.still_stopped(Transition::Pause).unwrap(), Some(true));
        // Paused is not what a stop leaves: a connector stopped by the cut-over and found paused
        // was touched by someone else.
        assert_eq!(old.still_stopped(Transition::Stop).unwrap(), Some(false));
    }

    #[test]
    fn what_moved_is_named_with_before_and_after() {
        let before = vec![("orders/0 end".to_owned(), "7".to_owned()), ("orders/1 end".to_owned(), "3".to_owned())];
        let after = vec![("orders/0 end".to_owned(), "9".to_owned()), ("orders/1 end".to_owned(), "3".to_owned())];
        assert_eq!(moved(&before, &after), ["orders/0 end 7 -> 9"]);
        assert!(moved(&before, &before).is_empty());
    }
}
