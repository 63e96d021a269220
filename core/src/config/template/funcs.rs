//! The template functions configuration files use: Go's built-ins, the Sprig functions
//! Traefik's fixtures use, and Traefik's own `split` (string first) and `normalize`.

use super::value::Value;

/// Calls function `name`. `env` resolves environment variables.
pub(super) fn call(
    name: &str,
    args: Vec<Value>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Value, String> {
    let s = |i: usize| args.get(i).map(Value::to_text).unwrap_or_default();
    let n = |i: usize| -> Result<i64, String> {
        match args.get(i) {
            Some(Value::Int(v)) => Ok(*v),
            Some(Value::Float(v)) => Ok(*v as i64),
            Some(Value::Str(v)) => v
                .trim()
                .parse()
                .map_err(|_| format!("{name}: not a number: {v:?}")),
            Some(Value::Bool(b)) => Ok(i64::from(*b)),
            _ => Ok(0),
        }
    };
    let want = |k: usize| -> Result<(), String> {
        if args.len() < k {
            Err(format!(
                "wrong number of args for {name}: want {k} got {}",
                args.len()
            ))
        } else {
            Ok(())
        }
    };
    Ok(match name {
        "env" => {
            want(1)?;
            Value::Str(env(&s(0)).unwrap_or_default())
        }
        "expandenv" => {
            want(1)?;
            Value::Str(expand_env(&s(0), env))
        }
        "default" => {
            want(1)?;
            match args.get(1) {
                Some(v) if v.truthy() => v.clone(),
                _ => args[0].clone(),
            }
        }
        "split" => {
            want(2)?;
            Value::List(s(0).split(s(1).as_str()).map(Value::from).collect())
        }
        "splitList" => {
            want(2)?;
            Value::List(s(1).split(s(0).as_str()).map(Value::from).collect())
        }
        "normalize" => {
            want(1)?;
            Value::Str(normalize(&s(0)))
        }
        "until" => {
            want(1)?;
            let count = n(0)?.clamp(0, 100_000);
            Value::List((0..count).map(Value::Int).collect())
        }
        "seq" => {
            want(1)?;
            let (a, b) = if args.len() >= 2 {
                (n(0)?, n(1)?)
            } else {
                (1, n(0)?)
            };
            Value::List(
                (a..=b.min(a + 100_000))
                    .map(|v| Value::Str(v.to_string()))
                    .collect(),
            )
        }
        "upper" => Value::Str(s(0).to_uppercase()),
        "lower" => Value::Str(s(0).to_lowercase()),
        "trim" => Value::Str(s(0).trim().to_string()),
        "trimPrefix" => Value::Str(
            s(1).strip_prefix(s(0).as_str())
                .map(str::to_string)
                .unwrap_or_else(|| s(1)),
        ),
        "trimSuffix" => Value::Str(
            s(1).strip_suffix(s(0).as_str())
                .map(str::to_string)
                .unwrap_or_else(|| s(1)),
        ),
        "replace" => Value::Str(s(2).replace(s(0).as_str(), &s(1))),
        "contains" => Value::Bool(s(1).contains(s(0).as_str())),
        "hasPrefix" => Value::Bool(s(1).starts_with(s(0).as_str())),
        "hasSuffix" => Value::Bool(s(1).ends_with(s(0).as_str())),
        "quote" => Value::Str(
            args.iter()
                .map(|a| format!("{:?}", a.to_text()))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        "squote" => Value::Str(
            args.iter()
                .map(|a| format!("'{}'", a.to_text()))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        "toString" => Value::Str(s(0)),
        "atoi" | "int" | "int64" => Value::Int(n(0).unwrap_or(0)),
        "add" => Value::Int(
            args.iter()
                .enumerate()
                .map(|(i, _)| n(i).unwrap_or(0))
                .sum(),
        ),
        "sub" => Value::Int(n(0)? - n(1)?),
        "mul" => Value::Int(
            args.iter()
                .enumerate()
                .map(|(i, _)| n(i).unwrap_or(0))
                .product(),
        ),
        "add1" => Value::Int(n(0)? + 1),
        "list" => Value::List(args),
        "dict" => {
            let mut m = std::collections::BTreeMap::new();
            for pair in args.chunks(2) {
                m.insert(
                    pair[0].to_text(),
                    pair.get(1).cloned().unwrap_or(Value::Nil),
                );
            }
            Value::Map(m)
        }
        "join" => match args.get(1) {
            Some(Value::List(l)) => {
                Value::Str(l.iter().map(Value::to_text).collect::<Vec<_>>().join(&s(0)))
            }
            _ => Value::Str(s(1)),
        },
        "first" => match args.first() {
            Some(Value::List(l)) => l.first().cloned().unwrap_or(Value::Nil),
            _ => Value::Nil,
        },
        "last" => match args.first() {
            Some(Value::List(l)) => l.last().cloned().unwrap_or(Value::Nil),
            _ => Value::Nil,
        },
        "empty" => Value::Bool(!args.first().is_some_and(Value::truthy)),
        "coalesce" => args
            .iter()
            .find(|v| v.truthy())
            .cloned()
            .unwrap_or(Value::Nil),
        "ternary" => {
            want(3)?;
            if args[2].truthy() {
                args[0].clone()
            } else {
                args[1].clone()
            }
        }
        "print" => Value::Str(args.iter().map(Value::to_text).collect::<String>()),
        "println" => Value::Str(
            args.iter()
                .map(Value::to_text)
                .collect::<Vec<_>>()
                .join(" ")
                + "\n",
        ),
        "printf" => Value::Str(printf(&s(0), &args[1.min(args.len())..])),
        "len" => Value::Int(match args.first() {
            Some(Value::Str(v)) => v.len() as i64,
            Some(Value::List(l)) => l.len() as i64,
            Some(Value::Map(m)) => m.len() as i64,
            _ => return Err("len of unsupported type".into()),
        }),
        "index" => {
            let mut v = args.first().cloned().unwrap_or(Value::Nil);
            for key in args.iter().skip(1) {
                v = match (&v, key) {
                    (Value::List(l), Value::Int(i)) => {
                        l.get(*i as usize).cloned().ok_or("index out of range")?
                    }
                    (Value::Map(m), k) => m.get(&k.to_text()).cloned().unwrap_or(Value::Nil),
                    _ => return Err("can't index item".into()),
                };
            }
            v
        }
        "not" => Value::Bool(!args.first().is_some_and(Value::truthy)),
        "and" => args
            .iter()
            .find(|v| !v.truthy())
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Nil),
        "or" => args
            .iter()
            .find(|v| v.truthy())
            .or(args.last())
            .cloned()
            .unwrap_or(Value::Nil),
        "eq" => {
            want(2)?;
            Value::Bool(args[1..].iter().any(|v| loose_eq(&args[0], v)))
        }
        "ne" => {
            want(2)?;
            Value::Bool(!loose_eq(&args[0], &args[1]))
        }
        "lt" | "le" | "gt" | "ge" => {
            want(2)?;
            let ord = match (&args[0], &args[1]) {
                (Value::Str(a), Value::Str(b)) => a.cmp(b),
                _ => n(0)?.cmp(&n(1)?),
            };
            Value::Bool(match name {
                "lt" => ord.is_lt(),
                "le" => ord.is_le(),
                "gt" => ord.is_gt(),
                _ => ord.is_ge(),
            })
        }
        other => return Err(format!("function \"{other}\" not defined")),
    })
}

fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => *x as f64 == *y,
        _ => a == b,
    }
}

/// Traefik's `normalize`: runs of characters that are not letters or digits become `-`,
/// trimmed at both ends.
pub(crate) fn normalize(s: &str) -> String {
    let mut out = String::new();
    let mut pending = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if pending && !out.is_empty() {
                out.push('-');
            }
            pending = false;
            out.push(c);
        } else {
            pending = true;
        }
    }
    out
}

fn expand_env(s: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let rest = &s[i + 1..];
        let (name, used) = if let Some(inner) = rest.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (&rest[..end], end)
        };
        if used == 0 {
            out.push('$');
            continue;
        }
        out.push_str(&env(name).unwrap_or_default());
        for _ in 0..rest[..used].chars().count() {
            chars.next();
        }
    }
    out
}

fn printf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('q') => out.push_str(&format!(
                "{:?}",
                args.next().map(Value::to_text).unwrap_or_default()
            )),
            Some(_) => out.push_str(&args.next().map(Value::to_text).unwrap_or_default()),
            None => out.push('%'),
        }
    }
    out
}
