#!/usr/bin/env bash
# The whole test suite: unit, property, conformance and black-box tests, then the black-box
# runners from ../shared against the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${TRAFFICCOP_SHARED:-$(cd .. && pwd)/shared}"

cargo test --workspace
# A bounded batch of fresh random simulation seeds (any failing seed is printed; replay it with
# TC_SEED=<n>).
TC_SIM_RANDOM=2000 cargo test -p trafficcop-proptests --test simulation --test simulation_udp random -- --nocapture
# The black-box proxy tests again on the tokio adapter (the default is mio; both runtimes must
# pass them).
TRAFFICCOP_RUNTIME=tokio cargo test -p trafficcop --test proxy_e2e --test differential_proxy --test chaos --test tls_e2e --test grpc_e2e --test udp_e2e --test tcp_routers --test h2_streams_pool --test access_log

cargo build --release -p trafficcop
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/trafficcop"
if [ -d "$SHARED/conformance/blackbox" ] && python3 -c 'import yaml' 2>/dev/null; then
  # Cases whose request arrives over TLS go to an HTTPS entry point (self-signed certificate).
  python3 "$SHARED/conformance/blackbox/rules_blackbox.py" --bin "$BIN" \
    --cases "$SHARED/conformance/rules.yaml" --tls-mode https --max-time 600
  # The middlewares TrafficCop implements (the others are refused at load, never served
  # differently), TLS cases included; not rateLimit with redis, nor forwardAuth's
  # forwardBody (not built).
  python3 "$SHARED/conformance/blackbox/middlewares_blackbox.py" --bin "$BIN" \
    --cases "$SHARED/conformance/middlewares.yaml" \
    --known-divergences "$SHARED/conformance/blackbox/known_divergences.yaml" --tls-mode https \
    --filter '^(?!rateLimit\.TestNewRateLimiter\.06$|forwardAuth\.TestForwardAuthForwardBody)(chain|stripPrefix|stripPrefixRegex|addPrefix|replacePath|replacePathRegex|redirectScheme|redirectRegex|headers|ipAllowList|ipWhiteList|ipStrategy|forwardedHeaders|basicAuth|digestAuth|passTLSClientCert|circuitBreaker|contentType|compress|retry|errors|rateLimit|forwardAuth)\.' \
    --max-time 600
  bash scripts/h1-corpus-probe.sh "$BIN" "$SHARED"
else
  echo "SKIPPED black-box runners: $SHARED/conformance/blackbox or PyYAML not available"
fi
if [ -f "$SHARED/security/tools/h2_abuse.py" ] && python3 -c 'import hyperframe, hpack' 2>/dev/null; then
  bash scripts/h2-abuse-probe.sh "$BIN" "$SHARED"
else
  echo "SKIPPED h2 abuse probe: $SHARED/security/tools/h2_abuse.py or hyperframe/hpack not available"
fi
