//! Diagnostics: what the parser, the checks and the code generator report.
//! Each has a stable id, a severity, a span, a plain-words message (for
//! errors erlc also reports, the same text erlc prints) and an optional hint.

use crate::ast::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable identifier, e.g. "E0101" (see spec/diagnostics.md).
    pub code: &'static str,
    pub message: String,
    pub span: Span,
    /// A short text shown under the caret, if any.
    pub label: Option<String>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, code, message: message.into(), span, label: None, hint: None }
    }
    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, code, message: message.into(), span, label: None, hint: None }
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }
}

// ---------------------------------------------------------------- rendering

/// The 1-based line and column of a byte offset. Columns count characters
/// (a tab is one column), as erl_scan counts them. An offset past the end or
/// inside a character is clamped.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = source[line_start..offset].chars().count() + 1;
    (line, col)
}

/// `LINE:COL: message`: the form of the expected-diagnostics files of
/// `lang-tests/compile_errors` (`NAME.errors` and `NAME.warnings`).
pub fn short(source: &str, d: &Diagnostic) -> String {
    let (line, col) = line_col(source, d.span.start as usize);
    format!("{line}:{col}: {}", d.message)
}

/// Renders diagnostics for a terminal: for each, the first line is
/// `file:LINE:COL: error: message` (or `warning:`), then the source line
/// with carets under the span, the label after the carets, and the hint.
pub fn render(file_name: &str, source: &str, diags: &[Diagnostic], color: bool) -> String {
    let (bold, red, yellow, blue, reset) =
        if color { ("\x1b[1m", "\x1b[1;31m", "\x1b[1;33m", "\x1b[1;34m", "\x1b[0m") } else { ("", "", "", "", "") };
    let mut out = String::new();
    for d in diags {
        let start = d.span.start as usize;
        let (line, col) = line_col(source, start);
        let (sev, sev_color) = match d.severity {
            Severity::Error => ("error", red),
            Severity::Warning => ("warning", yellow),
        };
        out.push_str(&format!(
            "{bold}{file_name}:{line}:{col}:{reset} {sev_color}{sev}{reset}{bold}: {}{reset}\n",
            d.message
        ));
        // The source line, if the offset is inside the text.
        let clamped = start.min(source.len());
        let line_start = source[..floor_boundary(source, clamped)].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[line_start..].find('\n').map_or(source.len(), |i| line_start + i);
        let text = source[line_start..line_end].trim_end_matches('\r');
        let gutter = line.to_string().len();
        let end = (d.span.end as usize).clamp(clamped, line_end);
        let width = source[floor_boundary(source, clamped)..floor_boundary(source, end)].chars().count().max(1);
        let (text, pad, width) = excerpt(text, col - 1, width);
        out.push_str(&format!("{blue}{:gutter$} |{reset}\n", ""));
        out.push_str(&format!("{blue}{line} |{reset} {text}\n"));
        let label = d.label.as_deref().map(|l| format!(" {l}")).unwrap_or_default();
        out.push_str(&format!("{blue}{:gutter$} |{reset} {pad}{sev_color}{}{label}{reset}\n", "", "^".repeat(width)));
        if let Some(h) = &d.hint {
            out.push_str(&format!("{blue}{:gutter$} = {reset}{bold}hint{reset}: {h}\n", ""));
        }
        out.push('\n');
    }
    out
}

/// A source line longer than this many characters is shown cut around the
/// span, `...` marking what was left out (as rustc does): a generated
/// 3000-column line repeated under each of its hundreds of warnings helps
/// nobody.
const MAX_SHOWN: usize = 100;
/// Characters of a cut line shown before the span's start.
const SHOWN_BEFORE: usize = 40;

/// The text of a source line to show, the padding that puts the carets
/// under column `col0` (0-based) of it, and the carets' width (at most the
/// shown text). Padding copies tabs so that the carets line up.
fn excerpt(text: &str, col0: usize, width: usize) -> (String, String, usize) {
    let pad_of = |cs: &[char]| -> String { cs.iter().map(|&c| if c == '\t' { '\t' } else { ' ' }).collect() };
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let col0 = col0.min(n);
    if n <= MAX_SHOWN {
        return (text.to_string(), pad_of(&chars[..col0]), width);
    }
    let from = col0.saturating_sub(SHOWN_BEFORE);
    let to = (from + MAX_SHOWN).min(n);
    let mut shown = String::new();
    let mut pad = String::new();
    if from > 0 {
        shown.push_str("...");
        pad.push_str("   ");
    }
    shown.extend(&chars[from..to]);
    if to < n {
        shown.push_str("...");
    }
    pad.push_str(&pad_of(&chars[from..col0]));
    (shown, pad, width.min(to.saturating_sub(col0)).max(1))
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A long line is cut around the span and the caret stays under it;
    /// a short one is shown whole.
    #[test]
    fn long_lines_are_cut_around_the_span() {
        let src = format!("f() -> {}.\n", (0..1000).map(|i| format!("X{i}")).collect::<Vec<_>>().join("+"));
        let at = src.find("X500").unwrap() as u32;
        let d = Diagnostic::warning("W0001", Span { start: at, end: at + 4 }, "variable 'X500' is unbound");
        let out = render("a.mrl", &src, &[d], false);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], format!("a.mrl:1:{}: warning: variable 'X500' is unbound", at + 1));
        let text = lines[2].strip_prefix("1 | ").unwrap();
        let carets = lines[3].strip_prefix("  | ").unwrap();
        assert!(text.starts_with("...") && text.ends_with("..."), "{text}");
        assert!(text.chars().count() <= MAX_SHOWN + 6, "{text}");
        let col = carets.find('^').unwrap();
        assert_eq!(&text[col..col + 4], "X500");
        assert_eq!(carets.trim(), "^^^^");
        let short = "f() -> X.\n";
        let d = Diagnostic::error("E0001", Span { start: 7, end: 8 }, "variable 'X' is unbound");
        let out = render("a.mrl", short, &[d], false);
        assert_eq!(out, "a.mrl:1:8: error: variable 'X' is unbound\n  |\n1 | f() -> X.\n  |        ^\n\n");
    }
}
