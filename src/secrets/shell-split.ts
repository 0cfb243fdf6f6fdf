/**
 * Ruby's Shellwords.split (String#shellsplit): the splitter Kamal applies to an
 * inline `kamal secrets …` command. Only quotes and backslashes are special;
 * `$`, globs and operators are ordinary characters.
 */

const SPACE = ' \\t\\r\\n\\f\\v'
const TOKEN = new RegExp(
  `[${SPACE}]*` +
    `(?:([^${SPACE}\\\\'"]+)` + // bare word
    `|'([^']*)'` + // single-quoted: literal
    `|"((?:[^"\\\\]|\\\\[\\s\\S])*)"` + // double-quoted
    `|(\\\\[\\s\\S]?)` + // backslash escape
    `|([^${SPACE}]))` + // anything else: an unmatched quote
    `([${SPACE}])?`, // word separator
  'y',
)

export class ShellSplitError extends Error {}

export function shellSplit(line: string): string[] {
  const words: string[] = []
  let field = ''
  TOKEN.lastIndex = 0
  for (let match = TOKEN.exec(line); match !== null; match = TOKEN.exec(line)) {
    const [, word, singleQuoted, doubleQuoted, escaped, unmatched, separator] = match
    // The text may hold secrets, so the error names only the position.
    if (unmatched !== undefined) throw new ShellSplitError(`unmatched quote at character ${match.index + 1}`)
    if (word !== undefined) field += word
    else if (singleQuoted !== undefined) field += singleQuoted
    else if (doubleQuoted !== undefined) field += doubleQuoted.replace(/\\([$`"\\\n])/g, '$1')
    else if (escaped !== undefined) field += escaped.replace(/\\([\s\S])/g, '$1')
    const atEnd = TOKEN.lastIndex >= line.length
    if (separator !== undefined || atEnd) {
      words.push(field)
      field = ''
    }
    if (atEnd) break
  }
  return words
}
