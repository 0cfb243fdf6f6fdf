/** Where a problem sits in a user's file; line and column are 1-based. */
export interface SourceLocation {
  file: string
  line: number
  column: number
}

/**
 * A problem with the user's configuration, secrets or inputs. It carries the
 * location to annotate and a message that says how to fix it. Raised before
 * anything runs toward a host.
 */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly location?: SourceLocation,
  ) {
    super(message)
    this.name = 'ConfigError'
  }
}

/** A bad value in one of the action's inputs (`with:` in the workflow). */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`Input '${input}': ${message}`)
    this.name = 'InputError'
  }
}
