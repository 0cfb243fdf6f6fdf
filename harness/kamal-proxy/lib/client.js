'use strict';
// CLI side: send the command to the running server over its unix socket and wait.
const http = require('http');
const { socketPath } = require('./paths');

function call(cmd, payload) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(payload);
    const req = http.request({ socketPath: socketPath(), path: `/${cmd}`, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => { try { resolve(JSON.parse(data)); } catch (e) { reject(new Error(`bad reply from server: ${data}`)); } });
    });
    req.on('error', (e) => reject(new Error(`failed to connect to the kamal-proxy server (${e.code || e.message}); is "kamal-proxy run" running?`)));
    req.end(body);
  });
}
module.exports = { call };
