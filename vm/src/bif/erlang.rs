//! BIFs: the `erlang` module's type tests, term access, conversions,
//! exceptions, processes, the process dictionary, time and module info.

use super::{bif, BifDef};
use crate::atom::{self, Atom};
use crate::code::{Mfa, Special};
use crate::process::{BifResult, Class, Exc, Process};
use crate::term::*;
use num_bigint::BigInt;
use num_traits::Num;

/// The largest tuple a BIF builds (OTP's `MAX_ARITY`, 2^24 - 1): beyond it
/// `make_tuple` and `append_element` fail with `badarg`, never try to allocate.
const MAX_TUPLE_ARITY: i64 = (1 << 24) - 1;

pub const BIFS: &[BifDef] = &[
    bif("erlang", "is_integer", 1, |_, a| Ok(Term::bool(a[0].is_integer()))),
    bif("erlang", "is_float", 1, |_, a| Ok(Term::bool(a[0].is_float()))),
    bif("erlang", "is_number", 1, |_, a| Ok(Term::bool(a[0].is_number()))),
    bif("erlang", "is_atom", 1, |_, a| Ok(Term::bool(a[0].is_atom()))),
    bif("erlang", "is_boolean", 1, |_, a| Ok(Term::bool(a[0].is_bool()))),
    bif("erlang", "is_pid", 1, |_, a| Ok(Term::bool(a[0].is_pid()))),
    bif("erlang", "is_port", 1, |_, _| Ok(Term::FALSE)),
    bif("erlang", "is_reference", 1, |_, a| Ok(Term::bool(a[0].is_ref()))),
    bif("erlang", "is_binary", 1, |_, a| Ok(Term::bool(a[0].is_binary()))),
    bif("erlang", "is_bitstring", 1, |_, a| Ok(Term::bool(a[0].is_bitstring()))),
    bif("erlang", "is_list", 1, |_, a| Ok(Term::bool(a[0].is_list()))),
    bif("erlang", "is_tuple", 1, |_, a| Ok(Term::bool(a[0].is_tuple()))),
    bif("erlang", "is_map", 1, |_, a| Ok(Term::bool(a[0].is_map()))),
    bif("erlang", "is_function", 1, |_, a| Ok(Term::bool(a[0].is_function()))),
    bif("erlang", "is_function", 2, |_, a| match a[1].as_small() {
        Some(n) if n >= 0 => Ok(Term::bool(a[0].fun_arity().map(|x| x as i64) == Some(n))),
        // A positive bignum arity: no fun has it (OTP: false).
        None if a[1].to_bigint().is_some_and(|b| b.sign() == num_bigint::Sign::Plus) => Ok(Term::FALSE),
        _ => Err(Exc::badarg()),
    }),
    // Called as functions (`apply`, `erlang:is_record/2`); in guards and
    // bodies the compiler turns a record test into a type test.
    bif("erlang", "is_record", 2, |_, a| {
        if !a[1].is_atom() {
            return Err(Exc::badarg());
        }
        Ok(Term::bool(a[0].tuple_elements().is_some_and(|t| t.first() == Some(&a[1]))))
    }),
    bif("erlang", "is_record", 3, |_, a| {
        if !a[1].is_atom() || !a[2].is_integer() {
            return Err(Exc::badarg());
        }
        let size = a[2].as_small();
        Ok(Term::bool(a[0].tuple_elements().is_some_and(|t| t.first() == Some(&a[1]) && size == Some(t.len() as i64))))
    }),
    bif("erlang", "element", 2, |_, a| {
        let (Some(i), Some(t)) = (a[0].as_small(), a[1].tuple_elements()) else { return Err(Exc::badarg()) };
        if i >= 1 && (i as usize) <= t.len() {
            Ok(t[i as usize - 1])
        } else {
            Err(Exc::badarg())
        }
    }),
    bif("erlang", "setelement", 3, |p, a| {
        let (Some(i), Some(t)) = (a[0].as_small(), a[1].tuple_elements()) else { return Err(Exc::badarg()) };
        if i < 1 || i as usize > t.len() {
            return Err(Exc::badarg());
        }
        let mut v = t.to_vec();
        v[i as usize - 1] = a[2];
        Ok(p.heap.tuple(&v))
    }),
    bif("erlang", "tuple_size", 1, |_, a| {
        a[0].tuple_elements().map(|t| Term::small(t.len() as i64)).ok_or_else(Exc::badarg)
    }),
    bif("erlang", "size", 1, |_, a| {
        if let Some(t) = a[0].tuple_elements() {
            Ok(Term::small(t.len() as i64))
        } else if let Some(b) = a[0].bit_size() {
            Ok(Term::small((b / 8) as i64))
        } else {
            Err(Exc::badarg())
        }
    }),
    bif("erlang", "length", 1, |p, a| match a[0].list_length() {
        Some(n) => {
            p.charge(n as u64 / 16);
            Ok(Term::small(n as i64))
        }
        None => Err(Exc::badarg()),
    }),
    bif("erlang", "hd", 1, |_, a| a[0].head().ok_or_else(Exc::badarg)),
    bif("erlang", "tl", 1, |_, a| a[0].tail().ok_or_else(Exc::badarg)),
    bif("erlang", "map_size", 1, |p, a| match a[0].map_size() {
        Some(n) => Ok(Term::small(n as i64)),
        None => Err(Exc::error(p.heap.tuple(&[Term::atom(atom::BADMAP), a[0]]))),
    }),
    bif("erlang", "byte_size", 1, |_, a| {
        a[0].bit_size().map(|b| Term::small(b.div_ceil(8) as i64)).ok_or_else(Exc::badarg)
    }),
    bif("erlang", "bit_size", 1, |_, a| a[0].bit_size().map(|b| Term::small(b as i64)).ok_or_else(Exc::badarg)),
    bif("erlang", "integer_to_list", 1, |p, a| int_to_text(p, a[0], Term::small(10), false)),
    bif("erlang", "integer_to_list", 2, |p, a| int_to_text(p, a[0], a[1], false)),
    bif("erlang", "integer_to_binary", 1, |p, a| int_to_text(p, a[0], Term::small(10), true)),
    bif("erlang", "integer_to_binary", 2, |p, a| int_to_text(p, a[0], a[1], true)),
    bif("erlang", "list_to_integer", 1, |p, a| text_to_int(p, list_text(a[0]), 10)),
    bif("erlang", "list_to_integer", 2, |p, a| text_to_int(p, list_text(a[0]), base(a[1])?)),
    bif("erlang", "binary_to_integer", 1, |p, a| text_to_int(p, bin_text(a[0]), 10)),
    bif("erlang", "binary_to_integer", 2, |p, a| text_to_int(p, bin_text(a[0]), base(a[1])?)),
    bif("erlang", "atom_to_list", 1, |p, a| a[0].atom_name().map(|n| p.heap.string(n)).ok_or_else(Exc::badarg)),
    bif("erlang", "atom_to_binary", 1, |p, a| {
        a[0].atom_name().map(|n| p.heap.binary(n.as_bytes())).ok_or_else(Exc::badarg)
    }),
    bif("erlang", "atom_to_binary", 2, |p, a| {
        let n = a[0].atom_name().ok_or_else(Exc::badarg)?;
        if latin1_encoding(a[1])? {
            let bytes: Option<Vec<u8>> = n.chars().map(|c| u8::try_from(c as u32).ok()).collect();
            Ok(p.heap.binary(&bytes.ok_or_else(Exc::badarg)?))
        } else {
            Ok(p.heap.binary(n.as_bytes()))
        }
    }),
    bif("erlang", "list_to_atom", 1, |_, a| make_atom(list_text(a[0]), false)),
    bif("erlang", "list_to_existing_atom", 1, |_, a| make_atom(list_text(a[0]), true)),
    bif("erlang", "binary_to_atom", 1, |_, a| make_atom(bin_text(a[0]), false)),
    bif("erlang", "binary_to_atom", 2, |_, a| make_atom(bin_text_in(a[0], a[1])?, false)),
    bif("erlang", "binary_to_existing_atom", 1, |_, a| make_atom(bin_text(a[0]), true)),
    bif("erlang", "binary_to_existing_atom", 2, |_, a| make_atom(bin_text_in(a[0], a[1])?, true)),
    bif("erlang", "tuple_to_list", 1, |p, a| a[0].tuple_elements().map(|t| p.heap.list(t)).ok_or_else(Exc::badarg)),
    bif("erlang", "list_to_tuple", 1, |p, a| match a[0].list_to_vec() {
        Some(v) if v.len() as i64 <= MAX_TUPLE_ARITY => Ok(p.heap.tuple(&v)),
        Some(_) => Err(Exc::error(Term::atom(atom::SYSTEM_LIMIT))),
        None => Err(Exc::badarg()),
    }),
    bif("erlang", "binary_to_list", 1, |p, a| match a[0].binary_bytes() {
        Some(b) if a[0].is_binary() => Ok(p.heap.bytes_list(b)),
        _ => Err(Exc::badarg()),
    }),
    bif("erlang", "list_to_binary", 1, |p, a| match a[0].is_binary() {
        true => Err(Exc::badarg()),
        false => iolist_to_binary(p, a[0]),
    }),
    bif("erlang", "iolist_to_binary", 1, |p, a| iolist_to_binary(p, a[0])),
    bif("erlang", "iolist_size", 1, |_, a| {
        let mut out = Vec::new();
        if a[0].is_binary() || iolist_bytes(a[0], &mut out) {
            Ok(Term::small(if a[0].is_binary() { a[0].binary_bytes().unwrap().len() } else { out.len() } as i64))
        } else {
            Err(Exc::badarg())
        }
    }),
    bif("erlang", "float_to_list", 1, |p, a| match a[0].as_float() {
        Some(f) => Ok(p.heap.string(&format!("{f:.20e}"))),
        None => Err(Exc::badarg()),
    }),
    bif("erlang", "list_to_float", 1, |p, a| match list_text(a[0]).and_then(|s| parse_float(&s)) {
        Some(f) => Ok(p.heap.float(f)),
        None => Err(Exc::badarg()),
    }),
    bif("erlang", "binary_to_float", 1, |p, a| match bin_text(a[0]).and_then(|s| parse_float(&s)) {
        Some(f) => Ok(p.heap.float(f)),
        None => Err(Exc::badarg()),
    }),
    bif("erlang", "make_tuple", 2, |p, a| match a[0].as_small() {
        Some(n) if (0..=MAX_TUPLE_ARITY).contains(&n) => Ok(p.heap.tuple(&vec![a[1]; n as usize])),
        _ => Err(Exc::badarg()),
    }),
    bif("erlang", "make_tuple", 3, |p, a| {
        let n = a[0].as_small().filter(|n| (0..=MAX_TUPLE_ARITY).contains(n)).ok_or_else(Exc::badarg)? as usize;
        let mut v = vec![a[1]; n];
        // The last occurrence of a position wins.
        for e in a[2].list_to_vec().ok_or_else(Exc::badarg)? {
            match e.tuple_elements() {
                Some([i, x]) => match i.as_small() {
                    Some(i) if i >= 1 && i as usize <= n => v[i as usize - 1] = *x,
                    _ => return Err(Exc::badarg()),
                },
                _ => return Err(Exc::badarg()),
            }
        }
        Ok(p.heap.tuple(&v))
    }),
    bif("erlang", "delete_element", 2, |p, a| {
        let (Some(i), Some(t)) = (a[0].as_small(), a[1].tuple_elements()) else { return Err(Exc::badarg()) };
        if i < 1 || i as usize > t.len() {
            return Err(Exc::badarg());
        }
        let mut v = t.to_vec();
        v.remove(i as usize - 1);
        Ok(p.heap.tuple(&v))
    }),
    bif("erlang", "insert_element", 3, |p, a| {
        let (Some(i), Some(t)) = (a[0].as_small(), a[1].tuple_elements()) else { return Err(Exc::badarg()) };
        if i < 1 || i as usize > t.len() + 1 {
            return Err(Exc::badarg());
        }
        let mut v = t.to_vec();
        v.insert(i as usize - 1, a[2]);
        Ok(p.heap.tuple(&v))
    }),
    bif("erlang", "append_element", 2, |p, a| match a[0].tuple_elements() {
        Some(t) if (t.len() as i64) < MAX_TUPLE_ARITY => {
            let mut v = t.to_vec();
            v.push(a[1]);
            Ok(p.heap.tuple(&v))
        }
        _ => Err(Exc::badarg()),
    }),
    bif("erlang", "error", 1, |_, a| Err(Exc::error(a[0]))),
    bif("erlang", "error", 2, |_, a| {
        Err(Exc::Raise { class: Class::Error, reason: a[0], args: Some(a[1]), trace: None })
    }),
    bif("erlang", "throw", 1, |_, a| Err(Exc::throw(a[0]))),
    bif("erlang", "exit", 1, |_, a| Err(Exc::exit(a[0]))),
    bif("erlang", "raise", 3, |_, a| {
        let class = match a[0].as_atom() {
            Some(atom::ERROR) => Class::Error,
            Some(atom::THROW) => Class::Throw,
            Some(atom::EXIT) => Class::Exit,
            // OTP: an invalid class or stacktrace makes raise/3 return
            // the atom badarg.
            _ => return Ok(Term::atom(atom::BADARG)),
        };
        if !valid_stacktrace(a[2]) {
            return Ok(Term::atom(atom::BADARG));
        }
        Err(Exc::Raise { class, reason: a[1], args: None, trace: Some(a[2]) })
    }),
    bif("erlang", "build_stacktrace", 1, |_, a| Ok(a[0])),
    bif("erlang", "halt", 0, |_, _| Err(Exc::Halt(0))),
    bif("erlang", "halt", 1, |_, a| match a[0].as_small() {
        Some(n) => Err(Exc::Halt(n as i32)),
        None => Err(Exc::Halt(1)),
    }),
    bif("erlang", "halt", 2, |_, a| match a[0].as_small() {
        Some(n) => Err(Exc::Halt(n as i32)),
        None => Err(Exc::Halt(1)),
    }),
    bif("erlang", "self", 0, |p, _| Ok(p.self_term())),
    bif("erlang", "node", 0, |_, _| Ok(Term::atom(atom::intern("nonode@nohost")))),
    bif("erlang", "node", 1, |_, a| {
        if a[0].is_pid() || a[0].ref_number().is_some() {
            Ok(Term::atom(atom::intern("nonode@nohost")))
        } else {
            Err(Exc::badarg())
        }
    }),
    bif("erlang", "spawn", 1, |p, a| {
        if !a[0].is_function() {
            return Err(Exc::badarg());
        }
        Ok(Term::pid(p.vm.spawn_fun(a[0])))
    }),
    bif("erlang", "spawn", 3, |p, a| {
        if !a[0].is_atom() || !a[1].is_atom() || a[2].list_length().is_none() {
            return Err(Exc::badarg());
        }
        Ok(Term::pid(p.vm.spawn_mfa(a[0], a[1], a[2])))
    }),
    bif("erlang", "!", 2, |p, a| {
        let vm = p.vm;
        vm.send(p, a[0], a[1]).map(|_| a[1])
    }),
    bif("erlang", "send", 2, |p, a| {
        let vm = p.vm;
        vm.send(p, a[0], a[1]).map(|_| a[1])
    }),
    bif("erlang", "is_process_alive", 1, |p, a| match a[0].pid_number() {
        Some(n) => Ok(Term::bool(n == p.pid || p.vm.is_alive(n))),
        None => Err(Exc::badarg()),
    }),
    bif("erlang", "register", 2, |p, a| match (a[0].as_atom(), a[1].pid_number()) {
        (Some(n), Some(pid)) if n != atom::UNDEFINED && p.vm.register(n, pid) => Ok(Term::TRUE),
        _ => Err(Exc::badarg()),
    }),
    bif("erlang", "unregister", 1, |p, a| match a[0].as_atom() {
        Some(n) if p.vm.unregister(n) => Ok(Term::TRUE),
        _ => Err(Exc::badarg()),
    }),
    bif("erlang", "whereis", 1, |p, a| match a[0].as_atom() {
        Some(n) => Ok(p.vm.whereis(n).map(Term::pid).unwrap_or(Term::atom(atom::UNDEFINED))),
        None => Err(Exc::badarg()),
    }),
    bif("erlang", "make_ref", 0, |p, _| {
        let n = p.vm.make_ref();
        Ok(p.heap.reference(n))
    }),
    bif("erlang", "put", 2, |p, a| {
        for e in p.dict.iter_mut() {
            if eq_exact(e.0, a[0]) {
                let old = e.1;
                e.1 = a[1];
                return Ok(old);
            }
        }
        p.dict.push((a[0], a[1]));
        Ok(Term::atom(atom::UNDEFINED))
    }),
    bif("erlang", "get", 1, |p, a| {
        Ok(p.dict.iter().find(|e| eq_exact(e.0, a[0])).map(|e| e.1).unwrap_or(Term::atom(atom::UNDEFINED)))
    }),
    bif("erlang", "get", 0, |p, _| {
        let d = p.dict.clone();
        let v: Vec<Term> = d.iter().map(|(k, v)| p.heap.tuple(&[*k, *v])).collect();
        Ok(p.heap.list(&v))
    }),
    bif("erlang", "get_keys", 0, |p, _| {
        let v: Vec<Term> = p.dict.iter().map(|e| e.0).collect();
        Ok(p.heap.list(&v))
    }),
    bif("erlang", "erase", 1, |p, a| match p.dict.iter().position(|e| eq_exact(e.0, a[0])) {
        Some(i) => Ok(p.dict.remove(i).1),
        None => Ok(Term::atom(atom::UNDEFINED)),
    }),
    bif("erlang", "erase", 0, |p, _| {
        let d = std::mem::take(&mut p.dict);
        let v: Vec<Term> = d.iter().map(|(k, v)| p.heap.tuple(&[*k, *v])).collect();
        Ok(p.heap.list(&v))
    }),
    bif("erlang", "display", 1, |_, a| {
        // Deep terms print on a thread with a stack to match.
        let t = a[0];
        let bytes =
            crate::format::with_stack_for(&[t], || crate::format::display::display_bytes(&crate::format::from_term(t)))
                .ok_or_else(|| Exc::error(Term::atom(atom::intern("system_limit"))))?;
        crate::format::out::write_bytes(crate::format::out::Device::Stdout, &bytes);
        Ok(Term::TRUE)
    }),
    bif("erlang", "monotonic_time", 0, |p, _| {
        let ns = p.vm.started.elapsed().as_nanos() as i64;
        Ok(p.heap.int(ns))
    }),
    bif("erlang", "monotonic_time", 1, |p, a| {
        let ns = p.vm.started.elapsed().as_nanos() as i64;
        let v = convert_time(ns, a[0])?;
        Ok(p.heap.int(v))
    }),
    bif("erlang", "system_time", 0, |p, _| {
        let ns = system_ns();
        Ok(p.heap.int(ns))
    }),
    bif("erlang", "system_time", 1, |p, a| {
        let v = convert_time(system_ns(), a[0])?;
        Ok(p.heap.int(v))
    }),
    bif("os", "system_time", 0, |p, _| {
        let ns = system_ns();
        Ok(p.heap.int(ns))
    }),
    bif("os", "system_time", 1, |p, a| {
        let v = convert_time(system_ns(), a[0])?;
        Ok(p.heap.int(v))
    }),
    bif("erlang", "convert_time_unit", 3, |p, a| {
        let v = a[0].to_i64().ok_or_else(Exc::badarg)?;
        let ns = convert_to_ns(v, a[1])?;
        let r = convert_time(ns, a[2])?;
        Ok(p.heap.int(r))
    }),
    bif("erlang", "timestamp", 0, |p, _| {
        let us = system_ns() / 1000;
        let (mega, s, micro) = (us / 1_000_000_000_000, (us / 1_000_000) % 1_000_000, us % 1_000_000);
        Ok(p.heap.tuple(&[Term::small(mega), Term::small(s), Term::small(micro)]))
    }),
    bif("os", "timestamp", 0, |p, _| {
        let us = system_ns() / 1000;
        let (mega, s, micro) = (us / 1_000_000_000_000, (us / 1_000_000) % 1_000_000, us % 1_000_000);
        Ok(p.heap.tuple(&[Term::small(mega), Term::small(s), Term::small(micro)]))
    }),
    bif("erlang", "unique_integer", 0, |p, _| unique_integer(p, Term::NIL)),
    bif("erlang", "unique_integer", 1, |p, a| unique_integer(p, a[0])),
    bif("erlang", "get_module_info", 1, |p, a| module_info(p, a[0], None)),
    bif("erlang", "get_module_info", 2, |p, a| module_info(p, a[0], Some(a[1]))),
    bif("erlang", "module_loaded", 1, |p, a| match a[0].as_atom() {
        Some(m) => Ok(Term::bool(p.vm.code.slots(m).current.is_some())),
        None => Err(Exc::badarg()),
    }),
    bif("erlang", "function_exported", 3, |p, a| match (a[0].as_atom(), a[1].as_atom(), a[2].as_small()) {
        (Some(m), Some(f), Some(n)) if (0..=255).contains(&n) => {
            // As OTP: true for a BIF, or for a function exported by loaded
            // code; no module is loaded to answer, except that the embedded
            // stdlib counts as loaded (OTP has `lists` and its kin loaded at
            // boot, minierl loads them when first used).
            let embedded = p.vm.code.slots(m).current.is_none()
                && p.vm.embedded.read().unwrap().iter().any(|(n, _)| *n == m.name());
            if embedded {
                p.vm.autoload(m);
            }
            let e = p.vm.code.find_export(Mfa(m, f, n as u8));
            let active = p.vm.code.active();
            Ok(Term::bool(
                e.is_some_and(|e| !e.target(active).is_null() || (e.bif.is_some() && !f.name().starts_with('$'))),
            ))
        }
        _ => Err(Exc::badarg()),
    }),
    // A major collection at the safe point after this call (BEAM collects
    // during the call; nothing can tell the difference).
    bif("erlang", "garbage_collect", 0, |p, _| {
        p.heap.request_major();
        Ok(Term::TRUE)
    }),
    bif("erlang", "yield", 0, |p, _| {
        // The interpreter ends the slice at the safe point after this call.
        p.end_slice();
        Ok(Term::TRUE)
    }),
    bif("erlang", "error", 3, |_, a| {
        Err(Exc::Raise { class: Class::Error, reason: a[0], args: Some(a[1]), trace: None })
    }),
    bif("erlang", "get_keys", 1, |p, a| {
        let v: Vec<Term> = p.dict.iter().filter(|e| eq_exact(e.1, a[0])).map(|e| e.0).collect();
        Ok(p.heap.list(&v))
    }),
    bif("erlang", "append", 2, |p, a| super::lists::append(p, a[0], a[1])),
    bif("erlang", "subtract", 2, |p, a| super::lists::subtract(p, a[0], a[1])),
    bif("erlang", "fun_to_list", 1, |p, a| {
        if !a[0].is_function() {
            return Err(Exc::badarg());
        }
        let s = crate::format::display::display_bytes(&crate::format::from_term(a[0]));
        Ok(p.heap.string(String::from_utf8_lossy(&s).trim_end()))
    }),
    bif("erlang", "ref_to_list", 1, |p, a| match a[0].ref_number() {
        Some(_) => Ok(p.heap.string(&format!("{:?}", a[0]))),
        None => Err(Exc::badarg()),
    }),
    bif("erlang", "list_to_pid", 1, |_, a| {
        // "<0.N.0>", as pid_to_list/1 writes them.
        let s = list_text(a[0]).ok_or_else(Exc::badarg)?;
        let parts: Vec<&str> =
            s.strip_prefix('<').and_then(|s| s.strip_suffix('>')).ok_or_else(Exc::badarg)?.split('.').collect();
        // Node 0 is this node; no other node is known (OTP: badarg). The
        // number must fit a pid term (60 bits) to print back the same.
        let num = |t: &str| if t.bytes().all(|b| b.is_ascii_digit()) { t.parse::<u64>().ok() } else { None };
        match parts.as_slice() {
            [a, n, c] if num(a) == Some(0) && num(c).is_some_and(|c| c < 8192) => match num(n) {
                Some(n) if n < 1 << 59 => Ok(Term::pid(n)),
                _ => Err(Exc::badarg()),
            },
            _ => Err(Exc::badarg()),
        }
    }),
    bif("erlang", "bump_reductions", 1, |p, a| match a[0].as_small() {
        Some(n) if n >= 0 => {
            p.charge(n as u64);
            Ok(Term::TRUE)
        }
        _ => Err(Exc::badarg()),
    }),
    bif("erlang", "is_alive", 0, |_, _| Ok(Term::FALSE)),
    bif("erlang", "nodes", 0, |_, _| Ok(Term::NIL)),
    bif("erlang", "nodes", 1, |p, a| {
        // No node is connected: only `this` and `known` name this node.
        let kinds: Vec<Term> = if a[0].is_atom() { vec![a[0]] } else { a[0].list_to_vec().ok_or_else(Exc::badarg)? };
        let mut here = false;
        for k in kinds {
            match k.atom_name() {
                Some("this" | "known") => here = true,
                Some("visible" | "hidden" | "connected") => {}
                _ => return Err(Exc::badarg()),
            }
        }
        Ok(if here { p.heap.list(&[Term::atom(atom::intern("nonode@nohost"))]) } else { Term::NIL })
    }),
    bif("erlang", "garbage_collect", 1, |_, a| if a[0].is_pid() { Ok(Term::TRUE) } else { Err(Exc::badarg()) }),
    bif("erlang", "garbage_collect", 2, |_, a| {
        if a[0].is_pid() && a[1].list_length().is_some() {
            Ok(Term::TRUE)
        } else {
            Err(Exc::badarg())
        }
    }),
    bif("erlang", "phash", 2, |_, a| match a[1].as_small() {
        Some(n) if (1..=1 << 32).contains(&n) => Ok(Term::small((super::phash::make_hash(a[0]) as i64) % n + 1)),
        _ => Err(Exc::badarg()),
    }),
    bif("erlang", "phash2", 1, |_, a| Ok(Term::small((super::phash::make_hash2(a[0]) & ((1 << 27) - 1)) as i64))),
    bif("erlang", "phash2", 2, |_, a| match a[1].as_small() {
        Some(n) if (1..=1 << 32).contains(&n) => Ok(Term::small((super::phash::make_hash2(a[0]) as i64) % n)),
        _ => Err(Exc::badarg()),
    }),
    super::BifDef {
        module: "erlang",
        function: "apply",
        arity: 2,
        fun: |_, _| Err(Exc::badarg()),
        special: Special::Apply2,
    },
    super::BifDef {
        module: "erlang",
        function: "apply",
        arity: 3,
        fun: |_, _| Err(Exc::badarg()),
        special: Special::Apply3,
    },
];

