//! Executing a parsed template.

use super::funcs;
use super::parse::{Arg, Node, Pipeline};
use super::value::Value;

pub(super) struct Exec<'e> {
    env: &'e dyn Fn(&str) -> Option<String>,
    vars: Vec<(String, Value)>,
    budget: usize,
    steps: usize,
}

const MAX_STEPS: usize = 10_000_000;

impl<'e> Exec<'e> {
    pub(super) fn new(env: &'e dyn Fn(&str) -> Option<String>, budget: usize) -> Self {
        Exec {
            env,
            vars: Vec::new(),
            budget,
            steps: 0,
        }
    }

    pub(super) fn run(
        &mut self,
        nodes: &[Node],
        dot: &Value,
        out: &mut String,
    ) -> Result<(), String> {
        if self.vars.is_empty() {
            self.vars.push((String::new(), dot.clone()));
        }
        for node in nodes {
            self.steps += 1;
            if self.steps > MAX_STEPS || out.len() > self.budget {
                return Err("template output or work too large".into());
            }
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Action(p, line) => {
                    let mark = self.vars.len();
                    let v = self
                        .pipeline(p, dot)
                        .map_err(|e| format!("line {line}: {e}"))?;
                    if p.decl.is_empty() {
                        out.push_str(&v.to_text());
                        self.vars.truncate(mark);
                    }
                }
                Node::If(p, then, els, line) => {
                    let mark = self.vars.len();
                    let v = self
                        .pipeline(p, dot)
                        .map_err(|e| format!("line {line}: {e}"))?;
                    let r = if v.truthy() {
                        self.run(then, dot, out)
                    } else {
                        self.run(els, dot, out)
                    };
                    self.vars.truncate(mark);
                    r?;
                }
                Node::With(p, then, els, line) => {
                    let mark = self.vars.len();
                    let v = self
                        .pipeline(p, dot)
                        .map_err(|e| format!("line {line}: {e}"))?;
                    let r = if v.truthy() {
                        self.run(then, &v, out)
                    } else {
                        self.run(els, dot, out)
                    };
                    self.vars.truncate(mark);
                    r?;
                }
                Node::Range(p, body, els, line) => {
                    let mut plain = p.clone();
                    let decl = std::mem::take(&mut plain.decl);
                    let v = self
                        .pipeline(&plain, dot)
                        .map_err(|e| format!("line {line}: {e}"))?;
                    let items: Vec<(Value, Value)> = match v {
                        Value::List(l) => l
                            .into_iter()
                            .enumerate()
                            .map(|(i, v)| (Value::Int(i as i64), v))
                            .collect(),
                        Value::Map(m) => m.into_iter().map(|(k, v)| (Value::Str(k), v)).collect(),
                        Value::Int(n) => (0..n.clamp(0, 1_000_000))
                            .map(|i| (Value::Int(i), Value::Int(i)))
                            .collect(),
                        Value::Nil | Value::Bool(false) => Vec::new(),
                        other => {
                            return Err(format!("line {line}: range can't iterate over {other}"))
                        }
                    };
                    if items.is_empty() {
                        self.run(els, dot, out)?;
                        continue;
                    }
                    for (k, v) in items {
                        let mark = self.vars.len();
                        match decl.as_slice() {
                            [] => {}
                            [e] => self.vars.push((e.clone(), v.clone())),
                            [i, e, ..] => {
                                self.vars.push((i.clone(), k));
                                self.vars.push((e.clone(), v.clone()));
                            }
                        }
                        let r = self.run(body, &v, out);
                        self.vars.truncate(mark);
                        r?;
                    }
                }
            }
        }
        Ok(())
    }

    fn var(&self, name: &str) -> Result<Value, String> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("undefined variable: ${name}"))
    }

    fn pipeline(&mut self, p: &Pipeline, dot: &Value) -> Result<Value, String> {
        let mut piped: Option<Value> = None;
        for cmd in &p.cmds {
            piped = Some(self.command(cmd, dot, piped)?);
        }
        let v = piped.unwrap_or(Value::Nil);
        for name in &p.decl {
            self.vars.push((name.clone(), v.clone()));
        }
        Ok(v)
    }

    fn arg(&mut self, a: &Arg, dot: &Value) -> Result<Value, String> {
        Ok(match a {
            Arg::Field(path) => path.iter().fold(dot.clone(), |v, f| v.field(f)),
            Arg::Var(name, path) => path.iter().fold(self.var(name)?, |v, f| v.field(f)),
            Arg::Lit(v) => v.clone(),
            Arg::Sub(p) => {
                let mark = self.vars.len();
                let v = self.pipeline(p, dot)?;
                self.vars.truncate(mark);
                v
            }
            Arg::Func(name) => funcs::call(name, Vec::new(), self.env)?,
        })
    }

    fn command(&mut self, cmd: &[Arg], dot: &Value, piped: Option<Value>) -> Result<Value, String> {
        match cmd.first() {
            Some(Arg::Func(name)) => {
                let mut args = Vec::with_capacity(cmd.len());
                for a in &cmd[1..] {
                    args.push(self.arg(a, dot)?);
                }
                args.extend(piped);
                funcs::call(name, args, self.env)
            }
            Some(first) if cmd.len() == 1 => {
                if piped.is_some() {
                    return Err("can't give argument to non-function".into());
                }
                self.arg(first, dot)
            }
            _ => Err("can't give argument to non-function".into()),
        }
    }
}
