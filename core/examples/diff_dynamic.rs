//! Prints the first difference between two dynamic configuration files' models (developer aid).
fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let load = |p: &str| {
        let text = std::fs::read_to_string(p).expect("read");
        let f = trafficcop_core::config::Format::from_path(p).expect("format");
        format!(
            "{:#?}",
            trafficcop_core::config::dynamic::load_dynamic(&text, f, None).config
        )
    };
    let (x, y) = (load(&a[0]), load(&a[1]));
    for (i, (l, r)) in x.lines().zip(y.lines()).enumerate() {
        if l != r {
            let lines: Vec<&str> = x.lines().collect();
            for c in lines.iter().take(i + 1).skip(i.saturating_sub(15)) {
                println!("  {c}");
            }
            println!("A: {l}\nB: {r}");
            return;
        }
    }
}
