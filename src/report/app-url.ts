import type { KamalConfig } from '../config/model'

/** The app's public URL: the primary role's first proxy host, https when the proxy terminates TLS. */
export function appUrl(config: KamalConfig): string | undefined {
  const role = config.primaryRole?.proxy ? config.primaryRole : config.roles.find((item) => item.proxy)
  if (!role?.proxy) return undefined
  const [host] = role.proxy.hosts
  if (!host) return undefined
  const prefix = role.proxy.pathPrefixes[0] ?? ''
  return `${role.proxy.ssl ? 'https' : 'http'}://${host}${prefix.startsWith('/') ? prefix : prefix ? `/${prefix}` : ''}`
}
