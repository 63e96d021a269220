//! Routing rules: the Traefik v3 and v2 rule languages, their matchers, and the compiled router
//! table per entry point.
