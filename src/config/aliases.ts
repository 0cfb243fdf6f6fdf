import type { SourceLocation } from '../errors'
import { isHash } from './load'
import type { KamalConfig } from './model'

/** One `aliases` entry: the command line it stands for, and where it is written. */
export interface AliasDefinition {
  command: string
  location: SourceLocation
}

export type AliasTable = Readonly<Record<string, AliasDefinition>>

/** The config's `aliases` (Kamal::Configuration::Alias), already validated: names and command strings. */
export function configAliases(config: Pick<KamalConfig, 'raw' | 'locate'>): AliasTable {
  const aliases = isHash(config.raw.aliases) ? config.raw.aliases : {}
  return Object.fromEntries(Object.entries(aliases).map(([name, command]) => [name, { command: String(command ?? ''), location: config.locate(['aliases', name]) }]))
}