/// `erlang:unique_integer/0,1`: unique in this VM run; with any of the
/// options (`positive`, `monotonic`) the values are positive and strictly
/// increasing, which satisfies every combination.
fn unique_integer(p: &mut Process, opts: Term) -> BifResult {
    use std::sync::atomic::{AtomicI64, Ordering};
    static NEXT: AtomicI64 = AtomicI64::new(1);
    let mut it = opts.iter_list();
    for o in it.by_ref() {
        match o.atom_name() {
            Some("positive") | Some("monotonic") => {}
            _ => return Err(Exc::badarg()),
        }
    }
    if !it.tail().is_nil() {
        return Err(Exc::badarg());
    }
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Ok(p.heap.int(n))
}

fn system_ns() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0)
}

fn unit_per_sec(u: Term) -> Result<i64, Exc> {
    match u.as_atom() {
        Some(atom::SECOND) | Some(atom::SECONDS) => Ok(1),
        Some(atom::MILLISECOND) | Some(atom::MILLI_SECONDS) => Ok(1_000),
        Some(atom::MICROSECOND) | Some(atom::MICRO_SECONDS) => Ok(1_000_000),
        Some(atom::NANOSECOND) | Some(atom::NANO_SECONDS) | Some(atom::NATIVE) | Some(atom::PERF_COUNTER) => {
            Ok(1_000_000_000)
        }
        _ => match u.as_small() {
            Some(n) if n > 0 => Ok(n),
            _ => Err(Exc::badarg()),
        },
    }
}

