/**
 * Renders a template with Ruby's own ERB, for the templates the built-in
 * subset (erb.ts) cannot evaluate: `<% if … %>` blocks, `==`/`? :`, method
 * calls. Kamal itself runs `ERB.new(template, trim_mode: "-").result`; we run
 * the same in a `ruby` child process, in the project directory, with the same
 * ENV, after a small prelude of our own that defines what Kamal's config ERB
 * commonly calls (Kamal::Utils.docker_arch, ActiveSupport's blank?/present?).
 *
 * Positions: before rendering, an invisible marker is put at the start of
 * every stretch of verbatim text (and after each of its newlines). Ruby copies
 * text verbatim, so after rendering each marker says exactly which template
 * offset the following characters came from; output between a stretch and the
 * next marker came from the tag that follows that stretch.
 */
import { randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

export interface RubyRenderInput {
  template: string
  /** verbatim text stretches [start, end) and tag starts, in template order (erb.ts scanTemplate) */
  pieces: ReadonlyArray<{ kind: 'text'; start: number; end: number } | { kind: 'tag'; tagStart: number }>
  file: string
  cwd: string
  env: NodeJS.ProcessEnv
  ruby: string
  /** when set, Kamal::Utils.docker_arch answers this instead of asking `docker info` */
  dockerArch?: string
}

/** A run of rendered text: copied from the template at `templateStart`, or output of the tag there. */
export interface RenderedSegment {
  outStart: number
  templateStart: number
  fromTag: boolean
  /** for copied text: how many characters are copied (the rest up to the next segment is tag output) */
  copied?: number
  tagAfter?: number
}

export type RubyRenderResult =
  | { ok: true; text: string; segments: RenderedSegment[] }
  | { ok: false; message: string; line?: number }

const DOCKER_ARCH_VARIABLE = 'KAMAL_DEPLOY_ACTION_DOCKER_ARCH'

// String.raw keeps Ruby's backslashes; its escaped backticks are unescaped below.
const PRELUDE = String.raw`
module KamalDeployActionErb
  # Ruby's backticks ignore the exit status; like the action's own ERB subset,
  # a failing command stops with its status instead of yielding partial config.
  module StrictCommands
    def \`(command)
      output = super
      status = $?
      if status && !status.success?
        how = status.signaled? ? "was killed by signal #{status.termsig}" : "failed with exit status #{status.exitstatus}"
        raise RuntimeError, "Command \`#{command}\` #{how}"
      end
      output
    end
  end

  def self.prepare(docker_arch)
    Object.prepend(StrictCommands)
    begin
      require "active_support"
      require "active_support/core_ext/object/blank"
    rescue LoadError
      Object.class_eval do
        def blank?; respond_to?(:empty?) ? !!empty? : !self; end
        def present?; !blank?; end
        def presence; self if present?; end
      end
      String.class_eval do
        def blank?; !!(self =~ /\A[[:space:]]*\z/); end
      end
    end
    kamal = Object.const_defined?(:Kamal) ? Object.const_get(:Kamal) : Object.const_set(:Kamal, Module.new)
    kamal.const_set(:VERSION, "2.12.0") unless kamal.const_defined?(:VERSION)
    utils = kamal.const_defined?(:Utils) ? kamal.const_get(:Utils) : kamal.const_set(:Utils, Module.new)
    utils.define_singleton_method(:docker_arch) do
      # Docker's architecture, in the platform names Kamal's builder uses.
      reported = docker_arch || \`docker info --format '{{.Architecture}}'\`.strip
      if reported.include?("aarch64") then "arm64"
      elsif reported.include?("x86_64") then "amd64"
      else reported
      end
    end
  end

  def self.run(result_path, error_path, file)
    template = STDIN.read.force_encoding(Encoding::UTF_8)
    STDIN.reopen(File::NULL)
    prepare(ENV.delete("${DOCKER_ARCH_VARIABLE}"))
    erb = ERB.new(template, trim_mode: "-")
    erb.filename = file
    erb.lineno = 0
    File.binwrite(result_path, erb.result)
  rescue Exception => error
    line = nil
    if error.is_a?(SyntaxError)
      line = error.message[/#{Regexp.escape(file)}:(\d+)/, 1]
    else
      located = (error.backtrace || []).find { |entry| entry.start_with?("#{file}:") }
      line = located && located[/\A#{Regexp.escape(file)}:(\d+)/, 1]
    end
    message = error.message.to_s.sub(/\A#{Regexp.escape(file)}:\d+: /, "").lines.first.to_s.strip
    message = message.encode("UTF-8", invalid: :replace, undef: :replace)
    File.write(error_path, JSON.generate("class" => error.class.name, "message" => message, "line" => line && line.to_i))
    exit! 3
  end
end
`.replace(/\\`/g, '`')

const SCRIPT = `require "erb"\nrequire "json"\n${PRELUDE}\nKamalDeployActionErb.run(*ARGV.shift(3))\n`

export function renderWithRuby(input: RubyRenderInput): RubyRenderResult {
  const nonce = randomBytes(6).toString('hex')
  const { instrumented, markers } = instrument(input, nonce)
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kamal-erb-'))
  const resultPath = path.join(workDir, 'result')
  const errorPath = path.join(workDir, 'error.json')
  try {
    const env: NodeJS.ProcessEnv = { ...input.env }
    delete env[DOCKER_ARCH_VARIABLE]
    if (input.dockerArch !== undefined) env[DOCKER_ARCH_VARIABLE] = input.dockerArch
    const child = spawnSync(input.ruby, ['-e', SCRIPT, resultPath, errorPath, input.file], {
      cwd: input.cwd,
      env,
      input: instrumented,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    })
    if (child.status === 0 && fs.existsSync(resultPath)) {
      return { ok: true, ...decode(fs.readFileSync(resultPath, 'utf8'), nonce, markers) }
    }
    if (child.status === 3 && fs.existsSync(errorPath)) {
      const reported = JSON.parse(fs.readFileSync(errorPath, 'utf8')) as { class: string; message: string; line: number | null }
      return { ok: false, message: `${reported.class}: ${reported.message}`, line: reported.line ?? undefined }
    }
    const why = child.error?.message ?? (child.stderr.trim().split('\n')[0] || `exit status ${child.status ?? child.signal}`)
    return { ok: false, message: `Could not run ${input.ruby} to render the ERB: ${why}` }
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true })
  }
}

