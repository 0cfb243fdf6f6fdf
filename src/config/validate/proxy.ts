/**
 * A `proxy` block: the root one, a role's, or an accessory's.
 */
import { isIPv6 } from 'node:net'
import { PROXY_EXAMPLE } from '../examples'
import { checkAgainstExample } from './example-walker'
import type { IssueCollector, PathSegment } from './issues'
import { isBlank, isHash, isPresent, isTruthy, rubyToS } from './ruby-values'

const IPV4_OCTET = '(?:0|[1-9]\\d?|1\\d\\d|2[0-4]\\d|25[0-5])'
const IPV4 = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`)

function isIpAddress(value: unknown): boolean {
  return typeof value === 'string' && (IPV4.test(value) || isIPv6(value))
}

export function checkProxy(c: IssueCollector, proxy: unknown, path: PathSegment[]): void {
  if (!checkAgainstExample(c, proxy, PROXY_EXAMPLE, path)) return
  const config = proxy as Record<string, unknown>

  if (isBlank(config.host) && isBlank(config.hosts) && isTruthy(config.ssl)) {
    c.add(path, 'Must set a host to enable automatic SSL', 'Add `host: app.example.com` (or a `hosts` list) to this proxy, or remove `ssl`.', {
      focus: [...path, 'ssl'],
      focusKey: true,
    })
  }

  if ('host' in config && 'hosts' in config) {
    c.add(path, "Specify one of 'host' or 'hosts', not both", 'Keep only one: `host` (one name, or comma-separated) or `hosts` (a list).', {
      focus: [...path, 'hosts'],
      focusKey: true,
    })
  }

  if (isHash(config.ssl)) checkCustomCertificate(c, config.ssl, path)
  if (isTruthy(config.run) && isHash(config.run)) checkRun(c, config.run, path)
}

function checkCustomCertificate(c: IssueCollector, ssl: Record<string, unknown>, path: PathSegment[]): void {
  const focus = { focus: [...path, 'ssl'], focusKey: true }
  if (isPresent(ssl.certificate_pem) && isBlank(ssl.private_key_pem)) {
    c.add(
      path,
      'Missing private_key_pem setting (required when certificate_pem is present)',
      'Add `private_key_pem:` with the name of the secret holding the certificate\'s private key.',
      focus,
    )
  }
  if (isPresent(ssl.private_key_pem) && isBlank(ssl.certificate_pem)) {
    c.add(
      path,
      'Missing certificate_pem setting (required when private_key_pem is present)',
      'Add `certificate_pem:` with the name of the secret holding the certificate.',
      focus,
    )
  }
}

function checkRun(c: IssueCollector, run: Record<string, unknown>, path: PathSegment[]): void {
  // Kamal meant to check these but looks the list up on the proxy instead of
  // `run`, so its check never fires; we check the list the user wrote.
  if (isPresent(run.bind_ips) && Array.isArray(run.bind_ips)) {
    run.bind_ips.forEach((ip, index) => {
      if (isIpAddress(ip)) return
      c.add(path, `Invalid publish IP address: ${rubyToS(ip)}`, 'Use plain IPv4 or IPv6 addresses, e.g. 0.0.0.0 or ::1 (no ports or brackets).', {
        focus: [...path, 'run', 'bind_ips', index],
      })
    })
  }

  if (run.publish === false && (isPresent(run.bind_ips) || isPresent(run.http_port) || isPresent(run.https_port))) {
    c.add(
      path,
      'Cannot set http_port, https_port or bind_ips when publish is false',
      'Remove http_port, https_port and bind_ips from run, or drop `publish: false`.',
      { focus: [...path, 'run', 'publish'], focusKey: true },
    )
  }
}
