//! BIFs about the system and small utilities of the `erlang` and `os`
//! modules: the calendar time (`date/0`, `time/0`, `localtime/0`, `universaltime/0`,
//! `now/0`, the local/universal conversions), `statistics/1`,
//! `system_info/1`, the checksums (`md5/1`, `crc32/1,2`, `adler32/1,2`),
//! and `os:getenv`, `os:getpid`, `os:type`, `os:cmd`, ...
//!
//! minierl has no time zone support: local time is universal time (UTC),
//! which is what OTP gives on a machine whose zone is UTC.

use super::{bif, BifDef};
use crate::atom;
use crate::format::out::{self, Device};
use crate::process::{BifResult, Exc, Process};
use crate::term::*;

pub const BIFS: &[BifDef] = &[
    bif("erlang", "display_string", 1, |_, a| match super::erlang::list_text(a[0]) {
        Some(s) => {
            out::write_chars(Device::Stderr, &s);
            Ok(Term::TRUE)
        }
        None => Err(Exc::badarg()),
    }),
    bif("erlang", "date", 0, |p, _| {
        let (d, _) = civil(now_secs());
        Ok(p.heap.tuple(&d))
    }),
    bif("erlang", "time", 0, |p, _| {
        let (_, t) = civil(now_secs());
        Ok(p.heap.tuple(&t))
    }),
    bif("erlang", "localtime", 0, |p, _| datetime(p, now_secs())),
    bif("erlang", "universaltime", 0, |p, _| datetime(p, now_secs())),
    bif("erlang", "localtime_to_universaltime", 1, |p, a| convert_datetime(p, a[0])),
    bif("erlang", "localtime_to_universaltime", 2, |p, a| {
        if !a[1].is_bool() && a[1] != Term::atom(atom::UNDEFINED) {
            return Err(Exc::badarg());
        }
        convert_datetime(p, a[0])
    }),
    bif("erlang", "universaltime_to_localtime", 1, |p, a| convert_datetime(p, a[0])),
    bif("erlang", "universaltime_to_posixtime", 1, |p, a| {
        let s = datetime_secs(a[0]).ok_or_else(Exc::badarg)?;
        Ok(p.heap.int(s))
    }),
    bif("erlang", "posixtime_to_universaltime", 1, |p, a| match a[0].as_small() {
        Some(s) => datetime(p, s),
        None => Err(Exc::badarg()),
    }),
    bif("erlang", "now", 0, |p, _| {
        // Strictly increasing, as OTP's: at least one microsecond apart.
        use std::sync::atomic::{AtomicI64, Ordering};
        static LAST: AtomicI64 = AtomicI64::new(0);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        let prev = LAST.fetch_max(t, Ordering::Relaxed);
        let us = if t <= prev { LAST.fetch_add(1, Ordering::Relaxed) + 1 } else { t };
        Ok(p.heap.tuple(&[
            Term::small(us / 1_000_000_000_000),
            Term::small(us / 1_000_000 % 1_000_000),
            Term::small(us % 1_000_000),
        ]))
    }),
    bif("erlang", "statistics", 1, statistics),
    bif("erlang", "system_info", 1, system_info),
    bif("erlang", "md5", 1, |p, a| {
        let mut bytes = Vec::new();
        if !super::erlang::iolist_bytes(a[0], &mut bytes) {
            return Err(Exc::badarg());
        }
        p.charge(bytes.len() as u64 / 64);
        Ok(p.heap.binary(&md5(&bytes)))
    }),
    bif("erlang", "crc32", 1, |p, a| checksum(p, Term::small(0), a[0], crc32)),
    bif("erlang", "crc32", 2, |p, a| checksum(p, a[0], a[1], crc32)),
    bif("erlang", "adler32", 1, |p, a| checksum(p, Term::small(1), a[0], adler32)),
    bif("erlang", "adler32", 2, |p, a| checksum(p, a[0], a[1], adler32)),
    bif("os", "getenv", 0, |p, _| {
        let vars: Vec<String> =
            std::env::vars_os().map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy())).collect();
        let terms: Vec<Term> = vars.iter().map(|s| p.heap.string(s)).collect();
        Ok(p.heap.list(&terms))
    }),
    bif("os", "getenv", 1, |p, a| {
        let name = super::erlang::list_text(a[0]).ok_or_else(Exc::badarg)?;
        Ok(match std::env::var(&name) {
            Ok(v) => p.heap.string(&v),
            Err(_) => Term::FALSE,
        })
    }),
    bif("os", "getenv", 2, |p, a| {
        let name = super::erlang::list_text(a[0]).ok_or_else(Exc::badarg)?;
        Ok(match std::env::var(&name) {
            Ok(v) => p.heap.string(&v),
            Err(_) => a[1],
        })
    }),
    bif("os", "getpid", 0, |p, _| Ok(p.heap.string(&std::process::id().to_string()))),
    bif("os", "type", 0, |p, _| {
        Ok(p.heap.tuple(&[Term::atom(atom::intern("unix")), Term::atom(atom::intern("linux"))]))
    }),
    bif("os", "perf_counter", 0, |p, _| Ok(p.heap.int(p.vm.started.elapsed().as_nanos() as i64))),
    bif("os", "perf_counter", 1, |p, a| {
        let ns = p.vm.started.elapsed().as_nanos() as i128;
        let per = match a[0].as_atom().map(|a| a.name()) {
            Some("second") => 1,
            Some("millisecond") => 1_000,
            Some("microsecond") => 1_000_000,
            Some("nanosecond") | Some("native") | Some("perf_counter") => 1_000_000_000,
            _ => match a[0].as_small() {
                Some(n) if n > 0 => n as i128,
                _ => return Err(Exc::badarg()),
            },
        };
        Ok(p.heap.int((ns * per / 1_000_000_000) as i64))
    }),
    bif("os", "cmd", 1, |p, a| os_cmd(p, a[0])),
    bif("os", "cmd", 2, |p, a| os_cmd(p, a[0])),
];

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Seconds since 1970 as ({Y, M, D}, {H, Mi, S}) (proleptic Gregorian).
fn civil(secs: i64) -> ([Term; 3], [Term; 3]) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = days_to_date(days);
    (
        [Term::small(y), Term::small(m), Term::small(d)],
        [Term::small(rem / 3600), Term::small(rem / 60 % 60), Term::small(rem % 60)],
    )
}

