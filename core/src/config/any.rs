//! Sections TrafficCop accepts without interpreting them, and Traefik's empty marker sections.

use super::decode::{Cx, Decode};
use super::node::Node;

/// A subtree kept as written: used for sections of out-of-scope features (other providers, Go
/// plugins) so that a Traefik configuration that has them still loads. The loader warns about
/// them.
#[derive(Debug, Clone, Default)]
pub struct AnyValue(pub Option<Node>);

impl PartialEq for AnyValue {
    /// Equal when the subtrees hold the same values (source positions are ignored).
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => a.same_value(b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl Decode for AnyValue {
    fn decode_into(slot: &mut Self, node: &Node, _cx: &mut Cx, _allow_empty: bool) {
        slot.0 = Some(node.clone());
    }

    fn is_section() -> bool {
        true
    }
}

section! {
    /// A section with no settings of its own whose presence switches something on (e.g. a
    /// weighted service's `healthCheck: {}`).
    pub struct EmptySection {}
}
