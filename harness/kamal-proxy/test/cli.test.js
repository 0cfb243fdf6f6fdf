'use strict';
// The C client (cli.c, the image's /usr/local/bin/kamal-proxy) against the real stand-in server
// on a temp socket: same stdout, stderr and exit code as the node CLI (kamal-proxy.js).
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const SCRIPT = path.join(ROOT, 'kamal-proxy.js');
const gcc = spawnSync('gcc', ['--version']).status === 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-cli-'));
const env = { ...process.env, HOME: dir, KAMAL_PROXY_SOCKET: path.join(dir, 'kamal-proxy.sock'), KAMAL_PROXY_STATE_DIR: path.join(dir, 'state') };
const CLIENT = path.join(dir, 'kamal-proxy');

const node = (...argv) => answer(spawnSync(process.execPath, [SCRIPT, ...argv], { env }));
const c = (...argv) => answer(spawnSync(CLIENT, argv, { env }));
const answer = (r) => ({ stdout: r.stdout.toString(), stderr: r.stderr.toString(), status: r.status });
const same = (...argv) => { const want = node(...argv); assert.deepEqual(c(...argv), want); return want; };

let server;
test.before(async () => {
  if (!gcc) return;
  const cc = spawnSync('gcc', ['-O2', '-static', '-Wall', '-Werror', `-DKP_NODE="${process.execPath}"`, `-DKP_SCRIPT="${SCRIPT}"`, '-o', CLIENT, path.join(ROOT, 'cli.c')]);
  assert.equal(cc.status, 0, cc.stderr.toString());
  server = spawn(process.execPath, [SCRIPT, 'run', '--http-port', '0', '--https-port', '0'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let log = '';
    server.stdout.on('data', (d) => { log += d; if (log.includes('"Server started"')) resolve(); });
    server.on('exit', (code) => reject(new Error(`server exited ${code}: ${log}`)));
  });
});
test.after(() => { if (server) server.kill(); fs.rmSync(dir, { recursive: true, force: true }); });

test('list, deploy, stop: same as the node CLI', { skip: !gcc && 'no gcc' }, () => {
  assert.deepEqual(same('list'), { stdout: 'Service  Host  Path  Target  State  TLS\n', stderr: '', status: 0 });
  assert.equal(c('deploy', 'web', '--target=127.0.0.1:9', '--host=a.test', '--force').status, 0);
  assert.equal(node('deploy', 'api', '--target', '127.0.0.1:8', '--host=b.test', '--path-prefix=/api', '--force', '--deploy-timeout=1.5s').status, 0);
  const list = same('list');
  assert.match(list.stdout, /^web +a\.test +\/ +127\.0\.0\.1:9 +running +no$/m);
  assert.match(list.stdout, /^api +b\.test +\/api +127\.0\.0\.1:8 +running +no$/m);
  assert.deepEqual(same('stop', 'nope'), { stdout: '', stderr: 'Error: service not found\n', status: 1 });
  assert.deepEqual(same('deploy', 'web', '--target=127.0.0.1:9', '--host=b.test', '--path-prefix=/api', '--force'), { stdout: '', stderr: 'Error: host settings conflict with another service\n', status: 1 });
});

test('usage errors, help and version: same as the node CLI', { skip: !gcc && 'no gcc' }, () => {
  assert.deepEqual(same('bogus'), { stdout: '', stderr: 'Error: unknown command "bogus" for "kamal-proxy"\n', status: 1 });
  assert.deepEqual(same('deploy', 'web'), { stdout: '', stderr: 'Error: required flag(s) "target" not set\n', status: 1 });
  assert.equal(same('deploy', 'web', '--target=x:1', '--bogus').stderr, 'Error: unknown flag: --bogus\n');
  assert.equal(same('deploy', 'web', '--target=x:1', '--deploy-timeout=30').stderr, 'Error: invalid argument "30" for "--deploy-timeout" flag: time: missing unit in duration "30"\n');
  assert.equal(same('deploy', 'web', '--target=x:1', '--tls').stderr, 'Error: host must be set when using TLS\n');
  assert.equal(same('list', 'extra').stderr, 'Error: accepts 0 arg(s), received 1\n');
  const help = same('help');
  assert.match(help.stdout, /^Usage:\n {2}kamal-proxy \[command\]/);
  for (const argv of [[], ['--help'], ['-h'], ['deploy', 'web', '--help'], ['run', '--help']]) assert.deepEqual(same(...argv), help);
  assert.deepEqual(same('version'), { stdout: 'kamal-proxy stand-in (v0.9.2 compatible)\n', stderr: '', status: 0 });
});

test('server not running: same as the node CLI', { skip: !gcc && 'no gcc' }, async () => {
  server.kill();
  await new Promise((resolve) => server.once('exit', resolve));
  server = null;
  assert.deepEqual(same('list'), { stdout: '', stderr: 'Error: failed to connect to the kamal-proxy server (ENOENT); is "kamal-proxy run" running?\n', status: 1 });
  assert.equal(same('deploy', 'web', '--target=x:1').status, 1);
  assert.equal(same('deploy', 'web').stderr, 'Error: required flag(s) "target" not set\n');
  assert.equal(same('version').status, 0);
  fs.writeFileSync(env.KAMAL_PROXY_SOCKET, ''); // not a socket: ECONNREFUSED
  assert.match(same('list').stderr, /\(ECONNREFUSED\)/);
});
