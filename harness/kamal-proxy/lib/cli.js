'use strict';
// The CLI's logic, one implementation for both ways it runs:
//  - kamal-proxy.js (node): dispatch = lib/client.js over the control socket; `run` starts the server;
//  - the server's POST /cli (what the C client cli.c calls): dispatch = the server's own commands.
// execute(argv, { dispatch, run }) -> { stdout, stderr, code }, or null once `run` has started.
const { parseFlags, UsageError } = require('./flags');
const { SPECS, ARGS } = require('./commands');

function usage() {
  return [
    'Usage:', '  kamal-proxy [command]', '',
    'Available Commands:',
    '  deploy      Deploy a target host', '  list        List the services currently running',
    '  remove      Remove the service', '  resume      Resume a service', '  run         Run the server',
    '  stop        Stop a service', '',
  ].join('\n');
}

async function execute(argv, { dispatch, run }) {
  const out = { stdout: '', stderr: '', code: 0 };
  try {
    const [cmd, ...rest] = argv;
    if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') { out.stdout = usage(); return out; }
    if (cmd === 'version' || cmd === '--version') { out.stdout = 'kamal-proxy stand-in (v0.9.2 compatible)\n'; return out; }
    if (!SPECS[cmd]) throw new UsageError(`unknown command "${cmd}" for "kamal-proxy"`);
    const { flags, args, seen } = parseFlags(rest, SPECS[cmd]);
    if (args.length !== ARGS[cmd]) throw new UsageError(`accepts ${ARGS[cmd]} arg(s), received ${args.length}`);
    if (cmd === 'run') { await run(flags, seen); return null; } // keeps running
    if (cmd === 'deploy') deployPreRun(flags, seen);
    const res = await dispatch(cmd, { service: args[0], flags });
    if (res.output) out.stdout = res.output;
    if (!res.ok) { out.stderr = `Error: ${res.error}\n`; out.code = 1; }
  } catch (e) {
    if (e instanceof UsageError && e.help) { out.stdout = usage(); return out; }
    out.stderr = `Error: ${e instanceof UsageError ? e.message : e && e.message ? e.message : e}\n`;
    out.code = 1;
  }
  return out;
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

module.exports = { execute, usage };
