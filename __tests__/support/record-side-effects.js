// Preloaded into the action under test (NODE_OPTIONS=--require …). It records,
// without changing anything, every child process started and every network
// connection opened, so a test can prove that nothing went toward a host.
const fs = require('node:fs')
const net = require('node:net')
const childProcess = require('node:child_process')

const logFile = process.env.SIDE_EFFECTS_LOG
const record = (entry) => fs.appendFileSync(logFile, JSON.stringify(entry) + '\n')

for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'exec', 'execSync', 'fork']) {
  const original = childProcess[name]
  childProcess[name] = function (command, ...rest) {
    const args = Array.isArray(rest[0]) ? rest[0] : []
    record({ kind: 'process', command: String(command), args: args.map(String) })
    return original.call(this, command, ...rest)
  }
}

const originalConnect = net.Socket.prototype.connect
net.Socket.prototype.connect = function (...args) {
  const options = typeof args[0] === 'object' && args[0] !== null ? args[0] : { port: args[0], host: args[1] }
  record({ kind: 'connect', host: options.host, port: options.port, path: options.path })
  return originalConnect.apply(this, args)
}
