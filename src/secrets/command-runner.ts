import { CommandFailedError, CommandRunner } from './dotenv'
import { isKamalSecretsCommand, runKamalSecretsCommand } from './kamal-secrets-cli'
import { describeFailure, runProgram } from './run-program'

export interface CommandRunnerOptions {
  /** where commands run: the Kamal project root, as when `kamal` is run there */
  cwd: string
  env: NodeJS.ProcessEnv
  onSecretValue?: (value: string) => void
}

/**
 * The runner behind `$(…)` in secrets files: `kamal secrets …` in-process,
 * anything else through `sh -c` (as Ruby's backticks do). Unlike Kamal, a
 * command that exits non-zero is an error instead of an empty value, so a
 * broken vault login cannot deploy blank secrets.
 */
export function createCommandRunner(options: CommandRunnerOptions): CommandRunner {
  const run = (argv: readonly string[], overrides: { stderr?: 'inherit' | 'ignore'; env?: NodeJS.ProcessEnv } = {}) =>
    runProgram(argv, { cwd: options.cwd, env: overrides.env ?? options.env, stderr: overrides.stderr })

  return (command) => {
    if (isKamalSecretsCommand(command)) {
      return runKamalSecretsCommand(command, { env: options.env, run, onSecretValue: options.onSecretValue })
    }
    const result = run(['/bin/sh', '-c', command])
    if (result.status !== 0 || result.startError !== undefined) throw new CommandFailedError(`it ${describeFailure(result)}`)
    return result.stdout
  }
}
