'use strict';
// Request routing as kamal-proxy v0.9.2's ServiceMap does it: bindings host -> path prefix
// -> service. Host lookup: exact, then "*.<parent domain>", then the default host "" (services
// deployed without --host). Within a host the longest matching path prefix wins; no match -> none.

const normalizeHosts = (hosts) => (hosts && hosts.length ? hosts : ['']);
const normalizePathPrefixes = (prefixes) => (prefixes && prefixes.length ? prefixes.map((p) => `/${p.replace(/^\/+|\/+$/g, '')}`) : ['/']);
const trailingSlash = (p) => (p.endsWith('/') ? p : `${p}/`);

function bindings(services) {
  const map = new Map(); // host -> [{ prefix, service }]
  for (const svc of services.values()) {
    for (const host of svc.options.host) {
      for (const prefix of svc.options['path-prefix']) {
        if (!map.has(host)) map.set(host, []);
        map.get(host).push({ prefix, service: svc });
      }
    }
  }
  for (const list of map.values()) list.sort((a, b) => b.prefix.length - a.prefix.length);
  return map;
}

function routeFor(services, hostHeader, urlPath) {
  let host = hostHeader;
  const m = /^(\[[^\]]+\]|[^:]+):\d+$/.exec(host);
  if (m) host = m[1];
  const map = bindings(services);
  let list = map.get(host);
  if (!list) {
    const sep = host.indexOf('.');
    if (sep > 0) list = map.get(`*${host.slice(sep)}`);
  }
  if (!list) list = map.get('');
  if (!list) return { service: null, prefix: '' };
  for (const b of list) {
    if (trailingSlash(urlPath).startsWith(trailingSlash(b.prefix))) return { service: b.service, prefix: b.prefix };
  }
  return { service: null, prefix: '' };
}

// Another service already bound to one of svc's (host, path prefix) pairs?
function findConflict(services, svc) {
  for (const other of services.values()) {
    if (other.name === svc.name) continue;
    for (const h of svc.options.host) {
      for (const p of svc.options['path-prefix']) {
        if (other.options.host.includes(h) && other.options['path-prefix'].includes(p)) return other;
      }
    }
  }
  return null;
}

module.exports = { routeFor, findConflict, normalizeHosts, normalizePathPrefixes };