fn convert_time(ns: i64, unit: Term) -> Result<i64, Exc> {
    let per = unit_per_sec(unit)?;
    Ok(((ns as i128 * per as i128).div_euclid(1_000_000_000)) as i64)
}

fn convert_to_ns(v: i64, unit: Term) -> Result<i64, Exc> {
    let per = unit_per_sec(unit)?;
    Ok((v as i128 * 1_000_000_000 / per as i128) as i64)
}

fn base(t: Term) -> Result<u32, Exc> {
    match t.as_small() {
        Some(b) if (2..=36).contains(&b) => Ok(b as u32),
        _ => Err(Exc::badarg()),
    }
}

fn int_to_text(p: &mut Process, i: Term, b: Term, binary: bool) -> BifResult {
    let b = base(b)?;
    let v = i.to_bigint().ok_or_else(Exc::badarg)?;
    let s = v.to_str_radix(b).to_uppercase();
    Ok(if binary { p.heap.binary(s.as_bytes()) } else { p.heap.string(&s) })
}

/// The characters of a flat string (list of code points).
pub fn list_text(t: Term) -> Option<String> {
    let mut s = String::new();
    let mut it = t.iter_list();
    for c in it.by_ref() {
        s.push(char::from_u32(c.as_small()?.try_into().ok()?)?);
    }
    if it.tail().is_nil() {
        Some(s)
    } else {
        None
    }
}

