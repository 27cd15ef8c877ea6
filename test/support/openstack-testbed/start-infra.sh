#!/bin/bash
# Start MariaDB and RabbitMQ unless they already run, and wait until both answer. Their data
# (/var/lib/mysql, /var/lib/rabbitmq) outlives the work folder: testbed-state.sh reads it.
set -e
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE"/testbed-env.sh
P=${OS_TESTBED_DIR:?}; mkdir -p "$P"/logs "$P"/pids
listening() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
if ! listening 3306; then
  nohup /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 --skip-name-resolve > "$P"/logs/mariadb.log 2>&1 & echo $! > "$P"/pids/mariadb.pid
fi
if ! listening 5672; then
  HOME=/var/lib/rabbitmq nohup setsid su rabbitmq -s /bin/sh -c ". $HERE/rabbit-env.sh; exec /usr/sbin/rabbitmq-server" > "$P"/logs/rabbit.log 2>&1 & echo $! > "$P"/pids/rabbit.pid
fi
for _ in $(seq 1 120); do mysql -e 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
mysql -e 'select 1' >/dev/null || { echo "start-infra: MariaDB does not answer; see $P/logs/mariadb.log"; exit 1; }
# await_startup fails at once while the Erlang node itself is not up yet.
for _ in $(seq 1 60); do rmq -q await_startup >/dev/null 2>&1 && break; sleep 1; done
rmq -q await_startup >/dev/null || { echo "start-infra: RabbitMQ did not start; see $P/logs/rabbit.log"; exit 1; }
