//! Traefik's TCP and UDP balancer (`pkg/tcp/wrr_load_balancer.go`, and its UDP twin), not the
//! HTTP earliest-deadline one: the classic interleaved weighted round robin, a current weight
//! stepping down by the weights' GCD. A service is a tree of them (`loadBalancer` servers with
//! weight 1, `weighted` services with their weights) whose leaves are servers; one tree is
//! shared by every worker, so connections and sessions are spread as Traefik's single
//! balancer spreads them.

use std::sync::{Arc, Mutex};

/// What a balancer hands a new connection or session to.
#[derive(Debug)]
pub enum Member<S> {
    /// A server.
    Server(S),
    /// A nested service.
    Service(Arc<Balancer<S>>),
}

/// A weighted round robin over servers or services.
#[derive(Debug)]
pub struct Balancer<S> {
    members: Vec<(Member<S>, i64)>,
    /// The largest weight (0 or less: nothing is ever picked), fixed at build.
    max: i64,
    /// The weights' GCD, the step the current weight goes down by, fixed at build.
    step: i64,
    state: Mutex<RoundRobin>,
}

#[derive(Debug)]
struct RoundRobin {
    index: Option<usize>,
    current: i64,
}

fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl<S: Clone> Balancer<S> {
    /// A balancer over `members` and their weights, in the order given (callers shuffle
    /// them first, as Traefik does).
    pub fn new(members: Vec<(Member<S>, i64)>) -> Self {
        Balancer {
            max: members.iter().map(|m| m.1).max().unwrap_or(0),
            step: members.iter().fold(0, |g, m| gcd(g, m.1)).max(1),
            members,
            state: Mutex::new(RoundRobin {
                index: None,
                current: 0,
            }),
        }
    }

    /// The member index the next connection goes to, or `None` (no members, or every weight
    /// is zero or less: Traefik closes the connection).
    fn next_index(&self) -> Option<usize> {
        let (n, max, step) = (self.members.len(), self.max, self.step);
        if max <= 0 {
            return None;
        }
        let mut rr = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // Within `n * (max / step + 1)` steps some member qualifies; bounded all the same.
        for _ in 0..n.saturating_mul((max / step) as usize + 2) {
            let i = rr.index.map_or(0, |i| (i + 1) % n);
            rr.index = Some(i);
            if i == 0 {
                rr.current -= step;
                if rr.current <= 0 {
                    rr.current = max;
                }
            }
            if self.members[i].1 >= rr.current {
                return Some(i);
            }
        }
        None
    }

    /// The server the next connection goes to, walking nested services.
    pub fn pick(&self) -> Option<S> {
        match &self.members[self.next_index()?].0 {
            Member::Server(s) => Some(s.clone()),
            Member::Service(b) => b.pick(),
        }
    }
}

/// The members of a `weighted` service: its children (name, weight; shuffled by the caller)
/// built in turn with `build` (given the qualified name), weight 1 when unset; the first
/// child that fails fails the service.
pub fn weighted_members<S: Clone>(
    children: Vec<(&str, Option<i64>)>,
    mut build: impl FnMut(&str) -> Result<Arc<Balancer<S>>, String>,
) -> Result<Vec<(Member<S>, i64)>, String> {
    children
        .into_iter()
        .map(|(name, weight)| {
            Ok((
                Member::Service(build(&qualified(name))?),
                weight.unwrap_or(1),
            ))
        })
        .collect()
}

/// Splits `host:port` as Go's `net.SplitHostPort` (brackets for IPv6); `None` when it fails.
pub fn split_host_port(address: &str) -> Option<(&str, &str)> {
    if let Some(rest) = address.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port));
    }
    let (host, port) = address.rsplit_once(':')?;
    if host.contains(':') {
        return None;
    }
    Some((host, port))
}

/// Qualifies a service name with the provider (`name@file`) unless it names one.
pub fn qualified(name: &str) -> String {
    if name.contains('@') {
        name.to_string()
    } else {
        format!("{name}@file")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn balancer(weights: &[i64]) -> Balancer<usize> {
        let members = weights
            .iter()
            .enumerate()
            .map(|(i, w)| (Member::Server(i), *w))
            .collect();
        Balancer::new(members)
    }

    fn sequence(b: &Balancer<usize>, n: usize) -> String {
        (0..n)
            .map(|_| match b.pick() {
                Some(s) => char::from(b'0' + s as u8),
                None => '-',
            })
            .collect()
    }

    #[test]
    fn equal_weights_take_turns() {
        assert_eq!(sequence(&balancer(&[1, 1, 1]), 7), "0120120");
    }

    #[test]
    fn weights_interleave_by_gcd_steps() {
        // max 3, gcd 1: round at current 3 takes only s0, at 2 s0 and s1, at 1 all.
        assert_eq!(sequence(&balancer(&[3, 2, 1]), 12), "001012001012");
        // gcd 2: weights 4 and 2 step down 4, 2.
        assert_eq!(sequence(&balancer(&[4, 2]), 6), "001001");
    }

    #[test]
    fn no_member_or_no_weight_picks_nothing() {
        assert_eq!(sequence(&balancer(&[]), 2), "--");
        assert_eq!(sequence(&balancer(&[0, 0]), 2), "--");
        assert_eq!(sequence(&balancer(&[0, 2]), 3), "111");
        // Negative weights never qualify, and never loop forever.
        assert_eq!(sequence(&balancer(&[-3, 1]), 2), "11");
    }

    #[test]
    fn nested_services_take_their_own_turns() {
        let inner = Arc::new(balancer(&[1, 1]));
        let outer = Balancer::new(vec![(Member::Service(inner), 1), (Member::Server(7), 1)]);
        assert_eq!(sequence(&outer, 6), "071707");
    }

    #[test]
    fn host_port_split_as_go() {
        assert_eq!(split_host_port("a:53"), Some(("a", "53")));
        assert_eq!(split_host_port("[::1]:53"), Some(("::1", "53")));
        assert_eq!(split_host_port("::1:53"), None);
        assert_eq!(split_host_port("a"), None);
        assert_eq!(split_host_port(":53"), Some(("", "53")));
    }
}
