/**
 * Custom TLS certificates (spec §1.5 step 1, §3): for a role whose proxy `ssl`
 * names `certificate_pem`/`private_key_pem` secrets, the PEMs are written to
 * `.kamal/proxy/apps-config/<sd>/tls/<role>/{cert,key}.pem` (mode 0644) before
 * booting; kamal-proxy reads them via `--tls-certificate-path`/`--tls-private-key-path`.
 */
import type { KamalConfig, Role } from '../config/model'
import { makeDirectory } from './base'
import { PROXY_APPS_DIRECTORY } from './proxy'

export const TLS_FILE_MODE = 0o644

/** Kamal's `running_proxy? && custom_ssl_certificate?` */
export function hasCustomCertificate(role: Role): boolean {
  return role.proxy?.certificate !== undefined
}

/** `.kamal/proxy/apps-config/<sd>/tls/<role>` */
export function tlsDirectory(config: KamalConfig, role: Role): string {
  return `${PROXY_APPS_DIRECTORY}/${config.serviceAndDestination}/tls/${role.name}`
}

export function createTlsDirectory(config: KamalConfig, role: Role): string {
  return makeDirectory(tlsDirectory(config, role))
}

export function tlsCertificatePath(config: KamalConfig, role: Role): string {
  return `${tlsDirectory(config, role)}/cert.pem`
}

export function tlsPrivateKeyPath(config: KamalConfig, role: Role): string {
  return `${tlsDirectory(config, role)}/key.pem`
}

export interface TlsUpload {
  path: string
  /** the secret's value (a PEM); never log it */
  content: string
  mode: number
  /** the secret's name, for the log line */
  secret: string
}

/** The certificate and key to upload for this role, in Kamal's order; empty without a custom certificate. */
export function tlsUploads(config: KamalConfig, role: Role, secretValue: (key: string) => string): TlsUpload[] {
  const names = role.proxy?.certificate
  if (!names) return []
  const certificate = names.certificatePem
  const privateKey = names.privateKeyPem
  return [
    { path: tlsCertificatePath(config, role), content: secretValue(certificate), mode: TLS_FILE_MODE, secret: certificate },
    { path: tlsPrivateKeyPath(config, role), content: secretValue(privateKey), mode: TLS_FILE_MODE, secret: privateKey },
  ]
}
