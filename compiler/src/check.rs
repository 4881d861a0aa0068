//! The semantic checks of OTP 25's `erl_lint`, with its message texts and
//! positions: variable scoping (unbound, unsafe after `case`/`if`/`receive`/
//! `try`/`catch`/`andalso`/`orelse`, shadowing in funs and generators,
//! unused), functions (undefined, already defined, exported but undefined,
//! unused, calls that clash with auto-imported BIFs), records (undefined,
//! duplicate, unknown fields, unused), guards (only guard expressions), maps
//! (`:=` in construction) and the module declaration.
//!
//! Scoping follows erl_lint: a variable bound in every clause of a
//! `case`/`if`/`receive` is bound after it; bound in only some, it is
//! "unsafe" there and using it is an error. Everything bound inside a `try`
//! or a `catch` is unsafe after it. Funs and comprehensions bind nothing
//! outside themselves; their heads and generators shadow outer variables.
//!
//! Each binding gets an id; "used" is recorded per id, so a use inside a
//! branch counts for the binding made outside, and a variable bound in
//! several clauses is used when any of its bindings is.

use crate::ast::*;
use crate::bifs;
use crate::diag::{line_col, Diagnostic};
use crate::parse::op_offset;
use crate::Options;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

#[derive(Clone, Debug, PartialEq)]
enum State {
    Bound,
    /// Unsafe after the construct named, whose position is given.
    Unsafe(&'static str, Span),
}

#[derive(Clone, Debug)]
struct Var {
    ids: Vec<usize>,
    state: State,
}

type Vt = BTreeMap<String, Var>;

struct Binding {
    name: String,
    at: Span,
    used: bool,
}

#[derive(Default)]
struct Record {
    fields: Vec<String>,
    used: bool,
}

struct Checker<'a> {
    src: &'a str,
    diags: Vec<Diagnostic>,
    bindings: Vec<Binding>,
    /// Local functions: (name, arity) → the span of the first definition.
    functions: HashMap<(String, usize), Span>,
    imports: HashMap<(String, usize), String>,
    no_auto_import: HashSet<(String, usize)>,
    no_auto_import_all: bool,
    records: HashMap<String, Record>,
    /// Local functions each function calls or refers to (for "unused").
    calls: HashMap<(String, usize), BTreeSet<(String, usize)>>,
    current: Option<(String, usize)>,
}

impl<'a> Checker<'a> {
    fn new(src: &'a str) -> Checker<'a> {
        Checker {
            src,
            diags: Vec::new(),
            bindings: Vec::new(),
            functions: HashMap::new(),
            imports: HashMap::new(),
            no_auto_import: HashSet::new(),
            no_auto_import_all: false,
            records: HashMap::new(),
            calls: HashMap::new(),
            current: None,
        }
    }
}

/// Runs the checks on a parsed module; returns errors and warnings.
pub fn check(m: &Module, file_name: &str, source: &str, opts: &Options) -> Vec<Diagnostic> {
    let _ = file_name;
    let mut c = Checker::new(source);
    c.module(m, opts);
    c.diags
}

/// The shell's checks: `body` is checked as a function body in which
/// `bound` are already bound (the shell's bindings). Returns the errors
/// and the variables bound after it (sorted; not those left unsafe).
pub fn check_shell_exprs(body: &[Expr], bound: &[String], source: &str) -> (Vec<Diagnostic>, Vec<String>) {
    let mut c = Checker::new(source);
    let mut vt = Vt::new();
    for name in bound {
        let id = c.new_binding(name, Span::default());
        c.bindings[id].used = true;
        vt.insert(name.clone(), Var { ids: vec![id], state: State::Bound });
    }
    c.exprs(body, &mut vt);
    let after = vt.into_iter().filter(|(_, v)| v.state == State::Bound).map(|(n, _)| n).collect();
    let errors = c.diags.into_iter().filter(|d| d.severity == crate::Severity::Error).collect();
    (errors, after)
}

/// "Module name 'x' does not match file name 'y'": erlc checks it only when
/// the module compiled without errors, and so should the caller.
pub fn module_name_mismatch(m: &Module, file_name: &str) -> Option<Diagnostic> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let stem = base.strip_suffix(".mrl").or_else(|| base.strip_suffix(".erl")).unwrap_or(base);
    m.forms.iter().find_map(|f| match f {
        Form::Module(n) if n.name != stem => Some(Diagnostic::error(
            "E0411",
            n.span,
            format!("Module name '{}' does not match file name '{}'", n.name, stem),
        )),
        _ => None,
    })
}

/// Erlang's `~w` of an atom in messages: quoted when needed.
fn atom(a: &str) -> String {
    crate::lexer::write_atom(a)
}

fn point(at: usize) -> Span {
    Span::new(at, at + 1)
}

impl<'a> Checker<'a> {
    fn error(&mut self, code: &'static str, at: Span, msg: String) {
        self.diags.push(Diagnostic::error(code, at, msg));
    }
    fn warning(&mut self, code: &'static str, at: Span, msg: String) {
        self.diags.push(Diagnostic::warning(code, at, msg));
    }

    /// An attribute's position as erlc gives it: the name after the `-`.
    fn attr_pos(&self, span: Span) -> Span {
        point(op_offset(self.src, span.start as usize + 1))
    }

