# Sourced by the bin/ launchers: finds a JDK 25+ java and runs a main class from a module's built jar.
#   launch MODULE MAIN_CLASS [ARGS...]
# The java: $JAVA_HOME if it is 25 or newer, else /usr/lib/jvm/temurin-25-jdk-amd64, else any /usr/lib/jvm/*25*.
# $VHOSTJ_JAVA_OPTS adds JVM options. Daemons get a class-data-sharing archive in the module's target/
# (made by the first run, used by every later one: it cuts startup; see README "Startup").

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)

java_major() {   # JAVA -> major version, or 0
  local v
  v=$("$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}') || true
  [[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}

find_java() {
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]] && (( $(java_major "$JAVA_HOME/bin/java") >= 25 )); then
    echo "$JAVA_HOME/bin/java"; return
  fi
  if [[ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]]; then echo /usr/lib/jvm/temurin-25-jdk-amd64/bin/java; return; fi
  local j
  for j in /usr/lib/jvm/*25*/bin/java; do
    if [[ -x $j ]]; then echo "$j"; return; fi
  done
}

launch() {
  local module=$1 main=$2 name
  shift 2
  name=$(basename "$0")
  local java
  java=$(find_java)
  if [[ -z $java ]]; then
    echo "$name: no JDK 25 found (set JAVA_HOME to a JDK 25 or newer)" >&2
    exit 2
  fi
  shopt -s nullglob
  local jar= candidate
  for candidate in "$root/$module"/target/"$module"-*.jar; do
    [[ $candidate == *-tests.jar ]] || jar=$candidate
  done
  if [[ -z $jar || ! -d $root/$module/target/lib ]]; then
    echo "$name: not built yet; run: (cd $root && mvn -B -q package -DskipTests)" >&2
    exit 2
  fi
  local cds=()
  if [[ ${VHOSTJ_CDS:-1} == 1 && -w $root/$module/target ]]; then
    cds=(-XX:SharedArchiveFile="$root/$module/target/$name.jsa" -XX:+AutoCreateSharedArchive -Xlog:cds=off -Xlog:cds+dynamic=off)
  fi
  # shellcheck disable=SC2086 # VHOSTJ_JAVA_OPTS is a list of options
  exec "$java" --enable-native-access=ALL-UNNAMED "${cds[@]}" ${VHOSTJ_JAVA_OPTS:-} \
    -cp "$jar:$root/$module/target/lib/*" "$main" "$@"
}
