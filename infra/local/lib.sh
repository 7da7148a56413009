# Shared by infra/local/{up,down,status}. Sourced, not executed.
# shellcheck shell=bash

LOCAL_INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$LOCAL_INFRA_DIR/../.." && pwd)"

# ---------------------------------------------------------------- configuration
KAFKA_VERSION=4.2.0
ES_VERSION=8.19.21
ES_ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"

STATE_DIR="${TOURNIQUET_LOCAL_DIR:-$REPO_ROOT/.local}"
KAFKA_PORT="${TOURNIQUET_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${TOURNIQUET_KAFKA_CONTROLLER_PORT:-9093}"
ES_PORT="${TOURNIQUET_ES_PORT:-9200}"
ES_TRANSPORT_PORT="${TOURNIQUET_ES_TRANSPORT_PORT:-9300}"
ES_HEAP="${TOURNIQUET_ES_HEAP:-768m}"
KAFKA_HEAP="${TOURNIQUET_KAFKA_HEAP:-1g}"
FLINK_VERSION=2.2.1
FLINK_REST_PORT="${TOURNIQUET_FLINK_REST_PORT:-8081}"
FLINK_RPC_PORT="${TOURNIQUET_FLINK_RPC_PORT:-6123}"
FLINK_TASKMANAGERS="${TOURNIQUET_FLINK_TASKMANAGERS:-2}"
FLINK_SLOTS="${TOURNIQUET_FLINK_SLOTS:-2}"
FLINK_JM_MEMORY="${TOURNIQUET_FLINK_JM_MEMORY:-1024m}"
FLINK_TM_MEMORY="${TOURNIQUET_FLINK_TM_MEMORY:-1536m}"
FLINK_PROMETHEUS_PORTS="${TOURNIQUET_FLINK_PROMETHEUS_PORTS:-9260-9269}"
START_TIMEOUT="${TOURNIQUET_START_TIMEOUT:-180}"   # seconds, per service
STOP_TIMEOUT="${TOURNIQUET_STOP_TIMEOUT:-60}"      # seconds, per service before SIGKILL
ES_USER="${TOURNIQUET_ES_USER:-tourniquet}"        # only used when running as root

# Secured services, for the tests that prove Tourniquet works through them (see infra/local/README.md):
# a Kafka server.properties fragment appended to the rendered file (extra SASL_SSL / SSL listeners;
# the PLAINTEXT listener stays for the health check), and a directory holding Elasticsearch's HTTPS
# keystore and passwords (http.p12, ca.pem, keystore-password, elastic-password) that turns
# Elasticsearch's security on: TLS on HTTP and authentication, with 'elastic' as the bootstrap user.
KAFKA_EXTRA_CONFIG="${TOURNIQUET_KAFKA_EXTRA_CONFIG:-}"
ES_SECURITY_DIR="${TOURNIQUET_ES_SECURITY_DIR:-}"

HOST=127.0.0.1
KAFKA_BOOTSTRAP="$HOST:$KAFKA_PORT"
if [[ -n "$ES_SECURITY_DIR" ]]; then ES_URL="https://$HOST:$ES_PORT"; else ES_URL="http://$HOST:$ES_PORT"; fi

KAFKA_DIR="$STATE_DIR/kafka"
KAFKA_LIB="$KAFKA_DIR/lib"
KAFKA_CONF_DIR="$KAFKA_DIR/config"
KAFKA_DATA_DIR="$KAFKA_DIR/data"
KAFKA_LOGS_DIR="$KAFKA_DIR/logs"
KAFKA_PID_FILE="$KAFKA_DIR/kafka.pid"
KAFKA_CLUSTER_ID_FILE="$KAFKA_DIR/cluster-id"
KAFKA_STDOUT_LOG="$KAFKA_LOGS_DIR/kafka.out"
KAFKA_SERVER_LOG="$KAFKA_LOGS_DIR/server.log"

ES_DIR="$STATE_DIR/elasticsearch"
ES_DIST_DIR="$ES_DIR/dist"
ES_HOME="$ES_DIST_DIR/elasticsearch-$ES_VERSION"
ES_CONF_DIR="$ES_DIR/config"
ES_DATA_DIR="$ES_DIR/data"
ES_LOGS_DIR="$ES_DIR/logs"
ES_TMP_DIR="$ES_DIR/tmp"
ES_RUN_DIR="$ES_DIR/run"          # owned by the ES user: the pid file is written by ES itself
ES_PID_FILE="$ES_RUN_DIR/elasticsearch.pid"
ES_STDOUT_LOG="$ES_LOGS_DIR/elasticsearch.out"
ES_SERVER_LOG="$ES_LOGS_DIR/tourniquet-local.log"   # <cluster.name>.log

FLINK_DIR="$STATE_DIR/flink"
FLINK_LIB="$FLINK_DIR/lib"
FLINK_CONF_DIR="$FLINK_DIR/conf"
FLINK_LOGS_DIR="$FLINK_DIR/logs"
FLINK_TMP_DIR="$FLINK_DIR/tmp"
FLINK_JM_PID_FILE="$FLINK_DIR/jobmanager.pid"
FLINK_JM_LOG="$FLINK_LOGS_DIR/jobmanager.log"
FLINK_JM_STDOUT_LOG="$FLINK_LOGS_DIR/jobmanager.out"
FLINK_URL="http://$HOST:$FLINK_REST_PORT"

# Prometheus and promtool from Debian's 'prometheus' package, unpacked, never installed (no
# service, no system user): <state>/prometheus/usr/bin/{prometheus,promtool}. See prometheus_fetch.
PROMETHEUS_DIR="$STATE_DIR/prometheus"
PROMETHEUS_BIN="$PROMETHEUS_DIR/usr/bin"
PROMETHEUS_PORT="${TOURNIQUET_PROMETHEUS_PORT:-9090}"
PROMETHEUS_PID_FILE="$PROMETHEUS_DIR/prometheus.pid"
PROMETHEUS_LOG="$PROMETHEUS_DIR/prometheus.log"
PROMETHEUS_MARKER="infra/prometheus/prometheus.yml"

SERVICES_ENV="$STATE_DIR/services.env"

# ---------------------------------------------------------------- output helpers
info() { printf '[local] %s\n' "$*"; }
warn() { printf '[local] WARNING: %s\n' "$*" >&2; }
die()  { printf '[local] ERROR: %s\n' "$*" >&2; exit 1; }

now_s() { date +%s; }

