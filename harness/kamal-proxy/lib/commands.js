'use strict';
// Flag tables of the kamal-proxy v0.9.2 CLI subcommands this stand-in implements.
const MB = 1 << 20;
const SPECS = {
  run: {
    'debug': { type: 'bool', default: false },
    'http-port': { type: 'int', default: 80 },
    'https-port': { type: 'int', default: 443 },
    'http3': { type: 'bool', default: false },
    'metrics-port': { type: 'int', default: 0 },
  },
  deploy: {
    'target': { type: 'strings', default: [] },
    'host': { type: 'strings', default: [] },
    'path-prefix': { type: 'strings', default: [] },
    'strip-path-prefix': { type: 'bool', default: true },
    'tls': { type: 'bool', default: false },
    'tls-staging': { type: 'bool', default: false },
    'tls-certificate-path': { type: 'string', default: '' },
    'tls-private-key-path': { type: 'string', default: '' },
    'tls-redirect': { type: 'bool', default: true },
    'deploy-timeout': { type: 'duration', default: 30000 },
    'drain-timeout': { type: 'duration', default: 30000 },
    'health-check-path': { type: 'string', default: '/up' },
    'health-check-interval': { type: 'duration', default: 1000 },
    'health-check-timeout': { type: 'duration', default: 5000 },
    'target-timeout': { type: 'duration', default: 30000 },
    'buffer-requests': { type: 'bool', default: false },
    'buffer-responses': { type: 'bool', default: false },
    'buffer-memory': { type: 'int', default: 1 * MB },
    'max-request-body': { type: 'int', default: 0 },
    'max-response-body': { type: 'int', default: 0 },
    'forward-headers': { type: 'bool', default: undefined }, // default: !tls
    'log-request-header': { type: 'strings', default: [] },
    'log-response-header': { type: 'strings', default: [] },
    'error-pages': { type: 'string', default: '' },
    'force': { type: 'bool', default: false },
    // accepted for CLI compatibility with v0.9.2 (stored, not acted upon by the stand-in
    // except health-check-port/-host)
    'read-target': { type: 'strings', default: [] },
    'tls-acme-cache-path': { type: 'string', default: '' },
    'canonical-host': { type: 'string', default: '' },
    'health-check-port': { type: 'int', default: 0 },
    'health-check-host': { type: 'string', default: '' },
    'writer-affinity-timeout': { type: 'duration', default: 3000 },
    'read-target-websockets': { type: 'bool', default: false },
    'scope-cookie-paths': { type: 'bool', default: false },
  },
  remove: {},
  list: {},
  stop: {
    'drain-timeout': { type: 'duration', default: 30000 },
    'message': { type: 'string', default: '' },
  },
  resume: {},
};
// positional arguments each command requires (cobra ExactArgs)
const ARGS = { run: 0, deploy: 1, remove: 1, list: 0, stop: 1, resume: 1 };
module.exports = { SPECS, ARGS };
