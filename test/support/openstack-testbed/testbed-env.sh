# Names shared by the testbed's scripts (sourced; plain sh). The testbed owns these databases in
# MariaDB and this user and vhost in RabbitMQ: wipe.sh drops exactly these and nothing else.
TESTBED_DBS="keystone glance placement nova_api nova nova_cell0 neutron"
RABBIT_USER=testbed RABBIT_PASS=testbedpass RABBIT_VHOST=testbed
TRANSPORT_URL="rabbit://$RABBIT_USER:$RABBIT_PASS@127.0.0.1:5672/$RABBIT_VHOST"
. "${HERE:?set HERE to the scripts folder}"/rabbit-env.sh
# rabbitmqctl as the node's owner sees it (its Erlang cookie is in RabbitMQ's home).
rmq() { HOME=/var/lib/rabbitmq rabbitmqctl -n "$RABBITMQ_NODENAME" "$@"; }
