/**
 * Custom error pages for kamal-proxy (spec §1.5 step 1, §3): the local
 * `error_pages_path` files named `4??.html`/`5??.html` go to
 * `.kamal/proxy/apps-config/<sd>/error_pages/<version>/` on every app host,
 * and older versions' directories are removed once the old container stops.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { KamalConfig } from '../config/model'
import { line, makeDirectory } from './base'
import { PROXY_APPS_DIRECTORY } from './proxy'

/** Kamal uploads the error pages with this mode. */
export const ERROR_PAGES_MODE = 0o700

/** `.kamal/proxy/apps-config/<sd>/error_pages` */
export function errorPagesDirectory(config: KamalConfig): string {
  return `${PROXY_APPS_DIRECTORY}/${config.serviceAndDestination}/error_pages`
}

export function createErrorPagesDirectory(config: KamalConfig): string {
  return makeDirectory(errorPagesDirectory(config))
}

/** `find <dir> -mindepth 1 -maxdepth 1 ! -name <version> -exec rm -rf {} +` */
export function cleanUpErrorPages(config: KamalConfig, version = config.version): string {
  return line('find', errorPagesDirectory(config), '-mindepth', '1', '-maxdepth', '1', '!', '-name', version, '-exec', 'rm', '-rf', '{} +')
}

/** Kamal's glob `{4??.html,5??.html}`: three-character names starting with 4 or 5. */
export function isErrorPageName(name: string): boolean {
  return /^[45][^/]{2}\.html$/u.test(name)
}

export interface ErrorPageUpload {
  /** local file */
  localPath: string
  /** `.kamal/proxy/apps-config/<sd>/error_pages/<version>/<name>` */
  remotePath: string
}

export interface ErrorPagesUpload {
  /** `mkdir -p .kamal/proxy/apps-config/<sd>/error_pages` (Kamal's command) */
  createDirectory: string
  /** `.kamal/proxy/apps-config/<sd>/error_pages/<version>`: what Kamal's recursive upload creates */
  versionDirectory: string
  files: ErrorPageUpload[]
  mode: number
}

/**
 * What to upload to each app host, or undefined when `error_pages_path` is
 * unset or holds no `4??.html`/`5??.html` (Kamal then does nothing). Reads the
 * local directory; a configured directory that does not exist counts as empty, as in Kamal.
 */
export function errorPagesUpload(config: KamalConfig, projectDir: string, version = config.version): ErrorPagesUpload | undefined {
  const configured = config.errorPagesPath
  if (!configured) return undefined
  const local = path.resolve(projectDir, configured)
  let names: string[]
  try {
    names = fs.readdirSync(local).filter(isErrorPageName).sort()
  } catch {
    return undefined
  }
  names = names.filter((name) => fs.statSync(path.join(local, name)).isFile())
  if (names.length === 0) return undefined
  const versionDirectory = `${errorPagesDirectory(config)}/${version}`
  return {
    createDirectory: createErrorPagesDirectory(config),
    versionDirectory,
    files: names.map((name) => ({ localPath: path.join(local, name), remotePath: `${versionDirectory}/${name}` })),
    mode: ERROR_PAGES_MODE,
  }
}
