import { FieldError } from '../errors/app-error';

type ItemCheck = (item: unknown) => string | null;

const itemChecks = new Map<string, { check: ItemCheck; maxItems: number }>();

/**
 * Registers a per-item check for a class-validator constraint that validates a whole
 * array, so that its failure is reported as `field[i]` for every bad item.
 * @param constraint the constraint name used by the decorator
 * @param check returns the problem with one item, or null when the item is fine
 * @param maxItems the most items the list may have: a longer list is refused for its
 *   length alone (the constraint's own message), its items unchecked, so that a body
 *   of a million bad items makes one error, not a million
 */
export function registerItemCheck(constraint: string, check: ItemCheck, maxItems: number): void {
  itemChecks.set(constraint, { check, maxItems });
}

/**
 * @returns one error per bad item of `value` when `constraint` has a registered item
 *   check and `value` is an array of at most its `maxItems`; otherwise an empty list
 */
export function itemErrorsFor(constraint: string, field: string, value: unknown): FieldError[] {
  const registered = itemChecks.get(constraint);
  if (!registered || !Array.isArray(value) || value.length > registered.maxItems) return [];
  return value.flatMap((item, i) => {
    const message = registered.check(item);
    return message ? [{ field: `${field}[${i}]`, message }] : [];
  });
}
