/**
 * `kamal server bootstrap` (spec §1.2), the first step of `kamal setup`: make
 * sure Docker is installed on every host, installing it where the login may
 * (root, or password-less sudo), and put a non-root login in the `docker` group.
 * Exact Kamal command strings, plus the per-host decision as a small state
 * machine over an injected command runner.
 */
import { any, line, makeDirectory, pipe, shell } from './base'

/** `docker -v`: fails when the Docker client is missing. */
export const dockerInstalled = (): string => 'docker -v'

/** `docker version`: fails when the daemon is not reachable. */
export const dockerRunning = (): string => 'docker version'

/** Root, or allowed to run `usermod` through sudo without a password. */
export const superuser = (): string => '[ "${EUID:-$(id -u)}" -eq 0 ] || sudo -nl usermod >/dev/null'

export const root = (): string => '[ "${EUID:-$(id -u)}" -eq 0 ]'

export const inDockerGroup = (): string => 'id -nG "${USER:-$(id -un)}" | grep -qw docker'

export const addToDockerGroup = (): string => 'sudo -n usermod -aG docker "${USER:-$(id -un)}"'

/**
 * Hangs up the login's session so the next connection sees the new group.
 * It kills the SSH session it runs in: expect the command (and the
 * connection) to fail, and open a new connection before using the host again.
 */
export const refreshSession = (): string => 'kill -HUP $PPID'

/** Docker's convenience script, fetched with curl or wget, piped to sh. */
export function installDocker(): string {
  return pipe(shell(any('curl -fsSL https://get.docker.com', 'wget -O - https://get.docker.com', 'echo "exit 1"')), 'sh')
}

/** `mkdir -p .kamal` (Kamal's run directory is fixed). */
export const ensureRunDirectory = (): string => makeDirectory('.kamal')

/** `ls .kamal/apps | wc -l`: how many apps use this host (kamal-proxy is removed only at 0). */
export const appDirectoryCount = (): string => pipe(line('ls', '.kamal/apps'), 'wc -l')

/** Kamal's error when some hosts lack Docker and cannot get it. */
export function dockerMissingMessage(hosts: readonly string[]): string {
  return `Docker is not installed on ${hosts.join(', ')} and can't be automatically installed without having root access and either \`wget\` or \`curl\`. Install Docker manually: https://docs.docker.com/engine/install/`
}

export type BootstrapOutcome = 'present' | 'installed' | 'missing'

/**
 * Kamal's bootstrap on one host. `run` executes a command on the host and
 * resolves true on exit status 0, false on any other status; it rejects only
 * when the command could not be run. The session refresh is expected to drop
 * the connection, so its failure is ignored (Kamal rescues the IOError).
 * Hosts that return `missing` are reported together with dockerMissingMessage.
 */
export async function bootstrapHost(run: (command: string) => Promise<boolean>): Promise<BootstrapOutcome> {
  if (await run(dockerInstalled())) return 'present'
  if (!(await run(superuser()))) return 'missing'
  if (!(await run(installDocker()))) throw new Error(`Installing Docker failed: ${installDocker()}`)
  if (!(await run(root())) && !(await run(inDockerGroup()))) {
    if (!(await run(addToDockerGroup()))) throw new Error(`Adding the login to the docker group failed: ${addToDockerGroup()}`)
    await run(refreshSession()).catch(() => false)
  }
  return 'installed'
}
