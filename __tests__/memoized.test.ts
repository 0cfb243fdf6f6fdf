import { memoized } from '../src/memoized'

test('memoized: one computation per key, the first answer kept', () => {
  const asked: string[] = []
  const length = memoized((key) => {
    asked.push(key)
    return key.length
  })
  expect(['ab', 'abc', 'ab', 'abc'].map(length)).toEqual([2, 3, 2, 3])
  expect(asked).toEqual(['ab', 'abc'])
})
