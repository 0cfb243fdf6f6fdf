import { addToDockerGroup, appDirectoryCount, bootstrapHost, dockerInstalled, dockerMissingMessage, dockerRunning, ensureRunDirectory, inDockerGroup, installDocker, refreshSession, root, superuser } from '../src/commands/server'

describe('server bootstrap commands (spec §1.2, Kamal test/commands/docker_test.rb and server_test.rb)', () => {
  test.each([
    ['install', installDocker(), `sh -c 'curl -fsSL https://get.docker.com || wget -O - https://get.docker.com || echo "exit 1"' | sh`],
    ['installed?', dockerInstalled(), 'docker -v'],
    ['running?', dockerRunning(), 'docker version'],
    ['superuser?', superuser(), '[ "${EUID:-$(id -u)}" -eq 0 ] || sudo -nl usermod >/dev/null'],
    ['root?', root(), '[ "${EUID:-$(id -u)}" -eq 0 ]'],
    ['in_docker_group?', inDockerGroup(), 'id -nG "${USER:-$(id -un)}" | grep -qw docker'],
    ['add_to_docker_group', addToDockerGroup(), 'sudo -n usermod -aG docker "${USER:-$(id -un)}"'],
    ['refresh_session', refreshSession(), 'kill -HUP $PPID'],
    ['ensure run directory', ensureRunDirectory(), 'mkdir -p .kamal'],
    ['app directory count', appDirectoryCount(), 'ls .kamal/apps | wc -l'],
  ])('%s', (_name, actual, expected) => expect(actual).toBe(expected))

  test("Kamal's message for hosts that cannot get Docker", () => {
    expect(dockerMissingMessage(['1.1.1.1', '1.1.1.2'])).toBe(
      "Docker is not installed on 1.1.1.1, 1.1.1.2 and can't be automatically installed without having root access and either `wget` or `curl`. Install Docker manually: https://docs.docker.com/engine/install/",
    )
  })
})

describe('bootstrapHost: Kamal\'s per-host decisions (cli/server.rb)', () => {
  /** A host as a table of command → exit status 0?; records what ran. */
  const host = (succeeds: Record<string, boolean>, { dropOnRefresh = false } = {}) => {
    const ran: string[] = []
    const run = async (command: string): Promise<boolean> => {
      ran.push(command)
      if (command === refreshSession() && dropOnRefresh) throw new Error('connection closed')
      return succeeds[command] ?? false
    }
    return { ran, run }
  }

  test('Docker present: nothing else runs', async () => {
    const h = host({ [dockerInstalled()]: true })
    await expect(bootstrapHost(h.run)).resolves.toBe('present')
    expect(h.ran).toEqual([dockerInstalled()])
  })

  test('no Docker and no superuser: missing (reported for all such hosts together)', async () => {
    const h = host({})
    await expect(bootstrapHost(h.run)).resolves.toBe('missing')
    expect(h.ran).toEqual([dockerInstalled(), superuser()])
  })

  test('root: install, no group change', async () => {
    const h = host({ [superuser()]: true, [installDocker()]: true, [root()]: true })
    await expect(bootstrapHost(h.run)).resolves.toBe('installed')
    expect(h.ran).toEqual([dockerInstalled(), superuser(), installDocker(), root()])
  })

  test('sudo user already in the docker group: install only', async () => {
    const h = host({ [superuser()]: true, [installDocker()]: true, [inDockerGroup()]: true })
    await expect(bootstrapHost(h.run)).resolves.toBe('installed')
    expect(h.ran).toEqual([dockerInstalled(), superuser(), installDocker(), root(), inDockerGroup()])
  })

  test('sudo user: install, join the docker group, refresh the session (a dropped connection is expected)', async () => {
    const h = host({ [superuser()]: true, [installDocker()]: true, [addToDockerGroup()]: true }, { dropOnRefresh: true })
    await expect(bootstrapHost(h.run)).resolves.toBe('installed')
    expect(h.ran).toEqual([dockerInstalled(), superuser(), installDocker(), root(), inDockerGroup(), addToDockerGroup(), refreshSession()])
  })

  test('a failed install is an error', async () => {
    const h = host({ [superuser()]: true })
    await expect(bootstrapHost(h.run)).rejects.toThrow(`Installing Docker failed: ${installDocker()}`)
  })
})