# Parses --kafka-only / --es-only / --flink / --flink-only / --help into WANT_KAFKA / WANT_ES /
# WANT_FLINK. Without a flag: Kafka and Elasticsearch, never Flink (what tests and CI rely on).
# Extra flags are returned in EXTRA_ARGS for the caller to interpret.
parse_common_args() {
  local usage_fn="$1"; shift
  WANT_KAFKA=1; WANT_ES=1; WANT_FLINK=0; WANT_PROMETHEUS=0; EXTRA_ARGS=()
  while (($#)); do
    case "$1" in
      --kafka-only) WANT_KAFKA=1; WANT_ES=0; WANT_FLINK=0 ;;
      --es-only)    WANT_KAFKA=0; WANT_ES=1; WANT_FLINK=0 ;;
      --flink)      WANT_FLINK=1 ;;
      --flink-only) WANT_KAFKA=0; WANT_ES=0; WANT_FLINK=1 ;;
      --prometheus) WANT_PROMETHEUS=1 ;;
      -h|--help)    "$usage_fn"; exit 0 ;;
      *)            EXTRA_ARGS+=("$1") ;;
    esac
    shift
  done
}

env_help() {
  cat <<EOF
Environment (defaults in brackets):
  TOURNIQUET_LOCAL_DIR              state dir: downloads, data, logs, pid files [<repo>/.local]
  TOURNIQUET_KAFKA_PORT             Kafka PLAINTEXT listener [9092]
  TOURNIQUET_KAFKA_CONTROLLER_PORT  Kafka KRaft controller listener [9093]
  TOURNIQUET_ES_PORT                Elasticsearch HTTP [9200]
  TOURNIQUET_ES_TRANSPORT_PORT      Elasticsearch transport [9300]
  TOURNIQUET_KAFKA_HEAP             Kafka -Xmx/-Xms [1g]
  TOURNIQUET_ES_HEAP                Elasticsearch -Xmx/-Xms [768m]
  TOURNIQUET_START_TIMEOUT          seconds to wait for each service to become healthy [180]
  TOURNIQUET_STOP_TIMEOUT           seconds to wait after SIGTERM before SIGKILL [60]
  TOURNIQUET_JAVA_HOME              JDK for both services [the JDK of 'java' on PATH]
  ES_JAVA_HOME                      JDK for Elasticsearch only [TOURNIQUET_JAVA_HOME]
  TOURNIQUET_ES_USER                user that runs Elasticsearch when invoked as root [tourniquet]
  TOURNIQUET_PROMETHEUS_PORT        Prometheus (--prometheus) web UI and API on 127.0.0.1 [9090]
  TOURNIQUET_KAFKA_EXTRA_CONFIG     server.properties fragment appended (e.g. SASL_SSL/SSL listeners) [unset]
  TOURNIQUET_ES_SECURITY_DIR        dir with http.p12, ca.pem, keystore-password, elastic-password:
                                    Elasticsearch with TLS on HTTP and authentication [unset: security off]
  TOURNIQUET_FLINK_REST_PORT        Flink JobManager REST API and web UI [8081]
  TOURNIQUET_FLINK_RPC_PORT         Flink JobManager RPC [6123]
  TOURNIQUET_FLINK_TASKMANAGERS     TaskManagers to run [2]
  TOURNIQUET_FLINK_SLOTS            task slots per TaskManager [2]
  TOURNIQUET_FLINK_JM_MEMORY        JobManager process memory [1024m]
  TOURNIQUET_FLINK_TM_MEMORY        TaskManager process memory [1536m]
  TOURNIQUET_FLINK_PROMETHEUS_PORTS Prometheus /metrics ports, one per process [9260-9269]
All services bind to 127.0.0.1 only.
EOF
}

# ---------------------------------------------------------------- java
java_home() {
  if [[ -n "${TOURNIQUET_JAVA_HOME:-}" ]]; then
    printf '%s\n' "$TOURNIQUET_JAVA_HOME"; return
  fi
  local java_bin
  java_bin="$(command -v java)" || die "no 'java' on PATH (Java 17+ required)"
  java_bin="$(readlink -f "$java_bin")"
  dirname "$(dirname "$java_bin")"
}
JAVA_HOME_DIR="$(java_home)"
JAVA_BIN="$JAVA_HOME_DIR/bin/java"
[[ -x "$JAVA_BIN" ]] || die "java not found at $JAVA_BIN (set TOURNIQUET_JAVA_HOME)"

# ---------------------------------------------------------------- processes & ports
# Prints the pid recorded in a pid file, or nothing.
read_pid() {
  local f="$1" pid
  [[ -f "$f" ]] || return 0
  pid="$(tr -dc '0-9' <"$f" 2>/dev/null || true)"
  [[ -n "$pid" ]] && printf '%s\n' "$pid"
  return 0
}

# True if $1 is a live process whose command line contains $2 (guards against pid reuse).
pid_is() {
  local pid="$1" marker="$2"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 0   # no procfs: trust kill -0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker"
}

# True if something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# Describes who listens on a port (best effort, for error messages).
port_owner() {
  if command -v ss >/dev/null 2>&1; then
    ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -1
  fi
}

require_port_free() {
  local port="$1" what="$2" owner
  if port_open "$port"; then
    owner="$(port_owner "$port")"
    die "port $port ($what) on $HOST is already in use${owner:+ by $owner}; stop that process or set the matching TOURNIQUET_*_PORT"
  fi
}

# Sends SIGTERM, waits up to STOP_TIMEOUT seconds, then SIGKILL. $2 is a display name.
stop_pid() {
  local pid="$1" name="$2" deadline
  kill -TERM "$pid" 2>/dev/null || return 0
  deadline=$(( $(now_s) + STOP_TIMEOUT ))
  while kill -0 "$pid" 2>/dev/null; do
    if (( $(now_s) >= deadline )); then
      warn "$name (pid $pid) did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.5
  done
  # SIGKILL is not instantaneous either; wait for the process to be gone.
  deadline=$(( $(now_s) + 10 ))
  while kill -0 "$pid" 2>/dev/null && (( $(now_s) < deadline )); do sleep 0.2; done
  ! kill -0 "$pid" 2>/dev/null
}

show_log_tail() {
  local f="$1" n="${2:-40}"
  if [[ -s "$f" ]]; then
    printf '[local] ---- last %s lines of %s ----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2
    printf '[local] ---- end of %s ----\n' "$f" >&2
  fi
}