/// The encoding argument of `atom_to_binary/2` and `binary_to_atom/2`:
/// true for `latin1`, false for `unicode`/`utf8`, badarg otherwise.
fn latin1_encoding(e: Term) -> Result<bool, Exc> {
    match e.as_atom() {
        Some(atom::LATIN1) => Ok(true),
        Some(atom::UNICODE) | Some(atom::UTF8) => Ok(false),
        _ => Err(Exc::badarg()),
    }
}

/// The text of binary `t` in encoding `e` (latin1: one character per byte).
fn bin_text_in(t: Term, e: Term) -> Result<Option<String>, Exc> {
    if latin1_encoding(e)? {
        Ok(if t.is_binary() { t.binary_bytes().map(|b| b.iter().map(|&c| c as char).collect()) } else { None })
    } else {
        Ok(bin_text(t))
    }
}

fn bin_text(t: Term) -> Option<String> {
    if !t.is_binary() {
        return None;
    }
    String::from_utf8(t.binary_bytes()?.to_vec()).ok()
}

fn text_to_int(p: &mut Process, s: Option<String>, b: u32) -> BifResult {
    let s = s.ok_or_else(Exc::badarg)?;
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, &s[..]),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(b)) {
        return Err(Exc::badarg());
    }
    let v = BigInt::from_str_radix(digits, b).map_err(|_| Exc::badarg())?;
    Ok(p.heap.bigint(&if neg { -v } else { v }))
}

