//! The template tree: text, actions, `if`, `range` and `with` blocks.

use super::lex::{Piece, Tok};
use super::value::Value;

/// An operand of a command.
#[derive(Debug, Clone)]
pub(super) enum Arg {
    Field(Vec<String>),
    Var(String, Vec<String>),
    Func(String),
    Lit(Value),
    Sub(Pipeline),
}

/// `$a, $b := cmd | cmd ...`
#[derive(Debug, Clone, Default)]
pub(super) struct Pipeline {
    pub decl: Vec<String>,
    pub cmds: Vec<Vec<Arg>>,
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    Text(String),
    Action(Pipeline, usize),
    If(Pipeline, Vec<Node>, Vec<Node>, usize),
    Range(Pipeline, Vec<Node>, Vec<Node>, usize),
    With(Pipeline, Vec<Node>, Vec<Node>, usize),
}

/// Parses lexed pieces into a tree.
pub(super) fn parse(pieces: Vec<Piece>) -> Result<Vec<Node>, String> {
    let mut it = pieces.into_iter();
    match block(&mut it)? {
        (nodes, End::Eof) => Ok(nodes),
        (_, End::Closed(line) | End::Else(line) | End::ElseChain(_, line)) => Err(format!(
            "line {line}: unexpected {{{{end}}}} or {{{{else}}}}"
        )),
    }
}

/// How a block stopped.
enum End {
    Eof,
    Closed(usize),
    Else(usize),
    /// `{{else if ...}}` / `{{else with ...}}`: the tokens after `else`.
    ElseChain(Vec<Tok>, usize),
}

type Pieces = std::vec::IntoIter<Piece>;

fn block(it: &mut Pieces) -> Result<(Vec<Node>, End), String> {
    let mut nodes = Vec::new();
    while let Some(piece) = it.next() {
        let (toks, line) = match piece {
            Piece::Text(t) => {
                nodes.push(Node::Text(t));
                continue;
            }
            Piece::Action(toks, line) => (toks, line),
        };
        let kw = match toks.first() {
            Some(Tok::Ident(k)) => k.as_str(),
            _ => "",
        };
        match kw {
            "end" => return Ok((nodes, End::Closed(line))),
            "else" if toks.len() == 1 => return Ok((nodes, End::Else(line))),
            "else" => return Ok((nodes, End::ElseChain(toks[1..].to_vec(), line))),
            "if" | "range" | "with" => nodes.push(control(&toks, line, it)?),
            "define" | "template" | "block" | "break" | "continue" => {
                return Err(format!(
                    "line {line}: {{{{{kw}}}}} is not supported in configuration templates"
                ))
            }
            _ => {
                let pipe = pipeline(&toks).map_err(|e| format!("line {line}: {e}"))?;
                nodes.push(Node::Action(pipe, line));
            }
        }
    }
    Ok((nodes, End::Eof))
}

/// Parses an `if`/`range`/`with` block whose opening action is `toks`, through its `end`.
fn control(toks: &[Tok], line: usize, it: &mut Pieces) -> Result<Node, String> {
    let kw = match toks.first() {
        Some(Tok::Ident(k)) if matches!(k.as_str(), "if" | "range" | "with") => k.clone(),
        _ => {
            return Err(format!(
                "line {line}: expected if, range or with after else"
            ))
        }
    };
    let pipe = pipeline(&toks[1..]).map_err(|e| format!("line {line}: {e}"))?;
    let (body, end) = block(it)?;
    let else_body = match end {
        End::Closed(_) => Vec::new(),
        End::Else(_) => match block(it)? {
            (e, End::Closed(_)) => e,
            _ => return Err(format!("line {line}: expected {{{{end}}}}")),
        },
        End::ElseChain(chain, l) => vec![control(&chain, l, it)?],
        End::Eof => return Err(format!("line {line}: unexpected EOF, missing {{{{end}}}}")),
    };
    Ok(match kw.as_str() {
        "if" => Node::If(pipe, body, else_body, line),
        "range" => Node::Range(pipe, body, else_body, line),
        _ => Node::With(pipe, body, else_body, line),
    })
}

/// Parses the tokens of one pipeline.
fn pipeline(toks: &[Tok]) -> Result<Pipeline, String> {
    let mut p = Pipeline::default();
    let mut toks = toks;
    // Declarations: `$x :=` or `$i, $e :=`.
    if let Some(pos) = toks.iter().position(|t| *t == Tok::Assign) {
        let decl = &toks[..pos];
        let vars: Vec<String> = decl
            .iter()
            .filter_map(|t| match t {
                Tok::Var(n, f) if f.is_empty() => Some(n.clone()),
                _ => None,
            })
            .collect();
        if !vars.is_empty() && decl.iter().all(|t| matches!(t, Tok::Var(..) | Tok::Comma)) {
            p.decl = vars;
            toks = &toks[pos + 1..];
        }
    }
    let mut i = 0;
    let mut cmd = Vec::new();
    while i < toks.len() {
        match &toks[i] {
            Tok::Pipe => {
                if cmd.is_empty() {
                    return Err("missing command before |".into());
                }
                p.cmds.push(std::mem::take(&mut cmd));
            }
            Tok::Open => {
                let mut depth = 1;
                let start = i + 1;
                while depth > 0 {
                    i += 1;
                    match toks.get(i) {
                        Some(Tok::Open) => depth += 1,
                        Some(Tok::Close) => depth -= 1,
                        None => return Err("unclosed left paren".into()),
                        _ => {}
                    }
                }
                cmd.push(Arg::Sub(pipeline(&toks[start..i])?));
            }
            Tok::Close => return Err("unexpected right paren".into()),
            Tok::Field(f) => cmd.push(Arg::Field(f.clone())),
            Tok::Var(n, f) => cmd.push(Arg::Var(n.clone(), f.clone())),
            Tok::Str(s) => cmd.push(Arg::Lit(Value::Str(s.clone()))),
            Tok::Int(n) => cmd.push(Arg::Lit(Value::Int(*n))),
            Tok::Float(f) => cmd.push(Arg::Lit(Value::Float(*f))),
            Tok::Ident(id) => cmd.push(match id.as_str() {
                "true" => Arg::Lit(Value::Bool(true)),
                "false" => Arg::Lit(Value::Bool(false)),
                "nil" => Arg::Lit(Value::Nil),
                _ => Arg::Func(id.clone()),
            }),
            Tok::Comma | Tok::Assign => return Err("unexpected token in pipeline".into()),
        }
        i += 1;
    }
    if cmd.is_empty() {
        return Err("missing value for command".into());
    }
    p.cmds.push(cmd);
    Ok(p)
}
