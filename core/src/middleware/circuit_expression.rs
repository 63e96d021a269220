//! The `circuitBreaker` expression (oxy's `cbreaker` predicates over `vulcand/predicate`): a
//! Go expression of the functions `NetworkErrorRatio()`, `ResponseCodeRatio(a, b, c, d)`,
//! `LatencyAtQuantileMS(q)` and `RequestThreshold()` compared with number literals
//! (`<`, `<=`, `>`, `>=`, `==`, `!=`), joined with `&&` and `||`, in parentheses at will.
//!
//! Types are Go's and as strict: `LatencyAtQuantileMS` takes a float (`50.0`) and is an
//! integer of milliseconds compared with an integer; the ratios are floats compared with a
//! float (`0.5`, not `1`); `RequestThreshold` is compared with an integer. Anything else
//! (another operator, `!`, a function compared with a function, a bare function) is an error,
//! as in Traefik.

use super::circuit_metrics::Metrics;

/// A parsed expression: true when the breaker must trip.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Condition {
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    Compare(Measure, Order, Number),
}

/// A function of the metrics.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Measure {
    LatencyAtQuantileMs(f64),
    NetworkErrorRatio,
    ResponseCodeRatio(i64, i64, i64, i64),
    RequestThreshold,
}

/// How a measure compares with its number (`<=`, `>=` and `!=` are built from these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    Less,
    Greater,
    Equal,
}

/// A number literal, of the measure's type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Number {
    Int(i64),
    Float(f64),
}

impl Condition {
    /// Parses `text`; the error says what is wrong, as oxy's parser does.
    pub fn parse(text: &str) -> Result<Condition, String> {
        let tokens = lex(text)?;
        if tokens.len() > MAX_TOKENS {
            return Err(format!(
                "the expression has more than {MAX_TOKENS} tokens (TrafficCop's bound)"
            ));
        }
        let mut p = Parser {
            tokens,
            at: 0,
            depth: 0,
        };
        let node = p.expr(1)?;
        if let Some(t) = p.tokens.get(p.at) {
            return Err(format!("1:{}: expected 'EOF', found {}", t.pos + 1, t.text));
        }
        match build(&node)? {
            Value::Condition(c) => Ok(c),
            other => Err(format!("expected predicate, got {}", other.type_name())),
        }
    }

    /// Whether the condition holds on `metrics` at `now`.
    pub fn holds(&self, metrics: &mut Metrics, now: u64) -> bool {
        match self {
            Condition::And(a, b) => a.holds(metrics, now) && b.holds(metrics, now),
            Condition::Or(a, b) => a.holds(metrics, now) || b.holds(metrics, now),
            Condition::Not(a) => !a.holds(metrics, now),
            Condition::Compare(m, order, n) => {
                let ord = match (m.value(metrics, now), n) {
                    (Number::Int(v), Number::Int(w)) => v.partial_cmp(w),
                    (Number::Float(v), Number::Float(w)) => v.partial_cmp(w),
                    _ => None,
                };
                match order {
                    Order::Less => ord == Some(std::cmp::Ordering::Less),
                    Order::Greater => ord == Some(std::cmp::Ordering::Greater),
                    Order::Equal => ord == Some(std::cmp::Ordering::Equal),
                }
            }
        }
    }
}

impl Measure {
    fn value(&self, metrics: &mut Metrics, now: u64) -> Number {
        match *self {
            Measure::LatencyAtQuantileMs(q) => Number::Int(metrics.latency_at_quantile_ms(q)),
            Measure::NetworkErrorRatio => Number::Float(metrics.network_error_ratio(now)),
            Measure::ResponseCodeRatio(a, b, c, d) => {
                Number::Float(metrics.response_code_ratio((a, b), (c, d), now))
            }
            Measure::RequestThreshold => Number::Int(metrics.total(now)),
        }
    }

    /// Whether the measure is a float (the ratios) rather than an integer.
    fn is_float(&self) -> bool {
        matches!(
            self,
            Measure::NetworkErrorRatio | Measure::ResponseCodeRatio(..)
        )
    }
}

