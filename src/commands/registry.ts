import type { KamalConfig } from '../config/model'
import { escapeShellValue } from '../shell'
import { any, line, pipe } from './base'

/**
 * `docker login` with the password on standard input. Kamal passes `-p`; we never
 * put a password in an argv, so the executor writes it to the command's stdin.
 * Nothing to do for a local registry.
 */
export function registryLogin(config: KamalConfig, username: string): string | undefined {
  if (config.localRegistry) return undefined
  return line('docker login', config.registryServer, '-u', escapeShellValue(username), '--password-stdin')
}

export function pullCommands(config: KamalConfig): string[] {
  const image = config.absoluteImage
  return [line('docker image rm --force', image), line('docker pull', image), validateImageLabel(config)]
}

export function validateImageLabel(config: KamalConfig): string {
  const image = config.absoluteImage
  return any(
    pipe(`docker inspect -f '{{ .Config.Labels.service }}' ${image}`, `grep -x ${config.service}`),
    `(echo "Image ${image} is missing the 'service' label" && exit 1)`,
  )
}
