import * as fs from 'node:fs'

export interface ArgvWatch {
  stop: () => { samples: number; processes: number; leaks: string[] }
}

/**
 * Samples the command line of every process on the machine (the harness hosts'
 * processes are visible from here) and records any that contains a secret value.
 */
export function watchHostArgv(secrets: string[], intervalMs = 25): ArgvWatch {
  let samples = 0
  const seen = new Set<string>()
  const leaks = new Set<string>()
  const timer = setInterval(() => {
    samples++
    for (const pid of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue
      let commandLine: string
      try {
        commandLine = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()
      } catch {
        continue
      }
      if (!commandLine) continue
      seen.add(commandLine)
      for (const secret of secrets) if (commandLine.includes(secret)) leaks.add(`${pid}: ${commandLine.replace(secret, '<secret>')}`)
    }
  }, intervalMs)
  return {
    stop: () => {
      clearInterval(timer)
      return { samples, processes: seen.size, leaks: [...leaks] }
    },
  }
}
