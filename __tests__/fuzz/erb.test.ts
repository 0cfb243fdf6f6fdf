import fc from 'fast-check'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { renderErb, type ErbContext } from '../../src/config/erb'
import { pathWithoutRuby, rubyAvailable } from '../config/ruby'
import { expectLocatedIn, lineCount, OutcomeTally } from './outcome'

let projectDir: string

beforeAll(() => {
  projectDir = mkdtempSync(join(tmpdir(), 'fuzz-erb-'))
})

afterAll(() => rmSync(projectDir, { recursive: true, force: true }))

const ENV = { A: 'alpha', B: ' b \n', EMPTY: '' }

function context(withRuby: boolean): ErbContext {
  return { file: 'config/deploy.yml', cwd: projectDir, env: { ...ENV, PATH: withRuby ? process.env.PATH : pathWithoutRuby() } }
}

// Pieces of text and tags the subset evaluates exactly like Ruby (no shell-outs, no docker).
const SUBSET_PIECES = [
  'a', 'key: ', ' ', '  ', '\t', '\n', '\r\n', '#', '%>', '%%>', '-%>', '%', '<', '-', '"', "'", '\\', 'é',
  '<%= ENV["A"] %>', '<%= ENV[\'B\'] %>', '<%= ENV["MISSING"] %>', '<%= ENV.fetch("A") %>', '<%= ENV.fetch("NOPE", "dflt") %>',
  '<%= ENV["B"].strip %>', '<%= ENV["B"].chomp %>', '<%= "x\\ty" %>', "<%= 'q\\'s' %>", '<%= "#{ENV["A"]}!" %>', '<%= "\\u00e9" %>',
  '<%# comment %>', '<%# c -%>', '<%% lit', '<% %>', '<%- %>', '<%- -%>', '<% -%>', '<%= "v" -%>', '  <%- -%>', '<%= "a%%>b" %>',
]

// Anything at all, including tags Ruby would have to render and broken ones.
const ANY_PIECES = [
  ...SUBSET_PIECES, '<%', '<%=', '<%-', '<%#', '<%%', '<%= ', ' %>', '<% if true %>', '<% end %>', '<%= 1 + 1 %>', '<%= ENV[',
  '<%= "unterminated %>', '<%= `', '<%= %x(', '<%= ENV.fetch("NOPE") %>', '<%= ENV["NOPE"].strip %>', '<%= "#{x}" %>', '<%-= 1 %>',
  '<%= "\\xZZ" %>', '<%= Kamal::Utils.docker_arch.x %>', '\u{E000}', '\u0000',
]

const template = (pieces: string[]) => fc.array(fc.constantFrom(...pieces), { maxLength: 24 }).map((parts) => parts.join(''))

test('every template renders or fails with a located error; every rendered offset maps into the template', () => {
  const tally = new OutcomeTally('ERB fuzz (subset, no Ruby)')
  fc.assert(
    fc.property(fc.oneof(template(ANY_PIECES), fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 })), (text) => {
      tally.run(
        () => {
          const rendered = renderErb(text, context(false))
          const lines = lineCount(text)
          for (let offset = 0; offset <= rendered.text.length; offset++) {
            const { line, column } = rendered.sourcePosition(offset)
            if (!(line >= 1 && line <= lines && column >= 1)) throw new Error(`offset ${offset} maps to ${line}:${column} (template has ${lines} lines)`)
          }
        },
        (error) => expectLocatedIn(error, { 'config/deploy.yml': lineCount(text) }),
      )
    }),
    { numRuns: 1500 },
  )
  tally.report()
  expect(tally.counts.value).toBeGreaterThan(100)
  expect(tally.counts['located-error']).toBeGreaterThan(100)
})

const describeWithRuby = rubyAvailable() ? describe : describe.skip

describeWithRuby('against Ruby', () => {
  test("the subset renders exactly what Ruby's ERB renders", () => {
    // One Ruby process renders every sample (ERB.new(t, trim_mode: "-").result, as Kamal), so this stays fast.
    // A fixed seed keeps CI repeatable; FUZZ_SEED explores others.
    const seed = Number(process.env.FUZZ_SEED ?? 20261201)
    const samples = fc.sample(template(SUBSET_PIECES), { numRuns: 300, seed })
    const ruby = execFileSync(
      'ruby',
      ['-rerb', '-rjson', '-e', 'puts JSON.generate(JSON.parse(STDIN.read).map { |t| begin; ERB.new(t, trim_mode: "-").result; rescue Exception; "RAISED #{$!.class}"; end })'],
      { input: JSON.stringify(samples), env: { ...process.env, ...ENV }, encoding: 'utf8' },
    )
    const expected = JSON.parse(ruby) as string[]
    let compared = 0
    samples.forEach((sample, index) => {
      let ours: string
      try {
        ours = renderErb(sample, context(false)).text
      } catch (error) {
        ours = `RAISED ${(error as Error).message}`
      }
      // Ruby raises KeyError for a missing ENV.fetch and so does the subset. Where the subset refuses
      // what Ruby renders (an odd tag such as `<%>`), the user gets an error at the tag, never other
      // text: that is allowed; rendering something different from Ruby is not.
      if (ours.startsWith('RAISED')) return
      expect({ sample, rendered: ours }).toEqual({ sample, rendered: expected[index] })
      compared++
    })
    console.log(`ERB differential (seed ${seed}): ${samples.length} subset templates rendered by both, ${compared} compared text-for-text`)
    expect(compared).toBeGreaterThan(200)
  })

  test('Ruby-rendered templates also end in text or a located error, with positions in range', () => {
    const tally = new OutcomeTally('ERB fuzz (through Ruby)')
    const beyondSubset = fc
      .tuple(template(SUBSET_PIECES), fc.constantFrom('<% if true %>', '<% if false %>', '<%= 1 + 1 %>', '<%= nil.x %>', '<%= 1 + %>', '<% [1, 2].each do |i| %>'), template(SUBSET_PIECES), fc.constantFrom('', '<% end %>'))
      .map((parts) => parts.join(''))
    fc.assert(
      fc.property(beyondSubset, (text) => {
        tally.run(
          () => {
            const rendered = renderErb(text, context(true))
            for (let offset = 0; offset <= rendered.text.length; offset++) {
              const { line } = rendered.sourcePosition(offset)
              if (!(line >= 1 && line <= lineCount(text))) throw new Error(`offset ${offset} maps to line ${line}`)
            }
          },
          (error) => expectLocatedIn(error, { 'config/deploy.yml': lineCount(text) }),
        )
      }),
      { numRuns: 6 },
    )
    tally.report()
  })
})
