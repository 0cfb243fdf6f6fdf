import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { renderErb, type ErbContext } from '../../src/config/erb'
import { loadRawConfig } from '../../src/config/load'
import { ConfigError } from '../../src/errors'
import { pathWithoutRuby, rubyAvailable } from './ruby'

// Templates beyond the built-in subset, rendered by Ruby's own ERB as Kamal does.
const describeWithRuby = rubyAvailable() ? describe : describe.skip

let projectDir: string

beforeEach(() => {
  projectDir = realpathSync(mkdtempSync(join(tmpdir(), 'erb-ruby-')))
})

afterEach(() => rmSync(projectDir, { recursive: true, force: true }))

function context(env: Record<string, string | undefined> = {}, extra: Partial<ErbContext> = {}): ErbContext {
  return { file: 'config/deploy.yml', cwd: projectDir, env: { PATH: process.env.PATH, ...env }, ...extra }
}

function renderError(template: string, ctx: ErbContext): ConfigError {
  try {
    renderErb(template, ctx)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error(`expected a ConfigError rendering ${JSON.stringify(template)}`)
}

/** A `docker` on PATH that reports `arch` as the daemon's architecture. */
function fakeDocker(arch: string): string {
  const bin = join(projectDir, 'bin')
  mkdirSync(bin, { recursive: true })
  writeFileSync(join(bin, 'docker'), `#!/bin/sh\n[ "$*" = "info --format {{.Architecture}}" ] || exit 9\necho ${arch}\n`)
  chmodSync(join(bin, 'docker'), 0o755)
  return `${bin}:${process.env.PATH}`
}

// Kamal's own fixtures choose the builder arch this way (test/fixtures/deploy_with_remote_builder.yml).
const KAMAL_ARCH_TAG = '<%= Kamal::Utils.docker_arch == "arm64" ? "amd64" : "arm64" %>'

describeWithRuby('with Ruby on PATH', () => {
  test("Kamal's fixture arch expression, with docker_arch from the local daemon (aarch64 → arm64)", () => {
    const template = `builder:\n  arch: ${KAMAL_ARCH_TAG}\n`
    expect(renderErb(template, context({ PATH: fakeDocker('aarch64') })).text).toBe('builder:\n  arch: amd64\n')
    expect(renderErb(template, context({ PATH: fakeDocker('x86_64') })).text).toBe('builder:\n  arch: arm64\n')
  })

  test('an injected docker_arch is what the template sees', () => {
    expect(renderErb(`arch: ${KAMAL_ARCH_TAG}`, context({}, { dockerArch: () => 'amd64' })).text).toBe('arch: arm64')
  })

  test('<% if %> blocks see the same ENV, KAMAL_DESTINATION included, and run in the project directory', () => {
    writeFileSync(join(projectDir, 'REGION'), 'eu\n')
    const template = [
      'service: app',
      '<% if ENV["KAMAL_DESTINATION"] == "staging" -%>',
      'servers: [staging.example.com]',
      '<% else -%>',
      'servers: [prod.example.com]',
      '<% end -%>',
      'region: <%= File.read("REGION").strip %>',
      'dir: <%= Dir.pwd %>',
      '',
    ].join('\n')
    expect(renderErb(template, context({ KAMAL_DESTINATION: 'staging' })).text).toBe(
      `service: app\nservers: [staging.example.com]\nregion: eu\ndir: ${projectDir}\n`,
    )
    expect(renderErb(template, context()).text).toContain('servers: [prod.example.com]')
  })

  test('rendered positions point at the template lines, through blocks and loops', () => {
    const template = [
      'service: app', // 1
      '<% if true -%>', // 2
      'servers:', // 3
      '<% %w[a b].each do |name| -%>', // 4
      '  - <%= name %>.example.com', // 5
      '<% end -%>', // 6
      '<% end -%>', // 7
      'image: <%= "x" * 3 %> # tail', // 8
      '',
    ].join('\n')
    const rendered = renderErb(template, context())
    expect(rendered.text).toBe('service: app\nservers:\n  - a.example.com\n  - b.example.com\nimage: xxx # tail\n')
    const at = (needle: string) => rendered.sourcePosition(rendered.text.indexOf(needle))
    expect(at('servers:')).toEqual({ line: 3, column: 1 })
    expect(at('a.example')).toEqual({ line: 5, column: 5 })
    expect(at('b.example')).toEqual({ line: 5, column: 5 })
    expect(at('.example.com\n  - b')).toEqual({ line: 5, column: 16 })
    expect(at('xxx')).toEqual({ line: 8, column: 8 })
    expect(at('# tail')).toEqual({ line: 8, column: 23 })
  })

  test('a Ruby error names the line of the tag that raised it', () => {
    const error = renderError('service: app\n\nimage:   <%= ENV["NOPE"].upcase %>\n', context())
    expect(error.message).toMatch(/^ERB error \(rendered with Ruby, as Kamal does\): NoMethodError: undefined method .upcase. for nil/)
    expect(error.location).toEqual({ file: 'config/deploy.yml', line: 3, column: 10 })
  })

  test('a Ruby syntax error names its line', () => {
    const error = renderError('a: 1\n<% if true %>\nb: <%= 1 + %>\n<% end %>\n', context())
    expect(error.message).toContain('SyntaxError')
    expect(error.location).toMatchObject({ line: 3, column: 4 })
  })

  test('ENV.fetch of a missing key says where to set it', () => {
    const error = renderError('a: <%= ENV.fetch("IMAGE").downcase %>\n', context())
    expect(error.message).toContain('KeyError: key not found: "IMAGE"')
    expect(error.message).toContain("step's `env:`")
    expect(error.location).toMatchObject({ line: 1, column: 4 })
  })

  test('a failing command stops the render, as in the subset', () => {
    const error = renderError('a: 1\nb: <%= `exit 4`.strip.upcase %>\n', context())
    expect(error.message).toContain('Command `exit 4` failed with exit status 4')
    expect(error.location).toMatchObject({ line: 2, column: 4 })
  })

  test('ActiveSupport-style present?/blank?/presence work as in Kamal', () => {
    expect(renderErb('<%= ENV["A"].presence || "none" %> <%= "  ".blank? %> <%= [1].present? %>', context({ A: '' })).text).toBe('none true true')
  })

  test('through loadRawConfig: no destination means KAMAL_DESTINATION is unset, as in Kamal', () => {
    mkdirSync(join(projectDir, 'config'))
    writeFileSync(join(projectDir, 'config/deploy.yml'), 'service: <%= ENV.fetch("KAMAL_DESTINATION", "none") %>\nimage: <%= ENV["KAMAL_DESTINATION"].nil? %>\n')
    writeFileSync(join(projectDir, 'config/deploy.staging.yml'), 'x-y: 1\n')
    const plain = loadRawConfig({ projectDir, configFile: 'config/deploy.yml', env: { ...process.env, KAMAL_DESTINATION: 'leaked' } })
    expect(plain.raw).toMatchObject({ service: 'none', image: true })
    const staging = loadRawConfig({ projectDir, configFile: 'config/deploy.yml', destination: 'staging', env: process.env })
    expect(staging.raw).toMatchObject({ service: 'staging', image: false })
  })

  test('a value rendered by Ruby is located for validation errors at its template line', () => {
    mkdirSync(join(projectDir, 'config'))
    writeFileSync(join(projectDir, 'config/deploy.yml'), 'service: app\n<% if true %>\nbuilder:\n  arch: <%= [1] %>\n<% end %>\n')
    const source = loadRawConfig({ projectDir, configFile: 'config/deploy.yml', env: process.env })
    expect(source.raw).toMatchObject({ builder: { arch: [1] } })
    expect(source.locate(['builder', 'arch'])).toEqual({ file: 'config/deploy.yml', line: 4, column: 9 })
  })
})

describe('without Ruby on PATH', () => {
  test("Kamal's fixture arch expression is refused at its tag, saying Ruby would render it", () => {
    const error = renderError(`service: app\nbuilder:\n  arch: ${KAMAL_ARCH_TAG}\n`, context({ PATH: pathWithoutRuby() }))
    expect(error.message).toContain('Ruby would render it as Kamal does, but no `ruby` is on PATH')
    expect(error.location).toEqual({ file: 'config/deploy.yml', line: 3, column: 9 })
  })

  test('an <% if %> block is refused at its tag', () => {
    const error = renderError('a: 1\n<% if ENV["X"] %>\nb: 2\n<% end %>\n', context({ PATH: pathWithoutRuby() }))
    expect(error.message).toContain('Unsupported ERB tag `<% if ENV["X"] %>`')
    expect(error.message).toContain('no `ruby` is on PATH')
    expect(error.location).toMatchObject({ line: 2, column: 1 })
  })

  test('the subset still renders with no Ruby', () => {
    expect(renderErb('a: <%= ENV["A"] %>', context({ PATH: pathWithoutRuby(), A: 'x' })).text).toBe('a: x')
  })
})
