//! Names the top-level sections whose models differ between two static files (developer aid).
fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let load = |p: &str| {
        let text = std::fs::read_to_string(p).expect("read");
        let f = trafficcop_core::config::Format::from_path(p).expect("format");
        trafficcop_core::config::static_config::load_static(&text, f, None).config
    };
    let (x, y) = (load(&a[0]), load(&a[1]));
    macro_rules! cmp { ($($f:ident),*) => {$( if x.$f != y.$f { println!("{}: {:?}\n  vs {:?}", stringify!($f), x.$f, y.$f); } )*} }
    cmp!(
        global,
        servers_transport,
        tcp_servers_transport,
        entry_points,
        api,
        metrics,
        ping,
        log,
        access_log,
        tracing,
        host_resolver,
        certificates_resolvers,
        experimental,
        core,
        spiffe,
        ocsp
    );
    if let (Some(p), Some(q)) = (&x.providers, &y.providers) {
        macro_rules! cmpp { ($($f:ident),*) => {$( if p.$f != q.$f { println!("providers.{}: {:?}\n  vs {:?}", stringify!($f), p.$f, q.$f); } )*} }
        cmpp!(
            providers_throttle_duration,
            precedence,
            docker,
            swarm,
            file,
            kubernetes_ingress,
            kubernetes_crd,
            kubernetes_gateway,
            knative,
            rest,
            consul_catalog,
            nomad,
            ecs,
            consul,
            etcd,
            zoo_keeper,
            redis,
            http,
            plugin
        );
    }
}
