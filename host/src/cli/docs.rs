//! The documentation's commands, checked: every `mm2-migrate` command in a `sh` block of the
//! README or `docs/` must parse with the tool's own parser, so a renamed or removed flag fails the
//! tests instead of leaving the docs wrong. (Running them needs the clusters they name; the
//! integration tests run the same commands against real ones.)

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::Cli;

    /// The `sh` blocks of one Markdown text, continuation lines joined.
    fn shell_lines(markdown: &str) -> Vec<String> {
        let mut lines = Vec::new();
        let mut in_sh = false;
        let mut pending = String::new();
        for line in markdown.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with("```") {
                in_sh = !in_sh && trimmed == "```sh";
                continue;
            }
            if !in_sh {
                continue;
            }
            match trimmed.strip_suffix('\\') {
                Some(head) => pending.push_str(head),
                None => {
                    pending.push_str(trimmed);
                    lines.push(std::mem::take(&mut pending));
                }
            }
        }
        lines
    }

    /// Shell words of a command (quotes removed), up to a comment, pipe, redirection or `&&`.
    fn words(command: &str) -> Vec<String> {
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

    /// Every `mm2-migrate` command of the README and `docs/`, with where it is.
    fn documented_commands() -> Vec<(String, Vec<String>)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = vec![root.join("README.md")];
        let mut docs: Vec<_> = std::fs::read_dir(root.join("docs")).unwrap().map(|e| e.unwrap().path()).collect();
        docs.sort();
        files.extend(docs.into_iter().filter(|p| p.extension().is_some_and(|e| e == "md")));
        let mut commands = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in shell_lines(&text) {
                for part in line.split("&&") {
                    let words = words(part.trim());
                    if words.first().is_some_and(|w| w == "mm2-migrate" || w.ends_with("/mm2-migrate")) {
                        commands.push((format!("{}: {part}", file.display()), words));
                    }
                }
            }
        }
        commands
    }

    #[test]
    fn every_documented_command_parses() {
        let commands = documented_commands();
        assert!(commands.len() >= 15, "the docs show {} commands: is the extraction broken?", commands.len());
        let failures: Vec<String> =
            commands.iter().filter_map(|(at, words)| Cli::try_parse_from(words).err().map(|e| format!("{at}\n{e}"))).collect();
        assert!(failures.is_empty(), "documented commands that do not parse:\n\n{}", failures.join("\n\n"));
    }

    #[test]
    fn the_extraction_reads_shell_as_written() {
        let markdown = "```sh\nmm2-migrate plan --set 'a=b c' \\\n  --timeout 5 # note\n```\n```\nmm2-migrate not-sh\n```\n";
        let lines = shell_lines(markdown);
        assert_eq!(lines.len(), 1);
        assert_eq!(words(&lines[0]), ["mm2-migrate", "plan", "--set", "a=b c", "--timeout", "5"]);
        assert_eq!(words("mm2-migrate translate --input x > out.jsonl"), ["mm2-migrate", "translate", "--input", "x"]);
    }
}
