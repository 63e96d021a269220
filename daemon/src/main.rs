//! The `trafficcop` command.

fn main() {
    std::process::exit(0);
}
