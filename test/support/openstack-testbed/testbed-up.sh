#!/bin/bash
# Bring up the real OpenStack testbed (Keystone, Nova with the fake virt driver, Placement, Glance,
# Neutron on 127.0.0.1) for test/integration/openstack-testbed.test.ts, and write a clouds.yaml for it.
#   - packages missing  -> says to run install.sh (as root) and exits 2
# Then, from the services' own state (testbed-state.sh: MariaDB and RabbitMQ, which outlive the
# work folder), not from a file:
#   - nothing there     -> setup.sh + networks.sh (~1 min), then clouds.yaml
#   - leftovers         -> (an earlier setup whose work folder is gone, an interrupted setup)
#                          stops what runs, wipe.sh, then as above
#   - set up, stopped   -> start-all.sh and waits for the APIs
#   - already running   -> checks that a server boots, (re)writes clouds.yaml
# Stop it with: OS_TESTBED_DIR=<dir> test/support/openstack-testbed/stop-all.sh
# Work folder: $OS_TESTBED_DIR (default /var/tmp/nodepool-ts-openstack-testbed).
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
export OS_TESTBED_DIR=${OS_TESTBED_DIR:-/var/tmp/nodepool-ts-openstack-testbed}
P=$OS_TESTBED_DIR
[ "$(id -u)" = 0 ] || { echo "testbed-up: run as root (the services run as system users)"; exit 2; }
for pkg in keystone nova-api nova-conductor nova-scheduler placement-api glance-api neutron-server mariadb-server rabbitmq-server uwsgi; do
  dpkg -s "$pkg" >/dev/null 2>&1 || { echo "testbed-up: package $pkg is not installed; run $HERE/install.sh first (as root)"; exit 2; }
done
answers() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/"; }
wait_apis() {
  for port in 5000 8778 9292 9696 8774; do
    for _ in $(seq 1 120); do answers $port && break; sleep 0.5; done
    answers $port || { echo "testbed-up: nothing answers on port $port; see $P/logs"; exit 1; }
  done
}
started=$(date -u +%Y-%m-%dT%H:%M:%S)
# nova-api runs under uwsgi, whose idle workers do not send AMQP heartbeats: RabbitMQ then drops
# the connection after 60 s and the next build request cast on it is lost (the server stays in
# BUILD/scheduling for ever; seen here, with "missed heartbeats from client" in RabbitMQ's log).
# On loopback heartbeats buy nothing, so they are off. setup.sh writes this; older setups get it here.
no_amqp_heartbeats() {
  for conf in /etc/nova/nova.conf /etc/neutron/neutron.conf; do
    [ -f "$conf" ] && ! grep -q '^heartbeat_timeout_threshold' "$conf" &&
      printf '[oslo_messaging_rabbit]\nheartbeat_timeout_threshold = 0\n' >> "$conf"
  done
  return 0
}
# This checkout's scripts: start-all.sh and stop-all.sh run from the work folder.
mkdir -p "$P"
[ "$HERE" = "$(cd "$P" && pwd)" ] || cp -r "$HERE"/pylib "$HERE"/*.sh "$HERE"/adminrc "$P"/
"$HERE"/start-infra.sh
state=$("$HERE"/testbed-state.sh) || true
echo "testbed-up: $state"
case "${state%%:*}" in
  start)
    no_amqp_heartbeats
    if ! answers 5000; then
      echo "testbed-up: starting the existing testbed in $P"
      "$P"/start-all.sh
    fi
    wait_apis ;;
  wipe|setup)
    if [ "${state%%:*}" = wipe ]; then
      # Services of that setup that still run hold its data: stop them (by their pid files) first.
      if answers 5000 || answers 8774 || answers 9696; then
        "$HERE"/stop-all.sh
        for port in 5000 8778 9292 9696 8774; do
          ! answers $port || { echo "testbed-up: something still answers on port $port, not started from $P/pids; stop it first"; exit 1; }
        done
        "$HERE"/start-infra.sh
      fi
      echo "testbed-up: wiping the leftovers"
      "$HERE"/wipe.sh
    fi
    echo "testbed-up: first setup in $P (about a minute)"
    "$HERE"/setup.sh
    "$P"/networks.sh
    touch "$P/.setup-done" ;;
  *) echo "testbed-up: cannot tell the testbed's state: $state"; exit 1 ;;
esac
# Ready means "a server really boots", not "the APIs answer". Pitfalls seen on restarts:
#  - `compute service list` shows nova-compute `up` from the previous run's heartbeat for up to a
#    minute, while the new nova-compute is still waiting for the conductor: boots then fail. So wait
#    for a heartbeat newer than this script's start.
#  - the fake virt driver keeps its servers in memory: servers in Nova's database from an earlier
#    run are stale (ACTIVE but gone) and count against the quota. A test interrupted in its quota
#    step leaves the instance quota low. Both are reset here; the testbed is the tests' own cloud.
( cd "$P" && . ./adminrc
  fresh=""
  for _ in $(seq 1 90); do
    fresh=$(openstack compute service list --service nova-compute -f value -c State -c "Updated At" 2>/dev/null \
      | awk -v t="$started" '$1 == "up" && $2 >= t { print "yes" }')
    [ -n "$fresh" ] && break; sleep 1
  done
  [ -n "$fresh" ] || { echo "testbed-up: nova-compute sent no heartbeat since $started; see $P/logs"; exit 1; }
  stale=$(openstack server list --all-projects -f value -c ID 2>/dev/null)
  if [ -n "$stale" ]; then
    echo "testbed-up: deleting $(echo "$stale" | wc -l) server(s) left by an earlier run"
    openstack server delete --wait $stale >/dev/null 2>&1 || true
  fi
  openstack quota set --instances 10 --cores 20 --ram 51200 admin >/dev/null
  for attempt in 1 2 3; do
    status=$(timeout 90 openstack server create --flavor m1.tiny --image tiny --network priv --wait \
      testbed-probe -f value -c status 2>/dev/null | tail -1)
    openstack server delete --wait testbed-probe >/dev/null 2>&1 || true
    [ "$status" = ACTIVE ] && exit 0
    echo "testbed-up: probe boot $attempt did not become ACTIVE (${status:-no answer}); retrying"
    sleep 5
  done
  echo "testbed-up: no server boots; see $P/logs/nova-*.log"; exit 1 )
# The project's tests read this file (OS_CLIENT_CONFIG_FILE); cloud `testbed`.
cat > "$P/clouds.yaml" <<EOF
clouds:
  testbed:
    region_name: RegionOne
    auth:
      auth_url: http://127.0.0.1:5000/v3
      username: admin
      password: adminpass
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
EOF
echo "testbed-up: ready; clouds.yaml at $P/clouds.yaml (cloud: testbed)"
