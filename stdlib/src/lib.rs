//! The standard library modules written in minierl (`lib/*.mrl`), compiled by
//! `build.rs` with minierl's own compiler and embedded as bytecode files.
//! The VM loads one from here the first time it is called.

include!(concat!(env!("OUT_DIR"), "/modules.rs"));

/// The compiled module file of `name`, if the standard library has it.
pub fn module(name: &str) -> Option<&'static [u8]> {
    MODULES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_module_decodes_and_verifies() {
        assert!(!super::MODULES.is_empty());
        for (name, bytes) in super::MODULES {
            let m = minierl_bytecode::decode(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(m.name(), *name);
            minierl_bytecode::verify(&m).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
