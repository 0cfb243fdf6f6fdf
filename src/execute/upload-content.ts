import * as fs from 'node:fs'
import { AccessoryCommands } from '../commands/accessory'
import { envFileContent } from '../commands/env-file'
import { accessoryFileContent, accessorySettings } from '../config/accessory'
import type { KamalConfig } from '../config/model'
import type { UploadContent } from '../plan/steps'
import type { Secrets } from '../secrets/load'

export interface ContentSources {
  config: KamalConfig
  secrets: Secrets
  projectDir: string
  env: NodeJS.ProcessEnv
}

/** The bytes of an upload, read from secrets and files only now, when it runs. */
export function uploadContent(content: UploadContent, host: string, sources: ContentSources): string | Buffer {
  const { config, secrets, projectDir } = sources
  const secret = (key: string) => secrets.get(key)
  switch (content.kind) {
    case 'role-env': {
      const role = config.roles.find((item) => item.name === content.role)
      if (!role) throw new Error(`internal: no role ${content.role}`)
      return envFileContent(config.envFor(role, host), secret)
    }
    case 'accessory-env':
      return new AccessoryCommands(config, accessorySettings(config, content.accessory, projectDir)).envFileContent(secret)
    case 'accessory-file': {
      const accessory = accessorySettings(config, content.accessory, projectDir)
      const upload = new AccessoryCommands(config, accessory).fileUploads()[content.index]
      return accessoryFileContent(upload.file, { projectDir, env: sources.env, accessory, secretValue: secret })
    }
    case 'tls':
      return secret(content.secret)
    case 'local-file':
      return fs.readFileSync(content.path)
  }
}
