#!/bin/bash
# What testbed-up.sh must do, decided from the services' own state: the testbed lives in MariaDB
# and RabbitMQ, which outlive the work folder. (A marker file in the work folder used to decide;
# with the folder deleted and the databases left, setup then died on Keystone's 409 for the
# project that was already there.) Needs MariaDB and RabbitMQ answering (start-infra.sh).
# Prints one line, "<action>: <why>":
#   start - a complete setup: Keystone's `service` project, our RabbitMQ user on our vhost, and
#           the work folder of that setup (its marker: Glance keeps the image file there)
#   setup - nothing of ours in MariaDB
#   wipe  - leftovers of an earlier or interrupted setup: wipe.sh, then setup
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE"/testbed-env.sh
P=${OS_TESTBED_DIR:?}
in_list=$(printf "'%s'," $TESTBED_DBS); in_list=${in_list%,}
dbs=$(mysql -N -B -e "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name IN ($in_list)") \
  || { echo "error: MariaDB does not answer"; exit 1; }
project=$(mysql -N -B -e "SELECT COUNT(*) FROM keystone.project WHERE name = 'service'" 2>/dev/null || echo 0)
rabbit=$(rmq -q list_permissions -p "$RABBIT_VHOST" --silent 2>/dev/null | awk -v u="$RABBIT_USER" '$1 == u { print "yes" }')
if [ "$dbs" = 0 ]; then
  echo "setup: no testbed database in MariaDB"
elif [ "$project" != 1 ]; then
  echo "wipe: $dbs testbed database(s) in MariaDB but no Keystone project 'service' (an interrupted setup)"
elif [ ! -f "$P/.setup-done" ]; then
  echo "wipe: the databases of an earlier setup, but its work folder $P is gone or incomplete"
elif [ -z "$rabbit" ]; then
  echo "wipe: RabbitMQ has no user $RABBIT_USER on vhost $RABBIT_VHOST (reset, or a setup older than it)"
else
  echo "start: set up in MariaDB, RabbitMQ and $P"
fi