# Replaces @KEY@ placeholders in template $1 with the values given as KEY=VALUE arguments.
render() {
  local template="$1" content kv key value
  shift
  content="$(<"$template")"
  for kv in "$@"; do
    key="${kv%%=*}"; value="${kv#*=}"
    content="${content//@${key}@/$value}"
  done
  [[ "$content" != *@[A-Z_]*@* ]] || die "unrendered placeholder left in $template"
  printf '%s\n' "$content"
}

# Runs Maven with its output in <state>/mvn.log (shown only on failure).
mvn_cmd() {
  command -v mvn >/dev/null 2>&1 || die "'mvn' is required to download Kafka/Elasticsearch from Maven Central"
  local log="$STATE_DIR/mvn.log"
  if ! mvn -B -Dstyle.color=never "$@" >"$log" 2>&1; then
    show_log_tail "$log" 30
    return 1
  fi
}

write_services_env() {
  mkdir -p "$STATE_DIR"
  local tmp="$SERVICES_ENV.tmp.$$"
  # TOURNIQUET_ES_URL is the scripts' and tests' name; TOURNIQUET_ELASTICSEARCH_URL the setting's
  # (elasticsearch.url), so that sourcing this file configures 'run' and the jobs too.
  printf 'TOURNIQUET_KAFKA_BOOTSTRAP=%s\nTOURNIQUET_ES_URL=%s\nTOURNIQUET_ELASTICSEARCH_URL=%s\n' \
    "$KAFKA_BOOTSTRAP" "$ES_URL" "$ES_URL" >"$tmp"
  mv -f "$tmp" "$SERVICES_ENV"
}

# ---------------------------------------------------------------- kafka
KAFKA_MARKER="kafka.Kafka"

