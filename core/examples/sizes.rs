//! Prints the in-memory size of the largest configuration types (developer aid).
use trafficcop_core::config::dynamic::*;
use trafficcop_core::config::node::Node;
fn main() {
    println!(
        "Middleware {} Service {} Router {} ServersLoadBalancer {} Headers {} Node {}",
        std::mem::size_of::<Middleware>(),
        std::mem::size_of::<Service>(),
        std::mem::size_of::<Router>(),
        std::mem::size_of::<ServersLoadBalancer>(),
        std::mem::size_of::<Headers>(),
        std::mem::size_of::<Node>()
    );
}
