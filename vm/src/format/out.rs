//! Where `io:format`, `io:put_chars` and friends write.
//!
//! standard_io and standard_error are unicode devices: characters go out
//! UTF-8 encoded, as OTP 26+ does on a UTF-8 terminal and as the expected
//! outputs of lang-tests were produced (`scripts/gen-expected.py` sets the
//! escript's devices to unicode). OTP 25's latin1 default for a pipe (a byte
//! per character below 256, `\x{HEX}` above) is kept in `latin1_bytes`.
//!
//! A sink can be installed (the shell uses one to interleave output with
//! its prompt; tests capture output); by default the process's stdout and
//! stderr are used.

use std::io::Write;
use std::sync::RwLock;

/// The two devices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Stdout,
    Stderr,
}

/// A replacement for the process's stdout/stderr.
pub type Sink = Box<dyn Fn(Device, &[u8]) + Send + Sync>;

static SINK: RwLock<Option<Sink>> = RwLock::new(None);

/// Install (or with `None` remove) an output sink.
pub fn set_sink(s: Option<Sink>) {
    *SINK.write().unwrap_or_else(|e| e.into_inner()) = s;
}

/// Encode characters as a latin1 device does.
pub fn latin1_bytes(s: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len());
    for c in s.chars() {
        let n = c as u32;
        if n < 256 {
            v.push(n as u8);
        } else {
            v.extend_from_slice(format!("\\x{{{:X}}}", n).as_bytes());
        }
    }
    v
}

/// Write raw bytes to a device.
pub fn write_bytes(dev: Device, bytes: &[u8]) {
    if let Some(sink) = SINK.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        sink(dev, bytes);
        return;
    }
    // Errors (closed pipe) are ignored, as OTP's io does not crash the caller.
    match dev {
        Device::Stdout => {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(bytes);
            let _ = o.flush();
        }
        Device::Stderr => {
            let mut o = std::io::stderr().lock();
            let _ = o.write_all(bytes);
        }
    }
}

/// Write characters to a device (UTF-8 encoding).
pub fn write_chars(dev: Device, s: &str) {
    write_bytes(dev, s.as_bytes());
}

#[cfg(test)]
mod tests {
    #[test]
    fn format_out_latin1() {
        assert_eq!(super::latin1_bytes("é\u{3e8}a"), b"\xe9\\x{3E8}a".to_vec());
    }
}