kafka_java() {
  # Runs a class from the Kafka lib dir with the quiet tools logging config.
  "$JAVA_BIN" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$LOCAL_INFRA_DIR/kafka/tools-log4j2.properties" \
    -cp "$KAFKA_LIB/*" "$@"
}

# Jars of one service, resolved once from Maven Central by its pom into its lib directory.
# Usage: fetch_jars NAME VERSION LIB_DIR POM MARKER_JAR
fetch_jars() {
  local name="$1" version="$2" lib="$3" pom="$4" marker="$5"
  if [[ -f "$lib/.complete" ]] && compgen -G "$lib/$marker" >/dev/null; then
    return 0
  fi
  info "$name: resolving ${name^} $version jars from Maven Central into $lib"
  rm -rf "$lib"
  mkdir -p "$lib"
  mvn_cmd -f "$pom" dependency:copy-dependencies -DoutputDirectory="$lib" -DincludeScope=runtime \
    || die "$name: 'mvn dependency:copy-dependencies' failed"
  touch "$lib/.complete"
}

kafka_fetch() {
  fetch_jars kafka "$KAFKA_VERSION" "$KAFKA_LIB" "$LOCAL_INFRA_DIR/kafka/pom.xml" "kafka_2.13-$KAFKA_VERSION.jar"
}

kafka_configure() {
  mkdir -p "$KAFKA_CONF_DIR" "$KAFKA_DATA_DIR" "$KAFKA_LOGS_DIR"
  render "$LOCAL_INFRA_DIR/kafka/server.properties.template" \
    "KAFKA_PORT=$KAFKA_PORT" "KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT" \
    "KAFKA_DATA_DIR=$KAFKA_DATA_DIR" >"$KAFKA_CONF_DIR/server.properties"
  if [[ -n "$KAFKA_EXTRA_CONFIG" ]]; then
    [[ -f "$KAFKA_EXTRA_CONFIG" ]] || die "kafka: TOURNIQUET_KAFKA_EXTRA_CONFIG $KAFKA_EXTRA_CONFIG: no such file"
    # Later keys win in a properties file: the fragment may redefine listeners.
    { echo; echo "# ---- appended from $KAFKA_EXTRA_CONFIG ----"; cat "$KAFKA_EXTRA_CONFIG"; } \
      >>"$KAFKA_CONF_DIR/server.properties"
  fi
  cp -f "$LOCAL_INFRA_DIR/kafka/log4j2.properties" "$KAFKA_CONF_DIR/log4j2.properties"
}

kafka_format() {
  if [[ -f "$KAFKA_DATA_DIR/meta.properties" ]]; then
    return 0
  fi
  if [[ ! -s "$KAFKA_CLUSTER_ID_FILE" ]]; then
    kafka_java kafka.tools.StorageTool random-uuid >"$KAFKA_CLUSTER_ID_FILE.tmp" \
      || die "kafka: StorageTool random-uuid failed"
    mv -f "$KAFKA_CLUSTER_ID_FILE.tmp" "$KAFKA_CLUSTER_ID_FILE"
  fi
  local cluster_id
  cluster_id="$(tr -d '[:space:]' <"$KAFKA_CLUSTER_ID_FILE")"
  info "kafka: formatting $KAFKA_DATA_DIR (cluster id $cluster_id)"
  kafka_java kafka.tools.StorageTool format -t "$cluster_id" \
    -c "$KAFKA_CONF_DIR/server.properties" --ignore-formatted >"$KAFKA_LOGS_DIR/format.out" 2>&1 \
    || { show_log_tail "$KAFKA_LOGS_DIR/format.out"; die "kafka: storage format failed"; }
}

kafka_healthy() {
  port_open "$KAFKA_PORT" || return 1
  timeout 30 "$JAVA_BIN" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$LOCAL_INFRA_DIR/kafka/tools-log4j2.properties" \
    -cp "$KAFKA_LIB/*" org.apache.kafka.tools.BrokerApiVersionsCommand \
    --bootstrap-server "$KAFKA_BOOTSTRAP" >/dev/null 2>&1
}

kafka_running_pid() {
  local pid
  pid="$(read_pid "$KAFKA_PID_FILE")"
  if pid_is "$pid" "$KAFKA_MARKER"; then printf '%s\n' "$pid"; fi
}

kafka_require_ports() {
  require_port_free "$KAFKA_PORT" "TOURNIQUET_KAFKA_PORT, Kafka PLAINTEXT"
  require_port_free "$KAFKA_CONTROLLER_PORT" "TOURNIQUET_KAFKA_CONTROLLER_PORT, Kafka controller"
}

kafka_up() {
  local pid start deadline
  pid="$(kafka_running_pid)"
  if [[ -n "$pid" ]]; then
    if kafka_healthy; then
      info "kafka: already running (pid $pid) on $KAFKA_BOOTSTRAP"
      return 0
    fi
    info "kafka: pid $pid is alive but not healthy yet; waiting"
  else
    rm -f "$KAFKA_PID_FILE"
    kafka_require_ports
    kafka_fetch
    kafka_configure
    kafka_format
    info "kafka: starting Kafka $KAFKA_VERSION (KRaft, broker+controller)"
    (
      cd "$KAFKA_DIR"
      # setsid: own session, so a Ctrl-C in the calling terminal doesn't reach the broker.
      exec setsid nohup "$JAVA_BIN" "-Xms$KAFKA_HEAP" "-Xmx$KAFKA_HEAP" -XX:+UseG1GC \
        -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
        -Dkafka.logs.dir="$KAFKA_LOGS_DIR" \
        -Dlog4j2.configurationFile="$KAFKA_CONF_DIR/log4j2.properties" \
        -cp "$KAFKA_LIB/*" kafka.Kafka "$KAFKA_CONF_DIR/server.properties" \
        >>"$KAFKA_STDOUT_LOG" 2>&1 </dev/null
    ) &
    pid=$!
    echo "$pid" >"$KAFKA_PID_FILE"
  fi
  start=$(now_s)
  deadline=$(( start + START_TIMEOUT ))
  until kafka_healthy; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$KAFKA_PID_FILE"
      show_log_tail "$KAFKA_STDOUT_LOG"; show_log_tail "$KAFKA_SERVER_LOG"
      die "kafka: process $pid exited during startup (logs: $KAFKA_LOGS_DIR)"
    fi
    if (( $(now_s) >= deadline )); then
      show_log_tail "$KAFKA_STDOUT_LOG"; show_log_tail "$KAFKA_SERVER_LOG"
      warn "kafka: not healthy after ${START_TIMEOUT}s; stopping pid $pid"
      stop_pid "$pid" kafka || true
      rm -f "$KAFKA_PID_FILE"
      die "kafka: startup timed out (logs: $KAFKA_LOGS_DIR)"
    fi
    sleep 1
  done
  info "kafka: healthy after $(( $(now_s) - start ))s (pid $pid)"
}

kafka_down() {
  local pid
  pid="$(read_pid "$KAFKA_PID_FILE")"
  if pid_is "$pid" "$KAFKA_MARKER"; then
    info "kafka: stopping pid $pid"
    stop_pid "$pid" kafka || die "kafka: pid $pid could not be stopped"
    info "kafka: stopped"
  else
    info "kafka: not running"
  fi
  rm -f "$KAFKA_PID_FILE"
}

# ---------------------------------------------------------------- elasticsearch
ES_MARKER="org.elasticsearch"

es_fetch() {
  if [[ -x "$ES_HOME/bin/elasticsearch" && -f "$ES_DIST_DIR/.complete" ]]; then
    return 0
  fi
  command -v unzip >/dev/null 2>&1 || die "'unzip' is required (apt-get install unzip)"
  info "elasticsearch: fetching $ES_ARTIFACT via Maven into $ES_DIST_DIR"
  rm -rf "$ES_DIST_DIR"
  mkdir -p "$ES_DIST_DIR"
  # Run against the standalone pom only to get its pinned maven-dependency-plugin version.
  mvn_cmd -f "$LOCAL_INFRA_DIR/kafka/pom.xml" dependency:copy \
    -Dartifact="$ES_ARTIFACT" -DoutputDirectory="$ES_DIST_DIR" \
    || die "elasticsearch: 'mvn dependency:copy' failed"
  unzip -q "$ES_DIST_DIR/elasticsearch-$ES_VERSION.zip" -d "$ES_DIST_DIR" \
    || die "elasticsearch: could not unzip the distribution"
  rm -f "$ES_DIST_DIR/elasticsearch-$ES_VERSION.zip"
  touch "$ES_DIST_DIR/.complete"
}

es_ensure_user() {
  (( $(id -u) == 0 )) || return 0
  if ! id -u "$ES_USER" >/dev/null 2>&1; then
    info "elasticsearch: creating system user '$ES_USER' (Elasticsearch refuses to run as root)"
    useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER" \
      || die "could not create user $ES_USER"
  fi
}

es_configure() {
  mkdir -p "$ES_CONF_DIR" "$ES_DATA_DIR" "$ES_LOGS_DIR" "$ES_TMP_DIR" "$ES_RUN_DIR"
  if [[ ! -f "$ES_CONF_DIR/jvm.options" ]]; then
    cp -R "$ES_HOME/config/." "$ES_CONF_DIR/"
  fi
  mkdir -p "$ES_CONF_DIR/jvm.options.d"
  render "$LOCAL_INFRA_DIR/elasticsearch/elasticsearch.yml.template" \
    "ES_PORT=$ES_PORT" "ES_TRANSPORT_PORT=$ES_TRANSPORT_PORT" \
    "ES_DATA_DIR=$ES_DATA_DIR" "ES_LOGS_DIR=$ES_LOGS_DIR" >"$ES_CONF_DIR/elasticsearch.yml"
  if [[ -n "$ES_SECURITY_DIR" ]]; then es_configure_security; fi
  # The stock jvm.options writes gc.log and hs_err files relative to the working directory.
  sed -i -E \
    -e "s#^(-Xlog:gc[^:]*:file=)[^:]*gc\.log:#\1$ES_LOGS_DIR/gc.log:#" \
    -e "s#^-XX:ErrorFile=.*#-XX:ErrorFile=$ES_LOGS_DIR/hs_err_pid%p.log#" \
    "$ES_CONF_DIR/jvm.options"
  render "$LOCAL_INFRA_DIR/elasticsearch/jvm.options.d.tourniquet.options" \
    "ES_LOGS_DIR=$ES_LOGS_DIR" >"$ES_CONF_DIR/jvm.options.d/tourniquet.options"
  if (( $(id -u) == 0 )); then
    chown -R "$ES_USER:$ES_USER" "$ES_HOME" "$ES_CONF_DIR" "$ES_DATA_DIR" "$ES_LOGS_DIR" \
      "$ES_TMP_DIR" "$ES_RUN_DIR"
    # The ES user must be able to reach the state dir (e.g. through a 0700 home directory).
    setpriv --reuid="$ES_USER" --regid="$ES_USER" --init-groups test -w "$ES_DATA_DIR" \
      || die "user $ES_USER cannot write $ES_DATA_DIR: make the parents of $STATE_DIR world-traversable (chmod o+x) or set TOURNIQUET_LOCAL_DIR elsewhere"
  fi
}

# Security on: TLS on HTTP with the given keystore, authentication with 'elastic' (its password is
# the keystore's bootstrap.password). Transport TLS is not needed by a single loopback node.
es_configure_security() {
  local f
  for f in http.p12 ca.pem keystore-password elastic-password; do
    [[ -f "$ES_SECURITY_DIR/$f" ]] || die "elasticsearch: TOURNIQUET_ES_SECURITY_DIR lacks $f"
  done
  cp -f "$ES_SECURITY_DIR/http.p12" "$ES_CONF_DIR/http.p12"
  sed -i -e 's/^xpack.security.enabled: false$/xpack.security.enabled: true\
xpack.security.http.ssl.enabled: true\
xpack.security.http.ssl.keystore.path: http.p12\
xpack.security.transport.ssl.enabled: false/' "$ES_CONF_DIR/elasticsearch.yml"
  rm -f "$ES_CONF_DIR/elasticsearch.keystore"
  es_keystore create >/dev/null || die "elasticsearch: keystore create failed"
  es_keystore add -x -f bootstrap.password <"$ES_SECURITY_DIR/elastic-password" >/dev/null \
    || die "elasticsearch: keystore add bootstrap.password failed"
  es_keystore add -x -f xpack.security.http.ssl.keystore.secure_password \
    <"$ES_SECURITY_DIR/keystore-password" >/dev/null || die "elasticsearch: keystore add failed"
}

es_keystore() {
  env -u JAVA_HOME ES_JAVA_HOME="${ES_JAVA_HOME:-$JAVA_HOME_DIR}" ES_PATH_CONF="$ES_CONF_DIR" \
    "$ES_HOME/bin/elasticsearch-keystore" "$@"
}

# curl with the secured node's CA and credentials (from a config on stdin: no password in ps).
es_curl() {
  if [[ -n "$ES_SECURITY_DIR" ]]; then
    printf 'user = "elastic:%s"\n' "$(tr -d '\n' <"$ES_SECURITY_DIR/elastic-password")" \
      | curl -K - --cacert "$ES_SECURITY_DIR/ca.pem" "$@"
  else
    curl "$@"
  fi
}

es_healthy() {
  port_open "$ES_PORT" || return 1
  local body
  body="$(es_curl -fsS --max-time 10 \
    "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=5s" 2>/dev/null)" || return 1
  [[ "$body" == *'"status":"green"'* || "$body" == *'"status":"yellow"'* ]]
}

es_health_status() {
  es_curl -fsS --max-time 5 "$ES_URL/_cluster/health" 2>/dev/null \
    | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p'
}

es_running_pid() {
  local pid
  pid="$(read_pid "$ES_PID_FILE")"
  if pid_is "$pid" "$ES_MARKER"; then printf '%s\n' "$pid"; fi
}

es_require_ports() {
  require_port_free "$ES_PORT" "TOURNIQUET_ES_PORT, Elasticsearch HTTP"
  require_port_free "$ES_TRANSPORT_PORT" "TOURNIQUET_ES_TRANSPORT_PORT, Elasticsearch transport"
}

es_up() {
  local pid launcher start deadline
  command -v curl >/dev/null 2>&1 || die "'curl' is required for the Elasticsearch health check"
  pid="$(es_running_pid)"
  if [[ -n "$pid" ]]; then
    if es_healthy; then
      info "elasticsearch: already running (pid $pid) on $ES_URL"
      return 0
    fi
    info "elasticsearch: pid $pid is alive but not healthy yet; waiting"
    launcher=""
  else
    rm -f "$ES_PID_FILE"
    es_require_ports
    es_fetch
    es_ensure_user
    es_configure
    info "elasticsearch: starting Elasticsearch $ES_VERSION (java: $JAVA_HOME_DIR)"
    local -a run_as=()
    if (( $(id -u) == 0 )); then
      run_as=(setpriv --reuid="$ES_USER" --regid="$ES_USER" --init-groups)
    fi
    # -d: the launcher exits once the node is started; the node writes its own pid file.
    (
      cd "$ES_LOGS_DIR"
      exec env -u JAVA_HOME ES_JAVA_HOME="${ES_JAVA_HOME:-$JAVA_HOME_DIR}" \
        ES_PATH_CONF="$ES_CONF_DIR" ES_TMPDIR="$ES_TMP_DIR" \
        ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP ${ES_JAVA_OPTS:-}" \
        setsid nohup "${run_as[@]}" "$ES_HOME/bin/elasticsearch" -d -p "$ES_PID_FILE" \
        >>"$ES_STDOUT_LOG" 2>&1 </dev/null
    ) &
    launcher=$!
  fi
  start=$(now_s)
  deadline=$(( start + START_TIMEOUT ))
  until es_healthy; do
    if [[ -n "$launcher" ]] && ! kill -0 "$launcher" 2>/dev/null; then
      # The launcher has exited: fine if the node is up (pid file), fatal otherwise.
      local rc=0
      wait "$launcher" || rc=$?
      launcher=""
      if [[ -z "$(es_running_pid)" ]]; then
        show_log_tail "$ES_STDOUT_LOG"; show_log_tail "$ES_SERVER_LOG"
        die "elasticsearch: failed to start (launcher exit code $rc; logs: $ES_LOGS_DIR)"
      fi
    fi
    if [[ -z "$launcher" && -z "$(es_running_pid)" ]]; then
      show_log_tail "$ES_STDOUT_LOG"; show_log_tail "$ES_SERVER_LOG"
      die "elasticsearch: node process exited during startup (logs: $ES_LOGS_DIR)"
    fi
    if (( $(now_s) >= deadline )); then
      show_log_tail "$ES_STDOUT_LOG"; show_log_tail "$ES_SERVER_LOG"
      warn "elasticsearch: not healthy after ${START_TIMEOUT}s; stopping it"
      # The node may not have written its pid file yet: it is then the launcher's child.
      local -a started=()
      pid="$(es_running_pid)"
      if [[ -n "$pid" ]]; then started+=("$pid"); fi
      if [[ -n "$launcher" ]]; then
        mapfile -t -O "${#started[@]}" started < <(pgrep -P "$launcher" || true)
        started+=("$launcher")
      fi
      for pid in "${started[@]}"; do stop_pid "$pid" elasticsearch || true; done
      if [[ -n "$launcher" ]]; then wait "$launcher" 2>/dev/null || true; fi
      rm -f "$ES_PID_FILE"
      die "elasticsearch: startup timed out (logs: $ES_LOGS_DIR)"
    fi
    sleep 1
  done
  # Let the launcher finish detaching so its exit doesn't race with the caller.
  if [[ -n "$launcher" ]]; then wait "$launcher" 2>/dev/null || true; fi
  pid="$(es_running_pid)"
  info "elasticsearch: healthy after $(( $(now_s) - start ))s (pid ${pid:-?})"
}

es_down() {
  local pid
  pid="$(read_pid "$ES_PID_FILE")"
  if pid_is "$pid" "$ES_MARKER"; then
    info "elasticsearch: stopping pid $pid"
    stop_pid "$pid" elasticsearch || die "elasticsearch: pid $pid could not be stopped"
    info "elasticsearch: stopped"
  else
    info "elasticsearch: not running"
  fi
  rm -f "$ES_PID_FILE"
}

# ---------------------------------------------------------------- flink
# A standalone session cluster from Maven Central jars (there is no flink-dist there): one
# JobManager (StandaloneSessionClusterEntrypoint) and FLINK_TASKMANAGERS TaskManagers
# (TaskManagerRunner), each its own JVM with its own pid file and log.
FLINK_JM_MARKER="org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint"
FLINK_TM_MARKER="org.apache.flink.runtime.taskexecutor.TaskManagerRunner"
# The opens Flink 2 needs on Java 17 (as flink-dist's config.yaml gives them): the argument file
# the launcher and the tests read too.
FLINK_JAVA_OPENS=("@$LOCAL_INFRA_DIR/../jvm/flink-java17.args")

flink_tm_pid_file() { printf '%s/taskmanager-%s.pid\n' "$FLINK_DIR" "$1"; }
flink_tm_id_file()  { printf '%s/taskmanager-%s.resource-id\n' "$FLINK_DIR" "$1"; }
flink_tm_log()      { printf '%s/taskmanager-%s.log\n' "$FLINK_LOGS_DIR" "$1"; }
flink_tm_stdout()   { printf '%s/taskmanager-%s.out\n' "$FLINK_LOGS_DIR" "$1"; }

flink_fetch() {
  fetch_jars flink "$FLINK_VERSION" "$FLINK_LIB" "$LOCAL_INFRA_DIR/flink/pom.xml" "flink-runtime-$FLINK_VERSION.jar"
}

flink_configure() {
  mkdir -p "$FLINK_CONF_DIR" "$FLINK_LOGS_DIR" "$FLINK_TMP_DIR/io" "$FLINK_TMP_DIR/web" "$FLINK_DIR/web-upload"
  render "$LOCAL_INFRA_DIR/flink/config.yaml.template" \
    "FLINK_RPC_PORT=$FLINK_RPC_PORT" "FLINK_REST_PORT=$FLINK_REST_PORT" "FLINK_SLOTS=$FLINK_SLOTS" \
    "FLINK_JM_MEMORY=$FLINK_JM_MEMORY" "FLINK_TM_MEMORY=$FLINK_TM_MEMORY" "FLINK_DIR=$FLINK_DIR" \
    "FLINK_PROMETHEUS_PORTS=$FLINK_PROMETHEUS_PORTS" >"$FLINK_CONF_DIR/config.yaml"
  cp -f "$LOCAL_INFRA_DIR/flink/log4j.properties" "$FLINK_CONF_DIR/log4j.properties"
}

# Runs Flink's BashJavaUtils (what flink-dist's scripts use) and prints line $2 of its results:
# 1 = JVM options (heap, direct, metaspace), 2 = the derived memory options as "-D k=v" pairs,
# which the process must be given, or it would derive different sizes than its JVM limits.
flink_resource_params() {
  local cmd="$1" line="$2" out
  out="$("$JAVA_BIN" -Xmx128m -XX:+UseSerialGC -cp "$FLINK_LIB/*" \
    -Dlog4j2.configurationFile="$LOCAL_INFRA_DIR/kafka/tools-log4j2.properties" \
    org.apache.flink.runtime.util.bash.BashJavaUtils "$cmd" --configDir "$FLINK_CONF_DIR" 2>&1)" \
    || { printf '%s\n' "$out" >&2; die "flink: BashJavaUtils $cmd failed"; }
  sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p' <<<"$out" | sed -n "${line}p"
}

flink_jm_running_pid() {
  local pid
  pid="$(read_pid "$FLINK_JM_PID_FILE")"
  if pid_is "$pid" "$FLINK_JM_MARKER"; then printf '%s\n' "$pid"; fi
}

flink_tm_running_pid() {
  local pid
  pid="$(read_pid "$(flink_tm_pid_file "$1")")"
  if pid_is "$pid" "$FLINK_TM_MARKER"; then printf '%s\n' "$pid"; fi
}

flink_healthy() {
  port_open "$FLINK_REST_PORT" || return 1
  curl -fsS --max-time 5 "$FLINK_URL/overview" >/dev/null 2>&1
}

flink_require_ports() {
  require_port_free "$FLINK_REST_PORT" "TOURNIQUET_FLINK_REST_PORT, Flink REST"
  require_port_free "$FLINK_RPC_PORT" "TOURNIQUET_FLINK_RPC_PORT, Flink JobManager RPC"
}

# Starts a JVM of the cluster in its own session; prints its pid. $1 log file, $2 stdout file,
# $3 JVM options (word-split on purpose: BashJavaUtils prints them space-separated), rest: main + args.
flink_spawn() {
  local log="$1" out="$2" jvm="$3"
  shift 3
  [[ -f "$log" ]] && mv -f "$log" "$log.prev"
  [[ -f "$out" ]] && mv -f "$out" "$out.prev"
  # shellcheck disable=SC2086
  (
    cd "$FLINK_DIR"
    exec setsid nohup "$JAVA_BIN" $jvm "${FLINK_JAVA_OPENS[@]}" -XX:+UseG1GC -Djava.awt.headless=true \
      -Dlog.file="$log" -Dlog4j.configurationFile="$FLINK_CONF_DIR/log4j.properties" \
      -Dlog4j2.configurationFile="$FLINK_CONF_DIR/log4j.properties" \
      -cp "$FLINK_LIB/*" "$@" >>"$out" 2>&1 </dev/null
  ) &
  printf '%s\n' "$!"
}

flink_jm_up() {
  local pid start deadline jvm dyn
  pid="$(flink_jm_running_pid)"
  if [[ -n "$pid" ]] && flink_healthy; then
    info "flink: JobManager already running (pid $pid) on $FLINK_URL"
    return 0
  fi
  if [[ -z "$pid" ]]; then
    rm -f "$FLINK_JM_PID_FILE"
    flink_require_ports
    jvm="$(flink_resource_params GET_JM_RESOURCE_PARAMS 1)"
    dyn="$(flink_resource_params GET_JM_RESOURCE_PARAMS 2)"
    info "flink: starting the JobManager (Flink $FLINK_VERSION, standalone session)"
    # shellcheck disable=SC2086
    pid="$(flink_spawn "$FLINK_JM_LOG" "$FLINK_JM_STDOUT_LOG" "$jvm" \
      "$FLINK_JM_MARKER" --configDir "$FLINK_CONF_DIR" $dyn)"
    echo "$pid" >"$FLINK_JM_PID_FILE"
  fi
  start=$(now_s)
  deadline=$(( start + START_TIMEOUT ))
  until flink_healthy; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$FLINK_JM_PID_FILE"
      show_log_tail "$FLINK_JM_STDOUT_LOG"; show_log_tail "$FLINK_JM_LOG"
      die "flink: JobManager (pid $pid) exited during startup (logs: $FLINK_LOGS_DIR)"
    fi
    if (( $(now_s) >= deadline )); then
      show_log_tail "$FLINK_JM_LOG"
      warn "flink: JobManager not healthy after ${START_TIMEOUT}s; stopping pid $pid"
      stop_pid "$pid" flink-jobmanager || true
      rm -f "$FLINK_JM_PID_FILE"
      die "flink: JobManager startup timed out (logs: $FLINK_LOGS_DIR)"
    fi
    sleep 0.5
  done
  info "flink: JobManager healthy after $(( $(now_s) - start ))s (pid $pid), web UI $FLINK_URL"
}

# Starts TaskManager $1 unless it runs (flink_tm_wait waits for it). Each start gets a new
# resource id (shown by the REST API as the TaskManager's id, and kept in taskmanager-N.resource-id),
# so a replacement is never taken for the process it replaces.
flink_tm_start() {
  local n="$1" pid jvm dyn rid
  pid="$(flink_tm_running_pid "$n")"
  if [[ -n "$pid" ]]; then
    info "flink: TaskManager $n already running (pid $pid)"
    return 0
  fi
  rm -f "$(flink_tm_pid_file "$n")"
  jvm="$(flink_resource_params GET_TM_RESOURCE_PARAMS 1)"
  dyn="$(flink_resource_params GET_TM_RESOURCE_PARAMS 2)"
  rid="local-tm-$n-$(date +%s%N | cut -c1-13)"
  info "flink: starting TaskManager $n ($FLINK_SLOTS slots, $FLINK_TM_MEMORY, resource id $rid)"
  # shellcheck disable=SC2086
  pid="$(flink_spawn "$(flink_tm_log "$n")" "$(flink_tm_stdout "$n")" "$jvm" \
    "$FLINK_TM_MARKER" --configDir "$FLINK_CONF_DIR" $dyn -D "taskmanager.resource-id=$rid")"
  echo "$pid" >"$(flink_tm_pid_file "$n")"
  echo "$rid" >"$(flink_tm_id_file "$n")"
  FLINK_STARTED_TMS+=("$n")
}

# Healthy = registered at the ResourceManager, which its own log (fresh for each start) says.
flink_tm_wait() {
  local n="$1" pid start deadline log
  pid="$(read_pid "$(flink_tm_pid_file "$n")")"
  log="$(flink_tm_log "$n")"
  start=$(now_s)
  deadline=$(( start + START_TIMEOUT ))
  until [[ -f "$log" ]] && grep -q "Successful registration at resource manager" "$log"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$(flink_tm_pid_file "$n")"
      show_log_tail "$(flink_tm_stdout "$n")"; show_log_tail "$log"
      die "flink: TaskManager $n (pid $pid) exited during startup (logs: $FLINK_LOGS_DIR)"
    fi
    if (( $(now_s) >= deadline )); then
      show_log_tail "$log"
      warn "flink: TaskManager $n not registered after ${START_TIMEOUT}s; stopping pid $pid"
      stop_pid "$pid" "flink-taskmanager-$n" || true
      rm -f "$(flink_tm_pid_file "$n")"
      die "flink: TaskManager $n startup timed out (logs: $FLINK_LOGS_DIR)"
    fi
    sleep 0.5
  done
  info "flink: TaskManager $n registered (pid $pid)"
}

# The TaskManagers start together (on 2 cores, one after the other doubles the wait).
flink_up() {
  local n
  flink_fetch
  flink_configure
  flink_jm_up
  FLINK_STARTED_TMS=()
  for ((n = 1; n <= FLINK_TASKMANAGERS; n++)); do flink_tm_start "$n"; done
  for n in "${FLINK_STARTED_TMS[@]+"${FLINK_STARTED_TMS[@]}"}"; do flink_tm_wait "$n"; done
}

# Stops the TaskManagers recorded in pid files (any number: a larger earlier cluster too), then
# the JobManager, each only if its pid still is that Flink process.
flink_down() {
  local f n pid
  for f in "$FLINK_DIR"/taskmanager-*.pid; do
    [[ -e "$f" ]] || continue
    n="${f##*/taskmanager-}"; n="${n%.pid}"
    pid="$(read_pid "$f")"
    if pid_is "$pid" "$FLINK_TM_MARKER"; then
      info "flink: stopping TaskManager $n (pid $pid)"
      stop_pid "$pid" "flink-taskmanager-$n" || die "flink: TaskManager pid $pid could not be stopped"
    fi
    rm -f "$f" "$(flink_tm_id_file "$n")"
  done
  pid="$(read_pid "$FLINK_JM_PID_FILE")"
  if pid_is "$pid" "$FLINK_JM_MARKER"; then
    info "flink: stopping the JobManager (pid $pid)"
    stop_pid "$pid" flink-jobmanager || die "flink: JobManager pid $pid could not be stopped"
    info "flink: stopped"
  else
    info "flink: JobManager not running"
  fi
  rm -f "$FLINK_JM_PID_FILE"
}