    /// The `#` before a record name (erlc places record errors there).
    fn hash_pos(&self, name: &Name) -> Span {
        let b = self.src.as_bytes();
        let mut i = (name.span.start as usize).min(b.len());
        while i > 0 {
            i -= 1;
            match b[i] {
                b'#' => return point(i),
                b' ' | b'\t' | b'\r' | b'\n' => continue,
                _ => break,
            }
        }
        name.span
    }

    fn module(&mut self, m: &Module, opts: &Options) {
        let mut export_all = opts.export_all;
        let mut nowarn_export_all = false;
        let mut nowarn_unused_function = false;
        let mut nowarn_unused_vars = false;
        let mut nowarn_unused_record = false;
        let mut has_module = false;
        let mut export_all_at = None;
        // Attributes other than records after the first function are errors
        // (erl_lint's function_state), and are then ignored.
        let mut seen_function = false;
        let mut late_attrs: HashSet<usize> = HashSet::new();
        for (i, f) in m.forms.iter().enumerate() {
            let name = match f {
                Form::Function(_) => {
                    seen_function = true;
                    continue;
                }
                Form::Record(..) => continue,
                Form::Attribute(n, ..) if n.name == "dialyzer" => continue,
                Form::Module(_) => "module",
                Form::Export(..) => "export",
                Form::Import(..) => "import",
                Form::Compile(..) => "compile",
                Form::Attribute(n, ..) => n.name.as_str(),
            };
            if seen_function {
                let at = match f {
                    Form::Module(n) => {
                        self.attr_pos(Span::new(n.span.start.saturating_sub(8) as usize, n.span.end as usize))
                    }
                    other => self.attr_pos(form_span(other)),
                };
                self.error("E0405", at, format!("attribute {} after function definitions", atom(name)));
                late_attrs.insert(i);
            }
        }
        // Declarations first: records, imports, options, function names.
        for (i, f) in m.forms.iter().enumerate() {
            if late_attrs.contains(&i) {
                continue;
            }
            match f {
                Form::Module(_) => has_module = true,
                Form::Compile(e, span) => {
                    for opt in compile_options(e) {
                        match opt {
                            CompileOpt::Flag(f) => match f.as_str() {
                                "export_all" => {
                                    export_all = true;
                                    export_all_at.get_or_insert(*span);
                                }
                                "nowarn_export_all" => nowarn_export_all = true,
                                "nowarn_unused_function" => nowarn_unused_function = true,
                                "nowarn_unused_vars" => nowarn_unused_vars = true,
                                "nowarn_unused_record" => nowarn_unused_record = true,
                                "no_auto_import" => self.no_auto_import_all = true,
                                _ => {}
                            },
                            CompileOpt::NoAutoImport(fs) => self.no_auto_import.extend(fs),
                        }
                    }
                }
                Form::Import(module, fs, span) => {
                    for f in fs {
                        let key = (f.name.clone(), f.arity as usize);
                        if let Some(prev) = self.imports.get(&key) {
                            let msg =
                                format!("function {}/{} already imported from {}", atom(&f.name), f.arity, atom(prev));
                            let at = self.attr_pos(*span);
                            self.error("E0406", at, msg);
                            continue;
                        }
                        self.imports.insert(key, module.name.clone());
                    }
                }
                Form::Record(name, fields, span) => {
                    if self.records.contains_key(&name.name) {
                        let at = self.attr_pos(*span);
                        self.error("E0420", at, format!("record {} already defined", atom(&name.name)));
                        continue;
                    }
                    let mut seen = Vec::new();
                    for fd in fields {
                        if seen.contains(&fd.name.name) {
                            let msg =
                                format!("field {} already defined in record {}", atom(&fd.name.name), atom(&name.name));
                            self.error("E0421", fd.name.span, msg);
                        } else {
                            seen.push(fd.name.name.clone());
                        }
                    }
                    self.records.insert(name.name.clone(), Record { fields: seen, used: false });
                }
                Form::Function(func) => {
                    let key = (func.name.clone(), func.arity as usize);
                    if self.functions.contains_key(&key) {
                        let msg = format!("function {}/{} already defined", atom(&func.name), func.arity);
                        self.error("E0401", point(func.span.start as usize), msg);
                    } else {
                        if self.imports.contains_key(&key) {
                            let msg = format!("defining imported function {}/{}", atom(&func.name), func.arity);
                            self.error("E0407", point(func.span.start as usize), msg);
                        }
                        self.functions.insert(key, func.span);
                    }
                }
                _ => {}
            }
        }
        if !has_module {
            let at = match m.forms.first() {
                Some(Form::Function(f)) => point(f.span.start as usize),
                Some(f) => self.attr_pos(form_span(f)),
                None => point(0),
            };
            let d = Diagnostic::error("E0410", at, "no module definition")
                .with_hint("a module starts with -module(NAME). where NAME is the file name without .mrl");
            self.diags.push(d);
        }
        if let (Some(at), false) = (export_all_at, nowarn_export_all) {
            let at = self.attr_pos(at);
            self.warning("W0403", at, "export_all flag enabled - all functions will be exported".to_string());
        }

        // Record defaults, then the functions.
        for f in &m.forms {
            if let Form::Record(_, fields, _) = f {
                for fd in fields {
                    if let Some(d) = &fd.default {
                        let mut vt = Vt::new();
                        let mark = self.bindings.len();
                        self.expr(d, &mut vt);
                        self.bindings.truncate(mark);
                    }
                }
            }
        }
        let mut defined_once = HashSet::new();
        for f in &m.forms {
            if let Form::Function(func) = f {
                let key = (func.name.clone(), func.arity as usize);
                // A duplicate definition is reported once and not checked again.
                if !defined_once.insert(key.clone()) {
                    continue;
                }
                self.current = Some(key.clone());
                self.calls.entry(key).or_default();
                for cl in &func.clauses {
                    self.function_clause(cl, nowarn_unused_vars);
                }
                self.current = None;
            }
        }

        // Exports.
        let mut exported = Vec::new();
        for (i, f) in m.forms.iter().enumerate() {
            if late_attrs.contains(&i) {
                continue;
            }
            if let Form::Export(fs, span) = f {
                for fname in fs {
                    let key = (fname.name.clone(), fname.arity as usize);
                    if exported.contains(&key) {
                        let at = self.attr_pos(*span);
                        let msg = format!("function {}/{} already exported", atom(&fname.name), fname.arity);
                        self.warning("W0406", at, msg);
                        continue;
                    }
                    if !self.functions.contains_key(&key) {
                        let at = self.attr_pos(*span);
                        let msg = format!("function {}/{} undefined", atom(&fname.name), fname.arity);
                        self.error("E0402", at, msg);
                    }
                    exported.push(key);
                }
            }
        }
        // Unused functions: those no exported function reaches.
        if !export_all && !nowarn_unused_function {
            let mut reached: HashSet<(String, usize)> = HashSet::new();
            let mut stack: Vec<(String, usize)> = exported.clone();
            for f in &m.forms {
                if let Form::Attribute(n, e, _) = f {
                    if n.name == "on_load" {
                        if let ExprKind::BinOp(BinOp::FDiv, f, a) = &e.kind {
                            if let (ExprKind::Atom(f), ExprKind::Int(a)) = (&f.kind, &a.kind) {
                                stack.push((f.clone(), a.to_string().parse().unwrap_or(0)));
                            }
                        }
                    }
                }
            }
            while let Some(k) = stack.pop() {
                if reached.insert(k.clone()) {
                    if let Some(cs) = self.calls.get(&k) {
                        stack.extend(cs.iter().cloned());
                    }
                }
            }
            let mut unused: Vec<_> = self.functions.iter().filter(|(k, _)| !reached.contains(*k)).collect();
            unused.sort_by_key(|(_, s)| s.start);
            let unused: Vec<_> = unused.into_iter().map(|(k, s)| (k.clone(), *s)).collect();
            for ((name, arity), span) in unused {
                self.warning(
                    "W0401",
                    point(span.start as usize),
                    format!("function {}/{} is unused", atom(&name), arity),
                );
            }
        }
        if !nowarn_unused_record {
            let mut unused = Vec::new();
            for f in &m.forms {
                if let Form::Record(name, _, span) = f {
                    if self.records.get(&name.name).is_some_and(|r| !r.used) {
                        unused.push((name.name.clone(), *span));
                    }
                }
            }
            for (name, span) in unused {
                let at = self.attr_pos(span);
                self.warning("W0404", at, format!("record {} is unused", atom(&name)));
            }
        }
    }

