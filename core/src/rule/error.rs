//! The error every rule operation reports: where in the rule text, and what went wrong.

use std::fmt;

/// A rule that cannot be used: the byte offset in the rule text where the problem was found, and
/// a description of the problem.
///
/// An invalid rule puts only its own router in error; the message is meant for the API's router
/// `error` list and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuleError {
    /// Byte offset (0-based) in the rule text where the problem starts.
    pub position: usize,
    /// What is wrong, in words.
    pub problem: String,
}

impl RuleError {
    /// An error at `position` describing `problem`.
    pub fn new(position: usize, problem: impl Into<String>) -> Self {
        RuleError {
            position,
            problem: problem.into(),
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at position {}: {}", self.position, self.problem)
    }
}

impl std::error::Error for RuleError {}
