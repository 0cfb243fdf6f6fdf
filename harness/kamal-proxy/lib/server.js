'use strict';
// `kamal-proxy run`: the HTTP(S) proxy plus the control socket the CLI talks to.
// Behaviour follows kamal-proxy v0.9.2 for what Kamal relies on: routing by Host and path
// prefix, health-checked atomic target switch, draining, stop/resume, persisted state.
const http = require('http');
const https = require('https');
const tls = require('tls');
const fs = require('fs');
const path = require('path');
const { stateDir, stateFile, socketPath } = require('./paths');
const { formatDuration } = require('./flags');
const { execute } = require('./cli');
const { routeFor, findConflict, normalizeHosts, normalizePathPrefixes } = require('./router');

const services = new Map(); // name -> Service
let debug = false;

function log(level, msg, fields = {}) {
  if (level === 'DEBUG' && !debug) return;
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
}

// ---------------------------------------------------------------- targets

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

// Target names (container ids) are resolved with c-ares, off libuv's small thread pool, as Go's
// resolver in kamal-proxy never blocks other requests: an exited container's name can take seconds
// to fail in Docker's DNS, and blocking getaddrinfo calls would stall routing to every other target.
const dns = require('dns');
const resolver = new dns.Resolver({ timeout: 1000, tries: 2 });
function lookup(hostname, options, callback) {
  const family = require('net').isIP(hostname);
  if (family || hostname === 'localhost') return dns.lookup(hostname, options, callback);
  resolver.resolve4(hostname, (error, addresses) => {
    if (error || addresses.length === 0) return dns.lookup(hostname, options, callback); // /etc/hosts names
    if (options && options.all) return callback(null, addresses.map((address) => ({ address, family: 4 })));
    callback(null, addresses[0], 4);
  });
}

class Target {
  constructor(address) {
    if (!/^(\w[-_.\w+]+)(:\d+)?$/.test(address)) throw new Error(`${address} :invalid host pattern`);
    this.address = address;
    const i = address.lastIndexOf(':');
    this.hostname = i === -1 ? address : address.slice(0, i);
    this.port = i === -1 ? 80 : Number(address.slice(i + 1));
    this.inflight = new Set(); // { req, res, proxyReq }
    this.draining = false;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 100 });
  }

  healthCheck(opts) {
    const port = opts['health-check-port'] > 0 ? opts['health-check-port'] : this.port;
    return new Promise((resolve) => {
      const headers = { 'user-agent': 'kamal-proxy' };
      if (opts['health-check-host']) headers.host = opts['health-check-host'];
      // The timeout covers the whole check (name lookup and connect included), as a Go context deadline does.
      const timer = setTimeout(() => { req.destroy(); resolve('request timed out'); }, opts['health-check-timeout']);
      const done = (result) => { clearTimeout(timer); resolve(result); };
      const req = http.get({ host: this.hostname, port, path: opts['health-check-path'], headers, lookup }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode >= 200 && res.statusCode <= 299 ? null : `unexpected status (${res.statusCode})`));
        res.on('error', (e) => done(e.message));
      });
      req.on('error', (e) => done(e.message));
    });
  }

  // Resolves with null once healthy, or with the last error when `deadline` passes.
  async waitHealthy(opts, deadline) {
    let last = 'timeout';
    while (Date.now() < deadline) {
      const started = Date.now();
      last = await Promise.race([this.healthCheck(opts), sleep(Math.max(0, deadline - Date.now())).then(() => 'timeout')]);
      if (last === null) return null;
      log('INFO', 'Healthcheck failed', { url: `http://${this.hostname}:${this.port}${opts['health-check-path']}`, error: last });
      await sleep(Math.max(0, Math.min(opts['health-check-interval'] - (Date.now() - started), deadline - Date.now())));
    }
    return last;
  }

  // Wait for in-flight requests, up to timeout; then cancel the rest (they get 504).
  async drain(timeout) {
    this.draining = true;
    for (const r of this.inflight) if (r.hijacked) r.cancel();
    const deadline = Date.now() + timeout;
    while (this.inflight.size > 0 && Date.now() < deadline) await sleep(20);
    for (const r of this.inflight) {
      log('INFO', 'Request cancelled due to draining', { target: this.address, path: r.req.url });
      r.cancel();
    }
    this.agent.destroy();
  }
}

// ---------------------------------------------------------------- services