    fn function_clause(&mut self, cl: &Clause, nowarn_unused: bool) {
        let mut vt = Vt::new();
        let mark = self.bindings.len();
        let mut seen = HashSet::new();
        for p in &cl.params {
            self.pattern(p, &mut vt, &mut seen, PatMode::Match);
        }
        self.guard(&cl.guard, &mut vt);
        self.exprs(&cl.body, &mut vt);
        self.unused_since(mark, nowarn_unused);
    }

    /// Warns about bindings made since `mark` that nobody used.
    fn unused_since(&mut self, mark: usize, silent: bool) {
        if silent {
            return;
        }
        let mut ws = Vec::new();
        for b in &mut self.bindings[mark..] {
            if !b.used && !b.name.starts_with('_') {
                ws.push((b.at, b.name.clone()));
                // Reported once, by the innermost scope that ends.
                b.used = true;
            }
        }
        for (at, name) in ws {
            self.warning("W0402", at, format!("variable {} is unused", quote_var(&name)));
        }
    }

    fn new_binding(&mut self, name: &str, at: Span) -> usize {
        self.bindings.push(Binding { name: name.to_string(), at, used: false });
        self.bindings.len() - 1
    }

    fn mark_used(&mut self, v: &Var) {
        for &id in &v.ids {
            if let Some(b) = self.bindings.get_mut(id) {
                b.used = true;
            }
        }
    }