# ---------------------------------------------------------------- prometheus
# Unpacks Debian's 'prometheus' package (Prometheus and promtool; one static binary each, needing
# only libc) into PROMETHEUS_DIR with dpkg-deb -x, instead of installing it: an installed package
# starts a system-wide service on :9090, which tests and a developer's machine must not get. The
# .deb stays in PROMETHEUS_DIR/deb, so a later run needs no network; a .deb put there by hand is
# used as it is (a machine without apt access). Idempotent: once unpacked, nothing is done.
prometheus_fetch() {
  if [[ -f "$PROMETHEUS_DIR/.complete" && -x "$PROMETHEUS_BIN/promtool" && -x "$PROMETHEUS_BIN/prometheus" ]]; then
    return 0
  fi
  command -v dpkg-deb >/dev/null 2>&1 || die "prometheus: 'dpkg-deb' is required (a Debian or Ubuntu machine)"
  mkdir -p "$PROMETHEUS_DIR/deb"
  # One fetch at a time: a test and a developer's shell may both ask on a clean state dir.
  exec {lock}>"$PROMETHEUS_DIR/.lock"
  flock "$lock"
  if [[ ! -f "$PROMETHEUS_DIR/.complete" ]]; then prometheus_unpack; fi
  exec {lock}>&-
}

