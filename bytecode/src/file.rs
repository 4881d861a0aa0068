//! The compiled-module file (`.mrlb`): a fixed header, then the module body.
//!
//! ```text
//! offset size  field
//! 0      4     magic "MRLB"
//! 4      2     format version (little-endian u16), FORMAT_VERSION
//! 6      2     reserved, 0
//! 8      4     body length in bytes (LE u32)
//! 12     4     CRC-32 (IEEE) of the body (LE u32)
//! 16     n     body: the `Module` in bincode 1 encoding (little-endian,
//!              fixed-width integers, u64 lengths), see spec/bytecode.md
//! ```
//! Decoding checks every field and never trusts a length before checking it
//! against what is left of the file, so a truncated or corrupt file is an
//! error, never a crash or a huge allocation.

use crate::module::Module;
use bincode::Options;
use std::fmt;

pub const MAGIC: &[u8; 4] = b"MRLB";
/// Bumped whenever the encoding of `Module` or `Instr` changes.
pub const FORMAT_VERSION: u16 = 1;
const HEADER: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    Truncated { needed: usize, got: usize },
    BadMagic,
    Version { found: u16, expected: u16 },
    Checksum,
    Body(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { needed, got } => {
                write!(f, "truncated file: {needed} bytes expected, {got} found")
            }
            DecodeError::BadMagic => write!(f, "not a minierl compiled module (bad magic number)"),
            DecodeError::Version { found, expected } => write!(
                f,
                "compiled for bytecode format version {found}, this minierl reads version {expected}; recompile the source"
            ),
            DecodeError::Checksum => write!(f, "corrupt file (checksum mismatch)"),
            DecodeError::Body(e) => write!(f, "corrupt module body: {e}"),
        }
    }
}

impl std::error::Error for DecodeError {}

fn options() -> impl Options {
    bincode::DefaultOptions::new().with_fixint_encoding().with_little_endian().reject_trailing_bytes()
}

/// Encode a module into the file format.
pub fn encode(module: &Module) -> Vec<u8> {
    let body = options().serialize(module).expect("a module always serializes");
    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Decode a file. The result still has to pass `verify` before loading.
pub fn decode(bytes: &[u8]) -> Result<Module, DecodeError> {
    if bytes.len() < 4 || &bytes[..4] != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    if bytes.len() < HEADER {
        return Err(DecodeError::Truncated { needed: HEADER, got: bytes.len() });
    }
    let version = u16::from_le_bytes([bytes[4], bytes[5]]);
    if version != FORMAT_VERSION {
        return Err(DecodeError::Version { found: version, expected: FORMAT_VERSION });
    }
    let len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let crc = u32::from_le_bytes(bytes[12..16].try_into().unwrap());
    let body = &bytes[HEADER..];
    if body.len() < len {
        return Err(DecodeError::Truncated { needed: HEADER + len, got: bytes.len() });
    }
    if body.len() > len {
        return Err(DecodeError::Body(format!("{} bytes of garbage after the body", body.len() - len)));
    }
    if crc32fast::hash(body) != crc {
        return Err(DecodeError::Checksum);
    }
    // The limit bounds every allocation bincode makes by the body's size.
    options()
        .with_limit(len as u64 * 8 + 1024)
        .deserialize::<Module>(body)
        .map_err(|e| DecodeError::Body(e.to_string()))
}
