import { proxyHostNames, type KamalConfig } from '../config/model'

/** The app's public URL: the primary role's first proxy host, https when the proxy terminates TLS. */
export function appUrl(config: KamalConfig): string | undefined {
  const role = config.primaryRole?.proxy ? config.primaryRole : config.roles.find((item) => item.proxy)
  if (!role?.proxy) return undefined
  const [host] = proxyHostNames(role.proxy)
  if (!host) return undefined
  const raw = role.proxy.raw
  const prefix = Array.isArray(raw.path_prefixes) ? String(raw.path_prefixes[0] ?? '') : typeof raw.path_prefix === 'string' ? raw.path_prefix.split(',')[0] : ''
  return `${raw.ssl ? 'https' : 'http'}://${host}${prefix.startsWith('/') ? prefix : prefix ? `/${prefix}` : ''}`
}
