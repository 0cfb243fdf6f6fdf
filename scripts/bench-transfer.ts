/**
 * Registry-free transfer benchmark on the local harness (run as root: `npm run bench:transfer`).
 *
 * 1. A ~210 MB base image on the runner engine (a 120 MiB incompressible layer and a ~90 MB
 *    text layer), an app layer of ~2 MiB on top; deploy v1 to two hosts, change one app file,
 *    deploy v2, and print v2's bytes per host against the changed layer, what
 *    `docker save | docker load` would send, the wall time and the action's peak RSS.
 * 2. An image of more than 1 GiB shipped to both hosts, with the action's peak RSS.
 */
import { execFileSync, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { startAction, type ActionRun } from '../__tests__/support/run-action'
import { AppProject } from '../__tests__/e2e/support/app-project'
import { harnessDown, harnessUp, type HarnessState } from '../__tests__/e2e/support/harness'
import { saveImage } from '../src/transfer/docker-save'
import { layerBlobs } from '../src/transfer/layer-blobs'
import { formatBytes } from '../src/transfer/transfer-meter'

const HOSTS = ['10.213.0.11', '10.213.0.12']
const MiB = 1024 * 1024

const config = (service: string) => `service: ${service}
image: bench/${service}
servers:
  web:
    hosts:
${HOSTS.map((host) => `      - ${host}`).join('\n')}
proxy:
  host: ${service}.test
  healthcheck:
    path: /up
    interval: 1
registry:
  server: localhost:5555
builder:
  arch: amd64
deploy_timeout: 30
drain_timeout: 2
`

const dockerfile = (base: string) => `FROM ${base}
COPY www /www
LABEL bench=yes
CMD ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 80 -h /www & wait"]
`

let harness: HarnessState

function runnerDocker(args: string[], input?: string): string {
  return execFileSync('docker', args, { env: { ...process.env, DOCKER_HOST: harness.runner.dockerHost, DOCKER_BUILDKIT: '0' }, encoding: 'utf8', input, maxBuffer: 64 * MiB, stdio: ['pipe', 'pipe', 'pipe'] }).trim()
}

/** A base image built on the runner from a Dockerfile of RUN steps (nothing can be pulled here). */
function buildBase(tag: string, steps: string[]): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-base-'))
  fs.writeFileSync(path.join(dir, 'Dockerfile'), ['FROM busybox:harness', ...steps.map((step) => `RUN ${step}`), ''].join('\n'))
  execFileSync('docker', ['build', '-q', '-t', tag, dir], { env: { ...process.env, DOCKER_HOST: harness.runner.dockerHost, DOCKER_BUILDKIT: '0' }, stdio: ['ignore', 'ignore', 'inherit'] })
  fs.rmSync(dir, { recursive: true, force: true })
}

/** A web app with ~2 MiB of assets; `version` is the one file that changes. */
function appFiles(base: string, version: string): Record<string, string> {
  const assets: Record<string, string> = {}
  let seed = 7
  for (let file = 0; file < 16; file++) {
    let text = ''
    while (text.length < 128 * 1024) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      text += `${seed.toString(36)}${file % 3 === 0 ? ' function render(){return state}\n' : ''}`
    }
    assets[`www/assets/chunk-${file}.js`] = text
  }
  return { Dockerfile: dockerfile(base), 'www/up': 'ok\n', 'www/version': `${version}\n`, ...assets }
}

interface Measured {
  run: ActionRun
  seconds: number
  peakRssBytes: number
}