/// Days since 1970-01-01 to a date (H. Hinnant's `civil_from_days`).
fn days_to_date(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The inverse of `days_to_date`.
fn date_to_days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn datetime(p: &mut Process, secs: i64) -> BifResult {
    let (d, t) = civil(secs);
    let d = p.heap.tuple(&d);
    let t = p.heap.tuple(&t);
    Ok(p.heap.tuple(&[d, t]))
}

/// A valid {{Y, M, D}, {H, Mi, S}} as seconds since 1970.
fn datetime_secs(t: Term) -> Option<i64> {
    let [d, tm] = t.tuple_elements()? else { return None };
    let [y, m, dd] = d.tuple_elements()? else { return None };
    let [h, mi, s] = tm.tuple_elements()? else { return None };
    let (y, m, dd) = (y.as_small()?, m.as_small()?, dd.as_small()?);
    let (h, mi, s) = (h.as_small()?, mi.as_small()?, s.as_small()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if y < 0 || !(1..=12).contains(&m) || dd < 1 || dd > month_days[(m - 1) as usize] {
        return None;
    }
    if !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0..60).contains(&s) {
        return None;
    }
    Some(date_to_days(y, m, dd) * 86_400 + h * 3600 + mi * 60 + s)
}

fn convert_datetime(p: &mut Process, t: Term) -> BifResult {
    let s = datetime_secs(t).ok_or_else(Exc::badarg)?;
    datetime(p, s)
}

fn statistics(p: &mut Process, a: &[Term]) -> BifResult {
    let ms = |d: std::time::Duration| Term::small(d.as_millis() as i64);
    match a[0].atom_name() {
        Some("runtime") | Some("wall_clock") => {
            // minierl does not measure CPU time apart: both are the time
            // since the VM started, the second value since the last call.
            use std::sync::Mutex;
            static LAST: Mutex<[u128; 2]> = Mutex::new([0, 0]);
            let now = p.vm.started.elapsed();
            let i = usize::from(a[0].atom_name() == Some("wall_clock"));
            let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
            let since = now.as_millis().saturating_sub(last[i]);
            last[i] = now.as_millis();
            Ok(p.heap.tuple(&[ms(now), Term::small(since as i64)]))
        }
        Some("reductions") | Some("exact_reductions") => {
            let r = p.heap.int(p.reductions as i64);
            Ok(p.heap.tuple(&[r, Term::small(0)]))
        }
        Some("run_queue") | Some("total_run_queue_lengths") | Some("total_active_tasks") => Ok(Term::small(0)),
        Some("garbage_collection") => Ok(p.heap.tuple(&[Term::small(0), Term::small(0), Term::small(0)])),
        Some("io") => {
            let i = p.heap.tuple(&[Term::atom(atom::intern("input")), Term::small(0)]);
            let o = p.heap.tuple(&[Term::atom(atom::intern("output")), Term::small(0)]);
            Ok(p.heap.tuple(&[i, o]))
        }
        Some("context_switches") => Ok(p.heap.tuple(&[Term::small(0), Term::small(0)])),
        _ => Err(Exc::badarg()),
    }
}

fn system_info(p: &mut Process, a: &[Term]) -> BifResult {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as i64;
    Ok(match a[0].atom_name() {
        Some("otp_release") => p.heap.string("25"),
        Some("version") => p.heap.string("13.1.5"),
        Some("machine") => p.heap.string("BEAM"),
        Some("wordsize") => Term::small(8),
        Some("system_architecture") => p.heap.string("x86_64-pc-linux-gnu"),
        Some("schedulers")
        | Some("schedulers_online")
        | Some("logical_processors")
        | Some("logical_processors_available")
        | Some("logical_processors_online") => Term::small(cores),
        Some("process_count") => Term::small(p.vm.pids().len() as i64),
        Some("process_limit") => Term::small(262_144),
        Some("atom_limit") => Term::small(1_048_576),
        Some("smp_support") | Some("threads") => Term::TRUE,
        Some("thread_pool_size") => Term::small(1),
        Some("debug_compiled") => Term::FALSE,
        Some("emu_type") => Term::atom(atom::intern("opt")),
        Some("emu_flavor") => Term::atom(atom::intern("emu")),
        Some("hipe_architecture") => Term::atom(atom::UNDEFINED),
        Some("build_type") => Term::atom(atom::intern("opt")),
        Some("kernel_poll") => Term::FALSE,
        Some("time_correction") => Term::TRUE,
        Some("start_time") => Term::small(0),
        Some("otp_correction_level") => Term::small(0),
        _ => {
            if a[0].is_tuple() || a[0].is_atom() {
                return Err(Exc::badarg());
            }
            return Err(Exc::badarg());
        }
    })
}

fn checksum(p: &mut Process, init: Term, data: Term, f: fn(u32, &[u8]) -> u32) -> BifResult {
    let Some(init) = init.to_i64().filter(|v| (0..=u32::MAX as i64).contains(v)) else { return Err(Exc::badarg()) };
    let mut bytes = Vec::new();
    if !super::erlang::iolist_bytes(data, &mut bytes) {
        return Err(Exc::badarg());
    }
    p.charge(bytes.len() as u64 / 256);
    Ok(p.heap.int(f(init as u32, &bytes) as i64))
}

/// CRC-32 (IEEE 802.3, reflected, as zlib), continuing from `crc`.
fn crc32(crc: u32, bytes: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
        }
    }
    !c
}

