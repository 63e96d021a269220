//! Routing rules: the Traefik v3 and v2 rule languages, their matchers, and the compiled router
//! table per entry point.
//!
//! * Parse and compile: [`parse_http_rule`] / [`parse_tcp_rule`] with a [`RuleSyntax`]
//!   (errors are [`RuleError`]s naming the position and the problem).
//! * Match: fill an [`HttpRequestView`] or a [`TcpConnView`] and call
//!   [`HttpRule::matches`] / [`TcpRule::matches`].
//! * Order: [`priority`] (default priority, the bound on explicit priorities,
//!   `providers.precedence`, the deterministic last tie-break by router name).
//! * Route: [`RouterTable`] / [`TcpRouterTable`] index routers by host and answer "which router
//!   first" exactly as a linear scan in priority order would.
//! * Certificates: [`http_domains`] / [`tcp_domains`].
//!
//! Go compatibility lives in small modules: the Go expression lexer (`lexer`), Go RE2 to
//! Rust regex translation ([`regex_compat`]), gorilla/mux templates for v2 (`template`),
//! Go's host, path and query handling ([`host`], [`path`], [`query`], [`ip`]).

pub mod ast;
pub mod domains;
mod error;
mod expr;
pub mod host;
mod http_rule;
pub mod ip;
mod lexer;
mod matchers_http;
mod matchers_http_v2;
mod matchers_tcp;
pub mod parser;
pub mod path;
pub mod priority;
pub mod query;
pub mod regex_compat;
mod regex_escape;
pub mod table;
mod template;
pub mod text;
mod view;

pub use ast::{MatcherCall, RuleTree};
pub use domains::{http_domains, tcp_domains};
pub use error::RuleError;
pub use expr::HostKeys;
pub use http_rule::{parse_http_rule, HttpRule, RuleSyntax};
pub use matchers_tcp::{parse_tcp_rule, TcpRule};
pub use parser::parse_tree;
pub use priority::{
    check_priority, default_priority, effective_priority, is_catch_all, Protocol,
    ProviderPrecedence, ProviderRank, MAX_USER_PRIORITY,
};
pub use table::{RouteSpec, RouterTable, TcpRouterTable};
pub use view::{HttpRequestView, PreparedConn, PreparedRequest, RequestHeaders, TcpConnView};

/// The matcher names of each rule language, canonical spelling.
pub mod matcher_names {
    pub use super::matchers_http::HTTP_V3;
    pub use super::matchers_http_v2::HTTP_V2;
    pub use super::matchers_tcp::TCP_MATCHERS as TCP;
}
