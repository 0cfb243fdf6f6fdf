import { shellEscape } from '../../src/shell'
import { shellSplit, ShellSplitError } from '../../src/secrets/shell-split'

describe('shellSplit (Ruby Shellwords.split)', () => {
  // Expected words checked against Ruby 3.1's String#shellsplit.
  test.each([
    ["a b", ["a", "b"]],
    ["  a   b  ", ["a", "b"]],
    ["'a b'c", ["a bc"]],
    ["\"a\\\"b\\$c\\q\"", ["a\"b$c\\q"]],
    ["a\\ b\\\\c", ["a b\\c"]],
    ["''", [""]],
    ["a '' b", ["a", "", "b"]],
    ["\\{\\\"k\\\":\\\"v\\)\\\"\\}", ["{\"k\":\"v)\"}"]],
    ["x\ny", ["x", "y"]],
    ["\"a\nb\"", ["a\nb"]],
    ["中\\文 $X", ["中文", "$X"]],
    ["a'b c'd", ["ab cd"]],
  ])('%j → %j', (line, words) => {
    expect(shellSplit(line)).toEqual(words)
  })

  test('an unmatched quote is an error that does not quote the text', () => {
    expect(() => shellSplit("a 'secret")).toThrow(ShellSplitError)
    expect(() => shellSplit("a 'secret")).not.toThrow(/secret/)
  })

  test('undoes shellEscape for JSON with quotes, spaces, newlines and non-ASCII text', () => {
    const json = JSON.stringify({ 'a/b': 'x y "z" $(q) \\ 中文', n: 'line1\nline2' })
    expect(shellSplit(shellEscape(json))).toEqual([json])
  })
})