# Downloads the package unless a .deb is already in the cache, and unpacks it. Called under the lock.
prometheus_unpack() {
  local cache="$PROMETHEUS_DIR/deb" log="$PROMETHEUS_DIR/apt.log" debs tmp
  debs=("$cache"/prometheus_*.deb)
  if [[ ! -f "${debs[0]}" ]]; then
    command -v apt-get >/dev/null 2>&1 || die "prometheus: 'apt-get' is required to download Debian's prometheus package (or put prometheus_*.deb into $cache)"
    info "prometheus: downloading Debian's prometheus package into $cache"
    # A missing or stale package list (a fresh machine; a point release since the last update)
    # fails the download: update the lists once and try again, as the CI machine needs.
    if ! prometheus_apt_download "$cache" >"$log" 2>&1; then
      info "prometheus: 'apt-get download prometheus' failed; running 'apt-get update' once"
      if ! { apt-get update && prometheus_apt_download "$cache"; } >>"$log" 2>&1; then
        show_log_tail "$log" 20
        die "prometheus: apt-get cannot download the 'prometheus' package (log: $log). It needs Debian's package registry and, for 'apt-get update', root; or put prometheus_*.deb into $cache"
      fi
    fi
    debs=("$cache"/prometheus_*.deb)
    [[ -f "${debs[0]}" ]] || die "prometheus: apt-get reported success but left no prometheus_*.deb in $cache (log: $log)"
  fi
  tmp="$(mktemp -d "$PROMETHEUS_DIR/unpack.XXXXXX")"
  # A .deb that does not unpack (an interrupted download) would fail every later run: drop it.
  dpkg-deb -x "${debs[-1]}" "$tmp" || { rm -rf "$tmp" "${debs[-1]}";
    die "prometheus: 'dpkg-deb -x ${debs[-1]}' failed; the file is removed, run again to download it anew"; }
  [[ -x "$tmp/usr/bin/promtool" && -x "$tmp/usr/bin/prometheus" ]] \
    || { rm -rf "$tmp"; die "prometheus: ${debs[-1]} has no usr/bin/promtool and usr/bin/prometheus"; }
  rm -rf "$PROMETHEUS_DIR/usr" "$PROMETHEUS_DIR/etc"
  mv "$tmp/usr" "$tmp/etc" "$PROMETHEUS_DIR/"
  rm -rf "$tmp"
  "$PROMETHEUS_BIN/promtool" --version 2>&1 | head -1 >"$PROMETHEUS_DIR/.complete"
  info "prometheus: $(cat "$PROMETHEUS_DIR/.complete") in $PROMETHEUS_BIN"
}

