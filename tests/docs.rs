//! The docs cannot rot: every `mm2-migrate` command in a `sh` block of the README or `docs/`
//! parses with the tool's own parser, and is run by an integration test against real clusters
//! (the test names it with `support::docs::documented`, by its text, and runs it with its own
//! brokers, worker and files in place of the docs' names).

mod support;

use std::collections::BTreeSet;

use clap::Parser;
use mm2_migrate::cli::args::Cli;
use support::docs::{doc_commands, shell_lines, words};
use support::repo_path;

/// The string literal at the start of `text` (after blanks), and the text after it.
fn literal(text: &str) -> Option<(String, &str)> {
    let text = text.trim_start().strip_prefix('"')?;
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &text[i + 1..])),
            '\\' => value.push(chars.next()?.1),
            c => value.push(c),
        }
    }
    None
}

/// `(doc file, command words)` of every `documented(&["FILE", ...], "COMMAND", ...)` call in the
/// integration tests.
fn commands_run_by_tests() -> BTreeSet<(String, Vec<String>)> {
    let mut run = BTreeSet::new();
    for entry in std::fs::read_dir(repo_path("tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("docs.rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for call in source.split("documented(").skip(1) {
            let at = || format!("{}: documented({}", path.display(), &call[..call.len().min(80)]);
            let mut rest = call.trim_start().strip_prefix("&[").unwrap_or_else(|| panic!("{}: name the docs as &[..]", at()));
            let mut files = Vec::new();
            while let Some((file, after)) = literal(rest) {
                files.push(file);
                rest = after.trim_start().strip_prefix(',').unwrap_or(after);
            }
            let rest = rest.trim_start().strip_prefix("],").unwrap_or_else(|| panic!("{}: expected `],`", at()));
            let (command, _) = literal(rest).unwrap_or_else(|| panic!("{}: the command must be a string literal", at()));
            for file in files {
                run.insert((file, words(&command)));
            }
        }
    }
    run
}

#[test]
fn every_documented_command_is_run_by_a_test() {
    let shown = doc_commands();
    assert!(shown.len() >= 15, "the docs show {} commands: is the extraction broken?", shown.len());
    let run = commands_run_by_tests();
    let not_run: Vec<String> =
        shown.iter().filter(|c| !run.contains(&(c.file.clone(), c.words.clone()))).map(|c| format!("{}: {}", c.file, c.text)).collect();
    assert!(not_run.is_empty(), "documented commands no test runs (name them with support::docs::documented):\n{}", not_run.join("\n"));
}

#[test]
fn every_documented_command_parses() {
    let failures: Vec<String> = doc_commands()
        .iter()
        .filter_map(|c| Cli::try_parse_from(&c.words).err().map(|e| format!("{}: {}\n{e}", c.file, c.text)))
        .collect();
    assert!(failures.is_empty(), "documented commands that do not parse:\n\n{}", failures.join("\n\n"));
}

#[test]
fn the_extraction_reads_shell_as_written() {
    let markdown = "```sh\nmm2-migrate plan --set 'a=b c' \\\n  --timeout 5 # note\n```\n```\nmm2-migrate not-sh\n```\n";
    let lines = shell_lines(markdown);
    assert_eq!(lines.len(), 1);
    assert_eq!(words(&lines[0]), ["mm2-migrate", "plan", "--set", "a=b c", "--timeout", "5"]);
    assert_eq!(words("mm2-migrate translate --input x > out.jsonl"), ["mm2-migrate", "translate", "--input", "x"]);
    let call = r#"documented(&["README.md", "docs/a.md"], "mm2-migrate plan --x 'a b'", &[])"#;
    let (file, rest) = literal(&call["documented(&[".len()..]).unwrap();
    assert_eq!((file.as_str(), rest.starts_with(", \"docs/a.md\"")), ("README.md", true));
}
