#!/usr/bin/env bash
# sshd ForceCommand on every harness host: appends what the client asked to run (exec request,
# subsystem, or "(shell)") with a UTC timestamp to the log named by $1, then runs it as sshd would
# have (the user's shell -c). One line per request: "<ISO-8601 time>\t<command>", newlines and
# backslashes escaped (\n, \\), so the log reads in order and compares with a deploy plan.
log=$1
cmd=${SSH_ORIGINAL_COMMAND-}
line=${cmd//\\/\\\\}
line=${line//$'\n'/\\n}
[[ -n $cmd ]] || line='(shell)'
printf '%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)" "$line" >>"$log"
shell=${SHELL:-/bin/sh}
if [[ -z $cmd ]]; then exec -a "-${shell##*/}" "$shell"; fi
exec "$shell" -c "$cmd"
