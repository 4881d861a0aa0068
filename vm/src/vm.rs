//! The VM object: code server, process table, run queue, code path.
use crate::code::CodeServer;
/// One virtual machine (leaked `&'static`).
pub struct Vm {
    pub code: CodeServer,
}