/// One token: its text and byte position.
#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    text: String,
    pos: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ident,
    Int,
    Float,
    Str,
    Char,
    Op,
}

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let kind = if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            Kind::Ident
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let hex = c == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X'));
            while i < b.len() {
                let d = b[i];
                let exponent = if hex {
                    matches!(d, b'p' | b'P')
                } else {
                    matches!(d, b'e' | b'E')
                };
                if exponent && matches!(b.get(i + 1), Some(b'+' | b'-')) {
                    i += 2;
                } else if d.is_ascii_alphanumeric() || d == b'_' || d == b'.' {
                    i += 1;
                } else {
                    break;
                }
            }
            let lit = &text[start..i];
            let float = lit.contains('.')
                || (!hex && lit.contains(['e', 'E']))
                || (hex && lit.contains(['p', 'P']));
            if float {
                Kind::Float
            } else {
                Kind::Int
            }
        } else if c == b'"' || c == b'`' || c == b'\'' {
            i += 1;
            while i < b.len() && b[i] != c {
                if b[i] == b'\\' && c != b'`' {
                    i += 1;
                }
                i += 1;
            }
            if i >= b.len() {
                return Err(format!("1:{}: literal not terminated", start + 1));
            }
            i += 1;
            if c == b'\'' {
                Kind::Char
            } else {
                Kind::Str
            }
        } else {
            const OPS: [&str; 26] = [
                "&&", "||", "==", "!=", "<=", ">=", "<<", ">>", "&^", "<-", "(", ")", ",", "<",
                ">", "!", "+", "-", "*", "/", "%", "&", "|", "^", ".", "[",
            ];
            let Some(op) = OPS.iter().find(|o| text[i..].starts_with(**o)) else {
                return Err(format!(
                    "1:{}: illegal character {:?}",
                    start + 1,
                    text[i..].chars().next().unwrap_or(' ')
                ));
            };
            i += op.len();
            Kind::Op
        };
        out.push(Token {
            kind,
            text: text[start..i].to_string(),
            pos: start,
        });
    }
    Ok(out)
}

/// The syntax tree, as Go's parser gives it (only what the predicate parser looks at).
#[derive(Debug)]
enum Node {
    Binary(String, Box<Node>, Box<Node>),
    Paren(Box<Node>),
    Unary(String),
    Call(String, Vec<Node>),
    Ident(String),
    Literal(Kind, String),
    /// Selectors, indexes and calls of anything but a name.
    Other(&'static str),
}

/// Bounds that keep the parser's and the evaluation's recursion small whatever the
/// configuration says (no real expression comes near them).
const MAX_TOKENS: usize = 1024;
const MAX_NESTING: usize = 64;

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// Parentheses, calls and unary operators open around the current token.
    depth: usize,
}

