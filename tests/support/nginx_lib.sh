# shellcheck shell=bash
# nginx_lib.sh - Debian's nginx for the tests that run it (sourced after
# real_lib.sh): master and two workers on 127.0.0.1 at a free port, its
# error log at level notice (where nginx logs every signal it gets).
#   ng_start [CMD...]  nginx -c CONF -e LOG run by CMD (none: itself),
#                      in its own session, tried on up to 5 ports until it
#                      serves; sets pid (the master) and port
#   ng_workers         the workers' pids
#   ng_load_start      curl asks for the page without pause, in the
#                      background, until ng_load_stop, which sets ok and
#                      bad (the requests that did and did not get it)
#   ng_quit WHILE      the load stopped, nginx ended and checked (below)
ng_nginx=$(rl_program nginx)
ng_curl=$(rl_program curl)
"$ng_nginx" -v 2>&1
mkdir -m 1777 "$rl_dir/snaps"
mkdir "$rl_dir/html" "$rl_dir/tmp"
echo "hello from nginx" >"$rl_dir/html/index.html"
chmod -R a+rX "$rl_dir"

ng_conf() {
  cat >"$rl_dir/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
pid $rl_dir/nginx.pid;
error_log $rl_dir/error.log notice;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $rl_dir/tmp/body;
  proxy_temp_path $rl_dir/tmp/proxy;
  fastcgi_temp_path $rl_dir/tmp/fastcgi;
  uwsgi_temp_path $rl_dir/tmp/uwsgi;
  scgi_temp_path $rl_dir/tmp/scgi;
  server {
    listen 127.0.0.1:$port;
    root $rl_dir/html;
  }
}
EOF
}

ng_start() {
  for _ in 1 2 3 4 5; do
    port=$(rl_free_port) || fail "no free port"
    ng_conf
    setsid "$@" "$ng_nginx" -c "$rl_dir/nginx.conf" -e "$rl_dir/error.log" \
      >"$rl_dir/out" 2>"$rl_dir/err" &
    pid=$!
    rl_track $pid
    rl_track_group $pid
    hs_wait_for 30 "$ng_curl" -sf "http://127.0.0.1:$port/" -o /dev/null && return
    kill -9 $pid 2>/dev/null || true
  done
  fail "nginx never served: $(cat "$rl_dir/err" "$rl_dir/error.log")"
}

ng_workers() {
  cat /proc/"$pid"/task/*/children
}

ng_load_start() {
  (
    ok=0 bad=0
    while [ ! -e "$rl_dir/stop" ]; do
      if "$ng_curl" -sf "http://127.0.0.1:$port/" | grep -qx "hello from nginx"; then
        ok=$((ok + 1))
      else
        bad=$((bad + 1))
      fi
    done
    echo "$ok $bad" >"$rl_dir/requests"
  ) &
  ng_load=$!
  rl_track $ng_load
}

ng_load_stop() {
  touch "$rl_dir/stop"
  rl_wait_exit "$ng_load" 30
  read -r ok bad <"$rl_dir/requests"
}

# ng_quit WHILE: the load stopped, nginx ended with SIGQUIT; it must exit
# 0, its error log must show no signal before the SIGQUIT (WHILE says
# when, for the failure) and the SIGQUIT itself, and every request must
# have succeeded.
ng_quit() {
  sleep 0.5
  ng_load_stop
  cp "$rl_dir/error.log" "$rl_dir/error.before-quit"
  kill -QUIT "$pid"
  rl_wait_exit "$pid" 30
  [ "$rl_status" = 0 ] || fail "nginx exited with $rl_status"
  ! grep 'signal [0-9]* (SIG[^)]*) received' "$rl_dir/error.before-quit" ||
    fail "nginx received a signal $1"
  grep -q 'signal 3 (SIGQUIT) received' "$rl_dir/error.log" ||
    fail "the error log does not show signals at all: $(head -5 "$rl_dir/error.log")"
  [ "$bad" = 0 ] || fail "$bad of $((ok + bad)) requests failed"
  [ "$ok" -gt 0 ] || fail "no request"
}
