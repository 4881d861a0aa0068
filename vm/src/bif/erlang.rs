//! BIFs: erlang (being written).
use super::BifDef;
pub const BIFS: &[BifDef] = &[];
