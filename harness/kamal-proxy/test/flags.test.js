'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { parseFlags, parseDuration, formatDuration, UsageError } = require('../lib/flags');
const { SPECS } = require('../lib/commands');

const deploy = (...argv) => parseFlags(argv, SPECS.deploy);

test('durations: Go syntax', () => {
  assert.equal(parseDuration('30s'), 30000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1m'), 60000);
  assert.equal(parseDuration('1m30s'), 90000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('2h'), 7200000);
  assert.equal(parseDuration('100us'), 0.1);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('-1s'), -1000);
  assert.equal(parseDuration('.5s'), 500);
});

test('durations: invalid input is rejected like time.ParseDuration', () => {
  assert.throws(() => parseDuration('30'), { message: 'time: missing unit in duration "30"' });
  assert.throws(() => parseDuration('abc'), { message: 'time: invalid duration "abc"' });
  assert.throws(() => parseDuration(''), UsageError);
  assert.throws(() => parseDuration('1d'), UsageError);
  assert.throws(() => parseDuration('s'), UsageError);
  assert.throws(() => parseDuration('1s '), UsageError);
});

test('durations: formatted like Go Duration.String()', () => {
  assert.equal(formatDuration(30000), '30s');
  assert.equal(formatDuration(500), '500ms');
  assert.equal(formatDuration(60000), '1m0s');
  assert.equal(formatDuration(90000), '1m30s');
  assert.equal(formatDuration(1500), '1.5s');
  assert.equal(formatDuration(3600000), '1h0m0s');
  assert.equal(formatDuration(0), '0s');
});

test('Kamal\'s exact deploy command line parses', () => {
  const { flags, args } = deploy('app-web', '--target=172.1.0.2:80', '--deploy-timeout=30s', '--drain-timeout=30s',
    '--buffer-requests', '--buffer-responses', '--log-request-header=Cache-Control', '--log-request-header=Last-Modified', '--log-request-header=User-Agent');
  assert.deepEqual(args, ['app-web']);
  assert.deepEqual(flags.target, ['172.1.0.2:80']);
  assert.equal(flags['deploy-timeout'], 30000);
  assert.equal(flags['buffer-requests'], true);
  assert.equal(flags['buffer-responses'], true);
  assert.deepEqual(flags['log-request-header'], ['Cache-Control', 'Last-Modified', 'User-Agent']);
  assert.equal(flags['health-check-path'], '/up');
  assert.equal(flags['health-check-interval'], 1000);
  assert.equal(flags['health-check-timeout'], 5000);
  assert.equal(flags['strip-path-prefix'], true);
  assert.equal(flags['tls-redirect'], true);
});

test('--flag value form, and values starting with a dash via =', () => {
  const { flags, args } = deploy('svc', '--target', 'abc:80', '--host', 'a.example', '--health-check-path', '/health', '--health-check-interval', '2s');
  assert.deepEqual(args, ['svc']);
  assert.deepEqual(flags.target, ['abc:80']);
  assert.deepEqual(flags.host, ['a.example']);
  assert.equal(flags['health-check-path'], '/health');
  assert.equal(flags['health-check-interval'], 2000);
});

test('booleans: bare, =true, =false; a bare bool does not consume the next word', () => {
  assert.equal(deploy('s', '--target=a:1', '--tls').flags.tls, true);
  assert.equal(deploy('s', '--target=a:1', '--tls=true').flags.tls, true);
  assert.equal(deploy('s', '--target=a:1', '--strip-path-prefix=false').flags['strip-path-prefix'], false);
  assert.equal(deploy('s', '--target=a:1', '--buffer-requests="false"'.replace(/"/g, '')).flags['buffer-requests'], false);
  const r = deploy('--tls', 'false', '--target=a:1');
  assert.equal(r.flags.tls, true);
  assert.deepEqual(r.args, ['false']);
  assert.throws(() => deploy('s', '--target=a:1', '--tls=maybe'), { message: 'invalid argument "maybe" for "--tls" flag: strconv.ParseBool: parsing "maybe": invalid syntax' });
});

test('slices: repeated and comma separated', () => {
  const { flags } = deploy('s', '--target=a:1,b:2', '--host=x.com', '--host', 'y.com,z.com', '--path-prefix=/api');
  assert.deepEqual(flags.target, ['a:1', 'b:2']);
  assert.deepEqual(flags.host, ['x.com', 'y.com', 'z.com']);
  assert.deepEqual(flags['path-prefix'], ['/api']);
});

test('ints', () => {
  const { flags } = deploy('s', '--target=a:1', '--buffer-memory=2048', '--max-request-body', '1073741824');
  assert.equal(flags['buffer-memory'], 2048);
  assert.equal(flags['max-request-body'], 1073741824);
  assert.throws(() => deploy('s', '--target=a:1', '--buffer-memory=1MB'), /invalid argument "1MB" for "--buffer-memory" flag/);
});

test('unknown flags are rejected', () => {
  assert.throws(() => deploy('s', '--target=a:1', '--x'), { message: 'unknown flag: --x' });
  assert.throws(() => deploy('s', '--target=a:1', '--x=1'), { message: 'unknown flag: --x' });
  assert.throws(() => deploy('s', '-x'), { message: "unknown shorthand flag: 'x' in -x" });
  assert.throws(() => parseFlags(['--drain-timeout=1s', '--host=a'], SPECS.stop), { message: 'unknown flag: --host' });
});

test('missing values', () => {
  assert.throws(() => deploy('s', '--target'), { message: 'flag needs an argument: --target' });
});

test('stop flags', () => {
  const { flags, args } = parseFlags(['app-web', '--drain-timeout="30s"'.replace(/"/g, ''), '--message=Down for maintenance'], SPECS.stop);
  assert.deepEqual(args, ['app-web']);
  assert.equal(flags['drain-timeout'], 30000);
  assert.equal(flags.message, 'Down for maintenance');
});

test('run flags', () => {
  const { flags } = parseFlags(['--debug', '--metrics-port', '9090', '--http-port=8080'], SPECS.run);
  assert.equal(flags.debug, true);
  assert.equal(flags['metrics-port'], 9090);
  assert.equal(flags['http-port'], 8080);
  assert.equal(flags['https-port'], 443);
});
