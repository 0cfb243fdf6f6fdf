// Preloaded into the benchmarked action by bench:deploy (NODE_OPTIONS=--require): as the process
// exits, it writes its own CPU time (user + system, microseconds) to BENCH_ACTION_CPU_FILE. The
// docker CLI and every other process the action starts are not in it.
const fs = require('node:fs')

process.on('exit', () => {
  const { user, system } = process.cpuUsage()
  fs.writeFileSync(process.env.BENCH_ACTION_CPU_FILE, `${user + system}\n`)
})