/** Runs dist/index.js like the runner, sampling its VmHWM (peak resident set) until it exits. */
async function deploy(project: AppProject, version: string): Promise<Measured> {
  const started = Date.now()
  const action = startAction(project.dir, {
    command: 'deploy',
    version,
    'ssh-private-key': fs.readFileSync(harness.privateKey, 'utf8'),
    'ssh-known-hosts': fs.readFileSync(harness.knownHosts, 'utf8'),
  }, { DOCKER_HOST: harness.runner.dockerHost, DOCKER_BUILDKIT: '0' })
  let peakKiB = 0
  const sample = () => {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${action.pid}/status`, 'utf8'))
      if (match) peakKiB = Math.max(peakKiB, Number(match[1]))
    } catch {
      // exited
    }
  }
  const timer = setInterval(sample, 50)
  const run = await action.finished
  clearInterval(timer)
  if (run.status !== 0) throw new Error(`deploy ${version} failed:\n${run.stdout.slice(-5000)}\n${run.stderr.slice(-2000)}`)
  return { run, seconds: (Date.now() - started) / 1000, peakRssBytes: peakKiB * 1024 }
}

function bytesSent(stdout: string): Record<string, number> {
  const block = stdout.slice(stdout.lastIndexOf('Bytes sent to each host:'))
  const sent: Record<string, number> = {}
  for (const match of block.matchAll(/^ {2}([\d.]+): [^(\n]+\((\d+) bytes\) in /gm)) sent[match[1]] = Number(match[2])
  return sent
}

/** Bytes of `docker save <image>`: what `docker save | ssh docker load` sends to each host. */
function dockerSaveBytes(image: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['save', image], { env: { ...process.env, DOCKER_HOST: harness.runner.dockerHost } })
    let bytes = 0
    child.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(bytes) : reject(new Error(`docker save ${image}: exit ${code}`))))
  })
}

/** The layers of `next` that `previous` lacks, with their compressed sizes as the hosts receive them. */
async function changedLayers(previous: string, next: string): Promise<{ count: number; compressed: number; uncompressed: number }> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-layers-'))
  try {
    const env = { ...process.env, DOCKER_HOST: harness.runner.dockerHost }
    const before = new Set((await saveImage(previous, path.join(scratch, 'a'), env)).layers.map((layer) => layer.diffId))
    const after = await saveImage(next, path.join(scratch, 'b'), env)
    const fresh = after.layers.filter((layer) => !before.has(layer.diffId))
    const blobs = await layerBlobs(fresh, path.join(scratch, 'cache'))
    return { count: fresh.length, compressed: blobs.reduce((sum, blob) => sum + blob.size, 0), uncompressed: fresh.reduce((sum, layer) => sum + layer.file.size, 0) }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true })
  }
}

const say = (line: string) => process.stdout.write(`${line}\n`)

async function main(): Promise<void> {
  if (!fs.existsSync(path.resolve(__dirname, '../dist/index.js'))) throw new Error('run `npm run bundle` first')
  harness = harnessUp(HOSTS.length)
  try {
    say('--- 1. a ~210 MB image, v1 then v2 with one app file changed')
    buildBase('bench/base:1', ['mkdir -p /opt && head -c 120m /dev/urandom > /opt/assets.bin', 'seq 1 12000000 > /opt/numbers.txt'])
    say(`base image: ${formatBytes(Number(runnerDocker(['image', 'inspect', '--format', '{{.Size}}', 'bench/base:1'])))}`)
    const project = new AppProject({ 'config/deploy.yml': config('shop'), ...appFiles('bench/base:1', 'v1') })
    const v1 = await deploy(project, 'v1')
    say(`v1: ${JSON.stringify(bytesSent(v1.run.stdout))} bytes sent, ${v1.seconds.toFixed(1)}s, peak RSS ${formatBytes(v1.peakRssBytes)}`)
    project.write({ 'www/version': 'v2\n' })
    project.commit('v2: one file changed')
    const v2 = await deploy(project, 'v2')
    const sent = bytesSent(v2.run.stdout)
    const changed = await changedLayers('localhost:5555/bench/shop:v1', 'localhost:5555/bench/shop:v2')
    const saveLoad = await dockerSaveBytes('localhost:5555/bench/shop:v2')
    say(`v2 changed layers: ${changed.count}, ${formatBytes(changed.compressed)} compressed (${changed.compressed} B), ${formatBytes(changed.uncompressed)} uncompressed`)
    for (const host of HOSTS) {
      say(`v2 bytes sent to ${host}: ${sent[host]} B (${formatBytes(sent[host])}); ratio to the changed layer: ${(sent[host] / changed.compressed).toFixed(3)}`)
    }
    say(`docker save | docker load would send ${formatBytes(saveLoad)} (${saveLoad} B) to each host: ${(saveLoad / Math.max(...Object.values(sent))).toFixed(0)}x more`)
    say(`v2 deploy wall time: ${v2.seconds.toFixed(1)}s; peak RSS of the action process: ${formatBytes(v2.peakRssBytes)}`)

    say('--- 2. an image over 1 GiB, to both hosts at once')
    buildBase('bench/big:1', ['mkdir -p /opt && head -c 700m /dev/urandom > /opt/a.bin', 'head -c 400m /dev/urandom > /opt/b.bin'])
    const big = new AppProject({ 'config/deploy.yml': config('big'), ...appFiles('bench/big:1', 'v1') })
    const imageBytes = Number(runnerDocker(['image', 'inspect', '--format', '{{.Size}}', 'bench/big:1']))
    const shipped = await deploy(big, 'v1')
    const bigSent = bytesSent(shipped.run.stdout)
    say(`image ${formatBytes(imageBytes)}; sent ${Object.entries(bigSent).map(([host, bytes]) => `${host} ${formatBytes(bytes)}`).join(', ')}; wall time ${shipped.seconds.toFixed(1)}s`)
    say(`peak RSS of the action process while shipping it: ${formatBytes(shipped.peakRssBytes)} (target ≤ 200 MiB)`)
  } finally {
    if (!process.env.KEEP_HARNESS) harnessDown()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
