'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { routeFor, findConflict, normalizeHosts, normalizePathPrefixes } = require('../lib/router');

const svc = (name, hosts, prefixes) => ({ name, options: { host: normalizeHosts(hosts), 'path-prefix': normalizePathPrefixes(prefixes) } });
const map = (...list) => new Map(list.map((s) => [s.name, s]));

test('host routing: exact, wildcard, default', () => {
  const m = map(svc('a', ['a.test']), svc('w', ['*.wild.test']), svc('d', []));
  assert.equal(routeFor(m, 'a.test', '/').service.name, 'a');
  assert.equal(routeFor(m, 'a.test:80', '/x').service.name, 'a');
  assert.equal(routeFor(m, 'x.wild.test', '/').service.name, 'w');
  assert.equal(routeFor(m, 'other', '/').service.name, 'd');
});

test('unknown host without a default service -> no route', () => {
  assert.equal(routeFor(map(svc('a', ['a.test'])), 'b.test', '/').service, null);
});

test('path prefixes: longest wins, segment boundaries respected', () => {
  const m = map(svc('root', ['h']), svc('api', ['h'], ['api/']), svc('v2', ['h'], ['/api/v2']));
  assert.equal(routeFor(m, 'h', '/api/v2/x').service.name, 'v2');
  assert.equal(routeFor(m, 'h', '/api/x').service.name, 'api');
  assert.equal(routeFor(m, 'h', '/api').service.name, 'api');
  assert.equal(routeFor(m, 'h', '/apix').service.name, 'root');
  assert.equal(routeFor(m, 'h', '/api').prefix, '/api');
});

test('host with only prefixed services does not fall back to the default host', () => {
  const m = map(svc('api', ['h'], ['/api']), svc('d', []));
  assert.equal(routeFor(m, 'h', '/other').service, null);
});

test('conflicts: same host + same prefix in another service', () => {
  const m = map(svc('a', ['a.test']), svc('d', []));
  assert.equal(findConflict(m, svc('b', ['a.test'])).name, 'a');
  assert.equal(findConflict(m, svc('a', ['a.test'])), null);
  assert.equal(findConflict(m, svc('b', ['a.test'], ['/api'])), null);
  assert.equal(findConflict(m, svc('e', [])).name, 'd');
});
