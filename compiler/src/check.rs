//! Semantic checks (placeholder while the parser lands).
use crate::ast::Module;
use crate::diag::Diagnostic;
use crate::Options;

pub fn check(_m: &Module, _file_name: &str, _source: &str, _opts: &Options) -> Vec<Diagnostic> {
    Vec::new()
}
