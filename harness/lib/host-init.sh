#!/usr/bin/env bash
# Runs INSIDE a fresh net namespace + private mount/UTS namespace (see start_host_namespaces).
# Gives the host its own /run, /tmp, /root (SSH user's HOME), /var/lib/docker, /etc/docker,
# starts dockerd (and sshd), then becomes the long-lived namespace holder.
set -euo pipefail
name=$1 D=$2 addr=$3 with_sshd=$4 registry=$5
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
echo "init: $name pid $$"
hostname "$name"
mount --make-rprivate /
mount -t tmpfs -o mode=755 "kdh-run-$name" /run
mkdir -p /run/sshd /run/lock /run/docker && chmod 755 /run/sshd
mount -t tmpfs -o mode=1777 "kdh-tmp-$name" /tmp
mount --bind "$D/home" /root
mount --bind "$D/docker" /var/lib/docker
mkdir -p /etc/docker && mount --bind "$D/etc-docker" /etc/docker
ip link set lo up
readlink /proc/self/ns/mnt >"$D/mntns"
readlink /proc/self/ns/net >"$D/netns"
echo '{}' >"$D/etc-docker/daemon.json"

# dockerd: own data-root/exec-root/pidfile/sockets; default socket /run/docker.sock inside
# this mount namespace (what `docker` over SSH uses), plus $D/docker.sock reachable from
# the root namespace. Plain-HTTP access to the harness registry.
dockerd \
  --config-file /etc/docker/daemon.json \
  --data-root /var/lib/docker \
  --exec-root /run/docker \
  --pidfile "$D/dockerd.pid" \
  -H unix:///run/docker.sock -H "unix://$D/docker.sock" \
  --insecure-registry "$registry" \
  --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/kdh-$name" \
  --storage-driver overlay2 \
  ${KDH_DOCKERD_ARGS:-} \
  >"$D/dockerd.log" 2>&1 </dev/null &

if [[ $with_sshd == 1 ]]; then
  /usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log"
fi
echo $$ >"$D/init.pid"
exec -a "kdh-ns-holder-$name" sleep infinity
