import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { ConfigError } from '../../src/errors'
import { createCommandRunner } from '../../src/secrets/command-runner'
import { parseDotenv, ParseDotenvOptions } from '../../src/secrets/dotenv'

const workDir = mkdtempSync(path.join(tmpdir(), 'dotenv-'))
const env = { PATH: process.env.PATH, ENV_ONLY: 'fromenv' }

function parse(text: string, options: Partial<ParseDotenvOptions> = {}): Record<string, string> {
  const entries = parseDotenv(text, {
    file: '.kamal/secrets',
    env,
    runCommand: createCommandRunner({ cwd: workDir, env }),
    ...options,
  })
  return Object.fromEntries([...entries].map(([key, entry]) => [key, entry.value]))
}

// Every row was checked against the dotenv 3.2.0 gem's parser with Kamal's
// command substitution installed (ENV_ONLY=fromenv in the environment).
const QUOTING_TABLE: [string, Record<string, string>][] = [
  ["FOO=bar", {"FOO":"bar"}],
  ["FOO= bar", {"FOO":"bar"}],
  ["FOO=bar\\ bar", {"FOO":"bar bar"}],
  ["FOO =bar", {"FOO":"bar"}],
  ["  FOO=bar", {"FOO":"bar"}],
  ["FOO=bar  ", {"FOO":"bar"}],
  ["FOO=\"bar\"", {"FOO":"bar"}],
  ["FOO='bar'", {"FOO":"bar"}],
  ["FOO=\"escaped\\\"bar\"", {"FOO":"escaped\"bar"}],
  ["FOO=", {"FOO":""}],
  ["FOO=test\nBAR=$FOO", {"FOO":"test","BAR":"test"}],
  ["FOO=test\nBAR=${FOO}bar", {"FOO":"test","BAR":"testbar"}],
  ["BAR=$ENV_ONLY", {"BAR":"fromenv"}],
  ["ENV_ONLY=file\nBAR=$ENV_ONLY", {"ENV_ONLY":"file","BAR":"file"}],
  ["BAR=$UNDEFINED_X", {"BAR":""}],
  ["FOO=test\nBAR=\"quote $FOO\"", {"FOO":"test","BAR":"quote test"}],
  ["BAR='quote $FOO'", {"BAR":"quote $FOO"}],
  ["FOO=\"foo\\$BAR\"", {"FOO":"foo$BAR"}],
  ["FOO=\"foo\\${BAR}\"", {"FOO":"foo${BAR}"}],
  ["OPTION_A: 1", {"OPTION_A":"1"}],
  ["export OPTION_A=2", {"OPTION_A":"2"}],
  ["OPTION_A=2\nexport OPTION_A", {"OPTION_A":"2"}],
  ["FOO=\"bar\\nbaz\"", {"FOO":"bar\\nbaz"}],
  ["FOO=\"bar\\\\nbaz\"", {"FOO":"bar\\nbaz"}],
  ["DOTENV_LINEBREAK_MODE=legacy\nFOO=\"bar\\nbaz\\rfizz\"", {"DOTENV_LINEBREAK_MODE":"legacy","FOO":"bar\nbaz\rfizz"}],
  ["FOO.BAR=foobar", {"FOO.BAR":"foobar"}],
  ["lol$wut", {}],
  ["foo=bar # this is foo", {"foo":"bar"}],
  ["foo=\"bar#baz\" # comment", {"foo":"bar#baz"}],
  ["# HELLO=world\n", {}],
  ["FOO=\"a\n\nb\"", {"FOO":"a\n\nb"}],
  ["A=first line\nexport B='line 1\nline 2'\nC=\"last\"", {"A":"first line","B":"line 1\nline 2","C":"last"}],
  ["echo=$(echo hello)", {"echo":"hello"}],
  ["echo=$(echo \"$(echo \"$(echo hello)\")\")", {"echo":"hello"}],
  ["echo=escaped-\\$(echo hello)", {"echo":"escaped-$(echo hello)"}],
  ["interp=$(echo \"Quotes won't be a problem\")", {"interp":"Quotes won't be a problem"}],
  ["FOO='passwo(rd'\nBAR=$(echo '$FOO')", {"FOO":"passwo(rd","BAR":"passwo(rd"}],
  ["FOO=$(echo bar)\nBAR=$(echo $FOO)", {"FOO":"bar","BAR":"bar"}],
  ["FOO=bar\rbaz=fbb", {"FOO":"bar","baz":"fbb"}],
  ["FOO=bar\r\nbaz=fbb", {"FOO":"bar","baz":"fbb"}],
  ["FOO=\"bar\\$ \\$\\$\"", {"FOO":"bar$ $$"}],
  ["FOO=\"bar $ \"", {"FOO":"bar $ "}],
  ["VAR1=var1\ninterp=$(echo \"VAR1 is $VAR1\")", {"VAR1":"var1","interp":"VAR1 is var1"}],
  ["ENV_ONLY=file\nX=$(echo $ENV_ONLY)", {"ENV_ONLY":"file","X":"file"}],
  ["FOO", {"FOO":""}],
  ["FOO='a'b'", {"FOO":"a'b"}],
  ["FOO=a\\\\$(echo x)", {"FOO":"a$(echo x)"}],
  ["FOO=$()", {"FOO":"$()"}],
  ["FOO=$(echo (a)", {"FOO":"$(echo (a)"}],
  ["FOO=$(printf \"%s\" a\\)b)", {"FOO":"ab)"}],
  ["FOO=$(printf '$X')\nX=1", {"FOO":"","X":"1"}],
  ["X=1\nFOO=$(printf '%sX' '$')", {"X":"1","FOO":"1"}],
  ["FOO=${lower}", {"FOO":""}],
  ["lower=v\nFOO=${lower}", {"lower":"v","FOO":"v"}],
  ["FOO=${BAR", {"FOO":""}],
  ["FOO=$BAR}x", {"FOO":"x"}],
  ["FOO=x\nFOO=${FOO}y", {"FOO":"xy"}],
  ["FOO=\"a\tb\\tc\"", {"FOO":"a\tbtc"}],
  ["FOO='it''s'", {"FOO":"it''s"}],
  ["FOO=\"中文 $中\"", {"FOO":"中文 $中"}],
  ["SECRET_TOKEN='1234 with \"中文\"'", {"SECRET_TOKEN":"1234 with \"中文\""}],
  ["\ufeffFOO=bom", {"FOO":"bom"}],
  ["FOO=  spaced value   # c", {"FOO":"spaced value"}],
  ["FOO=\"unterminated\nBAR=1", {"FOO":"\"unterminated","BAR":"1"}],
  ["A=1 B=2", {"A":"1 B=2"}],
  ["FOO=#notcomment", {"FOO":""}],
  ["FOO=a#b", {"FOO":"a"}],
  ["FOO= \"x\" y", {"FOO":"\"x\" y"}],
  ["FOO=\\\\", {"FOO":"\\"}],
  ["export  FOO = \"v\"", {"FOO":"v"}],
  ["FOO=\"line1\nline2\"\nBAR=after", {"FOO":"line1\nline2","BAR":"after"}],
  ["FOO=$(printf \"a\\n\\n\")", {"FOO":"ann"}],
  ["FOO=$(printf \"a\\r\\n\")", {"FOO":"arn"}],
  ["FOO:bar", {}],
  ["FOO: bar", {"FOO":"bar"}],
  ["FOO=$(echo $((1+2)))", {"FOO":"3"}],

]

