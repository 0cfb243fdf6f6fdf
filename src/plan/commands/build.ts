/** `kamal build push`: the runner's build and push, then the pushed image's digest (Kamal::Cli::Build#push). Pure. */
import type { KamalConfig } from '../../config/model'
import { ConfigError } from '../../errors'
import type { PlanParts } from '../deploy-plan'
import { RUNNER, stageOn, type Stage, type Step } from '../steps'

/** Reads the registry digest of `image` on the runner: the manifest (list) digest with buildx, the pushed RepoDigest without. */
export function digestStep(config: KamalConfig, options: { buildx: boolean; cwd: string }): Step {
  const image = config.absoluteImage
  const local = ['docker', 'image', 'inspect', '--format', '{{json .RepoDigests}}', image]
  const argv = options.buildx ? ['docker', 'buildx', 'imagetools', 'inspect', image, '--format', '{{json .Manifest}}'] : local
  const display = (words: string[]) => words.map((arg) => (/[\s{}]/.test(arg) ? `'${arg}'` : arg)).join(' ')
  return { kind: 'digest', argv, display: display(argv), cwd: options.cwd, image, changes: false, fallback: options.buildx ? { argv: local, display: display(local) } : undefined }
}

/** The sha256 digest of `image` in what the digest step printed, or undefined. */
export function imageDigest(output: string, image: string): string | undefined {
  const text = output.trim()
  if (text.startsWith('[')) {
    const repository = image.replace(/:[^:/]+$/, '')
    const digests = (JSON.parse(text) as string[]).filter((entry) => typeof entry === 'string')
    const match = digests.find((entry) => entry.startsWith(`${repository}@`)) ?? digests[0]
    return match?.split('@')[1]
  }
  return /"digest"\s*:\s*"(sha256:[0-9a-f]{64})"/.exec(text)?.[1]
}

export function buildPushStages(parts: PlanParts): Stage[] {
  const { config, request } = parts
  if (config.localRegistry) {
    throw new ConfigError(
      `registry.server: build push with ${config.registryServer} keeps the image on this runner, where a later job cannot pull it. Use a registry the hosts can reach (e.g. ghcr.io) for a build-once / deploy-later workflow, or run deploy in one job.`,
      config.locate(['registry', 'server']),
    )
  }
  const stages: Stage[] = [...parts.hook('pre-connect'), ...parts.hook('pre-build')]
  if (request.build.length > 0) stages.push({ phase: 'build', title: 'Build and push', announce: 'Build and push app image...', lanes: [{ place: RUNNER, units: [{ steps: request.build.map((step) => ({ ...step, changes: true })) }] }] })
  if (request.digest) stages.push(stageOn('build', 'Image digest', RUNNER, [request.digest]))
  return stages
}
