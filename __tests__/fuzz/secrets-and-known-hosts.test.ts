import fc from 'fast-check'
import { createHmac, randomBytes } from 'node:crypto'
import { KnownHosts, knownHostsLine } from '../../src/remote/known-hosts'
import { CommandFailedError, parseDotenv } from '../../src/secrets/dotenv'
import { expectLocatedIn, lineCount, OutcomeTally } from './outcome'

const DOTENV_PIECES = [
  'KEY', 'A', 'B_2', 'x.y', '=', ': ', ' ', '\t', '\n', '\r\n', '\r', '#', '# c', 'export ', '"', "'", '\\', '\\n', '\\"', "\\'",
  '$', '$A', '${A}', '${', '}', '\\$A', '$(', ')', '(', '$(echo hi)', '\\$(x)', '$(fail)', '$(a (b) c)', 'value', '\uFEFF', 'é', '=',
  'DOTENV_LINEBREAK_MODE=legacy\n',
]

test('every .kamal/secrets text parses to values or a located ConfigError', () => {
  const tally = new OutcomeTally('.kamal/secrets fuzz')
  // Commands are not run: random text must not reach a shell. The runner answers, or fails as a real one does.
  const runCommand = (command: string): string => {
    if (command.includes('fail') || command.length % 3 === 0) throw new CommandFailedError('exit status 1')
    return `out:${command.length}\n`
  }
  const text = fc.oneof(fc.array(fc.constantFrom(...DOTENV_PIECES), { maxLength: 30 }).map((parts) => parts.join('')), fc.string({ maxLength: 60 }))
  fc.assert(
    fc.property(text, fc.boolean(), (source, skipA) => {
      tally.run(
        () => {
          parseDotenv(source, { file: '.kamal/secrets', env: { A: 'env-a' }, runCommand, skipCommandsFor: skipA ? new Set(['A']) : undefined })
        },
        (error) => expectLocatedIn(error, { '.kamal/secrets': lineCount(source) }),
      )
    }),
    { numRuns: 2000 },
  )
  tally.report()
  expect(tally.counts['located-error']).toBeGreaterThan(0)
})

test('deeply nested $( … ) ends in a value, not a stack overflow', () => {
  const nested = `KEY=$(${'('.repeat(20000)}x${')'.repeat(20000)})\n`
  expect(() => parseDotenv(nested, { file: '.kamal/secrets', env: {}, runCommand: () => 'ok' })).not.toThrow()
})

test('every known_hosts text loads and answers a check, never throws', () => {
  const tally = new OutcomeTally('known_hosts fuzz')
  const key = randomBytes(8)
  const salt = randomBytes(20)
  const pieces = [
    'host', '1.1.1.1', '[host]:2222', '[h', ']', '*', '?', '!', ',', ' ', '\t', '\n', '#', '@revoked ', '@cert-authority ', '@x ',
    'ssh-ed25519', 'AAAA', '====', '|1|', '|', `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('host').digest('base64')}`,
    key.toString('base64'), '(', ')', '\\', '+', '^', '$', '{', '}', '.', 'é',
  ]
  const text = fc.oneof(fc.array(fc.constantFrom(...pieces), { maxLength: 20 }).map((parts) => parts.join('')), fc.string({ maxLength: 60 }))
  fc.assert(
    fc.property(text, fc.constantFrom('host', '1.1.1.1', 'h'), fc.constantFrom(22, 2222), (source, host, port) => {
      tally.run(
        () => void new KnownHosts(source).check(host, port, key),
        () => {
          throw new Error('KnownHosts documents no errors: a bad line pins nothing')
        },
      )
    }),
    { numRuns: 2000 },
  )
  tally.report()
})

test('a [host]:port entry matches that host and port only', () => {
  const key = Buffer.from('000000077373682d6b6579', 'hex')
  const known = new KnownHosts(knownHostsLine('host', 2222, key))
  expect(known.check('host', 2222, key)).toBe('match')
  expect(known.check('h', 2222, key)).toBe('unknown')
  expect(known.check('host', 22, key)).toBe('unknown')
})