    fn use_var(&mut self, name: &str, at: Span, vt: &mut Vt) {
        if name == "_" {
            self.error("E0501", at, "variable '_' is unbound".to_string());
            return;
        }
        match vt.get(name).cloned() {
            Some(v) => {
                self.mark_used(&v);
                if let State::Unsafe(kind, where_) = v.state {
                    let (l, c) = line_col(self.src, where_.start as usize);
                    let msg = format!("variable {} unsafe in '{}' (line {}, column {})", quote_var(name), kind, l, c);
                    let hint = match kind {
                        "try" | "catch" => format!("a variable bound inside '{kind}' may be unbound after it; bind it before, or return its value"),
                        _ => format!("it is not bound in every branch of the '{kind}'; bind it in all of them, or before the '{kind}'"),
                    };
                    self.diags.push(Diagnostic::error("E0502", at, msg).with_hint(hint));
                }
            }
            None => {
                self.error("E0501", at, format!("variable {} is unbound", quote_var(name)));
                // Bound from here on, so one mistake gives one error.
                let id = self.new_binding(name, at);
                self.bindings[id].used = true;
                vt.insert(name.to_string(), Var { ids: vec![id], state: State::Bound });
            }
        }
    }

    fn exprs(&mut self, es: &[Expr], vt: &mut Vt) {
        for e in es {
            self.expr(e, vt);
        }
    }

    fn call_local(&mut self, name: &Name, arity: usize, at: Span) {
        let key = (name.name.clone(), arity);
        let local = self.functions.contains_key(&key);
        let auto = bifs::is_auto_imported(&name.name, arity)
            && !self.no_auto_import_all
            && !self.no_auto_import.contains(&key);
        if local {
            if auto {
                let old = bifs::is_old_bif(&name.name, arity);
                let msg = format!(
                    "ambiguous call of overridden {}auto-imported BIF {}/{}\n - use erlang:{}/{} or \"-compile({{no_auto_import,[{}/{}]}}).\" to resolve name clash",
                    if old { "pre R14 " } else { "" },
                    atom(&name.name),
                    arity,
                    atom(&name.name),
                    arity,
                    atom(&name.name),
                    arity
                );
                if old {
                    self.error("E0404", at, msg);
                } else {
                    self.warning("W0405", at, msg);
                }
            }
            if let Some(cur) = self.current.clone() {
                self.calls.entry(cur).or_default().insert(key);
            }
        } else if self.imports.contains_key(&key) || auto {
        } else {
            let d = Diagnostic::error("E0403", at, format!("function {}/{} undefined", atom(&name.name), arity))
                .with_hint("define it in this module, or call it in another module as module:function(...)");
            self.diags.push(d);
        }
    }

    fn record(&mut self, name: &Name, at: Span) -> bool {
        match self.records.get_mut(&name.name) {
            Some(r) => {
                r.used = true;
                true
            }
            None => {
                self.error("E0422", at, format!("record {} undefined", atom(&name.name)));
                false
            }
        }
    }

    fn field(&mut self, rec: &Name, field: &Name) {
        let known = self.records.get(&rec.name).is_some_and(|r| r.fields.contains(&field.name));
        if !known && field.name != "_" {
            let msg = format!("field {} undefined in record {}", atom(&field.name), atom(&rec.name));
            self.error("E0423", field.span, msg);
        }
    }

    fn record_fields(&mut self, rec: &Name, fields: &[RecordFieldExpr], vt: &mut Vt, exists: bool) {
        let mut seen = Vec::new();
        for f in fields {
            if exists {
                if seen.contains(&f.name.name) {
                    let msg = format!("field {} already defined in record {}", atom(&f.name.name), atom(&rec.name));
                    self.error("E0421", f.name.span, msg);
                } else {
                    seen.push(f.name.name.clone());
                    self.field(rec, &f.name);
                }
            }
            self.expr(&f.value, vt);
        }
    }