/// Go's binary operator precedences.
fn precedence(op: &str) -> Option<u8> {
    Some(match op {
        "||" => 1,
        "&&" => 2,
        "==" | "!=" | "<" | "<=" | ">" | ">=" => 3,
        "+" | "-" | "|" | "^" => 4,
        "*" | "/" | "%" | "<<" | ">>" | "&" | "&^" => 5,
        _ => return None,
    })
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next_is(&self, text: &str) -> bool {
        self.peek()
            .is_some_and(|t| t.kind == Kind::Op && t.text == text)
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(t) => format!("1:{}: expected operand, found '{}'", t.pos + 1, t.text),
            None => "expected operand, found 'EOF'".into(),
        }
    }

    fn expr(&mut self, min: u8) -> Result<Node, String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(format!(
                "the expression nests deeper than {MAX_NESTING} (TrafficCop's bound)"
            ));
        }
        let left = self.binary(min);
        self.depth -= 1;
        left
    }

    fn binary(&mut self, min: u8) -> Result<Node, String> {
        let mut left = self.unary()?;
        while let Some(t) = self.peek() {
            let Some(p) = precedence(&t.text).filter(|p| t.kind == Kind::Op && *p >= min) else {
                break;
            };
            let op = t.text.clone();
            self.at += 1;
            let right = self.expr(p + 1)?;
            left = Node::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Node, String> {
        let mut first = None;
        while let Some(t) = self.peek() {
            if t.kind != Kind::Op
                || !["!", "-", "+", "^", "*", "&", "<-"].contains(&t.text.as_str())
            {
                break;
            }
            first.get_or_insert_with(|| t.text.clone());
            self.at += 1;
        }
        let operand = self.primary()?;
        Ok(first.map_or(operand, Node::Unary))
    }

    fn primary(&mut self) -> Result<Node, String> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.found());
        };
        self.at += 1;
        let mut node = match t.kind {
            Kind::Ident => Node::Ident(t.text),
            Kind::Int | Kind::Float | Kind::Str | Kind::Char => Node::Literal(t.kind, t.text),
            Kind::Op if t.text == "(" => {
                let inner = self.expr(1)?;
                self.expect(")")?;
                Node::Paren(Box::new(inner))
            }
            Kind::Op => {
                self.at -= 1;
                return Err(self.found());
            }
        };
        loop {
            if self.next_is("(") {
                self.at += 1;
                let mut args = Vec::new();
                while !self.next_is(")") {
                    args.push(self.expr(1)?);
                    if !self.next_is(",") {
                        break;
                    }
                    self.at += 1;
                }
                self.expect(")")?;
                node = match node {
                    Node::Ident(name) => Node::Call(name, args),
                    _ => Node::Other("*ast.CallExpr"),
                };
            } else if self.next_is(".") {
                self.at += 1;
                match self.peek() {
                    Some(t) if t.kind == Kind::Ident => self.at += 1,
                    _ => return Err(self.found()),
                }
                node = Node::Other("*ast.SelectorExpr");
            } else if self.next_is("[") {
                self.at += 1;
                self.expr(1)?;
                self.expect("]")?;
                node = Node::Other("*ast.IndexExpr");
            } else {
                return Ok(node);
            }
        }
    }

    fn expect(&mut self, text: &str) -> Result<(), String> {
        if self.next_is(text) {
            self.at += 1;
            return Ok(());
        }
        Err(match self.peek() {
            Some(t) => format!("1:{}: expected '{text}', found '{}'", t.pos + 1, t.text),
            None => format!("expected '{text}', found 'EOF'"),
        })
    }
}

/// What a node evaluates to.
#[derive(Debug)]
enum Value {
    Condition(Condition),
    Measure(Measure),
    Int(i64),
    Float(f64),
    Str,
}

impl Value {
    /// The Go type oxy would name.
    fn type_name(&self) -> &'static str {
        match self {
            Value::Condition(_) => "cbreaker.hpredicate",
            Value::Measure(m) if m.is_float() => "cbreaker.toType[float64]",
            Value::Measure(Measure::RequestThreshold) => "cbreaker.toType[int64]",
            Value::Measure(_) => "cbreaker.toType[int]",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str => "string",
        }
    }
}

/// The predicate parser's `parse`: joins binary expressions, else evaluates.
fn build(node: &Node) -> Result<Value, String> {
    match node {
        Node::Binary(op, x, y) => join(op, build(x)?, build(y)?),
        Node::Paren(inner) => build(inner),
        Node::Unary(op) => Err(format!("{op} is not supported")),
        other => evaluate(other),
    }
}

/// The predicate parser's `evaluateExpr`: literals and function calls.
fn evaluate(node: &Node) -> Result<Value, String> {
    match node {
        Node::Literal(Kind::Int, text) => text
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| format!("failed to parse argument: {text}")),
        Node::Literal(Kind::Float, text) => text
            .replace('_', "")
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| format!("failed to parse argument: {text}")),
        Node::Literal(Kind::Str, _) => Ok(Value::Str),
        Node::Literal(..) => Err("unsupported function argument type: 'CHAR'".into()),
        Node::Ident(name) => Err(format!("{name} is not defined")),
        Node::Call(name, args) => {
            let args = args.iter().map(evaluate).collect::<Result<Vec<_>, _>>()?;
            call(name, &args)
        }
        Node::Binary(..) => Err("*ast.BinaryExpr is not supported".into()),
        Node::Paren(_) => Err("*ast.ParenExpr is not supported".into()),
        Node::Unary(_) => Err("*ast.UnaryExpr is not supported".into()),
        Node::Other(kind) => Err(format!("{kind} is not supported")),
    }
}