fn parse_float(s: &str) -> Option<f64> {
    // Erlang requires digits, a decimal point and digits (exponent
    // optional). As OTP's `sys_chars_to_double`, the point may be a comma
    // (`list_to_float("1,5")` is 1.5).
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mant, _) = t.split_once(['e', 'E']).unwrap_or((t, ""));
    let (a, b) = mant.split_once(['.', ','])?;
    if a.is_empty() || b.is_empty() || !a.bytes().all(|c| c.is_ascii_digit()) || !b.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    s.replacen(',', ".", 1).parse().ok()
}

/// A stacktrace `erlang:raise/3` accepts: a proper list of
/// `{M, F, ArityOrArgs, Location}` or `{Fun, ArityOrArgs, Location}`.
fn valid_stacktrace(t: Term) -> bool {
    let Some(frames) = t.list_to_vec() else { return false };
    frames.iter().all(|f| match f.tuple_elements() {
        Some([m, f, a, loc]) => {
            m.is_atom()
                && f.is_atom()
                && (a.as_small().is_some() || a.list_length().is_some())
                && loc.list_length().is_some()
        }
        Some([fun, a, loc]) => {
            fun.is_function() && (a.as_small().is_some() || a.list_length().is_some()) && loc.list_length().is_some()
        }
        _ => false,
    })
}