function makeService(name, targets, flags, previous) {
  const options = { ...flags };
  delete options.target;
  options.host = normalizeHosts(flags.host);
  options['path-prefix'] = normalizePathPrefixes(flags['path-prefix']);
  return {
    name,
    targets,
    options,
    state: previous ? previous.state : 'running', // running | stopped
    stopMessage: previous ? previous.stopMessage : '',
    rr: 0,
  };
}

function serialize() {
  return JSON.stringify({
    version: 1,
    services: [...services.values()].map((s) => ({ name: s.name, targets: s.targets.map((t) => t.address), options: s.options, state: s.state, stopMessage: s.stopMessage })),
  }, null, 2);
}

function saveState() {
  const file = stateFile();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, serialize());
  fs.renameSync(`${file}.tmp`, file);
}

function restoreState() {
  let data;
  try { data = JSON.parse(fs.readFileSync(stateFile(), 'utf8')); } catch (e) {
    if (e.code !== 'ENOENT') log('ERROR', 'Failed to restore state', { error: e.message });
    return;
  }
  for (const s of data.services || []) {
    try {
      const svc = makeService(s.name, s.targets.map((a) => new Target(a)), { ...s.options, target: s.targets }, { state: s.state, stopMessage: s.stopMessage });
      services.set(s.name, svc);
    } catch (e) { log('ERROR', 'Failed to restore service', { service: s.name, error: e.message }); }
  }
  log('INFO', 'Restored saved state', { services: services.size });
}

// ---------------------------------------------------------------- commands

const commands = {
  async deploy({ service: name, flags }) {
    const f = flags; // validated by the CLI (see deployPreRun in kamal-proxy.js)
    const previous = services.get(name);
    const svc = makeService(name, f.target.map((a) => new Target(a)), f, previous);
    if (findConflict(services, svc)) throw new Error('host settings conflict with another service');
    if (svc.options['error-pages'] && !fs.existsSync(svc.options['error-pages'])) throw new Error('unable to load error pages');
    if (f.tls && f['tls-certificate-path']) loadCertificate(svc); // fail early on bad cert paths

    log('INFO', 'Deploying', { service: name, targets: f.target, hosts: svc.options.host, paths: svc.options['path-prefix'] });
    if (!f.force) {
      const deadline = Date.now() + f['deploy-timeout'];
      const results = await Promise.all(svc.targets.map((t) => t.waitHealthy(f, deadline)));
      if (results.some((r) => r !== null)) {
        svc.targets.forEach((t) => t.agent.destroy());
        log('INFO', 'Target failed to become healthy', { service: name, targets: f.target });
        throw new Error(`target failed to become healthy within configured timeout (${formatDuration(f['deploy-timeout'])})`);
      }
    }
    // atomic switch: one Map assignment; new requests route to the new targets from here on
    services.set(name, svc);
    saveState();
    log('INFO', 'Deployed', { service: name, targets: f.target });
    const newAddrs = new Set(svc.targets.map((t) => t.address));
    if (previous) {
      await Promise.all(previous.targets.map((t) => (newAddrs.has(t.address) ? moveInflight(t, svc) : t.drain(f['drain-timeout']))));
    }
    return {};
  },

  async remove({ service: name }) {
    const svc = services.get(name);
    if (!svc) throw new Error('service not found');
    services.delete(name);
    saveState();
    svc.targets.forEach((t) => t.drain(svc.options['drain-timeout'] ?? 30000));
    log('INFO', 'Removed', { service: name });
    return {};
  },

  async stop({ service: name, flags }) {
    const svc = services.get(name);
    if (!svc) throw new Error('service not found');
    svc.state = 'stopped';
    svc.stopMessage = flags.message || '';
    saveState();
    const deadline = Date.now() + flags['drain-timeout'];
    while (svc.targets.some((t) => t.inflight.size > 0) && Date.now() < deadline) await sleep(20);
    log('INFO', 'Service stopped', { service: name });
    return {};
  },

  async resume({ service: name }) {
    const svc = services.get(name);
    if (!svc) throw new Error('service not found');
    svc.state = 'running';
    svc.stopMessage = '';
    saveState();
    log('INFO', 'Service resumed', { service: name });
    return {};
  },

  async list() {
    const rows = [['Service', 'Host', 'Path', 'Target', 'State', 'TLS']];
    for (const name of [...services.keys()].sort()) {
      const s = services.get(name);
      rows.push([name, s.options.host.join(',') || '*', s.options['path-prefix'].join(','), s.targets.map((t) => t.address).join(','), s.state, s.options.tls ? 'yes' : 'no']);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    const output = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
    return { output: `${output}\n` };
  },
};

// A target kept across a redeploy keeps its in-flight requests (same address = same target).
async function moveInflight(oldTarget, svc) {
  const t = svc.targets.find((x) => x.address === oldTarget.address);
  for (const r of oldTarget.inflight) t.inflight.add(r);
}

// ---------------------------------------------------------------- request handling

function errorPage(svc, status, message) {
  const dir = svc && svc.options['error-pages'];
  if (dir) {
    try {
      const tpl = fs.readFileSync(path.join(dir, `${status}.html`), 'utf8');
      return renderTemplate(tpl, { Message: message || '' });
    } catch { /* no such page: fall through */ }
  }
  if (status === 503) {
    const body = message ? escapeHtml(message) : '<strong>The service is temporarily unavailable.</strong> It may be overloaded, or undergoing scheduled maintenance. Please try again later.';
    return `<!doctype html>\n<html lang="en"><head><title>503 — Service Temporarily Unavailable</title><meta charset="utf-8"></head>\n<body><main><article><p>${body}</p></article></main></body></html>\n`;
  }
  return `<h1>${status} ${http.STATUS_CODES[status]}</h1>`;
}

// The subset of Go's html/template that error pages use: {{ .Message }} and {{ if .Message }}…{{ else }}…{{ end }}.
function renderTemplate(tpl, vars) {
  return tpl
    .replace(/{{-?\s*if\s+\.(\w+)\s*-?}}([\s\S]*?)(?:{{-?\s*else\s*-?}}([\s\S]*?))?{{-?\s*end\s*-?}}/g, (_, k, a, b) => (vars[k] ? a : (b || '')))
    .replace(/{{-?\s*\.(\w+)\s*-?}}/g, (_, k) => escapeHtml(String(vars[k] ?? '')));
}

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c]);
}

