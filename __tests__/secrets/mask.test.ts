import { maskSecretValue } from '../../src/secrets/mask'
import { captureStdout, maskedValues } from './capture-stdout'

describe('maskSecretValue', () => {
  test('a one-line value is registered once, as an ::add-mask:: command', () => {
    const stdout = captureStdout(() => maskSecretValue('hunter2-single'))
    expect(stdout.trim()).toBe('::add-mask::hunter2-single')
  })

  test('a multi-line value is registered whole, line by line and trimmed line by line', () => {
    const pem = '-----BEGIN KEY-----\n  abcdefgh  \nijklmnop\n\n-----END KEY-----\n'
    const masked = maskedValues(captureStdout(() => maskSecretValue(pem)))
    expect(masked[0]).toBe(pem)
    expect(masked).toEqual(
      expect.arrayContaining(['-----BEGIN KEY-----', '  abcdefgh  ', 'abcdefgh', 'ijklmnop', '-----END KEY-----']),
    )
    expect(masked).not.toContain('')
    expect(new Set(masked).size).toBe(masked.length)
  })

  test('special characters are encoded so the runner can decode them', () => {
    const stdout = captureStdout(() => maskSecretValue('50%\r\nof it'))
    expect(stdout).toContain('::add-mask::50%25%0D%0Aof it')
    expect(maskedValues(stdout)).toContain('50%\r\nof it')
  })

  test('blank values and very short lines are not registered (they would mask ordinary log text)', () => {
    expect(captureStdout(() => maskSecretValue(''))).toBe('')
    expect(captureStdout(() => maskSecretValue('  \n '))).toBe('')
    expect(maskedValues(captureStdout(() => maskSecretValue('{\n  "token": "abcdef"\n}')))).toEqual([
      '{\n  "token": "abcdef"\n}',
      '  "token": "abcdef"',
      '"token": "abcdef"',
    ])
  })
})
