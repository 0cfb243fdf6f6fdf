#!/usr/bin/env node
'use strict';
// kamal-proxy stand-in (test fixture for the harness). Same CLI surface as the real
// kamal-proxy v0.9.2 for what Kamal uses: run, deploy, remove, list, stop, resume.
const { parseFlags, UsageError } = require('./lib/flags');
const { SPECS, ARGS } = require('./lib/commands');

function usage() {
  return [
    'Usage:', '  kamal-proxy [command]', '',
    'Available Commands:',
    '  deploy      Deploy a target host', '  list        List the services currently running',
    '  remove      Remove the service', '  resume      Resume a service', '  run         Run the server',
    '  stop        Stop a service', '',
  ].join('\n');
}

async function main(argv) {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') { process.stdout.write(usage()); return 0; }
  if (cmd === 'version' || cmd === '--version') { process.stdout.write('kamal-proxy stand-in (v0.9.2 compatible)\n'); return 0; }
  if (!SPECS[cmd]) throw new UsageError(`unknown command "${cmd}" for "kamal-proxy"`);
  const { flags, args, seen } = parseFlags(rest, SPECS[cmd]);
  if (args.length !== ARGS[cmd]) throw new UsageError(`accepts ${ARGS[cmd]} arg(s), received ${args.length}`);
  if (cmd === 'run') {
    if (!seen.has('http-port') && (process.env.KAMAL_PROXY_HTTP_PORT || process.env.HTTP_PORT)) flags['http-port'] = Number(process.env.KAMAL_PROXY_HTTP_PORT || process.env.HTTP_PORT);
    if (!seen.has('https-port') && (process.env.KAMAL_PROXY_HTTPS_PORT || process.env.HTTPS_PORT)) flags['https-port'] = Number(process.env.KAMAL_PROXY_HTTPS_PORT || process.env.HTTPS_PORT);
    await require('./lib/server').run(flags);
    return null; // keeps running
  }
  if (cmd === 'deploy') deployPreRun(flags, seen);
  const res = await require('./lib/client').call(cmd, { service: args[0], flags });
  if (res.output) process.stdout.write(res.output);
  if (!res.ok) { process.stderr.write(`Error: ${res.error}\n`); return 1; }
  return 0;
}

// Client-side validation, as in kamal-proxy's deploy command (cobra PreRunE + flag groups).
function deployPreRun(flags, seen) {
  if (!seen.has('target')) throw new UsageError('required flag(s) "target" not set');
  const group = ['tls-certificate-path', 'tls-private-key-path'];
  if (group.some((g) => seen.has(g)) && !group.every((g) => seen.has(g))) {
    throw new UsageError(`if any flags in the group [${group.join(' ')}] are set they must all be set; missing [${group.filter((g) => !seen.has(g)).join(' ')}]`);
  }
  const prefixes = flags['path-prefix'].length ? flags['path-prefix'].map((p) => `/${p.replace(/^\/+|\/+$/g, '')}`) : ['/'];
  if (seen.has('max-request-body') && !seen.has('buffer-requests')) throw new UsageError('max-request-body can only be set when request buffering is enabled');
  if (seen.has('max-response-body') && !seen.has('buffer-responses')) throw new UsageError('max-response-body can only be set when response buffering is enabled');
  if (!seen.has('forward-headers')) flags['forward-headers'] = !flags.tls;
  if (flags.tls) {
    if (flags.host.length === 0) throw new UsageError('host must be set when using TLS');
    if (!prefixes.includes('/')) throw new UsageError('TLS settings must be specified on the root path service');
  }
}

main(process.argv.slice(2)).then(
  (code) => { if (code !== null) process.exitCode = code; },
  (e) => {
    if (e instanceof UsageError) {
      if (e.help) { process.stdout.write(usage()); return; }
      process.stderr.write(`Error: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`Error: ${e && e.message ? e.message : e}\n`);
      process.exitCode = 1;
    }
  },
);
