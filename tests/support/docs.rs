//! The commands the README and `docs/` show, for the tests that run them. A test names a
//! documented command by its text (`documented`); `tests/docs.rs` checks that every `mm2-migrate`
//! command of the docs is named by some test and parses, so a changed doc fails until a test runs
//! the new text.

use std::path::PathBuf;

use super::repo_path;

/// One `mm2-migrate` command in a `sh` block of a doc.
pub(crate) struct DocCommand {
    /// The doc, relative to the repository (`README.md`, `docs/cutover.md`).
    pub(crate) file: String,
    pub(crate) text: String,
    /// Its shell words, the program first.
    pub(crate) words: Vec<String>,
}

/// The README and every Markdown file of `docs/`, relative to the repository.
pub(crate) fn doc_files() -> Vec<String> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo_path("docs")).unwrap().map(|e| e.unwrap().path()).collect();
    docs.sort();
    let docs = docs.into_iter().filter(|p| p.extension().is_some_and(|e| e == "md"));
    std::iter::once("README.md".to_owned()).chain(docs.map(|p| format!("docs/{}", p.file_name().unwrap().to_str().unwrap()))).collect()
}

/// Every `mm2-migrate` command of the README and `docs/`, read once per test binary.
pub(crate) fn doc_commands() -> &'static [DocCommand] {
    static COMMANDS: std::sync::OnceLock<Vec<DocCommand>> = std::sync::OnceLock::new();
    COMMANDS.get_or_init(read_doc_commands)
}

fn read_doc_commands() -> Vec<DocCommand> {
    let mut commands = Vec::new();
    for file in doc_files() {
        let text = std::fs::read_to_string(repo_path(&file)).unwrap();
        for line in shell_lines(&text) {
            for part in line.split("&&") {
                let words = words(part.trim());
                if words.first().is_some_and(|w| w == "mm2-migrate" || w.ends_with("/mm2-migrate")) {
                    commands.push(DocCommand { file: file.clone(), text: part.trim().to_owned(), words });
                }
            }
        }
    }
    commands
}

/// The arguments of `command` as shown in each of `files` (compared word for word, so spacing and
/// comments do not matter), with the docs' names replaced by this test's: `names` maps a whole
/// word (`dest-kafka:9092`, `mm2.properties`) to what the test has in its place. Panics when a file
/// does not show the command or a name is not in it, so a test cannot drift from its doc.
pub(crate) fn documented(files: &[&str], command: &str, names: &[(&str, &str)]) -> Vec<String> {
    let wanted = words(command);
    let shown = doc_commands();
    for file in files {
        assert!(
            shown.iter().any(|c| c.file == *file && c.words == wanted),
            "{file} does not show `{command}`; it shows:\n{}",
            shown.iter().filter(|c| c.file == *file).map(|c| c.text.as_str()).collect::<Vec<_>>().join("\n")
        );
    }
    for (name, _) in names {
        assert!(wanted.iter().any(|w| w == name), "`{name}` is not a word of `{command}`");
    }
    wanted[1..]
        .iter()
        .map(|w| names.iter().find(|(name, _)| name == w).map_or(w.as_str(), |(_, real)| real).to_owned())
        .collect()
}

/// `args` with `extra` after them: a documented command plus what only the test needs
/// (`--output json` for its assertions, shorter waits).
pub(crate) fn plus(mut args: Vec<String>, extra: &[&str]) -> Vec<String> {
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    args
}

/// The fenced blocks of a Markdown text: each one's info string (`sh`, `toml`, empty) and lines.
fn blocks(markdown: &str) -> Vec<(&str, Vec<&str>)> {
    let mut blocks = Vec::new();
    let mut open: Option<(&str, Vec<&str>)> = None;
    for line in markdown.lines() {
        match (line.trim().strip_prefix("```"), open.take()) {
            (Some(_), Some(block)) => blocks.push(block),
            (Some(info), None) => open = Some((info.trim(), Vec::new())),
            (None, Some((info, mut lines))) => {
                lines.push(line);
                open = Some((info, lines));
            }
            (None, None) => {}
        }
    }
    blocks
}

/// The lines of a Markdown text's `sh` blocks, continuation lines joined.
pub(crate) fn shell_lines(markdown: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for (_, block) in blocks(markdown).into_iter().filter(|(info, _)| *info == "sh") {
        let mut pending = String::new();
        for line in block.iter().map(|l| l.trim()) {
            match line.strip_suffix('\\') {
                Some(head) => pending.push_str(head),
                None => {
                    pending.push_str(line);
                    lines.push(std::mem::take(&mut pending));
                }
            }
        }
    }
    lines
}

/// Shell words of a command (quotes removed), up to a comment, pipe, redirection or `&&`.
pub(crate) fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, '#' | '|' | '>' | '<' | '&' | ';') if word.is_none() => break,
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

/// The `lang` block of `file` (`toml`; `""` for a plain block) whose first line is
/// `first_line`, dedented, with the docs' names replaced by this test's (`names`: text to text;
/// each must occur), to write as the test's file or compare with what the tool printed.
pub(crate) fn documented_file(file: &str, lang: &str, first_line: &str, names: &[(&str, &str)]) -> String {
    let text = std::fs::read_to_string(repo_path(file)).unwrap();
    let block = blocks(&text)
        .into_iter()
        .find(|(info, lines)| *info == lang && lines.first().is_some_and(|l| l.trim() == first_line))
        .map(|(_, lines)| lines)
        .unwrap_or_else(|| panic!("{file} has no {lang:?} block starting `{first_line}`"));
    let indent = block[0].len() - block[0].trim_start().len();
    let mut content: String = block.iter().map(|l| format!("{}\n", l.get(indent..).unwrap_or(l.trim_start()))).collect();
    for (name, real) in names {
        assert!(content.contains(name), "`{name}` is not in {file}'s block starting `{first_line}`");
        content = content.replace(name, real);
    }
    content
}
