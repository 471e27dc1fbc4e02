//! Maps between positions in a scenario file and dotted key paths (`viewers.count`), so every
//! error can name the file, the key and the line.

use toml_edit::{Document, Item, TableLike};

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line on which `path` (e.g. `["viewers", "count"]`) is written, if it is in the file.
pub fn line_of_key(text: &str, path: &[&str]) -> Option<usize> {
    let doc = Document::parse(text).ok()?;
    let mut table: &dyn TableLike = doc.as_table();
    let mut span = None;
    for (i, part) in path.iter().enumerate() {
        let (key, item) = table.get_key_value(part)?;
        span = key.span().or_else(|| item.span());
        if i + 1 < path.len() {
            table = item.as_table_like()?;
        }
    }
    span.map(|s| line_of(text, s.start))
}

/// The dotted key written on 1-based `line` (`key = …` under the last `[section]` above it),
/// read from the text alone: for errors in files that do not parse.
pub fn key_on_line(text: &str, line: usize) -> Option<String> {
    let mut section = String::new();
    for (i, l) in text.lines().enumerate().take(line) {
        let l = l.trim();
        if l.starts_with('[') {
            section = l.trim_matches(|c| c == '[' || c == ']').trim().to_string();
        } else if i + 1 == line {
            let key = l.split('=').next()?.trim();
            let plain = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !l.contains('=') || !plain {
                return None;
            }
            return Some(if section.is_empty() {
                key.to_string()
            } else {
                format!("{section}.{key}")
            });
        }
    }
    None
}

/// The dotted key path of the innermost key or value whose span contains `offset`.
pub fn key_at(text: &str, offset: usize) -> Option<String> {
    let doc = Document::parse(text).ok()?;
    let mut best: Option<(usize, String)> = None;
    walk(doc.as_table(), &mut Vec::new(), offset, &mut best);
    best.map(|(_, path)| path)
}

fn walk(
    table: &dyn TableLike,
    prefix: &mut Vec<String>,
    offset: usize,
    best: &mut Option<(usize, String)>,
) {
    for (name, item) in table.iter() {
        prefix.push(name.to_string());
        let key_span = table.key(name).and_then(|k| k.span());
        for span in [key_span, item.span()].into_iter().flatten() {
            if span.contains(&offset) || span.start == offset {
                let width = span.end - span.start;
                if best.as_ref().is_none_or(|(w, _)| width <= *w) {
                    *best = Some((width, prefix.join(".")));
                }
            }
        }
        if let Item::Table(t) = item {
            walk(t, prefix, offset, best);
        } else if let Some(t) = item.as_table_like() {
            walk(t, prefix, offset, best);
        }
        prefix.pop();
    }
}

#[cfg(test)]
mod line_tests {
    use super::*;

    #[test]
    fn the_key_of_a_line_in_a_file_that_does_not_parse() {
        let text = "[viewers]\ncount = 1e9999\n[agent]\nhidden = [[[\n";
        assert_eq!(key_on_line(text, 2).as_deref(), Some("viewers.count"));
        assert_eq!(key_on_line(text, 4).as_deref(), Some("agent.hidden"));
        assert_eq!(key_on_line(text, 1), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "# c\n[scenario]\nname = \"x\"\n\n[viewers]\ncount = 5\nsession_minutes = 2.0\n";

    #[test]
    fn finds_the_line_of_a_nested_key() {
        assert_eq!(line_of_key(TEXT, &["viewers", "count"]), Some(6));
        assert_eq!(line_of_key(TEXT, &["scenario", "name"]), Some(3));
        assert_eq!(line_of_key(TEXT, &["viewers", "missing"]), None);
    }

    #[test]
    fn finds_the_key_at_an_offset() {
        let at = TEXT.find("2.0").unwrap();
        assert_eq!(key_at(TEXT, at).as_deref(), Some("viewers.session_minutes"));
    }
}
