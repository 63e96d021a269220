//! Loads a static configuration file and prints its diagnostics (developer aid).
fn main() {
    let path = std::env::args().nth(1).expect("path");
    let text = std::fs::read_to_string(&path).expect("read");
    let format = trafficcop_core::config::Format::from_path(&path).expect("format");
    let load =
        trafficcop_core::config::static_config::load_static(&text, format, Some(path.into()));
    for d in &load.diagnostics {
        println!("{d}");
    }
    println!("fatal: {}", load.is_fatal());
}
