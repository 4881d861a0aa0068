//! minierl's bytecode, shared by the compiler (which writes it) and the VM
//! (which loads it): the generic instruction set, the compiled-module
//! structure, the file format and the verifier. The compiler never depends
//! on the VM; both depend on this crate.

pub mod file;
pub mod instr;
pub mod module;
pub mod verify;

pub use file::{decode, encode, DecodeError, FORMAT_VERSION, MAGIC};
pub use instr::*;
pub use module::*;
pub use verify::{verify, VerifyError};

/// The most x registers an instruction may name. BEAM allows 1024; a
/// function of more than 255 arguments is not valid Erlang, and the
/// compiler's temporaries stay far below this.
pub const MAX_X_REGS: u16 = 1024;

#[cfg(test)]
mod tests {
    use super::*;

    /// `id(X) -> X.` exported, as the compiler would emit it.
    fn tiny() -> Module {
        Module {
            atoms: vec!["m".into(), "id".into()],
            literals: vec![],
            imports: vec![],
            exports: vec![Export { function: AtomIdx(1), arity: 1, label: Label(1) }],
            functions: vec![Function { name: AtomIdx(1), arity: 1, info: Label(0), entry: Label(1), line: 1 }],
            lambdas: vec![],
            code: vec![Instr::FuncInfo { func: FuncIdx(0) }, Instr::Return],
            lines: vec![LineEntry { pc: 0, line: 1 }],
            source: "m.mrl".into(),
            vsn: 0,
            attributes: vec![],
        }
    }

    #[test]
    fn roundtrip_and_verify() {
        let m = tiny();
        let bytes = encode(&m);
        let back = decode(&bytes).unwrap();
        assert_eq!(back, m);
        verify(&back).unwrap();
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = encode(&tiny());
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n]).is_err(), "prefix of {n} bytes decoded");
        }
    }

    #[test]
    fn corrupt_bytes_never_panic() {
        let bytes = encode(&tiny());
        for i in 0..bytes.len() {
            for v in [0u8, 1, 0x7f, 0xff] {
                let mut b = bytes.clone();
                b[i] = v;
                if let Ok(m) = decode(&b) {
                    let _ = verify(&m);
                }
            }
        }
    }

    #[test]
    fn other_version_is_rejected() {
        let mut bytes = encode(&tiny());
        bytes[4] = 99;
        assert!(matches!(decode(&bytes), Err(DecodeError::Version { found: 99, .. })));
    }

    #[test]
    fn verifier_rejects_undefined_register_and_frame_errors() {
        let mut m = tiny();
        m.code[1] = Instr::Move { src: Src::X(3), dst: Dst::X(0) };
        m.code.push(Instr::Return);
        assert!(verify(&m).is_err());
        let mut m = tiny();
        m.code = vec![Instr::FuncInfo { func: FuncIdx(0) }, Instr::Allocate { stack: 1, live: 1 }, Instr::Return];
        assert!(verify(&m).is_err(), "return with a frame");
        let mut m = tiny();
        m.code =
            vec![Instr::FuncInfo { func: FuncIdx(0) }, Instr::Move { src: Src::Y(0), dst: Dst::X(0) }, Instr::Return];
        assert!(verify(&m).is_err(), "y without frame");
    }

    #[test]
    fn instruction_size_is_pinned() {
        // The generic form is only a file format; the VM has its own.
        assert!(std::mem::size_of::<Instr>() <= 64);
    }
}
