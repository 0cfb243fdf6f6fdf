import * as core from '@actions/core'
import type { RemoteResult, SshConnection } from '../remote/ssh-connection'
import { RemoteCommandError } from './hosts'

export interface RunOptions {
  /** written to the command's standard input, never shown */
  stdin?: string
  /** a non-zero exit is returned, not thrown */
  allowFailure?: boolean
  /** what this command is for, used in the error message */
  step?: string
}

/** Commands on one host within one phase: logs each with its exit status and time. */
export class RemoteShell {
  constructor(
    readonly connection: SshConnection,
    private readonly log: (line: string) => void,
  ) {}

  get host(): string {
    return this.connection.host
  }

  async run(command: string, options: RunOptions = {}): Promise<RemoteResult> {
    const started = Date.now()
    const result = await this.connection.exec(command, { stdin: options.stdin })
    const seconds = ((Date.now() - started) / 1000).toFixed(2)
    this.log(`$ ${command}`)
    if (core.isDebug() || result.code !== 0) {
      for (const line of `${result.stdout}${result.stderr}`.trimEnd().split('\n').filter(Boolean).slice(-20)) this.log(`  ${line}`)
    }
    this.log(`  → exit ${result.code} in ${seconds}s`)
    if (result.code !== 0 && !options.allowFailure) throw new RemoteCommandError(this.host, command, result, options.step)
    return result
  }

  /** stdout of a command, trimmed. */
  async capture(command: string, options: RunOptions = {}): Promise<string> {
    return (await this.run(command, options)).stdout.trim()
  }

  async upload(path: string, content: string | Buffer, mode: number, description: string): Promise<void> {
    await this.connection.upload(path, content, mode)
    this.log(`upload ${path} (mode ${mode.toString(8).padStart(4, '0')}; ${description})`)
  }
}
