//! BIFs: the `math` module, as OTP 25 has it. An argument that is not a
//! number is `badarg`; an integer too large for a float, or a result that
//! is not a finite float (`math:log(0)`, `math:sqrt(-1)`, overflow), is
//! `badarith`.

use super::{bif, BifDef};
use crate::process::{BifResult, Exc, Process};
use crate::term::Term;

extern "C" {
    // From the C library's libm (std links it on every Unix target).
    fn erf(x: f64) -> f64;
    fn erfc(x: f64) -> f64;
}

pub const BIFS: &[BifDef] = &[
    bif("math", "pi", 0, |p, _| Ok(p.heap.float(std::f64::consts::PI))),
    bif("math", "sqrt", 1, |p, a| f1(p, a, f64::sqrt)),
    bif("math", "exp", 1, |p, a| f1(p, a, f64::exp)),
    bif("math", "log", 1, |p, a| f1(p, a, f64::ln)),
    bif("math", "log2", 1, |p, a| f1(p, a, f64::log2)),
    bif("math", "log10", 1, |p, a| f1(p, a, f64::log10)),
    bif("math", "sin", 1, |p, a| f1(p, a, f64::sin)),
    bif("math", "cos", 1, |p, a| f1(p, a, f64::cos)),
    bif("math", "tan", 1, |p, a| f1(p, a, f64::tan)),
    bif("math", "asin", 1, |p, a| f1(p, a, f64::asin)),
    bif("math", "acos", 1, |p, a| f1(p, a, f64::acos)),
    bif("math", "atan", 1, |p, a| f1(p, a, f64::atan)),
    bif("math", "sinh", 1, |p, a| f1(p, a, f64::sinh)),
    bif("math", "cosh", 1, |p, a| f1(p, a, f64::cosh)),
    bif("math", "tanh", 1, |p, a| f1(p, a, f64::tanh)),
    bif("math", "asinh", 1, |p, a| f1(p, a, f64::asinh)),
    bif("math", "acosh", 1, |p, a| f1(p, a, f64::acosh)),
    bif("math", "atanh", 1, |p, a| f1(p, a, f64::atanh)),
    // SAFETY (both): libm's erf/erfc are pure functions of one double, defined
    // for every input (NaN and infinities included); no memory is involved.
    bif("math", "erf", 1, |p, a| f1(p, a, |x| unsafe { erf(x) })),
    bif("math", "erfc", 1, |p, a| f1(p, a, |x| unsafe { erfc(x) })),
    bif("math", "floor", 1, |p, a| f1(p, a, f64::floor)),
    bif("math", "ceil", 1, |p, a| f1(p, a, f64::ceil)),
    bif("math", "pow", 2, |p, a| f2(p, a, f64::powf)),
    bif("math", "atan2", 2, |p, a| f2(p, a, f64::atan2)),
    bif("math", "fmod", 2, |p, a| f2(p, a, |x, y| x % y)),
];

/// A number argument as a float: badarg if not a number, badarith if an
/// integer too large for a float.
fn arg(t: Term) -> Result<f64, Exc> {
    if !t.is_number() {
        return Err(Exc::badarg());
    }
    t.to_f64().ok_or_else(Exc::badarith)
}

fn result(p: &mut Process, r: f64) -> BifResult {
    if r.is_finite() {
        Ok(p.heap.float(r))
    } else {
        Err(Exc::badarith())
    }
}

fn f1(p: &mut Process, a: &[Term], f: fn(f64) -> f64) -> BifResult {
    let x = arg(a[0])?;
    result(p, f(x))
}

fn f2(p: &mut Process, a: &[Term], f: fn(f64, f64) -> f64) -> BifResult {
    let (x, y) = (arg(a[0])?, arg(a[1])?);
    result(p, f(x, y))
}

#[cfg(test)]
mod tests {
    #[test]
    fn libm_functions_link() {
        assert!((unsafe { super::erf(0.5) } - 0.5204998778130465).abs() < 1e-15);
        assert_eq!(unsafe { super::erfc(0.0) }, 1.0);
    }
}