describe('parseDotenv: dotenv 3.2 rules', () => {
  test.each(QUOTING_TABLE)('%j', (text, expected) => {
    expect(parse(text)).toEqual(expected)
  })
})

describe('parseDotenv: variables', () => {
  test('a key defined earlier in the same file wins over the environment', () => {
    expect(parse('ENV_ONLY=file\nA=$ENV_ONLY ${ENV_ONLY}')).toEqual({ ENV_ONLY: 'file', A: 'file file' })
  })

  test('the environment is used for keys the file has not defined yet', () => {
    expect(parse('A=$ENV_ONLY\nENV_ONLY=file')).toEqual({ A: 'fromenv', ENV_ONLY: 'file' })
  })

  test('an unknown variable becomes empty and \\$ keeps a literal dollar', () => {
    expect(parse('A="x${NOPE}y \\$ENV_ONLY"')).toEqual({ A: 'xy $ENV_ONLY' })
  })

  test('an empty value defined in the file still wins over the environment', () => {
    expect(parse('ENV_ONLY=\nA=[$ENV_ONLY]')).toEqual({ ENV_ONLY: '', A: '[]' })
  })
})

describe('parseDotenv: commands', () => {
  function counterFile(): string {
    return path.join(mkdtempSync(path.join(tmpdir(), 'count-')), 'runs')
  }

  test('each $(…) runs exactly once, in the project directory', () => {
    const runs = counterFile()
    const values = parse(`A=$(echo run >> ${runs}; pwd)\nB=$A-$A`)
    expect(readFileSync(runs, 'utf8')).toBe('run\n')
    expect(values).toEqual({ A: workDir, B: `${workDir}-${workDir}` })
  })

  test('variables inside a command are substituted before it runs', () => {
    expect(parse('X=from-file\nA=$(printf %s "$X/$ENV_ONLY")')).toEqual({ X: 'from-file', A: 'from-file/fromenv' })
  })

  test('only one trailing newline of the output is dropped', () => {
    expect(parse("A=\"$(printf 'a\\n\\n')\"")).toEqual({ A: 'a\n' })
  })

  test('an escaped \\$( is not executed', () => {
    const runs = counterFile()
    expect(parse(`A=\\$(echo run >> ${runs})`)).toEqual({ A: `$(echo run >> ${runs})` })
    expect(() => readFileSync(runs)).toThrow()
  })

  test('skipCommandsFor keeps the command from running and later references see the supplied value', () => {
    const runs = counterFile()
    const entries = parseDotenv(`TOKEN=$(echo run >> ${runs}; echo from-vault)\nURL=https://u:$TOKEN@host`, {
      file: '.kamal/secrets',
      env,
      runCommand: createCommandRunner({ cwd: workDir, env }),
      skipCommandsFor: new Set(['TOKEN']),
      suppliedValues: { TOKEN: 'supplied' },
    })
    expect(() => readFileSync(runs)).toThrow()
    expect(entries.get('TOKEN')?.commandsSkipped).toBe(true)
    expect(entries.get('URL')?.value).toBe('https://u:supplied@host')
  })

  test('a failing command is a ConfigError at its line naming the command and exit status, not its output', () => {
    const text = '# header\n\nGOOD=1\n  BAD=$(echo s3cr3t-output; exit 3)\n'
    let error: unknown
    try {
      parse(text)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    const configError = error as ConfigError
    expect(configError.location).toEqual({ file: '.kamal/secrets', line: 4, column: 3 })
    expect(configError.message).toContain('$(echo s3cr3t-output; exit 3)')
    expect(configError.message).toContain('exited with status 3')
    expect(configError.message).toContain("action's `secrets` input")
    expect(configError.message.replace('echo s3cr3t-output', '')).not.toContain('s3cr3t-output')
  })

  test('the error names the command as written, not with secrets substituted into it', () => {
    expect(() => parse('PASS=hunter22\nX=$(false $PASS)')).toThrow(/\$\(false \$PASS\)/)
    expect(() => parse('PASS=hunter22\nX=$(false $PASS)')).not.toThrow(/hunter22/)
  })
})

describe('parseDotenv: locations and format errors', () => {
  test('each key carries its 1-based line and column, after multi-line values and CRLF line ends', () => {
    const text = 'A="one\r\ntwo"\r\n\r\n  export B=2\r\nC=3'
    const entries = parseDotenv(text, { file: 'f', env, runCommand: () => '' })
    expect([...entries].map(([key, entry]) => [key, entry.location.line, entry.location.column])).toEqual([
      ['A', 1, 1],
      ['B', 4, 10],
      ['C', 5, 1],
    ])
  })

  test('exporting a variable that was never set is a ConfigError at that line', () => {
    expect(() => parse('A=1\nexport NOT_SET')).toThrow(ConfigError)
    try {
      parse('A=1\nexport NOT_SET')
    } catch (error) {
      expect((error as ConfigError).location).toMatchObject({ line: 2 })
      expect((error as ConfigError).message).toMatch(/NOT_SET/)
    }
  })

  test('values are reported to onValue as soon as they are parsed', () => {
    const seen: string[] = []
    const file = path.join(workDir, 'order')
    writeFileSync(file, '')
    parseDotenv(`A=first\nB=$(cat ${file})`, {
      file: 'f',
      env,
      runCommand: (command) => {
        writeFileSync(file, seen.join(','))
        return createCommandRunner({ cwd: workDir, env })(command)
      },
      onValue: (key, value) => seen.push(`${key}=${value}`),
    })
    expect(seen).toEqual(['A=first', 'B=A=first'])
  })
})
