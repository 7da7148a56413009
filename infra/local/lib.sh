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
START_TIMEOUT="${TOURNIQUET_START_TIMEOUT:-180}"   # seconds, per service
STOP_TIMEOUT="${TOURNIQUET_STOP_TIMEOUT:-60}"      # seconds, per service before SIGKILL
ES_USER="${TOURNIQUET_ES_USER:-tourniquet}"        # only used when running as root

HOST=127.0.0.1
KAFKA_BOOTSTRAP="$HOST:$KAFKA_PORT"
ES_URL="http://$HOST:$ES_PORT"

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

SERVICES_ENV="$STATE_DIR/services.env"

# ---------------------------------------------------------------- output helpers
info() { printf '[local] %s\n' "$*"; }
warn() { printf '[local] WARNING: %s\n' "$*" >&2; }
die()  { printf '[local] ERROR: %s\n' "$*" >&2; exit 1; }

now_s() { date +%s; }

# Parses --kafka-only / --es-only / --help into WANT_KAFKA / WANT_ES. Extra flags are
# returned in EXTRA_ARGS for the caller to interpret.
parse_common_args() {
  local usage_fn="$1"; shift
  WANT_KAFKA=1; WANT_ES=1; EXTRA_ARGS=()
  while (($#)); do
    case "$1" in
      --kafka-only) WANT_KAFKA=1; WANT_ES=0 ;;
      --es-only)    WANT_KAFKA=0; WANT_ES=1 ;;
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

kafka_fetch() {
  if [[ -f "$KAFKA_LIB/.complete" ]] && compgen -G "$KAFKA_LIB/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null; then
    return 0
  fi
  info "kafka: resolving Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIB"
  rm -rf "$KAFKA_LIB"
  mkdir -p "$KAFKA_LIB"
  mvn_cmd -f "$LOCAL_INFRA_DIR/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_LIB" -DincludeScope=runtime \
    || die "kafka: 'mvn dependency:copy-dependencies' failed"
  touch "$KAFKA_LIB/.complete"
}

kafka_configure() {
  mkdir -p "$KAFKA_CONF_DIR" "$KAFKA_DATA_DIR" "$KAFKA_LOGS_DIR"
  render "$LOCAL_INFRA_DIR/kafka/server.properties.template" \
    "KAFKA_PORT=$KAFKA_PORT" "KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT" \
    "KAFKA_DATA_DIR=$KAFKA_DATA_DIR" >"$KAFKA_CONF_DIR/server.properties"
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

es_healthy() {
  port_open "$ES_PORT" || return 1
  local body
  body="$(curl -fsS --max-time 10 \
    "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=5s" 2>/dev/null)" || return 1
  [[ "$body" == *'"status":"green"'* || "$body" == *'"status":"yellow"'* ]]
}

es_health_status() {
  curl -fsS --max-time 5 "$ES_URL/_cluster/health" 2>/dev/null \
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