/// Adler-32 (as zlib), continuing from `adler`.
fn adler32(adler: u32, bytes: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (adler & 0xffff, adler >> 16);
    for &x in bytes {
        a = (a + x as u32) % MOD;
        b = (b + a) % MOD;
    }
    (b << 16) | a
}

/// MD5 (RFC 1321).
fn md5(msg: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14,
        20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6,
        10, 15, 21,
    ];
    // K[i] = floor(|sin(i + 1)| * 2^32).
    let k: Vec<u32> = (0..64).map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32).collect();
    let mut h: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    let mut data = msg.to_vec();
    data.push(0x80);
    while data.len() % 64 != 56 {
        data.push(0);
    }
    data.extend_from_slice(&((msg.len() as u64).wrapping_mul(8)).to_le_bytes());
    for chunk in data.chunks_exact(64) {
        let w: Vec<u32> = chunk.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let (mut a, mut b, mut c, mut d) = (h[0], h[1], h[2], h[3]);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(w[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        h[0] = h[0].wrapping_add(a);
        h[1] = h[1].wrapping_add(b);
        h[2] = h[2].wrapping_add(c);
        h[3] = h[3].wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, v) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
    }
    out
}

/// `os:cmd/1,2`: run the command with `/bin/sh -c`, its standard output
/// as a string (as OTP, the command's exit status is not reported).
fn os_cmd(p: &mut Process, cmd: Term) -> BifResult {
    let mut bytes = Vec::new();
    let text = match super::erlang::list_text(cmd) {
        Some(s) => s,
        None if cmd.is_atom() => cmd.atom_name().unwrap_or("").to_string(),
        None if super::erlang::iolist_bytes(cmd, &mut bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        None => return Err(Exc::badarg()),
    };
    let output = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(&text)
        .stdin(std::process::Stdio::null())
        .output()
        .map(|o| o.stdout)
        .unwrap_or_default();
    let chars: String = match String::from_utf8(output.clone()) {
        Ok(s) => s,
        Err(_) => output.iter().map(|&b| b as char).collect(),
    };
    Ok(p.heap.string(&chars))
}
