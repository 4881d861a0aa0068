//! The BIFs of module `erlang` that OTP 25 auto-imports, in one table, with
//! two flags: allowed in guards, and "old" (auto-imported before R14, which a
//! local function of the same name cannot silently override). Generated
//! from `erl_internal:bif/2`, `guard_bif/2` and `old_bif/2` of OTP 25.
//! The checks and the code generator both use it.

/// (name, arity, is_guard_bif, is_old_bif), sorted by name then arity.
pub const AUTO_IMPORTED: &[(&str, u8, bool, bool)] = &[
    ("abs", 1, true, true),
    ("alias", 0, false, false),
    ("alias", 1, false, false),
    ("apply", 2, false, true),
    ("apply", 3, false, true),
    ("atom_to_binary", 1, false, false),
    ("atom_to_binary", 2, false, true),
    ("atom_to_list", 1, false, true),
    ("binary_part", 2, true, false),
    ("binary_part", 3, true, false),
    ("binary_to_atom", 1, false, false),
    ("binary_to_atom", 2, false, true),
    ("binary_to_existing_atom", 1, false, false),
    ("binary_to_existing_atom", 2, false, true),
    ("binary_to_float", 1, false, false),
    ("binary_to_integer", 1, false, false),
    ("binary_to_integer", 2, false, false),
    ("binary_to_list", 1, false, true),
    ("binary_to_list", 3, false, true),
    ("binary_to_term", 1, false, true),
    ("binary_to_term", 2, false, false),
    ("bit_size", 1, true, true),
    ("bitstring_to_list", 1, false, true),
    ("byte_size", 1, true, true),
    ("ceil", 1, true, false),
    ("check_old_code", 1, false, false),
    ("check_process_code", 2, false, true),
    ("check_process_code", 3, false, false),
    ("date", 0, false, true),
    ("delete_module", 1, false, true),
    ("demonitor", 1, false, false),
    ("demonitor", 2, false, false),
    ("disconnect_node", 1, false, true),
    ("element", 2, true, true),
    ("erase", 0, false, true),
    ("erase", 1, false, true),
    ("error", 1, false, false),
    ("error", 2, false, false),
    ("error", 3, false, false),
    ("exit", 1, false, true),
    ("exit", 2, false, true),
    ("float", 1, true, true),
    ("float_to_binary", 1, false, false),
    ("float_to_binary", 2, false, false),
    ("float_to_list", 1, false, true),
    ("float_to_list", 2, false, false),
    ("floor", 1, true, false),
    ("garbage_collect", 0, false, true),
    ("garbage_collect", 1, false, true),
    ("garbage_collect", 2, false, false),
    ("get", 0, false, true),
    ("get", 1, false, true),
    ("get_keys", 0, false, false),
    ("get_keys", 1, false, true),
    ("group_leader", 0, false, true),
    ("group_leader", 2, false, true),
    ("halt", 0, false, true),
    ("halt", 1, false, true),
    ("halt", 2, false, false),
    ("hd", 1, true, true),
    ("integer_to_binary", 1, false, false),
    ("integer_to_binary", 2, false, false),
    ("integer_to_list", 1, false, true),
    ("integer_to_list", 2, false, false),
    ("iolist_size", 1, false, true),
    ("iolist_to_binary", 1, false, true),
    ("is_alive", 0, false, true),
    ("is_atom", 1, true, true),
    ("is_binary", 1, true, true),
    ("is_bitstring", 1, true, true),
    ("is_boolean", 1, true, true),
    ("is_float", 1, true, true),
    ("is_function", 1, true, true),
    ("is_function", 2, true, true),
    ("is_integer", 1, true, true),
    ("is_list", 1, true, true),
    ("is_map", 1, true, false),
    ("is_map_key", 2, true, false),
    ("is_number", 1, true, true),
    ("is_pid", 1, true, true),
    ("is_port", 1, true, true),
    ("is_process_alive", 1, false, true),
    ("is_record", 2, true, true),
    ("is_record", 3, true, true),
    ("is_reference", 1, true, true),
    ("is_tuple", 1, true, true),
    ("length", 1, true, true),
    ("link", 1, false, true),
    ("list_to_atom", 1, false, true),
    ("list_to_binary", 1, false, true),
    ("list_to_bitstring", 1, false, true),
    ("list_to_existing_atom", 1, false, true),
    ("list_to_float", 1, false, true),
    ("list_to_integer", 1, false, true),
    ("list_to_integer", 2, false, false),
    ("list_to_pid", 1, false, true),
    ("list_to_port", 1, false, false),
    ("list_to_ref", 1, false, false),
    ("list_to_tuple", 1, false, true),
    ("load_module", 2, false, true),
    ("make_ref", 0, false, true),
    ("map_get", 2, true, false),
    ("map_size", 1, true, false),
    ("max", 2, false, false),
    ("min", 2, false, false),
    ("module_loaded", 1, false, true),
    ("monitor", 2, false, false),
    ("monitor", 3, false, false),
    ("monitor_node", 2, false, true),
    ("node", 0, true, true),
    ("node", 1, true, true),
    ("nodes", 0, false, true),
    ("nodes", 1, false, true),
    ("nodes", 2, false, false),
    ("now", 0, false, true),
    ("open_port", 2, false, true),
    ("pid_to_list", 1, false, true),
    ("port_close", 1, false, true),
    ("port_command", 2, false, true),
    ("port_command", 3, false, false),
    ("port_connect", 2, false, true),
    ("port_control", 3, false, true),
    ("port_to_list", 1, false, false),
    ("pre_loaded", 0, false, true),
    ("process_flag", 2, false, true),
    ("process_flag", 3, false, true),
    ("process_info", 1, false, true),
    ("process_info", 2, false, true),
    ("processes", 0, false, true),
    ("purge_module", 1, false, true),
    ("put", 2, false, true),
    ("ref_to_list", 1, false, false),
    ("register", 2, false, true),
    ("registered", 0, false, true),
    ("round", 1, true, true),
    ("self", 0, true, true),
    ("setelement", 3, false, true),
    ("size", 1, true, true),
    ("spawn", 1, false, true),
    ("spawn", 2, false, true),
    ("spawn", 3, false, true),
    ("spawn", 4, false, true),
    ("spawn_link", 1, false, true),
    ("spawn_link", 2, false, true),
    ("spawn_link", 3, false, true),
    ("spawn_link", 4, false, true),
    ("spawn_monitor", 1, false, true),
    ("spawn_monitor", 2, false, false),
    ("spawn_monitor", 3, false, true),
    ("spawn_monitor", 4, false, false),
    ("spawn_opt", 2, false, true),
    ("spawn_opt", 3, false, true),
    ("spawn_opt", 4, false, true),
    ("spawn_opt", 5, false, true),
    ("spawn_request", 1, false, false),
    ("spawn_request", 2, false, false),
    ("spawn_request", 3, false, false),
    ("spawn_request", 4, false, false),
    ("spawn_request", 5, false, false),
    ("spawn_request_abandon", 1, false, false),
    ("split_binary", 2, false, true),
    ("statistics", 1, false, true),
    ("term_to_binary", 1, false, true),
    ("term_to_binary", 2, false, true),
    ("term_to_iovec", 1, false, false),
    ("term_to_iovec", 2, false, false),
    ("throw", 1, false, true),
    ("time", 0, false, true),
    ("tl", 1, true, true),
    ("trunc", 1, true, true),
    ("tuple_size", 1, true, true),
    ("tuple_to_list", 1, false, true),
    ("unalias", 1, false, false),
    ("unlink", 1, false, true),
    ("unregister", 1, false, true),
    ("whereis", 1, false, true),
];

