//! Parallel moves: put a set of values into x registers at once (call
//! arguments), ordering the `Move`s so no source is overwritten before it is
//! read and breaking cycles with `Swap`.

use minierl_bytecode::{Dst, Instr, Src};

/// Instructions that perform every `(src, dst)` move "at the same time".
/// Destinations must be distinct.
pub fn parallel_moves(moves: &[(Src, u16)]) -> Vec<Instr> {
    let mut pending: Vec<(Src, u16)> = moves.iter().copied().filter(|(s, d)| *s != Src::X(*d)).collect();
    let mut out = Vec::new();
    while !pending.is_empty() {
        // A move whose destination no other pending move still reads.
        let free = (0..pending.len()).find(|&i| {
            let d = pending[i].1;
            !pending.iter().enumerate().any(|(j, (s, _))| j != i && *s == Src::X(d))
        });
        if let Some(i) = free {
            let (s, d) = pending.remove(i);
            out.push(Instr::Move { src: s, dst: Dst::X(d) });
            continue;
        }
        // Every destination is still read: follow "my destination is read
        // by" edges from any move until one repeats; that move is on a cycle,
        // so its source is an x register.
        let mut i = 0;
        let mut seen = vec![false; pending.len()];
        while !seen[i] {
            seen[i] = true;
            let d = pending[i].1;
            i = pending.iter().position(|(s, _)| *s == Src::X(d)).expect("a blocked move is read");
        }
        let (s, b) = pending.remove(i);
        let Src::X(a) = s else { unreachable!("a move on a cycle reads a register") };
        out.push(Instr::Swap { a: Dst::X(a), b: Dst::X(b) });
        for (s2, _) in pending.iter_mut() {
            if *s2 == Src::X(b) {
                *s2 = Src::X(a);
            } else if *s2 == Src::X(a) {
                *s2 = Src::X(b);
            }
        }
        pending.retain(|(s, d)| *s != Src::X(*d));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run the moves on a register file and check the result.
    fn check(moves: &[(Src, u16)]) {
        let mut regs: Vec<i64> = (0..10).collect();
        let before = regs.clone();
        for i in parallel_moves(moves) {
            match i {
                Instr::Move { src, dst: Dst::X(d) } => {
                    regs[d as usize] = match src {
                        Src::X(r) => regs[r as usize],
                        Src::Int(n) => n,
                        _ => unreachable!(),
                    }
                }
                Instr::Swap { a: Dst::X(a), b: Dst::X(b) } => regs.swap(a as usize, b as usize),
                _ => unreachable!(),
            }
        }
        for (s, d) in moves {
            let want = match s {
                Src::X(r) => before[*r as usize],
                Src::Int(n) => *n,
                _ => unreachable!(),
            };
            assert_eq!(regs[*d as usize], want, "{moves:?}");
        }
    }

    #[test]
    fn cycles_chains_and_fanout() {
        check(&[(Src::X(1), 0), (Src::X(0), 1)]);
        check(&[(Src::X(1), 0), (Src::X(2), 1), (Src::X(0), 2)]);
        check(&[(Src::X(0), 1), (Src::X(1), 2), (Src::Int(7), 0)]);
        check(&[(Src::X(3), 0), (Src::X(3), 1), (Src::X(0), 3), (Src::X(1), 4)]);
        check(&[(Src::X(1), 0), (Src::X(0), 1), (Src::X(3), 2), (Src::X(2), 3), (Src::X(0), 4)]);
    }
}
