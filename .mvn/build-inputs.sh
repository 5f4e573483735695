# Sourced by ./gatehouse: whether the jar is older than the sources it was built from. Kept apart from the launcher
# so the check can be tested on a small tree without a build.
#
# Two signals, because modification times alone miss deletions: deleting a file changes nothing but its directory's
# time, and tools that copy trees (rsync -a, tar, unzip, IDE syncs) restore directory times, so a deleted source would
# stay compiled into the jar. Next to the jar, "<jar>.inputs" lists the files it was built from; a list that differs
# (a file added, deleted or renamed, whatever its time) or any input newer than the jar means: build.

# The build's inputs under ROOT, one relative path a line, sorted: every file under a module's src/ and every pom.
gatehouse_build_inputs() {
  (cd "$1" && find ./*/src ./pom.xml ./*/pom.xml -type f 2>/dev/null | LC_ALL=C sort)
}

# gatehouse_needs_build ROOT JAR: true (0) when JAR must be (re)built.
gatehouse_needs_build() {
  local root=$1 jar=$2
  [ -f "$jar" ] || return 0
  [ -z "$(find "$root"/*/src "$root/pom.xml" "$root"/*/pom.xml -newer "$jar" -print -quit 2>/dev/null)" ] || return 0
  # A jar built by Maven directly has no list, or one older than itself (written for an earlier jar): its times are
  # all there is, and the list starts again from here.
  [ "$jar.inputs" -nt "$jar" ] || { gatehouse_build_inputs "$root" >"$jar.inputs"; return 1; }
  [ "$(gatehouse_build_inputs "$root")" != "$(cat "$jar.inputs")" ]
}

# gatehouse_record_build ROOT JAR INPUTS: after a successful build, records INPUTS (the list taken before it started,
# so a file added during the build still counts as new next time).
gatehouse_record_build() {
  printf '%s\n' "$3" >"$2.inputs"
}