# apt-get download writes into the current directory. As root, apt would download as its '_apt'
# user, who cannot write into a root-owned cache (apt then falls back, with a warning): download as root.
prometheus_apt_download() {
  local -a opts=()
  if (( $(id -u) == 0 )); then opts=(-o APT::Sandbox::User=root); fi
  (cd "$1" && apt-get "${opts[@]}" download prometheus)
}

# ---------------------------------------------------------------- prometheus (up --prometheus)
# Debian's Prometheus (unpacked by prometheus_fetch) with infra/prometheus/prometheus.yml: it scrapes
# the jobs' reporters on 127.0.0.1:9249-9269 and evaluates the alert rules.
prometheus_running_pid() {
  local pid
  pid="$(read_pid "$PROMETHEUS_PID_FILE")"
  if pid_is "$pid" "$PROMETHEUS_MARKER"; then printf '%s\n' "$pid"; fi
}

prometheus_up() {
  local pid start deadline
  pid="$(prometheus_running_pid)"
  if [[ -n "$pid" ]]; then
    info "prometheus: already running (pid $pid) on http://$HOST:$PROMETHEUS_PORT"
    return 0
  fi
  require_port_free "$PROMETHEUS_PORT" "TOURNIQUET_PROMETHEUS_PORT, Prometheus"
  prometheus_fetch
  mkdir -p "$PROMETHEUS_DIR/data"
  (
    exec setsid nohup "$PROMETHEUS_BIN/prometheus" \
      --config.file="$REPO_ROOT/infra/prometheus/prometheus.yml" \
      --storage.tsdb.path="$PROMETHEUS_DIR/data" --web.listen-address="$HOST:$PROMETHEUS_PORT" \
      --web.local-assets="$PROMETHEUS_DIR/usr/share/prometheus/web/" >>"$PROMETHEUS_LOG" 2>&1 </dev/null
  ) &
  pid=$!
  echo "$pid" >"$PROMETHEUS_PID_FILE"
  start=$(now_s)
  deadline=$(( start + START_TIMEOUT ))
  until curl -fsS --max-time 5 "http://$HOST:$PROMETHEUS_PORT/-/ready" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PROMETHEUS_PID_FILE"
      show_log_tail "$PROMETHEUS_LOG"
      die "prometheus: process $pid exited during startup (log: $PROMETHEUS_LOG)"
    fi
    if (( $(now_s) >= deadline )); then
      show_log_tail "$PROMETHEUS_LOG"
      stop_pid "$pid" prometheus || true
      rm -f "$PROMETHEUS_PID_FILE"
      die "prometheus: not ready after ${START_TIMEOUT}s (log: $PROMETHEUS_LOG)"
    fi
    sleep 1
  done
  info "prometheus: ready after $(( $(now_s) - start ))s (pid $pid) on http://$HOST:$PROMETHEUS_PORT"
}

prometheus_down() {
  local pid
  pid="$(read_pid "$PROMETHEUS_PID_FILE")"
  if pid_is "$pid" "$PROMETHEUS_MARKER"; then
    info "prometheus: stopping pid $pid"
    stop_pid "$pid" prometheus || die "prometheus: pid $pid could not be stopped"
  fi
  rm -f "$PROMETHEUS_PID_FILE"
}
