'use strict';
const path = require('path');
const os = require('os');
const home = () => process.env.HOME || os.homedir() || '/home/kamal-proxy';
module.exports = {
  stateDir: () => process.env.KAMAL_PROXY_STATE_DIR || path.join(home(), '.config', 'kamal-proxy'),
  stateFile: () => path.join(module.exports.stateDir(), 'kamal-proxy.state'),
  socketPath: () => process.env.KAMAL_PROXY_SOCKET || path.join(os.tmpdir(), 'kamal-proxy.sock'),
};