    fn expr(&mut self, e: &Expr, vt: &mut Vt) {
        match &e.kind {
            ExprKind::Var(v) => self.use_var(v, e.span, vt),
            ExprKind::Atom(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::String(_) | ExprKind::Nil => {}
            ExprKind::Tuple(es) => self.exprs(es, vt),
            ExprKind::Cons(..) => {
                // Iterative along the tail: literal lists can be very long.
                let mut cur = e;
                while let ExprKind::Cons(h, t) = &cur.kind {
                    self.expr(h, vt);
                    cur = t;
                }
                self.expr(cur, vt);
            }
            ExprKind::Binary(elems) => {
                for el in elems {
                    self.expr(&el.value, vt);
                    if let Some(s) = &el.size {
                        self.expr(s, vt);
                    }
                }
            }
            ExprKind::Map(fields) => {
                for f in fields {
                    if f.exact {
                        let msg = "only association operators '=>' are allowed in map construction".to_string();
                        self.error("E0430", f.span, msg);
                    }
                    self.expr(&f.key, vt);
                    self.expr(&f.value, vt);
                }
            }
            ExprKind::MapUpdate(m, fields) => {
                self.expr(m, vt);
                for f in fields {
                    self.expr(&f.key, vt);
                    self.expr(&f.value, vt);
                }
            }
            ExprKind::Record(name, fields) => {
                let ok = self.record(name, e.span);
                self.record_fields(name, fields, vt, ok);
            }
            ExprKind::RecordUpdate(base, name, fields) => {
                self.expr(base, vt);
                let at = self.hash_pos(name);
                let ok = self.record(name, at);
                self.record_fields(name, fields, vt, ok);
            }
            ExprKind::RecordField(base, name, field) => {
                self.expr(base, vt);
                let at = self.hash_pos(name);
                if self.record(name, at) {
                    self.field(name, field);
                }
            }
            ExprKind::RecordIndex(name, field) => {
                if self.record(name, e.span) {
                    self.field(name, field);
                }
            }
            ExprKind::Match(p, rhs) => {
                self.expr(rhs, vt);
                let mut seen = HashSet::new();
                self.pattern(p, vt, &mut seen, PatMode::Match);
            }
            ExprKind::BinOp(op @ (BinOp::AndAlso | BinOp::OrElse), a, b) => {
                self.expr(a, vt);
                let at = point(op_offset(self.src, a.span.end as usize));
                let kind = if *op == BinOp::AndAlso { "andalso" } else { "orelse" };
                self.unsafe_scope(kind, at, vt, |c, vt| c.expr(b, vt));
            }
            ExprKind::BinOp(_, a, b) => {
                self.expr(a, vt);
                self.expr(b, vt);
            }
            ExprKind::UnOp(_, a) => self.expr(a, vt),
            ExprKind::LocalCall(name, args) if name.name == "record_info" && args.len() == 2 => {
                // Not a call: `record_info(fields | size, R)` is replaced by
                // the record's field names or size at compile time.
                match (&args[0].kind, &args[1].kind) {
                    (ExprKind::Atom(what), ExprKind::Atom(r)) if what == "fields" || what == "size" => {
                        self.record(&Name { name: r.clone(), span: args[1].span }, e.span);
                    }
                    _ => self.error("E0424", args[0].span, "illegal record info".to_string()),
                }
            }
            ExprKind::LocalCall(name, args) => {
                self.call_local(name, args.len(), name.span);
                self.exprs(args, vt);
            }
            ExprKind::RemoteCall(m, f, args) => {
                self.expr(m, vt);
                self.expr(f, vt);
                self.exprs(args, vt);
            }
            ExprKind::FunCall(f, args) => {
                self.expr(f, vt);
                self.exprs(args, vt);
            }
            ExprKind::Case(scrutinee, clauses) => {
                self.expr(scrutinee, vt);
                let base = vt.clone();
                let mut outs = Vec::new();
                for cl in clauses {
                    outs.push(self.clause(cl, &base));
                }
                *vt = self.merge(&base, outs, "case", e.span);
            }
            ExprKind::If(clauses) => {
                let base = vt.clone();
                let mut outs = Vec::new();
                for cl in clauses {
                    outs.push(self.clause(cl, &base));
                }
                *vt = self.merge(&base, outs, "if", e.span);
            }
            ExprKind::Receive(clauses, after) => {
                let base = vt.clone();
                let mut outs = Vec::new();
                for cl in clauses {
                    outs.push(self.clause(cl, &base));
                }
                if let Some(a) = after {
                    let mut avt = base.clone();
                    self.expr(&a.timeout, &mut avt);
                    self.exprs(&a.body, &mut avt);
                    outs.push(avt);
                }
                *vt = self.merge(&base, outs, "receive", e.span);
            }
            ExprKind::Try(t) => self.try_expr(t, e.span, vt),
            ExprKind::Catch(inner) => {
                self.unsafe_scope("catch", e.span, vt, |c, vt| c.expr(inner, vt));
            }
            ExprKind::Block(es) => self.exprs(es, vt),
            ExprKind::Fun(name, clauses, _) => {
                if let Some(n) = name {
                    if let Some(outer) = vt.get(&n.name).cloned() {
                        // erl_lint counts the shadowed variable as used.
                        self.mark_used(&outer);
                        let msg = format!("variable {} shadowed in 'named fun'", quote_var(&n.name));
                        self.warning("W0502", point(e.span.start as usize), msg);
                    }
                }
                for cl in clauses {
                    let mut fvt = vt.clone();
                    let mark = self.bindings.len();
                    if let Some(n) = name {
                        let id = self.new_binding(&n.name, n.span);
                        // The name of a named fun is never reported unused.
                        self.bindings[id].used = true;
                        fvt.insert(n.name.clone(), Var { ids: vec![id], state: State::Bound });
                    }
                    let mut seen = HashSet::new();
                    for p in &cl.params {
                        self.pattern(p, &mut fvt, &mut seen, PatMode::Shadow("fun", vt));
                    }
                    self.guard(&cl.guard, &mut fvt);
                    self.exprs(&cl.body, &mut fvt);
                    self.unused_since(mark, false);
                }
            }
            ExprKind::FunRef(f) => {
                let key = (f.name.clone(), f.arity as usize);
                if self.functions.contains_key(&key) {
                    if let Some(cur) = self.current.clone() {
                        self.calls.entry(cur).or_default().insert(key);
                    }
                } else if !bifs::is_auto_imported(&f.name, f.arity as usize) && !self.imports.contains_key(&key) {
                    self.error(
                        "E0403",
                        point(e.span.start as usize),
                        format!("function {}/{} undefined", atom(&f.name), f.arity),
                    );
                }
            }
            ExprKind::FunRemote(m, f, a) => {
                self.expr(m, vt);
                self.expr(f, vt);
                self.expr(a, vt);
            }
            ExprKind::ListComp(head, quals, _) | ExprKind::BinComp(head, quals, _) => {
                let mut lvt = vt.clone();
                let mark = self.bindings.len();
                for q in quals {
                    match q {
                        Qualifier::Generator(p, src) | Qualifier::BinGenerator(p, src) => {
                            self.expr(src, &mut lvt);
                            let outer = lvt.clone();
                            let mut seen = HashSet::new();
                            self.pattern(p, &mut lvt, &mut seen, PatMode::Shadow("generate", &outer));
                        }
                        Qualifier::Filter(f) => self.expr(f, &mut lvt),
                    }
                }
                self.expr(head, &mut lvt);
                self.unused_since(mark, false);
            }
        }
    }

    /// Checks `f` in a copy of `vt`; the variables it binds are unsafe after.
    fn unsafe_scope(&mut self, kind: &'static str, at: Span, vt: &mut Vt, f: impl FnOnce(&mut Self, &mut Vt)) {
        let base = vt.clone();
        let mut inner = vt.clone();
        f(self, &mut inner);
        for (name, v) in inner {
            if !base.contains_key(&name) {
                let state = match v.state {
                    State::Bound => State::Unsafe(kind, at),
                    s => s,
                };
                vt.insert(name, Var { ids: v.ids, state });
            }
        }
    }

    /// A clause of case/receive/try-of (one pattern) or if (no pattern),
    /// checked from `base`; returns the variables after its body.
    fn clause(&mut self, cl: &Clause, base: &Vt) -> Vt {
        let mut vt = base.clone();
        let mut seen = HashSet::new();
        for p in &cl.params {
            self.pattern(p, &mut vt, &mut seen, PatMode::Match);
        }
        self.guard(&cl.guard, &mut vt);
        self.exprs(&cl.body, &mut vt);
        vt
    }

    /// After a branching construct: new variables bound in every branch are
    /// bound, the others are unsafe.
    fn merge(&mut self, base: &Vt, outs: Vec<Vt>, kind: &'static str, at: Span) -> Vt {
        let mut result = base.clone();
        let mut names: BTreeSet<String> = BTreeSet::new();
        for o in &outs {
            names.extend(o.keys().filter(|k| !base.contains_key(*k)).cloned());
        }
        for name in names {
            let mut ids = Vec::new();
            let mut in_all = true;
            let mut state = State::Bound;
            for o in &outs {
                match o.get(&name) {
                    Some(v) => {
                        ids.extend(v.ids.iter().copied());
                        if state == State::Bound && v.state != State::Bound {
                            state = v.state.clone();
                        }
                    }
                    None => in_all = false,
                }
            }
            if !in_all {
                state = State::Unsafe(kind, at);
            }
            result.insert(name, Var { ids, state });
        }
        result
    }

    fn try_expr(&mut self, t: &Try, at: Span, vt: &mut Vt) {
        let base = vt.clone();
        let mut body_vt = vt.clone();
        self.exprs(&t.body, &mut body_vt);
        let mut all_new: Vec<Vt> = vec![body_vt.clone()];
        for cl in &t.of {
            all_new.push(self.clause(cl, &body_vt));
        }
        // Catch clauses see what the body bound as unsafe.
        let mut catch_base = base.clone();
        for (name, v) in &body_vt {
            if !base.contains_key(name) {
                catch_base.insert(name.clone(), Var { ids: v.ids.clone(), state: State::Unsafe("try", at) });
            }
        }
        for cc in &t.catches {
            let mut cvt = catch_base.clone();
            let mut seen = HashSet::new();
            if let Some(c) = &cc.class {
                self.pattern(c, &mut cvt, &mut seen, PatMode::Match);
            }
            self.pattern(&cc.reason, &mut cvt, &mut seen, PatMode::Match);
            if let Some(s) = &cc.stack {
                if cvt.contains_key(&s.name) {
                    // erl_lint: the stacktrace variable must be new.
                    let (l, c) = line_col(self.src, s.span.start as usize);
                    let _ = (l, c);
                    self.error("E0503", s.span, format!("variable {} is already bound", quote_var(&s.name)));
                } else {
                    let id = self.new_binding(&s.name, s.span);
                    cvt.insert(s.name.clone(), Var { ids: vec![id], state: State::Bound });
                }
            }
            self.guard(&cc.guard, &mut cvt);
            self.exprs(&cc.body, &mut cvt);
            all_new.push(cvt);
        }
        // `after` sees everything so far as unsafe.
        let mut after_base = base.clone();
        for o in &all_new {
            for (name, v) in o {
                if !base.contains_key(name) {
                    after_base.insert(name.clone(), Var { ids: v.ids.clone(), state: State::Unsafe("try", at) });
                }
            }
        }
        let mut after_vt = after_base.clone();
        self.exprs(&t.after, &mut after_vt);
        all_new.push(after_vt);
        *vt = base.clone();
        for o in all_new {
            for (name, v) in o {
                if !base.contains_key(&name) {
                    let e = vt.entry(name).or_insert(Var { ids: Vec::new(), state: State::Unsafe("try", at) });
                    for id in v.ids {
                        if !e.ids.contains(&id) {
                            e.ids.push(id);
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------ patterns

    fn pattern(&mut self, p: &Pat, vt: &mut Vt, seen: &mut HashSet<String>, mode: PatMode) {
        match &p.kind {
            PatKind::Var(v) => {
                let shadowing = match mode {
                    PatMode::Shadow(kind, outer) => {
                        if outer.contains_key(v) && !seen.contains(v) {
                            let msg = format!("variable {} shadowed in '{}'", quote_var(v), kind);
                            let msg = if kind == "generate" { msg.replace("'generate'", "generate") } else { msg };
                            self.warning("W0501", p.span, msg);
                        }
                        true
                    }
                    PatMode::Match => false,
                };
                if seen.contains(v) {
                    // Second occurrence in the same pattern: a use.
                    if let Some(var) = vt.get(v).cloned() {
                        self.mark_used(&var);
                    }
                    return;
                }
                seen.insert(v.clone());
                if !shadowing {
                    if let Some(var) = vt.get(v).cloned() {
                        // Already bound: the pattern compares with it.
                        self.mark_used(&var);
                        if let State::Unsafe(kind, where_) = var.state {
                            let (l, c) = line_col(self.src, where_.start as usize);
                            let msg =
                                format!("variable {} unsafe in '{}' (line {}, column {})", quote_var(v), kind, l, c);
                            self.error("E0502", p.span, msg);
                        }
                        return;
                    }
                }
                let id = self.new_binding(v, p.span);
                vt.insert(v.clone(), Var { ids: vec![id], state: State::Bound });
            }
            PatKind::Wildcard
            | PatKind::Atom(_)
            | PatKind::Int(_)
            | PatKind::Float(_)
            | PatKind::String(_)
            | PatKind::Nil => {}
            PatKind::Tuple(ps) => {
                for q in ps {
                    self.pattern(q, vt, seen, mode);
                }
            }
            PatKind::Cons(..) => {
                let mut cur = p;
                while let PatKind::Cons(h, t) = &cur.kind {
                    self.pattern(h, vt, seen, mode);
                    cur = t;
                }
                self.pattern(cur, vt, seen, mode);
            }
            PatKind::Binary(elems) => {
                for el in elems {
                    // The size may use variables bound earlier in the pattern.
                    if let Some(s) = &el.size {
                        self.expr(s, vt);
                    }
                    self.pattern(&el.value, vt, seen, mode);
                }
            }
            PatKind::Map(fields) => {
                for (k, v) in fields {
                    self.expr(k, vt);
                    self.pattern(v, vt, seen, mode);
                }
            }
            PatKind::Record(name, fields) => {
                let ok = self.record(name, p.span);
                let mut dup = Vec::new();
                for (f, q) in fields {
                    if ok {
                        if dup.contains(&f.name) {
                            let msg = format!("field {} already defined in record {}", atom(&f.name), atom(&name.name));
                            self.error("E0421", f.span, msg);
                        } else {
                            dup.push(f.name.clone());
                            self.field(name, f);
                        }
                    }
                    self.pattern(q, vt, seen, mode);
                }
            }
            PatKind::RecordIndex(name, field) => {
                if self.record(name, p.span) {
                    self.field(name, field);
                }
            }
            PatKind::Match(a, b) => {
                self.pattern(a, vt, seen, mode);
                self.pattern(b, vt, seen, mode);
            }
        }
    }

    // ------------------------------------------------------------ guards

    fn guard(&mut self, g: &Guard, vt: &mut Vt) {
        for conj in g {
            for test in conj {
                self.gexpr(test, vt);
            }
        }
    }

    /// The arguments of an illegal call in a guard: their variables still
    /// count as used, as in erl_lint.
    fn guard_args(&mut self, args: &[Expr], vt: &mut Vt) {
        let mut scratch = vt.clone();
        for a in args {
            self.expr(a, &mut scratch);
        }
    }

    fn gexpr(&mut self, e: &Expr, vt: &mut Vt) {
        let illegal = |c: &mut Self, at: Span| c.error("E0601", at, "illegal guard expression".to_string());
        match &e.kind {
            ExprKind::Var(v) => self.use_var(v, e.span, vt),
            ExprKind::Atom(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::String(_) | ExprKind::Nil => {}
            ExprKind::Tuple(es) => {
                for x in es {
                    self.gexpr(x, vt);
                }
            }
            ExprKind::Cons(..) => {
                let mut cur = e;
                while let ExprKind::Cons(h, t) = &cur.kind {
                    self.gexpr(h, vt);
                    cur = t;
                }
                self.gexpr(cur, vt);
            }
            ExprKind::Binary(elems) => {
                for el in elems {
                    self.gexpr(&el.value, vt);
                    if let Some(s) = &el.size {
                        self.gexpr(s, vt);
                    }
                }
            }
            ExprKind::Map(fields) => {
                for f in fields {
                    if f.exact {
                        let msg = "only association operators '=>' are allowed in map construction".to_string();
                        self.error("E0430", f.span, msg);
                    }
                    self.gexpr(&f.key, vt);
                    self.gexpr(&f.value, vt);
                }
            }
            ExprKind::MapUpdate(m, fields) => {
                self.gexpr(m, vt);
                for f in fields {
                    self.gexpr(&f.key, vt);
                    self.gexpr(&f.value, vt);
                }
            }
            ExprKind::Record(name, fields) => {
                let ok = self.record(name, e.span);
                let mut dup = Vec::new();
                for f in fields {
                    if ok && !dup.contains(&f.name.name) {
                        dup.push(f.name.name.clone());
                        self.field(name, &f.name);
                    }
                    self.gexpr(&f.value, vt);
                }
            }
            ExprKind::RecordUpdate(base, name, fields) => {
                self.gexpr(base, vt);
                let at = self.hash_pos(name);
                let ok = self.record(name, at);
                for f in fields {
                    if ok {
                        self.field(name, &f.name);
                    }
                    self.gexpr(&f.value, vt);
                }
            }
            ExprKind::RecordField(base, name, field) => {
                self.gexpr(base, vt);
                let at = self.hash_pos(name);
                if self.record(name, at) {
                    self.field(name, field);
                }
            }
            ExprKind::RecordIndex(name, field) => {
                if self.record(name, e.span) {
                    self.field(name, field);
                }
            }
            ExprKind::BinOp(BinOp::Send, a, b) => {
                let at = point(op_offset(self.src, a.span.end as usize));
                illegal(self, at);
                self.gexpr(a, vt);
                self.gexpr(b, vt);
            }
            ExprKind::BinOp(_, a, b) => {
                self.gexpr(a, vt);
                self.gexpr(b, vt);
            }
            ExprKind::UnOp(_, a) => self.gexpr(a, vt),
            ExprKind::LocalCall(name, args) => {
                let arity = args.len();
                let key = (name.name.clone(), arity);
                let overridden = self.no_auto_import_all || self.no_auto_import.contains(&key);
                if bifs::is_guard_bif(&name.name, arity) && !overridden {
                    for a in args {
                        self.gexpr(a, vt);
                    }
                } else if self.functions.contains_key(&key) || self.imports.contains_key(&key) {
                    let msg =
                        format!("call to local/imported function {}/{} is illegal in guard", atom(&name.name), arity);
                    self.error("E0602", point(e.span.start as usize), msg);
                    self.guard_args(args, vt);
                } else {
                    illegal(self, point(e.span.start as usize));
                    self.guard_args(args, vt);
                }
            }
            ExprKind::RemoteCall(m, f, args) => {
                let ok = match (&m.kind, &f.kind) {
                    (ExprKind::Atom(m), ExprKind::Atom(f)) if m == "erlang" => {
                        bifs::is_guard_bif(f, args.len()) || bifs::is_operator(f, args.len())
                    }
                    _ => false,
                };
                if ok {
                    for a in args {
                        self.gexpr(a, vt);
                    }
                } else {
                    illegal(self, point(e.span.start as usize));
                    self.guard_args(args, vt);
                }
            }
            _ => illegal(self, point(e.span.start as usize)),
        }
    }
}

#[derive(Clone, Copy)]
enum PatMode<'v> {
    /// Bound variables are compared with; new ones are bound.
    Match,
    /// Every variable is new (fun heads, generators); one bound in `outer`
    /// gets a "shadowed in KIND" warning.
    Shadow(&'static str, &'v Vt),
}

/// `'X'` as erl_lint writes a variable name in messages (`~w` of the atom).
fn quote_var(v: &str) -> String {
    format!("'{v}'")
}

fn form_span(f: &Form) -> Span {
    match f {
        Form::Module(n) => n.span,
        Form::Export(_, s)
        | Form::Import(_, _, s)
        | Form::Compile(_, s)
        | Form::Record(_, _, s)
        | Form::Attribute(_, _, s) => *s,
        Form::Function(f) => f.span,
    }
}

enum CompileOpt {
    Flag(String),
    NoAutoImport(Vec<(String, usize)>),
}

/// The options of `-compile(...)`: an atom, a tuple, or a list of them.
fn compile_options(e: &Expr) -> Vec<CompileOpt> {
    let mut out = Vec::new();
    let mut items = Vec::new();
    let mut cur = e;
    loop {
        match &cur.kind {
            ExprKind::Cons(h, t) => {
                items.push(&**h);
                cur = t;
            }
            ExprKind::Nil => break,
            _ => {
                items.push(cur);
                break;
            }
        }
    }
    for it in items {
        match &it.kind {
            ExprKind::Atom(a) => out.push(CompileOpt::Flag(a.clone())),
            ExprKind::Tuple(es) if es.len() == 2 => {
                if let ExprKind::Atom(a) = &es[0].kind {
                    if a == "no_auto_import" {
                        let mut fs = Vec::new();
                        let mut cur = &es[1];
                        while let ExprKind::Cons(h, t) = &cur.kind {
                            if let ExprKind::BinOp(BinOp::FDiv, f, n) = &h.kind {
                                if let (ExprKind::Atom(f), ExprKind::Int(n)) = (&f.kind, &n.kind) {
                                    fs.push((f.clone(), n.to_string().parse().unwrap_or(usize::MAX)));
                                }
                            }
                            cur = t;
                        }
                        out.push(CompileOpt::NoAutoImport(fs));
                    }
                }
            }
            _ => {}
        }
    }
    out
}
