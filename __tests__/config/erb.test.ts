import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync, realpathSync } from 'fs'
import { tmpdir } from 'os'
import { join } from 'path'
import { ErbContext, renderErb } from '../../src/config/erb'
import { ConfigError } from '../../src/errors'
import { pathWithoutRuby } from './ruby'

let projectDir: string

beforeEach(() => {
  projectDir = realpathSync(mkdtempSync(join(tmpdir(), 'erb-test-')))
})

afterEach(() => {
  rmSync(projectDir, { recursive: true, force: true })
})

function context(env: Record<string, string> = {}, extra: Partial<ErbContext> = {}): ErbContext {
  return { file: 'config/deploy.yml', cwd: projectDir, env: { PATH: process.env.PATH, ...env }, ...extra }
}

function render(template: string, env: Record<string, string> = {}, extra: Partial<ErbContext> = {}): string {
  return renderErb(template, context(env, extra)).text
}

function renderError(template: string, env: Record<string, string> = {}, extra: Partial<ErbContext> = {}): ConfigError {
  return renderErrorWith(template, env, extra)
}

function renderErrorWith(template: string, env: Record<string, string> = {}, extra: Partial<ErbContext> = {}): ConfigError {
  try {
    renderErb(template, context(env, extra))
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error(`expected a ConfigError rendering ${JSON.stringify(template)}`)
}

describe('text and tags', () => {
  it('passes text without tags through unchanged', () => {
    expect(render('service: app\nimage: org/app\n')).toBe('service: app\nimage: org/app\n')
  })

  it('drops comments and turns <%% into a literal <%', () => {
    expect(render('a: 1 <%# a comment %>\nb: <%% raw %>\n')).toBe('a: 1 \nb: <% raw %>\n')
  })

  it('leaves %> and %%> outside tags alone, and reads %%> inside a tag as %>', () => {
    expect(render('a: 50%> %%>\nb: <%= "x%%>y" %>\n')).toBe('a: 50%> %%>\nb: x%>y\n')
  })

  it('accepts code tags that hold only whitespace', () => {
    expect(render('a: 1\n<% %>\nb: 2\n<%- -%>\nc: 3\n')).toBe('a: 1\n\nb: 2\nc: 3\n')
  })

  it('inserts string literals with Ruby escapes', () => {
    expect(render(`a: <%= "x\\ty" %>|<%= 'p\\nq' %>|<%= 'it\\'s' %>|<%= "\\u00e9\\#{x}" %>`)).toBe(
      'a: x\ty|p\\nq|it\'s|é#{x}',
    )
  })
})

describe('trim mode "-"', () => {
  it('-%> swallows the newline right after it, also \\r\\n', () => {
    expect(render('a: <%= "1" -%>\nb: 2\n')).toBe('a: 1b: 2\n')
    expect(render('a: <%= "1" -%>\r\nb: 2\r\n')).toBe('a: 1b: 2\r\n')
  })

  it('-%> not followed by a newline keeps what follows', () => {
    expect(render('a: <%= "1" -%> # note\n')).toBe('a: 1 # note\n')
  })

  it('<%- at a line start drops the indentation before it', () => {
    expect(render('root:\n  \t<%- -%>\n  key: 1\n')).toBe('root:\n  key: 1\n')
    expect(render('root:\n    <%- %>x: 1\n')).toBe('root:\nx: 1\n')
  })

  it('<%- after other text on the line keeps the blanks before it', () => {
    expect(render('a: 1 <%- %>\n')).toBe('a: 1 \n')
  })

  it('<%- right after a closing tag drops the blanks like Ruby (StringScanner anchors)', () => {
    expect(render('a: <%= "1" %>  <%- %>!\n')).toBe('a: 1!\n')
  })

  it('<%= without a dash keeps indentation', () => {
    expect(render('list:\n  - <%= "x" %>\n')).toBe('list:\n  - x\n')
  })
})

describe('ENV', () => {
  it('reads ENV["X"] and ENV[\'X\'], a missing key rendering as an empty string', () => {
    expect(render('a: <%= ENV["HOST"] %>\nb: <%= ENV[\'USER_NAME\'] %>\nc: "<%= ENV["MISSING"] %>"\n', {
      HOST: '10.0.0.1',
      USER_NAME: 'deploy',
    })).toBe('a: 10.0.0.1\nb: deploy\nc: ""\n')
  })

  it('ENV.fetch returns the value, or the default when the key is missing', () => {
    expect(render('<%= ENV.fetch("A") %>,<%= ENV.fetch( "B" , "fallback" ) %>,<%= ENV.fetch(\'A\', "x") %>', { A: 'set' })).toBe(
      'set,fallback,set',
    )
  })

  it('ENV.fetch of a missing key fails like Ruby, at the tag, with a hint', () => {
    const error = renderError('service: app\nimage: <%= ENV.fetch("IMAGE_NAME") %>\n')
    expect(error.message).toContain('key not found: "IMAGE_NAME"')
    expect(error.message).toContain("step's `env:`")
    expect(error.location).toEqual({ file: 'config/deploy.yml', line: 2, column: 8 })
  })

  it('applies .strip and .chomp', () => {
    expect(render('[<%= ENV["V"].strip %>][<%= ENV["V"].chomp %>][<%= "x\\r\\n".chomp.strip %>]', { V: '  v \n' })).toBe(
      '[v][  v ][x]',
    )
  })

  it('calling .strip on a missing ENV["X"] fails as nil would', () => {
    const error = renderError('a: <%= ENV["NOPE"].strip %>')
    expect(error.message).toContain('ENV["NOPE"] is not set')
    expect(error.location).toMatchObject({ line: 1, column: 4 })
  })
})

describe('shell-outs', () => {
  it('inserts backtick output as is, trailing newline included', () => {
    expect(render('a: <%= `echo hi` %>b: 1\n')).toBe('a: hi\nb: 1\n')
  })

  it('supports %x(), %x{} and %x[] with nested brackets', () => {
    expect(render('<%= %x(printf abc) %>|<%= %x{printf "%s" "{b}"} %>|<%= %x[printf x] %>|<%= %x(printf "$(printf n)") %>')).toBe(
      'abc|{b}|x|n',
    )
  })

  it('runs in the project directory with the template ENV', () => {
    writeFileSync(join(projectDir, 'VERSION'), '1.2.3\n')
    expect(render('v: <%= `cat VERSION`.strip %>\nd: <%= `pwd`.chomp %>\ne: <%= `printf "$TOKEN"` %>', { TOKEN: 't0k' })).toBe(
      `v: 1.2.3\nd: ${projectDir}\ne: t0k`,
    )
  })

  it('interpolates #{ENV["X"]} into commands and double-quoted strings', () => {
    expect(render('<%= `printf %s #{ENV["WHO"]}` %> <%= "hello #{ENV[\'WHO\']}!" %>', { WHO: 'kamal' })).toBe(
      'kamal hello kamal!',
    )
  })

  it('fails on a non-zero exit, naming the command and status', () => {
    const error = renderError('a: 1\n  b: <%= `echo oops >&2; exit 3` %>\n')
    expect(error.message).toContain('`echo oops >&2; exit 3`')
    expect(error.message).toContain('exit status 3')
    expect(error.message).toContain('oops')
    expect(error.location).toMatchObject({ line: 2, column: 6 })
  })

  it('without Ruby, runs nothing when any tag in the template is beyond the subset', () => {
    const error = renderError('a: <%= `touch ran` %>\nb: <%= File.read("x") %>\n', { PATH: pathWithoutRuby() })
    expect(error.location).toMatchObject({ line: 2, column: 4 })
    expect(existsSync(join(projectDir, 'ran'))).toBe(false)
  })
})

describe('Kamal::Utils.docker_arch', () => {
  it('uses the injected implementation', () => {
    expect(render('arch: <%= Kamal::Utils.docker_arch %>', {}, { dockerArch: () => 'arm64' })).toBe('arch: arm64')
  })

  it('by default asks docker info and maps aarch64 to arm64 and x86_64 to amd64', () => {
    writeFileSync(join(projectDir, 'arch'), 'aarch64')
    const fakeDocker = join(projectDir, 'docker')
    writeFileSync(fakeDocker, `#!/bin/sh\n[ "$*" = "info --format {{.Architecture}}" ] || exit 9\ncat "${projectDir}/arch"; echo\n`)
    chmodSync(fakeDocker, 0o755)
    const env = { PATH: `${projectDir}:${process.env.PATH}` }
    expect(renderErb('<%= Kamal::Utils.docker_arch %>', { ...context(), env }).text).toBe('arm64')
    writeFileSync(join(projectDir, 'arch'), 'x86_64')
    expect(renderErb('<%= Kamal::Utils.docker_arch %>', { ...context(), env }).text).toBe('amd64')
    writeFileSync(join(projectDir, 'arch'), 'riscv64')
    expect(renderErb('<%= Kamal::Utils.docker_arch %>', { ...context(), env }).text).toBe('riscv64')
  })
})

describe('source positions', () => {
  it('maps text after a multi-line output back to its own line', () => {
    const template = 'a: |\n  <%= `printf "x\\n  y\\n  z"` %>\nb: 1\n  c: 2\n'
    const rendered = renderErb(template, context())
    expect(rendered.text).toBe('a: |\n  x\n  y\n  z\nb: 1\n  c: 2\n')
    expect(rendered.sourcePosition(rendered.text.indexOf('b:'))).toEqual({ line: 3, column: 1 })
    expect(rendered.sourcePosition(rendered.text.indexOf('c:'))).toEqual({ line: 4, column: 3 })
    expect(rendered.sourcePosition(rendered.text.indexOf('2'))).toEqual({ line: 4, column: 6 })
    // every character of the tag's output points at the tag's `<%`
    expect(rendered.sourcePosition(rendered.text.indexOf('x'))).toEqual({ line: 2, column: 3 })
    expect(rendered.sourcePosition(rendered.text.indexOf('z'))).toEqual({ line: 2, column: 3 })
    // the indentation before the tag is template text
    expect(rendered.sourcePosition(rendered.text.indexOf('  x'))).toEqual({ line: 2, column: 1 })
  })

  it('accounts for trimmed text, comments and <%%', () => {
    const template = 'a: 1\n  <%- -%>\n<%# note -%>\nb: <%% x\nc: <%= "long value" %> end\n'
    const rendered = renderErb(template, context())
    expect(rendered.text).toBe('a: 1\nb: <% x\nc: long value end\n')
    expect(rendered.sourcePosition(rendered.text.indexOf('b:'))).toEqual({ line: 4, column: 1 })
    expect(rendered.sourcePosition(rendered.text.indexOf('% x'))).toEqual({ line: 4, column: 5 })
    expect(rendered.sourcePosition(rendered.text.indexOf(' x'))).toEqual({ line: 4, column: 7 })
    expect(rendered.sourcePosition(rendered.text.indexOf('value'))).toEqual({ line: 5, column: 4 })
    expect(rendered.sourcePosition(rendered.text.indexOf('end'))).toEqual({ line: 5, column: 24 })
  })

  it('maps the end of the text to the end of the template', () => {
    const rendered = renderErb('a: <%= "1" %>\n<%# tail %>', context())
    expect(rendered.text).toBe('a: 1\n')
    expect(rendered.sourcePosition(rendered.text.length)).toEqual({ line: 2, column: 12 })
  })
})

describe('beyond the subset, without Ruby on PATH', () => {
  const renderError = (template: string) => renderErrorWith(template, { PATH: pathWithoutRuby() })
  const noRuby =
    'Ruby would render it as Kamal does, but no `ruby` is on PATH: add a Ruby setup step (GitHub\'s Ubuntu runners ship Ruby), or compute the value in an earlier workflow step and pass it with ENV["…"].'
  const supportedList =
    'without Ruby, supported are ENV["X"], ENV.fetch("X"[, "default"]), `command`, %x(command), Kamal::Utils.docker_arch'

  it.each([
    ['<%= 1 + 1 %>', '1 + 1'],
    ['<%= File.read("x") %>', 'File.read("x")'],
    ['<%= ENV["X"].upcase %>', 'ENV["X"].upcase'],
    ['<%= ENV[name] %>', 'ENV[name]'],
    ['<%= %x<ls> %>', '%x<ls>'],
    ['<%= Kamal::Utils.docker_arch.downcase %>', 'Kamal::Utils.docker_arch.downcase'],
    ['<%= %>', ''],
  ])('rejects %s at the tag', (tag, shown) => {
    const error = renderError(`service: app\nbuilder:\n  arch: ${tag}\n`)
    expect(error.message).toBe(
      `Unsupported ERB expression \`${shown}\`: ${supportedList}. ${noRuby}`,
    )
    expect(error.location).toEqual({ file: 'config/deploy.yml', line: 3, column: 9 })
  })

  it('rejects Ruby code tags such as conditionals', () => {
    const error = renderError('a: 1\n\n    <% if ENV["X"] %>\nb: 2\n<% end %>\n')
    expect(error.message).toContain('Unsupported ERB tag `<% if ENV["X"] %>`')
    expect(error.location).toMatchObject({ line: 3, column: 5 })
  })

  it('rejects <%-= (a syntax error in Ruby)', () => {
    const error = renderError('a: 1\n  <%-= ENV["X"] %>\n')
    expect(error.message).toContain('Unsupported ERB tag')
    expect(error.location).toMatchObject({ line: 2, column: 3 })
  })

  it('rejects interpolations other than #{ENV["X"]}', () => {
    const error = renderError('a: <%= `echo #{File.read("x")}` %>')
    expect(error.message).toContain('Unsupported interpolation `#{File.read("x")}`')
    expect(error.location).toMatchObject({ line: 1, column: 4 })
    expect(renderError('a: <%= "x#$0" %>').message).toContain('Unsupported interpolation')
  })

  it('reports an unclosed tag at its <%', () => {
    const error = renderError('a: 1\nb: x <%= ENV["X"]\nc: 2\n')
    expect(error.message).toContain('Unclosed ERB tag')
    expect(error.location).toEqual({ file: 'config/deploy.yml', line: 2, column: 6 })
  })

  it('reports an unterminated string literal', () => {
    expect(renderError('a: <%= "abc %>').message).toContain('Unsupported ERB expression `"abc`')
  })
})
