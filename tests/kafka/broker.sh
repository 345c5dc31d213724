#!/usr/bin/env bash
# Starts and stops a throwaway single-node Apache Kafka broker (KRaft, combined broker+controller)
# on 127.0.0.1 with a random free port, from jars fetched from Maven Central by ./pom.xml.
#
#   tests/kafka/broker.sh fetch              download the jars (once; cached in tests/kafka/target)
#   tests/kafka/broker.sh start DIR          start a broker whose data and logs live in DIR;
#                                            prints its bootstrap address (also in DIR/bootstrap)
#   tests/kafka/broker.sh stop DIR           stop it and wait for it to exit
#   tests/kafka/broker.sh classpath          the classpath (for MirrorMaker 2 and the tools)
#   tests/kafka/broker.sh topics ARGS...     Kafka's own kafka-topics tool (TopicCommand)
#   tests/kafka/broker.sh configs ARGS...    Kafka's own kafka-configs tool (kafka.admin.ConfigCommand)
#   tests/kafka/broker.sh groups ARGS...     Kafka's own kafka-consumer-groups tool
#   tests/kafka/broker.sh delete-records ARGS... Kafka's own kafka-delete-records tool
#   tests/kafka/broker.sh java FILE.java ARGS... a single-file Java program on the same classpath
#
# CLUSTER_ID, when set, is the id to format the broker with (tests of this script); KAFKA_HEAP the
# broker JVM's -Xmx (default 512m; bench/seam.sh gives 1g for its 10,000 partitions).
# SECURE=1 starts a secured broker as operators run them: one SASL_SSL listener (SASL PLAIN over
# TLS with a throwaway self-signed certificate for 127.0.0.1; Debian's kcat cannot log in with
# SCRAM to Kafka 4.1), the StandardAuthorizer with
# allow.everyone.if.no.acl.found=false, the super user `admin` and the unprivileged user
# `migrator` (passwords admin-secret and migrator-secret). DIR/ca.pem is the certificate to trust,
# DIR/admin.properties the Java tools' client settings for `admin`.
#
#   tests/kafka/broker.sh acls ARGS...       Kafka's own kafka-acls tool (AclCommand)
# With OWNER_PID set, `start` also stops the broker when that process exits (test harnesses).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
libs="$here/target/libs"

fetch() {
    # One fetch at a time: test binaries start brokers in parallel, and two Maven copies into the
    # same directory fail each other. Fetched again when the pom changed since.
    mkdir -p "$here/target"
    exec 9> "$here/target/.fetch.lock"
    flock 9
    if [ ! -f "$libs/.complete" ] || [ "$here/pom.xml" -nt "$libs/.complete" ]; then
        mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies >&2
        touch "$libs/.complete"
    fi
    exec 9>&-
}

# A random cluster id in Kafka's form (URL-safe base64 of 16 bytes). One draw in 64 begins with
# "-", which the storage tool would read as an option: such draws are redrawn, and the id is
# passed as --cluster-id=ID so no value can ever be taken for an option.
cluster_id() {
    python3 -c 'import uuid,base64
while True:
    i = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not i.startswith("-"): break
print(i)'
}

store_password=changeit

