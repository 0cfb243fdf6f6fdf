import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { LockCommands } from './commands/lock'
import { HostPool } from './deploy/hosts'
import { sshOptionsFor } from './deploy/ssh-options'
import { readInputs } from './inputs'
import { prepareRun } from './prepare'

export const LOCK_STATE = 'deploy-lock'
export const TEMP_PATHS_STATE = 'temp-paths'

/**
 * The post step runs even when the job is cancelled. If the main step stopped
 * while holding the deploy lock (saved in the step state only by the run that
 * took it), release it here.
 */
export async function post(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await releaseHeldLock(env)
  removeTemporaryFiles()
}

function removeTemporaryFiles(): void {
  const saved = core.getState(TEMP_PATHS_STATE)
  if (!saved) return
  for (const temporary of JSON.parse(saved) as string[]) {
    if (fs.existsSync(temporary)) {
      fs.rmSync(temporary, { recursive: true, force: true })
      core.info(`Removed ${temporary}`)
    }
  }
}

async function releaseHeldLock(env: NodeJS.ProcessEnv): Promise<void> {
  const saved = core.getState(LOCK_STATE)
  if (!saved) return
  const lock = JSON.parse(saved) as { host: string; directory: string }
  core.info(`The main step ended while holding the deploy lock on ${lock.host}; releasing it.`)
  let pool: HostPool | undefined
  try {
    const inputs = readInputs()
    const projectDir = path.resolve(env.GITHUB_WORKSPACE ?? process.cwd(), inputs.workingDirectory)
    const prepared = prepareRun(inputs, { projectDir, env })
    const release = new LockCommands(prepared.config)
    if (release.directory !== lock.directory) throw new Error(`the saved lock ${lock.directory} does not match this config's ${release.directory}`)
    pool = new HostPool({ ...sshOptionsFor(prepared.config, inputs, prepared.secrets, env), onUnpinnedKey: undefined })
    await pool.connect([lock.host])
    const result = await pool.get(lock.host).exec(release.release())
    if (result.code !== 0 && !/No such file/.test(result.stderr)) throw new Error(result.stderr.trim())
    core.saveState(LOCK_STATE, '')
    core.info(`Released the deploy lock ${lock.directory} on ${lock.host}.`)
  } catch (error) {
    core.warning(`Could not release the deploy lock ${lock.directory} on ${lock.host}: ${error instanceof Error ? error.message : String(error)}. Release it with 'kamal lock release'.`)
  } finally {
    pool?.closeAll()
  }
}
