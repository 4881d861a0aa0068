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
        out.push_str(&format!("{blue}{:gutter$} |{reset}\n", ""));
        out.push_str(&format!("{blue}{line} |{reset} {text}\n"));
        // Carets: copy tabs so they line up under the text.
        let pad: String = text.chars().take(col - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
        let end = (d.span.end as usize).clamp(clamped, line_end);
        let width = source[floor_boundary(source, clamped)..floor_boundary(source, end)].chars().count().max(1);
        let label = d.label.as_deref().map(|l| format!(" {l}")).unwrap_or_default();
        out.push_str(&format!("{blue}{:gutter$} |{reset} {pad}{sev_color}{}{label}{reset}\n", "", "^".repeat(width)));
        if let Some(h) = &d.hint {
            out.push_str(&format!("{blue}{:gutter$} = {reset}{bold}hint{reset}: {h}\n", ""));
        }
        out.push('\n');
    }
    out
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
