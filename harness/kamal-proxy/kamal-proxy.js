#!/usr/bin/env node
'use strict';
// kamal-proxy stand-in (test fixture for the harness). Same CLI surface as the real
// kamal-proxy v0.9.2 for what Kamal uses: run, deploy, remove, list, stop, resume.
// The CLI's logic is lib/cli.js; in the image, /usr/local/bin/kamal-proxy is the C client
// (cli.c), which runs it inside the server (POST /cli) and execs this script only for `run`.
const { execute } = require('./lib/cli');

execute(process.argv.slice(2), {
  dispatch: (cmd, payload) => require('./lib/client').call(cmd, payload),
  run: async (flags, seen) => {
    if (!seen.has('http-port') && (process.env.KAMAL_PROXY_HTTP_PORT || process.env.HTTP_PORT)) flags['http-port'] = Number(process.env.KAMAL_PROXY_HTTP_PORT || process.env.HTTP_PORT);
    if (!seen.has('https-port') && (process.env.KAMAL_PROXY_HTTPS_PORT || process.env.HTTPS_PORT)) flags['https-port'] = Number(process.env.KAMAL_PROXY_HTTPS_PORT || process.env.HTTPS_PORT);
    await require('./lib/server').run(flags);
  },
}).then((out) => {
  if (!out) return; // the server is running
  if (out.stdout) process.stdout.write(out.stdout);
  if (out.stderr) process.stderr.write(out.stderr);
  process.exitCode = out.code;
});
