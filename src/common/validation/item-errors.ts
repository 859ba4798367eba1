import { FieldError } from '../errors/app-error';

type ItemCheck = (item: unknown) => string | null;

const itemChecks = new Map<string, ItemCheck>();

/**
 * Registers a per-item check for a class-validator constraint that validates a whole
 * array, so that its failure is reported as `field[i]` for every bad item.
 * @param constraint the constraint name used by the decorator
 * @param check returns the problem with one item, or null when the item is fine
 */
export function registerItemCheck(constraint: string, check: ItemCheck): void {
  itemChecks.set(constraint, check);
}

/**
 * @returns one error per bad item of `value` when `constraint` has a registered item
 *   check and `value` is an array; otherwise an empty list
 */
export function itemErrorsFor(constraint: string, field: string, value: unknown): FieldError[] {
  const check = itemChecks.get(constraint);
  if (!check || !Array.isArray(value)) return [];
  return value.flatMap((item, i) => {
    const message = check(item);
    return message ? [{ field: `${field}[${i}]`, message }] : [];
  });
}
