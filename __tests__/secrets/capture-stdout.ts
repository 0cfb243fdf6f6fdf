/** Runs `action` and returns what it wrote to process.stdout (where workflow commands go). */
export function captureStdout(action: () => void): string {
  const chunks: string[] = []
  const write = process.stdout.write
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
    return true
  }) as typeof process.stdout.write
  try {
    action()
  } finally {
    process.stdout.write = write
  }
  return chunks.join('')
}

/** The values registered with `::add-mask::`, decoded as the runner decodes them. */
export function maskedValues(stdout: string): string[] {
  return stdout
    .split(/\r?\n/)
    .filter((line) => line.startsWith('::add-mask::'))
    .map((line) => line.slice('::add-mask::'.length).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'))
}