# A throwaway TLS identity for 127.0.0.1: the broker's key store, the certificate clients trust
# (PEM for librdkafka and kcat, a PKCS12 trust store for the Java tools), and the admin's settings.
secure_files() {
    local dir="$1"
    rm -f "$dir/broker.p12" "$dir/truststore.p12"
    keytool -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 7 -dname CN=127.0.0.1 \
        -ext SAN=ip:127.0.0.1,dns:localhost -storetype PKCS12 -keystore "$dir/broker.p12" \
        -storepass "$store_password" -keypass "$store_password" > /dev/null 2>&1
    keytool -exportcert -rfc -alias broker -keystore "$dir/broker.p12" -storepass "$store_password" \
        > "$dir/ca.pem" 2> /dev/null
    keytool -importcert -noprompt -alias ca -file "$dir/ca.pem" -storetype PKCS12 \
        -keystore "$dir/truststore.p12" -storepass "$store_password" > /dev/null 2>&1
    cat > "$dir/admin.properties" <<PROPS
security.protocol=SASL_SSL
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret";
ssl.truststore.type=PKCS12
ssl.truststore.location=$dir/truststore.p12
ssl.truststore.password=$store_password
PROPS
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
    local dir="$1"
    fetch
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    local port controller
    port="$(free_port)"
    controller="$(free_port)"
    cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$controller
controller.listener.names=CONTROLLER
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.cleaner.backoff.ms=1000
PROPS
    if [ -n "${SECURE:-}" ]; then
        secure_files "$dir"
        cat >> "$dir/server.properties" <<PROPS
listeners=SASL_SSL://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=SASL_SSL://127.0.0.1:$port
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=PLAIN
sasl.mechanism.inter.broker.protocol=PLAIN
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_migrator="migrator-secret";
ssl.keystore.type=PKCS12
ssl.keystore.location=$dir/broker.p12
ssl.keystore.password=$store_password
ssl.key.password=$store_password
ssl.truststore.type=PKCS12
ssl.truststore.location=$dir/truststore.p12
ssl.truststore.password=$store_password
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
# The broker's own requests: inter-broker as admin, to the controller over its plaintext listener.
super.users=User:admin;User:ANONYMOUS
PROPS
    else
        cat >> "$dir/server.properties" <<PROPS
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
PROPS
    fi
    cat > "$dir/log4j2.properties" <<'PROPS'
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
PROPS
    local java_opts=(-Xms256m "-Xmx${KAFKA_HEAP:-512m}" -XX:+UseG1GC "-Dkafka.logs.dir=$dir" "-Dlog4j2.configurationFile=$dir/log4j2.properties")
    java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool format --standalone \
        --cluster-id="${CLUSTER_ID:-$(cluster_id)}" \
        -c "$dir/server.properties" > "$dir/format.log" 2>&1 \
        || { cat "$dir/format.log" >&2; exit 1; }
    nohup java "${java_opts[@]}" -cp "$libs/*" kafka.Kafka "$dir/server.properties" \
        > "$dir/stdout.log" 2>&1 &
    echo $! > "$dir/pid"
    # Ready when the broker answers a metadata request on its port.
    local deadline=$((SECONDS + 90))
    until python3 - "$port" "${SECURE:+$dir/ca.pem}" <<'PY' 2>/dev/null
import socket, ssl, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
if len(sys.argv) > 2 and sys.argv[2]:
    s = ssl.create_default_context(cafile=sys.argv[2]).wrap_socket(s, server_hostname="127.0.0.1")
# ApiVersions v0 request: size, api_key 18, version 0, correlation 1, client id "probe"
body = struct.pack(">hhih", 18, 0, 1, 5) + b"probe"
s.sendall(struct.pack(">i", len(body)) + body)
size = struct.unpack(">i", s.recv(4))[0]
assert size > 0
PY
    do
        if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
            echo "kafka broker exited during start; see $dir/stdout.log and $dir/server.log" >&2
            tail -n 30 "$dir/stdout.log" >&2 || true
            exit 1
        fi
        if [ $SECONDS -ge $deadline ]; then
            echo "kafka broker did not answer on 127.0.0.1:$port within 90 s; see $dir/server.log" >&2
            stop "$dir"
            exit 1
        fi
        sleep 0.5
    done
    if [ -n "${OWNER_PID:-}" ]; then
        local broker_pid
        broker_pid="$(cat "$dir/pid")"
        nohup bash -c "while kill -0 $OWNER_PID 2>/dev/null && kill -0 $broker_pid 2>/dev/null; do sleep 1; done; kill $broker_pid 2>/dev/null" \
            > /dev/null 2>&1 &
    fi
    echo "127.0.0.1:$port" > "$dir/bootstrap"
    echo "127.0.0.1:$port"
}

tool() {
    local class="$1"
    shift
    fetch
    java -Xmx256m -Dlog4j2.level=warn -cp "$libs/*" "$class" "$@"
}

stop() {
    local dir="$1"
    [ -f "$dir/pid" ] || return 0
    local pid
    pid="$(cat "$dir/pid")"
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/pid"
}

case "${1:-}" in
    fetch) fetch ;;
    start) start "${2:?usage: broker.sh start DIR}" ;;
    stop) stop "${2:?usage: broker.sh stop DIR}" ;;
    classpath) fetch; echo "$libs/*" ;;
    topics) shift; tool org.apache.kafka.tools.TopicCommand "$@" ;;
    configs) shift; tool kafka.admin.ConfigCommand "$@" ;;
    groups) shift; tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@" ;;
    acls) shift; tool org.apache.kafka.tools.AclCommand "$@" ;;
    delete-records) shift; tool org.apache.kafka.tools.DeleteRecordsCommand "$@" ;;
    java) shift; tool "$@" ;;
    *) echo "usage: $0 fetch | start DIR | stop DIR | classpath | topics ARGS | configs ARGS | groups ARGS | acls ARGS | delete-records ARGS | java FILE.java ARGS" >&2; exit 2 ;;
esac
