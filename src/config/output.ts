import { ConfigError } from '../errors'
import { isHash } from './load'
import type { KamalConfig } from './model'

/** `output` (Kamal::Configuration::Output): where Kamal also sends its log. */
export interface OutputSettings {
  /** `output.file.path`: a directory on the runner that gets one log file per run */
  filePath?: string
}

/**
 * The `output` block, typed. `output.file` is honoured (report/output-file.ts);
 * `output.otel` is refused at its line: shipping OTLP log records with
 * Kamal's deploy tags and run events is not built into this action.
 */
export function outputSettings(config: Pick<KamalConfig, 'raw' | 'locate'>): OutputSettings {
  const output = isHash(config.raw.output) ? config.raw.output : {}
  if (output.otel !== undefined) {
    throw new ConfigError(
      'output.otel is not supported by this action: it does not ship logs over OTLP. Remove output.otel, and send the workflow log to your collector instead (e.g. a later step that reads the output.file log, or your runner\'s log forwarding).',
      config.locate(['output', 'otel'], { key: true }),
    )
  }
  const file = isHash(output.file) ? output.file : undefined
  if (output.file !== undefined && (!file || typeof file.path !== 'string' || file.path.trim() === '')) {
    // Kamal's FileLogger.build: "file path is required"
    throw new ConfigError('output.file: file path is required. Set output.file.path to a directory on the runner, e.g. path: log/kamal.', config.locate(['output', 'file'], { key: true }))
  }
  return { filePath: file ? String(file.path) : undefined }
}
