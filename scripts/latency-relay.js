#!/usr/bin/env node
// An SSH ProxyCommand for `bench:deploy` with BENCH_RTT: connects to HOST:PORT and relays
// stdin/stdout to it, each chunk held ONE_WAY_MS in each direction, so every round trip over
// the connection takes 2 × ONE_WAY_MS more, as to a server far away. Order is kept (timers of
// one duration fire in the order they were set); bandwidth is not limited.
// Usage: node latency-relay.js HOST PORT ONE_WAY_MS
'use strict'
const net = require('node:net')

const [host, port, oneWay] = process.argv.slice(2)
const delay = Number(oneWay)
if (!host || !port || !Number.isFinite(delay) || delay < 0) {
  process.stderr.write('usage: latency-relay.js HOST PORT ONE_WAY_MS\n')
  process.exit(2)
}

const socket = net.connect(Number(port), host)
socket.setNoDelay(true)

function relay(from, to) {
  from.on('data', (chunk) => setTimeout(() => to.write(chunk), delay))
  from.on('end', () => setTimeout(() => to.end(), delay))
}

relay(process.stdin, socket)
relay(socket, process.stdout)
socket.on('error', (error) => {
  process.stderr.write(`latency-relay: ${host}:${port}: ${error.message}\n`)
  process.exit(1)
})
socket.on('close', () => setTimeout(() => process.exit(0), delay))
