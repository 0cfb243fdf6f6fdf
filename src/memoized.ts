/** `compute` answered once per key for the life of the process (each later call returns the first answer). */
export function memoized<T>(compute: (key: string) => T): (key: string) => T {
  const answers = new Map<string, T>()
  return (key) => {
    if (!answers.has(key)) answers.set(key, compute(key))
    return answers.get(key) as T
  }
}
