import { ContainerExitedError, containerExited } from '../../src/execute/host-steps'
import { displayPlaceholders, fillPlaceholders } from '../../src/execute/placeholders'
import { placeholder, secretPlaceholder } from '../../src/plan/steps'

describe('the new container while it boots', () => {
  test.each([
    ['running 0 0', false],
    ['created 0 0', false],
    ['exited 3 0', true],
    ['dead 137 0', true],
    // --restart unless-stopped brings an exited container back: its restart count says it exited
    ['running 3 1', true],
    ['restarting 3 2', true],
    ['', false],
  ])('%j exited: %s', (state, exited) => expect(containerExited(state)).toBe(exited))

  test('the error says the exit status and the restarts', () => {
    expect(new ContainerExitedError('vm1', 'kamal-proxy deploy', 'restarting 3 2').message).toBe('the new container exited with status 3 while booting (restarted 2 times by its restart policy)')
    expect(new ContainerExitedError('vm1', 'readiness', 'exited 1 0').message).toBe('the new container exited with status 1 while booting')
  })
})

describe('placeholders', () => {
  test('filled from the unit values, secrets by name, generated ones made once', () => {
    const values = new Map([['container_id', 'abc123']])
    const command = `docker stop ${placeholder('container_id')} --hostname h-${placeholder('hostname_hex')} -u ${secretPlaceholder('REGISTRY_USER')}`
    const filled = fillPlaceholders(command, values, (name) => (name === 'REGISTRY_USER' ? 'robot' : ''))
    expect(filled).toMatch(/^docker stop abc123 --hostname h-[0-9a-f]{12} -u robot$/)
    expect(fillPlaceholders(command, values, () => 'robot')).toBe(filled)
  })

  test('an unknown placeholder is an internal error, not an empty string', () => {
    expect(() => fillPlaceholders(`echo ${placeholder('nowhere')}`, new Map(), () => '')).toThrow(/no value for/)
  })

  test('shown in the plan as what they stand for', () => {
    expect(displayPlaceholders(`docker stop ${placeholder('old_version')} ${placeholder('hostname_hex')} ${secretPlaceholder('USER')}`)).toBe('docker stop <old version> <12 hex> $USER')
  })
})
