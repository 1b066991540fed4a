/**
 * `items.at(i)` (a negative `i` counts from the end), or a test failure naming the missing
 * index: for lists a test built or checked to a known length.
 */
export function at<T>(items: readonly T[], i: number): T {
  const item = items.at(i);
  if (item === undefined) throw new Error(`no item ${i} in a list of ${items.length}`);
  return item;
}