fn make_atom(s: Option<String>, existing: bool) -> BifResult {
    let s = s.ok_or_else(Exc::badarg)?;
    if existing && s.chars().count() > 255 {
        return Err(Exc::badarg()); // OTP: no atom is that long
    }
    if s.chars().count() > 255 {
        return Err(Exc::error(Term::atom(atom::SYSTEM_LIMIT)));
    }
    if existing {
        atom::lookup(&s).map(Term::atom).ok_or_else(Exc::badarg)
    } else {
        Ok(Term::atom(atom::intern(&s)))
    }
}

/// Append the bytes of an iolist; false if it is not one.
pub fn iolist_bytes(t: Term, out: &mut Vec<u8>) -> bool {
    let mut stack = vec![t];
    while let Some(t) = stack.pop() {
        if t.is_nil() {
            continue;
        }
        if t.is_binary() {
            out.extend_from_slice(t.binary_bytes().unwrap());
            continue;
        }
        if let Some((h, tl)) = t.cons_parts() {
            stack.push(tl);
            if let Some(c) = h.as_small() {
                if !(0..=255).contains(&c) {
                    return false;
                }
                out.push(c as u8);
            } else if h.is_binary() || h.is_list() {
                stack.push(h);
            } else {
                return false;
            }
            continue;
        }
        return false;
    }
    true
}