function sendError(res, svc, status, message) {
  if (res.headersSent) { res.destroy(); return; }
  const body = errorPage(svc, status, message);
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function handleRequest(req, res, secure) {
  const started = process.hrtime.bigint();
  const urlPath = (req.url || '/').split('?')[0];
  const { service: svc, prefix } = routeFor(services, req.headers.host || '', urlPath);
  let targetAddr = '';
  res.on('finish', () => {
    const fields = {
      host: req.headers.host, port: secure ? 443 : 80, path: urlPath, method: req.method, status: res.statusCode,
      service: svc ? svc.name : '', target: targetAddr, duration: Number(process.hrtime.bigint() - started),
      remote_addr: req.socket.remoteAddress, user_agent: req.headers['user-agent'] || '', scheme: secure ? 'https' : 'http', query: (req.url || '').split('?')[1] || '',
    };
    if (svc) {
      for (const h of svc.options['log-request-header'] || []) fields[`req_${h.toLowerCase().replace(/-/g, '_')}`] = req.headers[h.toLowerCase()] || '';
      for (const h of svc.options['log-response-header'] || []) fields[`resp_${h.toLowerCase().replace(/-/g, '_')}`] = res.getHeader(h) || '';
    }
    log('INFO', 'Request', fields);
  });

  if (!svc) return sendError(res, null, 404);
  if (svc.options.tls && !secure && svc.options['tls-redirect']) {
    res.writeHead(301, { location: `https://${(req.headers.host || '').replace(/:\d+$/, '')}${req.url}` });
    return res.end();
  }
  if (svc.state === 'stopped') return sendError(res, svc, 503, svc.stopMessage);

  const healthy = svc.targets.filter((t) => !t.draining);
  if (healthy.length === 0) return sendError(res, svc, 503);
  const target = healthy[svc.rr++ % healthy.length];
  targetAddr = target.address;
  proxy(req, res, svc, target, prefix, secure);
}

function proxy(req, res, svc, target, prefix, secure) {
  const o = svc.options;
  const headers = { ...req.headers };
  for (const h of (req.headers.connection || '').split(',')) delete headers[h.trim().toLowerCase()];
  for (const h of HOP_BY_HOP) delete headers[h];
  // Go's ProxyRequest.SetXForwarded, with incoming values trusted only with --forward-headers
  const clientIp = (req.socket.remoteAddress || '').replace(/^::ffff:/, '');
  const incomingXff = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = o['forward-headers'] && incomingXff ? `${incomingXff}, ${clientIp}` : clientIp;
  headers['x-forwarded-host'] = (o['forward-headers'] && req.headers['x-forwarded-host']) || req.headers.host || '';
  headers['x-forwarded-proto'] = (o['forward-headers'] && req.headers['x-forwarded-proto']) || (secure ? 'https' : 'http');

  let upstreamPath = req.url || '/';
  if (prefix !== '/' && o['strip-path-prefix']) {
    upstreamPath = upstreamPath.slice(prefix.length);
    if (!upstreamPath.startsWith('/')) upstreamPath = `/${upstreamPath}`;
  }

  const entry = { req, res, proxyReq: null, cancel: () => { if (entry.proxyReq) entry.proxyReq.destroy(new Error('draining')); entry.cancelled = true; } };
  target.inflight.add(entry);
  const done = () => target.inflight.delete(entry);
  res.on('close', done);

  const send = (body) => {
    if (entry.cancelled) return sendError(res, svc, 504);
    if (body) { headers['content-length'] = String(body.length); delete headers['transfer-encoding']; }
    const proxyReq = http.request({ host: target.hostname, port: target.port, method: req.method, path: upstreamPath, headers, agent: target.agent, lookup });
    entry.proxyReq = proxyReq;
    let timer = setTimeout(() => proxyReq.destroy(Object.assign(new Error('timeout'), { code: 'KDH_TIMEOUT' })), o['target-timeout']);
    proxyReq.on('response', (upRes) => {
      clearTimeout(timer); timer = null;
      const outHeaders = { ...upRes.headers };
      for (const h of HOP_BY_HOP) if (h !== 'transfer-encoding') delete outHeaders[h];
      if (o['buffer-responses']) {
        const limit = o['max-response-body'];
        const chunks = []; let size = 0;
        upRes.on('data', (c) => {
          size += c.length;
          if (limit > 0 && size > limit) { upRes.destroy(); return sendError(res, svc, 502); }
          chunks.push(c);
        });
        upRes.on('end', () => {
          if (res.headersSent) return;
          const bodyOut = Buffer.concat(chunks);
          delete outHeaders['transfer-encoding'];
          outHeaders['content-length'] = String(bodyOut.length);
          res.writeHead(upRes.statusCode, outHeaders);
          res.end(bodyOut);
        });
      } else {
        res.writeHead(upRes.statusCode, outHeaders);
        upRes.pipe(res);
      }
      upRes.on('error', () => res.destroy());
    });
    proxyReq.on('error', (e) => {
      if (timer) clearTimeout(timer);
      if (entry.cancelled) return sendError(res, svc, 504);
      if (e.code === 'KDH_TIMEOUT') return sendError(res, svc, 504);
      log('ERROR', 'Error while proxying', { target: target.address, path: req.url, error: e.message });
      sendError(res, svc, 502);
    });
    if (body) proxyReq.end(body); else req.pipe(proxyReq);
  };

  if (o['buffer-requests']) {
    const limit = o['max-request-body'];
    const chunks = []; let size = 0; let tooLarge = false;
    req.on('data', (c) => {
      if (tooLarge) return;
      size += c.length;
      if (limit > 0 && size > limit) { tooLarge = true; sendError(res, svc, 413); return; }
      chunks.push(c);
    });
    req.on('end', () => { if (!tooLarge) send(Buffer.concat(chunks)); });
  } else {
    send(null);
  }
}

// Upgrade (WebSocket) requests: tunnel the raw connection. Like upstream's hijacked requests,
// these are cancelled at once when their target starts draining.
const net = require('net');
function handleUpgrade(req, socket, head, secure) {
  const { service: svc } = routeFor(services, req.headers.host || '', (req.url || '/').split('?')[0]);
  const reject = (status) => { socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`); };
  if (!svc) return reject(404);
  if (svc.state === 'stopped') return reject(503);
  const healthy = svc.targets.filter((t) => !t.draining);
  if (healthy.length === 0) return reject(503);
  const target = healthy[svc.rr++ % healthy.length];
  const upstream = net.connect({ port: target.port, host: target.hostname, lookup });
  const entry = { req, res: null, cancel: () => { socket.destroy(); upstream.destroy(); } };
  const clientIp = (req.socket.remoteAddress || '').replace(/^::ffff:/, '');
  upstream.on('connect', () => {
    target.inflight.add(entry);
    // the drain loop waits for in-flight requests; hijacked ones are cut immediately
    entry.hijacked = true;
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!/^x-forwarded-(for|host|proto)$/i.test(req.rawHeaders[i])) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    lines.push(`X-Forwarded-For: ${clientIp}`, `X-Forwarded-Host: ${req.headers.host || ''}`, `X-Forwarded-Proto: ${secure ? 'https' : 'http'}`);
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head && head.length) upstream.write(head);
    upstream.pipe(socket); socket.pipe(upstream);
  });
  const done = () => { target.inflight.delete(entry); socket.destroy(); upstream.destroy(); };
  upstream.on('error', () => { if (!entry.hijacked) reject(502); done(); });
  upstream.on('close', done);
  socket.on('error', done);
  socket.on('close', done);
}

// ---------------------------------------------------------------- TLS (custom certificates only)

const certCache = new Map();
function loadCertificate(svc) {
  const key = `${svc.options['tls-certificate-path']}|${svc.options['tls-private-key-path']}`;
  if (!certCache.has(key)) {
    try {
      certCache.set(key, tls.createSecureContext({ cert: fs.readFileSync(svc.options['tls-certificate-path']), key: fs.readFileSync(svc.options['tls-private-key-path']) }));
    } catch (e) { throw new Error(`unable to load certificate: ${e.message}`); }
  }
  return certCache.get(key);
}

function sniCallback(servername, cb) {
  const { service: svc } = routeFor(services, servername || '', '/');
  if (!servername) return cb(new Error('no server name provided'));
  if (!svc || !svc.options.tls) return cb(new Error('unknown server name'));
  if (!svc.options['tls-certificate-path']) return cb(new Error('automatic TLS (ACME) is not available in the kamal-proxy stand-in'));
  try { cb(null, loadCertificate(svc)); } catch (e) { cb(e); }
}

// ---------------------------------------------------------------- control socket + run

// One control command; `payload` parses the request's payload.
async function dispatch(cmd, payload) {
  try {
    if (!commands[cmd]) throw new Error(`unknown command ${cmd}`);
    return { ok: true, ...(await commands[cmd](payload())) };
  } catch (e) {
    return { ok: false, error: e.message };
  }
}
// What crosses the socket between lib/client.js and the server is JSON: keep that in-process too.
const wire = (value) => JSON.parse(JSON.stringify(value));
const cliDispatch = async (cmd, payload) => wire(await dispatch(cmd, () => wire(payload)));
const cliRun = async () => { throw new Error('"run" cannot be handled by the running server'); };

// POST /<command> with a JSON payload: lib/client.js (the node CLI).
// POST /cli with the CLI's argv, each argument followed by a NUL byte: the C client (cli.c). Runs
// lib/cli.js here; answers "<exit code>\n<stdout length in bytes>\n<stdout><stderr>".
function controlServer() {
  return http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c; });
    req.on('end', async () => {
      const cmd = (req.url || '').slice(1);
      if (cmd === 'cli') {
        const out = await execute(body.split('\0').slice(0, -1), { dispatch: cliDispatch, run: cliRun });
        const stdout = Buffer.from(out.stdout);
        const reply = Buffer.concat([Buffer.from(`${out.code}\n${stdout.length}\n`), stdout, Buffer.from(out.stderr)]);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': reply.length });
        res.end(reply);
        return;
      }
      const reply = await dispatch(cmd, () => JSON.parse(body || '{}'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    });
  });
}

function listen(server, ...args) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(...args, () => { server.off('error', reject); resolve(); });
  });
}

async function run(flags) {
  debug = flags.debug;
  fs.mkdirSync(stateDir(), { recursive: true });
  restoreState();

  const sock = socketPath();
  try { fs.unlinkSync(sock); } catch { /* none */ }
  await listen(controlServer(), sock);

  const httpServer = http.createServer((req, res) => handleRequest(req, res, false));
  httpServer.keepAliveTimeout = 65000;
  httpServer.on('upgrade', (req, socket, head) => handleUpgrade(req, socket, head, false));
  await listen(httpServer, flags['http-port']);
  const httpsServer = https.createServer({ SNICallback: sniCallback }, (req, res) => handleRequest(req, res, true));
  httpsServer.on('upgrade', (req, socket, head) => handleUpgrade(req, socket, head, true));
  await listen(httpsServer, flags['https-port']).catch((e) => log('ERROR', 'HTTPS listener failed', { error: e.message }));
  if (flags['metrics-port'] > 0) {
    await listen(http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(`# kamal-proxy stand-in\nkamal_proxy_services ${services.size}\n`);
    }), flags['metrics-port']);
  }
  log('INFO', 'Server started', { http: flags['http-port'], https: flags['https-port'], socket: sock });

  const shutdown = (sig) => {
    log('INFO', 'Server stopping', { signal: sig });
    try { saveState(); } catch { /* best effort */ }
    try { fs.unlinkSync(sock); } catch { /* none */ }
    process.exit(0);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

module.exports = { run, renderTemplate, commands, services, Target };
