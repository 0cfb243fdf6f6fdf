import type { KamalConfig } from '../config/model'
import { line, pipe } from './base'

/** `kamal prune containers|images` (spec §1.8). */
export class PruneCommands {
  constructor(readonly config: KamalConfig) {}

  containers(retain = this.config.retainContainers): string {
    return pipe(
      line('docker ps -q -a', `--filter label=service=${this.config.service}`, '--filter status=created --filter status=exited --filter status=dead'),
      `tail -n +${retain + 1}`,
      'while read container_id; do docker rm $container_id; done',
    )
  }

  danglingImages(): string {
    return line('docker image prune --force', `--filter label=service=${this.config.service}`)
  }

  taggedImages(): string {
    const { service, repository, latestTag } = this.config
    const inUse = `$(docker container ls -a --format '{{.Image}}\\|' --filter label=service=${service} | tr -d '\\n')`
    return pipe(
      `docker image ls --filter label=service=${service} --format '{{.ID}} {{.Repository}}:{{.Tag}}'`,
      `grep -v -w "${inUse}${repository}:${latestTag}\\|${repository}:<none>"`,
      'while read image tag; do docker rmi $tag; done',
    )
  }
}