fn lookup(name: &str, arity: usize) -> Option<&'static (&'static str, u8, bool, bool)> {
    AUTO_IMPORTED.binary_search_by(|(n, a, _, _)| (*n, *a as usize).cmp(&(name, arity))).ok().map(|i| &AUTO_IMPORTED[i])
}

/// `erlang:name/arity` is callable as plain `name(...)`.
pub fn is_auto_imported(name: &str, arity: usize) -> bool {
    lookup(name, arity).is_some()
}

/// `erlang:name/arity` may be called in a guard.
pub fn is_guard_bif(name: &str, arity: usize) -> bool {
    lookup(name, arity).is_some_and(|b| b.2)
}

/// Auto-imported before R14: a local function of this name and arity makes
/// every unqualified call an error unless `no_auto_import` names it.
pub fn is_old_bif(name: &str, arity: usize) -> bool {
    lookup(name, arity).is_some_and(|b| b.3)
}

/// The type tests (`is_atom/1`, ...) allowed as guard tests; also the
/// deprecated test names without `is_` are not supported.
pub fn is_type_test(name: &str, arity: usize) -> bool {
    matches!(
        (name, arity),
        ("float", 1)
            | ("is_atom", 1)
            | ("is_binary", 1)
            | ("is_bitstring", 1)
            | ("is_boolean", 1)
            | ("is_float", 1)
            | ("is_function", 1)
            | ("is_function", 2)
            | ("is_integer", 1)
            | ("is_list", 1)
            | ("is_map", 1)
            | ("is_number", 1)
            | ("is_pid", 1)
            | ("is_port", 1)
            | ("is_record", 2)
            | ("is_record", 3)
            | ("is_reference", 1)
            | ("is_tuple", 1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn table_is_sorted_and_answers() {
        assert!(AUTO_IMPORTED.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));
        assert!(is_auto_imported("length", 1));
        assert!(is_guard_bif("length", 1));
        assert!(is_old_bif("length", 1));
        assert!(is_auto_imported("min", 2) && !is_old_bif("min", 2) && !is_guard_bif("min", 2));
        assert!(!is_auto_imported("foo", 1));
        assert!(!is_guard_bif("spawn", 1));
    }
}

/// The operators callable as `erlang:Op/N` (allowed in guards, and
/// implemented by the VM as BIFs).
pub fn is_operator(name: &str, arity: usize) -> bool {
    match arity {
        1 => matches!(name, "-" | "+" | "not" | "bnot"),
        2 => matches!(
            name,
            "+" | "-"
                | "*"
                | "/"
                | "div"
                | "rem"
                | "band"
                | "bor"
                | "bxor"
                | "bsl"
                | "bsr"
                | "and"
                | "or"
                | "xor"
                | "=="
                | "/="
                | "=:="
                | "=/="
                | "<"
                | ">"
                | "=<"
                | ">="
        ),
        _ => false,
    }
}