fn iolist_to_binary(p: &mut Process, t: Term) -> BifResult {
    if t.is_binary() {
        return Ok(t);
    }
    let mut out = Vec::new();
    if !t.is_list() || !iolist_bytes(t, &mut out) {
        return Err(Exc::badarg());
    }
    p.charge(out.len() as u64 / 64);
    Ok(p.heap.binary(&out))
}

fn module_info(p: &mut Process, m: Term, what: Option<Term>) -> BifResult {
    let ma = m.as_atom().ok_or_else(Exc::badarg)?;
    let inst = p.vm.code.slots(ma).current.ok_or_else(Exc::badarg)?;
    let exports = |p: &mut Process| {
        let mut v: Vec<Term> =
            inst.exports.iter().map(|(f, a, _)| p.heap.tuple(&[Term::atom(*f), Term::small(*a as i64)])).collect();
        let mi0 = p.heap.tuple(&[Term::atom(atom::MODULE_INFO), Term::small(0)]);
        let mi1 = p.heap.tuple(&[Term::atom(atom::MODULE_INFO), Term::small(1)]);
        if !inst.exports.iter().any(|e| e.0 == atom::MODULE_INFO) {
            v.push(mi0);
            v.push(mi1);
        }
        p.heap.list(&v)
    };
    let functions = |p: &mut Process| {
        let v: Vec<Term> =
            inst.functions.iter().map(|f| p.heap.tuple(&[Term::atom(f.name), Term::small(f.arity as i64)])).collect();
        p.heap.list(&v)
    };
    match what.map(|w| w.as_atom()) {
        None => {
            let e = exports(p);
            let items = [
                (atom::MODULE, Term::atom(ma)),
                (atom::EXPORTS, e),
                (atom::ATTRIBUTES, inst.attributes),
                (atom::COMPILE, Term::NIL),
                (atom::MD5, Term::NIL),
            ];
            let v: Vec<Term> = items.iter().map(|(k, v)| p.heap.tuple(&[Term::atom(*k), *v])).collect();
            Ok(p.heap.list(&v))
        }
        Some(Some(atom::MODULE)) => Ok(Term::atom(ma)),
        Some(Some(atom::EXPORTS)) => Ok(exports(p)),
        Some(Some(atom::FUNCTIONS)) => Ok(functions(p)),
        Some(Some(atom::ATTRIBUTES)) => Ok(inst.attributes),
        Some(Some(atom::COMPILE)) | Some(Some(atom::NATIVE)) => Ok(Term::NIL),
        Some(Some(atom::MD5)) => Ok(p.heap.binary(&inst.vsn.to_be_bytes())),
        _ => Err(Exc::badarg()),
    }
}

/// The error report printed when a process other than main dies of an
/// error (as Erlang's logger prints it, in short).
pub fn print_error_report(pid: u64, class: Class, reason: Term, trace: Term) {
    if let Some(text) = crate::report::error_report(pid, class, reason, trace) {
        // Through the output sink: in the shell it appears above the prompt.
        crate::format::out::write_chars(crate::format::out::Device::Stderr, &text);
    }
}

/// Register an atom used as a function name (keeps `Atom` in use).
pub fn fname(a: Atom) -> &'static str {
    a.name()
}
