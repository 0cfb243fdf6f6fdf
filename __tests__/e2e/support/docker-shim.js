#!/usr/bin/env node
/* global require, process */
/* eslint-disable @typescript-eslint/no-require-imports */
// A recording `docker` first on PATH, standing in for what this machine lacks (the buildx
// plugin and the moby/buildkit image): it appends every invocation to SHIM_LOG, keeps
// builders and contexts in SHIM_STATE as a real runner would after creating them, and turns
// `buildx build … --output=type=registry` into the equivalent legacy build + push with the
// real docker (SHIM_REAL_DOCKER) — on the builder's ssh:// host when the builder is remote,
// through the docker CLI's own ssh connection helper, i.e. the `ssh` found on PATH.
// Everything else goes to the real docker unchanged.
const { spawnSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const args = process.argv.slice(2)
const state = process.env.SHIM_STATE
const realDocker = process.env.SHIM_REAL_DOCKER
const entry = {
  argv: ['docker', ...args],
  env: Object.keys(process.env).filter((name) => /^(ACTIONS_|DOCKER_|BUILDKIT_)/.test(name)).sort(),
  viaShell: parentIsShell(),
}

function parentIsShell() {
  try {
    return ['sh', 'dash', 'bash'].includes(fs.readFileSync(`/proc/${process.ppid}/comm`, 'utf8').trim())
  } catch {
    return false
  }
}

function record(extra = {}) {
  fs.appendFileSync(process.env.SHIM_LOG, `${JSON.stringify({ ...entry, ...extra })}\n`)
}

function finish(code, { out = '', err = '', extra = {} } = {}) {
  record({ code, ...extra })
  if (out) process.stdout.write(out)
  if (err) process.stderr.write(err)
  process.exit(code)
}

const stateFile = (kind, name) => path.join(state, `${kind}-${name.replace(/\//g, '_')}`)
const read = (kind, name) => (fs.existsSync(stateFile(kind, name)) ? fs.readFileSync(stateFile(kind, name), 'utf8') : undefined)
const optionValue = (list, flag) => {
  const index = list.indexOf(flag)
  return index >= 0 ? list[index + 1] : undefined
}

function real(argv, options = {}) {
  return spawnSync(realDocker, argv, { stdio: options.capture ? 'pipe' : 'inherit', encoding: 'utf8', env: { ...process.env, ...(options.env ?? {}) } })
}

const [group, verb, ...rest] = args
if (group === 'buildx' && verb === 'version') finish(0, { out: 'github.com/docker/buildx v0.0.0-shim shim\n' })
if (group === 'buildx' && verb === 'inspect') {
  const endpoint = read('builder', rest[0])
  if (endpoint === undefined) finish(1, { err: `ERROR: no builder "${rest[0]}" found\n` })
  finish(0, { out: `Name:          ${rest[0]}\nDriver:        docker-container\n\nNodes:\nName:      ${rest[0]}0\nEndpoint:  ${endpoint}\nStatus:    running\n` })
}
if (group === 'buildx' && verb === 'create') {
  const list = [verb, ...rest]
  const driver = optionValue(list, '--driver')
  const name = optionValue(list, '--name') ?? (driver === 'cloud' ? `cloud-${optionValue(list, 'cloud')?.replace(/\//g, '-')}` : 'shim-builder')
  const valued = new Set(['--name', '--driver', '--driver-opt', '--platform'])
  const positional = rest.filter((word, index) => !word.startsWith('-') && !valued.has(rest[index - 1]) && !(driver === 'cloud' && rest[index - 1] === 'cloud'))
  fs.writeFileSync(stateFile('builder', name), positional[0] ?? 'unix:///var/run/docker.sock')
  finish(0, { out: `${name}\n` })
}
if (group === 'buildx' && (verb === 'rm' || verb === 'use')) {
  if (read('builder', rest[0]) === undefined) finish(1, { err: `ERROR: no builder "${rest[0]}" found\n` })
  if (verb === 'rm') fs.rmSync(stateFile('builder', rest[0]))
  finish(0)
}
if (group === 'context' && verb === 'create') {
  const host = optionValue(rest, '--docker')?.replace(/^host=/, '')
  fs.writeFileSync(stateFile('context', rest[0]), host ?? '')
  finish(0, { out: `${rest[0]}\n` })
}
if (group === 'context' && (verb === 'inspect' || verb === 'rm')) {
  const host = read('context', rest[0])
  if (host === undefined) finish(1, { err: `context "${rest[0]}" does not exist\n` })
  if (verb === 'rm') {
    fs.rmSync(stateFile('context', rest[0]))
    finish(0)
  }
  finish(0, { out: `${host}\n` })
}
if (group === 'buildx' && verb === 'build') build(rest)

const passed = real(args)
record({ code: passed.status, passedThrough: true })
process.exit(passed.status ?? 1)

function build(list) {
  const withValue = new Set(['--platform', '--builder', '-t', '--cache-to', '--cache-from', '--label', '--build-arg', '--secret', '--file', '--target', '--ssh', '--provenance', '--sbom'])
  const options = []
  let context
  for (let i = 0; i < list.length; i++) {
    if (withValue.has(list[i])) options.push([list[i], list[++i]])
    else if (list[i].startsWith('-')) options.push([list[i]])
    else context = list[i]
  }
  const all = (flag) => options.filter(([name]) => name === flag).map(([, value]) => value)
  const tags = all('-t')
  const legacy = [
    'build',
    ...tags.flatMap((tag) => ['-t', tag]),
    ...all('--label').flatMap((label) => ['--label', label]),
    ...all('--build-arg').flatMap((arg) => ['--build-arg', arg]),
    ...all('--file').flatMap((file) => ['--file', file]),
    ...all('--target').flatMap((target) => ['--target', target]),
    ...(options.some(([name]) => name === '--no-cache') ? ['--no-cache'] : []),
    context,
  ]
  const builder = all('--builder')[0]
  const endpoint = builder ? read('builder', builder) : undefined
  const remoteHost = endpoint ? read('context', endpoint) : undefined
  const hostFlag = remoteHost?.startsWith('ssh://') ? ['-H', remoteHost] : []
  const secretIds = all('--secret').map((secret) => secret.replace(/^id=/, ''))
  const extra = {
    secretsInEnv: secretIds.filter((id) => process.env[id] !== undefined),
    remoteHost,
    ssh: sshWrapperSeen(),
  }
  const built = real([...hostFlag, ...legacy], { env: { DOCKER_BUILDKIT: '0' }, capture: true })
  let code = built.status ?? 1
  let output = `${built.stdout}${built.stderr}`
  if (code === 0 && options.some(([name]) => name === '--output=type=registry')) {
    for (const tag of tags) {
      const pushed = real([...hostFlag, 'push', tag], { capture: true })
      output += `${pushed.stdout}${pushed.stderr}`
      if (pushed.status !== 0) {
        code = pushed.status ?? 1
        break
      }
    }
  }
  finish(code, { out: output, extra: { ...extra, legacy: [...hostFlag, ...legacy] } })
}

/** The `ssh` the real docker will run (first on PATH): its text, and digests of the files next to it. */
function sshWrapperSeen() {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = path.join(dir, 'ssh')
    if (!fs.existsSync(candidate)) continue
    const files = {}
    for (const name of fs.readdirSync(dir)) {
      if (name === 'ssh') continue
      files[name] = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, name))).digest('hex')
    }
    return { path: candidate, text: fs.readFileSync(candidate, 'utf8'), files }
  }
  return undefined
}
