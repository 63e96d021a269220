# Helpers shared by the probe scripts (sourced).

# A port that was free a moment ago on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits up to 5 s until 127.0.0.1:$1 accepts connections.
wait_port() {
  for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# Writes $1/nginx.conf: one worker, its pid, logs and temporary files under $1, no access log,
# and the lines of its http block read from stdin (settings and server blocks).
write_backend_nginx_conf() {
  local out=$1
  {
    cat <<CONF
worker_processes 1;
pid $out/nginx.pid;
error_log $out/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $out/body;
  proxy_temp_path $out/proxy;
  fastcgi_temp_path $out/fcgi;
  uwsgi_temp_path $out/uwsgi;
  scgi_temp_path $out/scgi;
CONF
    cat
    echo "}"
  } > "$out/nginx.conf"
}