/// Calls one of the four functions with arguments of exactly its types.
fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    let measure = match (name, args) {
        ("NetworkErrorRatio", []) => Measure::NetworkErrorRatio,
        ("RequestThreshold", []) => Measure::RequestThreshold,
        ("LatencyAtQuantileMS", [Value::Float(q)]) => Measure::LatencyAtQuantileMs(*q),
        ("ResponseCodeRatio", [Value::Int(a), Value::Int(b), Value::Int(c), Value::Int(d)]) => {
            Measure::ResponseCodeRatio(*a, *b, *c, *d)
        }
        ("NetworkErrorRatio" | "RequestThreshold", _) => {
            return Err(format!("{name} takes no arguments"))
        }
        ("LatencyAtQuantileMS", _) => {
            return Err(format!(
                "{name} takes one float64 argument (such as 50.0), got ({})",
                type_list(args)
            ))
        }
        ("ResponseCodeRatio", _) => {
            return Err(format!(
                "{name} takes four int arguments, got ({})",
                type_list(args)
            ))
        }
        _ => return Err(format!("unsupported function: {name}")),
    };
    Ok(Value::Measure(measure))
}

fn type_list(args: &[Value]) -> String {
    args.iter()
        .map(Value::type_name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The operators: `&&` and `||` join conditions, comparisons compare a measure (left) with a
/// number (right).
fn join(op: &str, x: Value, y: Value) -> Result<Value, String> {
    let both = |x: Value, y: Value| match (x, y) {
        (Value::Condition(a), Value::Condition(b)) => Ok((Box::new(a), Box::new(b))),
        (a, b) => Err(format!(
            "{op} joins predicates, got {} and {}",
            a.type_name(),
            b.type_name()
        )),
    };
    let compare = |order: Order| -> Result<Condition, String> {
        let name = match op {
            "==" => "eq",
            "!=" => "neq",
            "<" => "lt",
            "<=" => "le",
            ">" => "gt",
            _ => "ge",
        };
        let Value::Measure(m) = &x else {
            return Err(format!("{name}: unsupported argument: {}", x.type_name()));
        };
        let n = match (&y, m.is_float()) {
            (Value::Float(f), true) => Number::Float(*f),
            (Value::Int(i), false) => Number::Int(*i),
            (_, true) => return Err(format!("expected float64, got {}", y.type_name())),
            (_, false) => return Err(format!("expected int, got {}", y.type_name())),
        };
        Ok(Condition::Compare(m.clone(), order, n))
    };
    let or = |a: Condition, b: Condition| Condition::Or(Box::new(a), Box::new(b));
    Ok(Value::Condition(match op {
        "&&" => {
            let (a, b) = both(x, y)?;
            Condition::And(a, b)
        }
        "||" => {
            let (a, b) = both(x, y)?;
            Condition::Or(a, b)
        }
        "<" => compare(Order::Less)?,
        ">" => compare(Order::Greater)?,
        "==" => compare(Order::Equal)?,
        "!=" => Condition::Not(Box::new(compare(Order::Equal)?)),
        "<=" => or(compare(Order::Less)?, compare(Order::Equal)?),
        ">=" => or(compare(Order::Greater)?, compare(Order::Equal)?),
        other => return Err(format!("{other} is not supported")),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Condition::parse(text).expect_err(text)
    }

    #[test]
    fn parses_traefik_documented_expressions() {
        for text in [
            "NetworkErrorRatio() > 0.30",
            "NetworkErrorRatio() > 0.5",
            "ResponseCodeRatio(500, 600, 0, 600) > 0.25",
            "LatencyAtQuantileMS(50.0) > 100",
            "ResponseCodeRatio(500, 600, 0, 600) > 0.30 || NetworkErrorRatio() > 0.10",
            "LatencyAtQuantileMS(50.0) > 100 && RequestThreshold() >= 10",
            "(NetworkErrorRatio() > .5 || LatencyAtQuantileMS(99.9) >= 2000) && RequestThreshold() != 0",
            "NetworkErrorRatio() <= 1e-1",
        ] {
            Condition::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
        assert_eq!(
            Condition::parse("NetworkErrorRatio() > 0.5 || RequestThreshold() > 3 && LatencyAtQuantileMS(50.0) < 7")
                .unwrap(),
            Condition::Or(
                Box::new(Condition::Compare(
                    Measure::NetworkErrorRatio,
                    Order::Greater,
                    Number::Float(0.5)
                )),
                Box::new(Condition::And(
                    Box::new(Condition::Compare(
                        Measure::RequestThreshold,
                        Order::Greater,
                        Number::Int(3)
                    )),
                    Box::new(Condition::Compare(
                        Measure::LatencyAtQuantileMs(50.0),
                        Order::Less,
                        Number::Int(7)
                    ))
                ))
            ),
            "&& binds tighter than ||"
        );
    }

    #[test]
    fn refuses_what_oxy_refuses() {
        assert_eq!(err("NetworkErrorRatio() > 1"), "expected float64, got int");
        assert_eq!(
            err("LatencyAtQuantileMS(50.0) > 1.5"),
            "expected int, got float64"
        );
        assert!(err("LatencyAtQuantileMS(50) > 1").contains("float64 argument"));
        assert!(err("ResponseCodeRatio(500, 600, 0) > 0.5").contains("four int"));
        assert_eq!(err("Foo() > 0.5"), "unsupported function: Foo");
        assert_eq!(
            err("NetworkErrorRatio()"),
            "expected predicate, got cbreaker.toType[float64]"
        );
        assert_eq!(
            err("0.5 < NetworkErrorRatio()"),
            "lt: unsupported argument: float64"
        );
        assert_eq!(err("!(NetworkErrorRatio() > 0.5)"), "! is not supported");
        assert_eq!(err("NetworkErrorRatio() > -0.5"), "- is not supported");
        assert_eq!(err("NetworkErrorRatio() + 1 > 0.5"), "+ is not supported");
        assert!(err("NetworkErrorRatio() && RequestThreshold() > 1").contains("joins predicates"));
        assert_eq!(err("Ratio > 0.5"), "Ratio is not defined");
        assert!(err("").contains("expected operand"));
        assert!(err("NetworkErrorRatio() > 0.5)").contains("expected 'EOF'"));
        assert!(err("NetworkErrorRatio( > 0.5").contains("expected operand"));
        assert!(err("LatencyAtQuantileMS(0x10) > 1").contains("failed to parse argument"));
        // Bounds, not a stack overflow.
        assert!(err(&"(".repeat(100_000)).contains("bound"));
        let nested = format!(
            "{}NetworkErrorRatio() > 0.5{}",
            "(".repeat(60),
            ")".repeat(60)
        );
        assert!(Condition::parse(&nested).is_ok());
        assert!(err(&"!".repeat(500)).contains("expected operand"));
        let long = vec!["NetworkErrorRatio() > 0.5"; 300].join(" && ");
        assert!(err(&long).contains("bound"));
        let fine = vec!["NetworkErrorRatio() > 0.5"; 100].join(" && ");
        assert!(Condition::parse(&fine).is_ok());
    }

    #[test]
    fn never_panics_on_token_soup() {
        let pieces = [
            "NetworkErrorRatio",
            "LatencyAtQuantileMS",
            "ResponseCodeRatio",
            "RequestThreshold",
            "(",
            ")",
            ",",
            "&&",
            "||",
            "<",
            ">=",
            "==",
            "!",
            "-",
            "0.5",
            "50",
            "1e3",
            ".",
            "[",
            "]",
            "\"x\"",
            "'c'",
            "`r`",
            "x",
            " ",
            "0x",
            "1_0",
            "é",
            "\\é",
            "\"",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            if let Ok(c) = Condition::parse(&text) {
                c.holds(&mut Metrics::default(), 1);
            }
        }
    }

    #[test]
    fn evaluates_on_metrics() {
        let s = 1_000_000_000u64;
        let mut m = Metrics::default();
        let c = Condition::parse(
            "NetworkErrorRatio() >= 0.5 && RequestThreshold() > 1 || LatencyAtQuantileMS(50.0) > 200",
        )
        .unwrap();
        m.record(200, 1_000_000, s);
        assert!(!c.holds(&mut m, s));
        m.record(502, 1_000_000, s);
        assert!(c.holds(&mut m, s), "1 of 2 are network errors");
        let mut m = Metrics::default();
        m.record(200, 300_000_000, s);
        assert!(c.holds(&mut m, s), "latency alone");
        let ne = Condition::parse("ResponseCodeRatio(500, 600, 0, 600) != 0.0").unwrap();
        assert!(!ne.holds(&mut m, s));
        m.record(503, 1, s);
        assert!(ne.holds(&mut m, s));
    }
}