/** Where one marker's text came from. */
interface Marker {
  templateStart: number
  copied: number
  tagAfter?: number
}

function markerText(nonce: string, id: number): string {
  return `\u{E000}${nonce}:${id}\u{E001}`
}

function instrument(input: RubyRenderInput, nonce: string): { instrumented: string; markers: Marker[] } {
  const { template, pieces } = input
  const markers: Marker[] = []
  const inserts: Array<{ at: number; id: number }> = []
  pieces.forEach((piece, index) => {
    if (piece.kind !== 'text') return
    const next = pieces[index + 1]
    const tagAfter = next?.kind === 'tag' ? next.tagStart : undefined
    // A marker after the piece's final newline would sit between a line start
    // and a `<%-`, and stop Ruby trimming the blanks before it.
    const starts = [piece.start]
    for (let i = piece.start + 1; i < piece.end; i++) if (template[i - 1] === '\n') starts.push(i)
    starts.forEach((start, k) => {
      const end = k + 1 < starts.length ? starts[k + 1] : piece.end
      inserts.push({ at: start, id: markers.length })
      markers.push({ templateStart: start, copied: end - start, tagAfter: end === piece.end ? tagAfter : undefined })
    })
  })
  let instrumented = ''
  let from = 0
  for (const insert of inserts) {
    instrumented += template.slice(from, insert.at) + markerText(nonce, insert.id)
    from = insert.at
  }
  instrumented += template.slice(from)
  return { instrumented, markers }
}

function decode(output: string, nonce: string, markers: Marker[]): { text: string; segments: RenderedSegment[] } {
  const pattern = new RegExp(`\u{E000}${nonce}:(\\d+)\u{E001}`, 'gu')
  const segments: RenderedSegment[] = []
  let text = ''
  let from = 0
  for (const match of output.matchAll(pattern)) {
    text += output.slice(from, match.index)
    const marker = markers[Number(match[1])]
    if (marker) segments.push({ outStart: text.length, templateStart: marker.templateStart, fromTag: false, copied: marker.copied, tagAfter: marker.tagAfter })
    from = (match.index ?? 0) + match[0].length
  }
  text += output.slice(from)
  return { text, segments }
}
