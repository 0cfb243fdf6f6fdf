import type { KamalConfig, Role } from '../config/model'
import type { ProxyConfig } from '../config/proxy'

function prefixOf(proxy: ProxyConfig): string {
  const prefix = proxy.pathPrefixes[0] ?? ''
  return prefix.startsWith('/') ? prefix : prefix ? `/${prefix}` : ''
}

/** The app's public URL: the primary role's first proxy host, https when the proxy terminates TLS. */
export function appUrl(config: KamalConfig): string | undefined {
  const role = config.primaryRole?.proxy ? config.primaryRole : config.roles.find((item) => item.proxy)
  if (!role?.proxy) return undefined
  const [host] = role.proxy.hosts
  if (!host) return undefined
  return `${role.proxy.ssl ? 'https' : 'http'}://${host}${prefixOf(role.proxy)}`
}

/**
 * Every URL the proxied roles answer on: each `proxy.host`, https when the
 * proxy terminates TLS; a proxy without a host answers on every server of the
 * role, over http.
 */
export function appUrls(roles: readonly Role[]): string[] {
  const urls = roles.flatMap((role) => {
    const proxy = role.proxy
    if (!proxy) return []
    if (proxy.hosts.length === 0) return role.hosts.map((server) => `http://${server}${prefixOf(proxy)}`)
    return proxy.hosts.map((host) => `${proxy.ssl ? 'https' : 'http'}://${host}${prefixOf(proxy)}`)
  })
  return [...new Set(urls)]
}
