//! The tokio adapter: owns sockets and one timer per worker and shuttles bytes between them and
//! the core. It is built with the HTTP/1.1 proxy (see `spec/COMPATIBILITY.md`); until then the
//! daemon loads and checks configuration only.
