import { readInputs } from '../src/inputs'

const reader = (values: Record<string, string>) => (name: string) => values[name] ?? ''

describe('the command input, read like the kamal CLI', () => {
  test.each([
    ['', { command: 'deploy' }],
    ['redeploy', { command: 'redeploy' }],
    ['setup', { command: 'setup' }],
    ['lock release', { command: 'lock', subcommand: 'release' }],
    ['lock   status', { command: 'lock', subcommand: 'status' }],
    ['app maintenance', { command: 'app', subcommand: 'maintenance' }],
    ['accessory boot redis', { command: 'accessory', subcommand: 'boot', argument: 'redis' }],
    ['accessory remove all', { command: 'accessory', subcommand: 'remove', argument: 'all' }],
  ])('%j', (command, expected) => {
    expect(readInputs(reader({ command }))).toMatchObject(expected)
  })

  test.each([
    ['destroy', "'destroy' is not a command of this action"],
    ['lock', "'lock' needs one of release, status after lock, e.g. command: lock release."],
    ['app restart', "'app restart' needs one of maintenance, live after app"],
    ['accessory boot', "'accessory boot' needs the accessory's name or all, e.g. command: accessory boot all."],
    ['deploy now', "'deploy now' has extra words"],
    ['rollback', 'rollback needs the version to return to'],
  ])('%j is refused, naming the input and the expected form', (command, message) => {
    expect(() => readInputs(reader({ command }))).toThrow(`Input '${command === 'rollback' ? 'version' : 'command'}': `)
    expect(() => readInputs(reader({ command }))).toThrow(message)
  })

  test('booleans and lists', () => {
    const inputs = readInputs(reader({ 'skip-push': 'true', deployment: 'false', roles: 'web, workers\njobs', hosts: '' }))
    expect(inputs).toMatchObject({ skipPush: true, deployment: false, roles: ['web', 'workers', 'jobs'], hosts: [] })
    expect(() => readInputs(reader({ 'skip-push': 'yes' }))).toThrow("Input 'skip-push': 'yes' is not a boolean. Use true or false.")
  })
})
