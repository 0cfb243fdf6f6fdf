/**
 * Asset bridging (spec §3.5) for a role with `asset_path` that runs the proxy:
 * the new image's assets are copied out, merged with the running version's,
 * and mounted into the new container so requests for either version's
 * assets succeed during the switch. Exact Kamal command strings.
 */
import type { KamalConfig, Role } from '../config/model'
import { chain, docker, line, makeDirectory } from './base'

/** Kamal's `assets?`: an asset path and a role that runs the proxy. */
export function roleHasAssets(role: Role): boolean {
  return Boolean(role.assetPath && role.assetPath.trim() !== '') && role.proxy !== null
}

/** The path inside the image (`asset_path` without its `:options`). */
export function assetContainerPath(role: Role): string {
  const assetPath = role.assetPath ?? ''
  const index = assetPath.indexOf(':')
  return index < 0 ? assetPath : assetPath.slice(0, index)
}

function assetsDirectory(config: KamalConfig): string {
  return `.kamal/apps/${config.serviceAndDestination}/assets`
}

/** `.kamal/apps/<sd>/assets/extracted/<role>-<version>` */
export function assetExtractedDirectory(config: KamalConfig, role: Role, version = config.version): string {
  return `${assetsDirectory(config)}/extracted/${role.name}-${version}`
}

/** `.kamal/apps/<sd>/assets/volumes/<role>-<version>` (mounted as `$PWD/…`, see AppCommands.assetVolumeArgs) */
export function assetVolumeDirectory(config: KamalConfig, role: Role, version = config.version): string {
  return `${assetsDirectory(config)}/volumes/${role.name}-${version}`
}

/** Copies the image's asset directory to the extracted directory through a throwaway `<prefix>-assets` container. */
export function extractAssets(config: KamalConfig, role: Role, version = config.version): string {
  const container = `${role.containerPrefix}-assets`
  const extracted = assetExtractedDirectory(config, role, version)
  return [
    makeDirectory(extracted),
    line(docker('container', 'rm', container, '2> /dev/null'), '|| true'),
    docker('container', 'create', '--name', container, `${config.repository}:${version}`),
    docker('container', 'cp', '-L', `${container}:${assetContainerPath(role)}/.`, extracted),
    docker('container', 'rm', container),
  ].join(' && ')
}

/**
 * Fills the new version's volume from its extracted assets; with an old
 * (currently running) version, also copies the new assets into the old volume
 * and the old assets into the new one, never overwriting (`cp -n`).
 */
export function syncAssetVolumes(config: KamalConfig, role: Role, oldVersion?: string, version = config.version): string {
  const newExtracted = assetExtractedDirectory(config, role, version)
  const newVolume = assetVolumeDirectory(config, role, version)
  const commands = [makeDirectory(newVolume), copyContents(newExtracted, newVolume)]
  if (oldVersion !== undefined && oldVersion.trim() !== '') {
    commands.push(copyContents(newExtracted, assetVolumeDirectory(config, role, oldVersion), true))
    commands.push(copyContents(assetExtractedDirectory(config, role, oldVersion), newVolume, true))
  }
  return chain(...commands)
}

/** After the old container is stopped: removes every other version's extracted and volume directories of this role. */
export function cleanUpAssets(config: KamalConfig, role: Role, version = config.version): string {
  const removeOlderSiblings = (kind: 'extracted' | 'volumes') =>
    line('find', `${assetsDirectory(config)}/${kind}`, '-maxdepth 1', '-name', `'${role.name}-*'`, '!', '-name', `${role.name}-${version}`, '-exec rm -rf "{}" +')
  return chain(removeOlderSiblings('extracted'), removeOlderSiblings('volumes'))
}

function copyContents(source: string, destination: string, continueOnError = false): string {
  return line('cp', '-rnT', source, destination, continueOnError && '|| true')
}
