'use strict';
// Minimal re-implementation of the parts of Go's pflag/cobra behaviour kamal-proxy's CLI shows:
// --flag=value, --flag value (non-bool), bare booleans (--flag / --flag=false), repeated
// slice flags (also comma-separated, like pflag StringSlice), Go durations, unknown flags
// rejected with "unknown flag: --x".

class UsageError extends Error {}

const UNITS = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };

// Go time.ParseDuration -> milliseconds (may be fractional). Throws UsageError like Go's message.
function parseDuration(input) {
  const s = String(input);
  const bad = () => new UsageError(`time: invalid duration ${JSON.stringify(s)}`);
  let rest = s, sign = 1;
  if (rest[0] === '-' || rest[0] === '+') { if (rest[0] === '-') sign = -1; rest = rest.slice(1); }
  if (rest === '0') return 0;
  if (rest === '') throw bad();
  let total = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (rest.length) {
    const m = re.exec(rest);
    if (!m) {
      if (/^(\d+(?:\.\d*)?|\.\d+)$/.test(rest)) throw new UsageError(`time: missing unit in duration ${JSON.stringify(s)}`);
      throw bad();
    }
    total += parseFloat(m[1]) * UNITS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

// Go's Duration.String() for a millisecond value (enough for messages: "30s", "500ms", "1m30s").
function formatDuration(ms) {
  if (ms === 0) return '0s';
  const neg = ms < 0; ms = Math.abs(ms);
  let out;
  if (ms < 1000) {
    if (ms >= 1) out = `${trim(ms)}ms`;
    else if (ms >= 1e-3) out = `${trim(ms * 1e3)}µs`;
    else out = `${trim(ms * 1e6)}ns`;
  } else {
    const h = Math.floor(ms / 3600000), m = Math.floor((ms % 3600000) / 60000), sec = (ms % 60000) / 1000;
    out = h ? `${h}h${m}m${trim(sec)}s` : m ? `${m}m${trim(sec)}s` : `${trim(sec)}s`;
  }
  return (neg ? '-' : '') + out;
}
function trim(n) { return String(Number(n.toFixed(9))); }

function parseBool(v) {
  // strconv.ParseBool
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new UsageError(`strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

function parseIntStrict(v) {
  if (!/^[+-]?(0x[0-9a-fA-F]+|0o?[0-7]+|0b[01]+|\d+)$/.test(v)) throw new UsageError(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const neg = v.startsWith('-'); const body = v.replace(/^[+-]/, '');
  const n = /^0[0-7]+$/.test(body) ? parseInt(body, 8) : Number(body.replace(/^0o/, '0o'));
  return neg ? -n : n;
}

// spec: { name: { type: 'bool'|'string'|'int'|'duration'|'strings', default } }
// Returns { flags, args }. Throws UsageError on unknown flags / bad values.
function parseFlags(argv, spec) {
  const flags = {}, args = [];
  for (const [name, d] of Object.entries(spec)) {
    flags[name] = d.type === 'strings' ? [...(d.default || [])] : d.default;
  }
  const seen = new Set();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { args.push(...argv.slice(i + 1)); break; }
    if (!a.startsWith('-') || a === '-') { args.push(a); continue; }
    if (!a.startsWith('--')) {
      if (a === '-h') throw Object.assign(new UsageError('help requested'), { help: true });
      throw new UsageError(`unknown shorthand flag: '${a[1]}' in ${a}`);
    }
    const eq = a.indexOf('=');
    const name = eq === -1 ? a.slice(2) : a.slice(2, eq);
    if (name === 'help') throw Object.assign(new UsageError('help requested'), { help: true });
    const d = spec[name];
    if (!d) throw new UsageError(`unknown flag: --${name}`);
    let value;
    if (eq !== -1) value = a.slice(eq + 1);
    else if (d.type === 'bool') value = 'true';
    else if (i + 1 < argv.length) value = argv[++i];
    else throw new UsageError(`flag needs an argument: --${name}`);
    const invalid = (e) => new UsageError(`invalid argument ${JSON.stringify(value)} for "--${name}" flag: ${e.message}`);
    try {
      switch (d.type) {
        case 'bool': flags[name] = parseBool(value); break;
        case 'string': flags[name] = value; break;
        case 'int': flags[name] = parseIntStrict(value); break;
        case 'duration': flags[name] = parseDuration(value); break;
        case 'strings': {
          if (!seen.has(name)) flags[name] = [];
          flags[name].push(...(value === '' ? [] : value.split(',')));
          break;
        }
        default: throw new Error(`bad spec type ${d.type}`);
      }
    } catch (e) {
      if (e instanceof UsageError) throw invalid(e);
      throw e;
    }
    seen.add(name);
  }
  return { flags, args, seen };
}

module.exports = { parseFlags, parseDuration, formatDuration, parseBool, UsageError };
