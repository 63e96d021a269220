//! Benchmarks: micro-benchmarks of the core's hot paths and the load-test scripts against peers.
